// The access-event queue of the gatekeeper (docs/records.md "Access events"): every read
// decision is written to the durable outbox before its answer leaves (reads in flight share
// one disk write), repeated refusals are merged, attempts without a session are counted, and
// the queue is submitted as `access.event` transactions until the chain holds each event.
import { randomBytes } from 'node:crypto';
import { toHex } from '@medledger/crypto';
import {
  type AccessEventInput,
  getRecord,
  type Identity,
  keys,
  MAX_ACCESS_EVENTS,
  MAX_EVENT_COUNT,
  type StateReader,
} from '@medledger/ehr';
import type { NodeStore } from '@medledger/storage';
import type { ApiError } from './errors.js';
import type { Log, Now, SubmitOwnTx } from './ports.js';

const FLUSH_INTERVAL_MS = 200;
/** Most distinct (record, reason) pairs of unidentified attempts held between flushes. */
const MAX_ATTEMPT_KEYS = 1_000;

export interface AccessQueueOptions {
  /** This node's id (idFromPublicKey of its signing key): events are named `<nodeId>-<event id>`. */
  nodeId: string;
}

export interface AccessQueueDeps {
  /** Committed state: which records exist, which events the chain already holds. */
  state: StateReader;
  /** The durable outbox the events wait in until committed. */
  outbox: Pick<NodeStore, 'appendOutbox' | 'loadOutbox' | 'removeOutbox' | 'replaceOutbox'>;
  submitOwn: SubmitOwnTx;
  isPending: (hash: string) => boolean;
  now: Now;
  log: Log;
}

export class AccessQueue {
  /** Outbox sequence number → hash of the pending transaction carrying it. */
  private readonly inFlight = new Map<number, string>();
  private timer: NodeJS.Timeout | undefined;
  private eventSeq = 0;
  private readonly eventPrefix = toHex(randomBytes(6));
  /** Unidentified attempts since the last flush, counted by record and reason. */
  private readonly attempts = new Map<string, Omit<AccessEventInput, 'id' | 'at'>>();
  /** Events waiting for the next group write to the outbox (recordDurably). */
  private unwritten: Array<{ item: string; done: (err?: unknown) => void }> = [];
  /** Outbox items from before a restart may already be in a block somewhere: never merged. */
  private flushedOnce = false;

  constructor(
    private readonly opts: AccessQueueOptions,
    private readonly deps: AccessQueueDeps,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.flush(), FLUSH_INTERVAL_MS);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  /**
   * Note a request for patient data that never reached the read gate: no or a dead session
   * (`UNAUTHENTICATED`, `SESSION_EXPIRED`…) or a malformed id (`MALFORMED_REQUEST`). It
   * carries no identity. An id that names a record puts the attempt in that patient's log;
   * any other id is kept as null, so made-up ids cannot add events. Attempts are counted in
   * memory and queued once per (record, reason) each flush, so a flood adds a few events.
   */
  attempt(recordId: string | null, reason: string, accessor: Identity | null = null): void {
    const record = recordId === null ? undefined : getRecord(this.deps.state, recordId);
    const known = record === undefined ? null : (recordId as string);
    let key = `${known ?? '-'}|${accessor?.id ?? '-'}|${reason}`;
    if (!this.attempts.has(key) && this.attempts.size >= MAX_ATTEMPT_KEYS) key = `-|-|${reason}`;
    const held = this.attempts.get(key);
    if (held !== undefined) {
      held.count = Math.min((held.count ?? 1) + 1, MAX_EVENT_COUNT);
      return;
    }
    const anonymous = key.startsWith('-|-|');
    this.attempts.set(key, {
      record: anonymous ? null : known,
      patient: anonymous ? null : (record?.patient ?? null),
      accessor: anonymous ? null : (accessor?.id ?? null),
      purpose: null,
      decision: 'denied',
      reason,
      emergency: false,
      count: 1,
    });
  }

  /**
   * Queue an access event durably, like `record`, but together with the events of the other
   * requests in flight: one outbox write (one fsync) for all of them, so a flood of reads
   * costs a few disk syncs, not one each. Resolves with the event's id once it is on disk.
   */
  recordDurably(event: Omit<AccessEventInput, 'id' | 'at'>): Promise<string> {
    const id = this.nextEventId();
    const item = JSON.stringify({ id, at: this.deps.now(), ...event } satisfies AccessEventInput);
    return new Promise((resolve, reject) => {
      this.unwritten.push({
        item,
        done: (err) => (err === undefined ? resolve(`${this.opts.nodeId}-${id}`) : reject(err)),
      });
      if (this.unwritten.length === 1) setImmediate(() => this.writeUnwritten());
    });
  }

  private writeUnwritten(): void {
    const batch = this.unwritten;
    this.unwritten = [];
    try {
      this.deps.outbox.appendOutbox(batch.map((b) => b.item));
    } catch (err) {
      for (const b of batch) b.done(err);
      return;
    }
    for (const b of batch) b.done();
  }

  /** Queue an access event durably (SQLite outbox) before the read is answered. Returns its id. */
  record(event: Omit<AccessEventInput, 'id' | 'at'>): string {
    const id = this.nextEventId();
    const full: AccessEventInput = { id, at: this.deps.now(), ...event };
    this.deps.outbox.appendOutbox([JSON.stringify(full)]);
    return `${this.opts.nodeId}-${id}`;
  }

  /**
   * Merge queued denials (not emergency reads) of one record by one accessor for one reason that were never
   * submitted into one event with their summed count, replacing them in the outbox in one
   * step (a crash keeps the parts or the whole, never both). The chain folds denials per hour
   * anyway (ehr access.ts); this keeps a flood from filling blocks with events to fold.
   */
  private mergeDenials(send: Array<{ seq: number; event: AccessEventInput }>): Array<{ seq: number; event: AccessEventInput }> {
    const groups = new Map<string, Array<{ seq: number; event: AccessEventInput }>>();
    const out: Array<{ seq: number; event: AccessEventInput }> = [];
    for (const item of send) {
      const e = item.event;
      if (e.decision !== 'denied' || e.emergency || this.inFlight.has(item.seq)) {
        out.push(item);
        continue;
      }
      const key = `${e.patient}|${e.accessor}|${e.record}|${e.reason}`;
      const group = groups.get(key);
      if (group === undefined) groups.set(key, [item]);
      else group.push(item);
    }
    for (const group of groups.values()) {
      const first = group[0] as { seq: number; event: AccessEventInput };
      if (group.length === 1) {
        out.push(first);
        continue;
      }
      const count = Math.min(
        group.reduce((n, g) => n + (g.event.count ?? 1), 0),
        MAX_EVENT_COUNT,
      );
      const merged: AccessEventInput = { ...first.event, id: this.nextEventId(), count };
      const [seq] = this.deps.outbox.replaceOutbox(
        group.map((g) => g.seq),
        [JSON.stringify(merged)],
      );
      out.push({ seq: seq as number, event: merged });
    }
    return out;
  }

  private nextEventId(): string {
    return `${this.eventPrefix}${(this.eventSeq++).toString(36)}`;
  }

  /**
   * Submit queued events that are neither committed nor in a pending transaction; drop
   * those the chain has. After a crash every uncommitted event is simply sent again, and
   * the chain skips ids it already holds.
   */
  flush(): void {
    const node = this.opts.nodeId;
    if (this.attempts.size > 0) {
      const now = this.deps.now();
      this.deps.outbox.appendOutbox([...this.attempts.values()].map((e) => JSON.stringify({ id: this.nextEventId(), at: now, ...e })));
      this.attempts.clear();
    }
    const queued = this.deps.outbox.loadOutbox(5_000);
    const done: number[] = [];
    let send: Array<{ seq: number; event: AccessEventInput }> = [];
    for (const { seq, item } of queued) {
      const event = JSON.parse(item) as AccessEventInput;
      if (this.deps.state.getState(keys.accessSeen(`${node}-${event.id}`)) !== undefined) {
        done.push(seq);
        this.inFlight.delete(seq);
        continue;
      }
      const pendingTx = this.inFlight.get(seq);
      if (pendingTx !== undefined && this.deps.isPending(pendingTx)) continue;
      send.push({ seq, event });
    }
    if (done.length > 0) this.deps.outbox.removeOutbox(done);
    if (this.flushedOnce) send = this.mergeDenials(send);
    this.flushedOnce = true;
    for (let i = 0; i < send.length; i += MAX_ACCESS_EVENTS) {
      const chunk = send.slice(i, i + MAX_ACCESS_EVENTS);
      try {
        const { hash } = this.deps.submitOwn('access.event', { events: chunk.map((c) => c.event) });
        for (const c of chunk) this.inFlight.set(c.seq, hash);
      } catch (err) {
        this.deps.log('warn', `access events not submitted yet (${(err as ApiError).code ?? 'error'}); will retry`);
        return;
      }
    }
  }
}
