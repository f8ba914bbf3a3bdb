// Access events (DESIGN §7): each read a node served or refused, signed by that node and
// committed, so the patient sees every access. Ids make resubmission after a crash harmless.
// Repeated denials fold into one event with a count, and emergency reads are indexed on
// their own, so no flood of refusals can bury a break-glass read (docs/records.md).
import { idFromPublicKey } from '@medledger/crypto';
import { arrayField, type Body, enumField, hex16Field, idField, intField, itemObject, onlyFields, stringField } from './body.js';
import { EhrError } from './errors.js';
import { activeSigner } from './identity.js';
import type { TxKind } from './kinds.js';
import { PURPOSES, type Purpose } from './policy.js';
import { keys, readJson, writeJson } from './state.js';

/** Most events in one `access.event` transaction. */
export const MAX_ACCESS_EVENTS = 500;
/** Most reads one reported event may stand for (a node merges its own repeated denials). */
export const MAX_EVENT_COUNT = 1_000_000;
/** Denials by one accessor of one record for one reason within one hour of block time fold into one event. */
export const DENIAL_BUCKET_MS = 3_600_000;

/** One read as the serving node reports it. */
export interface AccessEventInput {
  /** Unique among this node's events. */
  id: string;
  record: string | null;
  patient: string | null;
  accessor: string | null;
  purpose: Purpose | null;
  decision: 'allowed' | 'denied';
  /** `OK` or the refusal reason (policy DenyReason, or a gatekeeper code). */
  reason: string;
  emergency: boolean;
  /** The serving node's clock when it answered (ms); block time is the authoritative time. */
  at: number;
  /** How many identical denials this report stands for (default 1); allowed reads are always 1. */
  count?: number;
}

/**
 * An access event as committed: the node's report plus which node and which block. `count`
 * is how many reads it stands for (denials by one accessor of one record for one reason in
 * one hour of block time fold into the first one's event), `last` the block of the latest of them.
 */
export interface AccessEvent extends AccessEventInput {
  node: string;
  height: number;
  time: number;
  count: number;
  last: { height: number; time: number };
}

const nullable = <T>(b: Body, field: string, check: (b: Body, f: string) => T): T | null => (b[field] === null ? null : check(b, field));

function parseEvent(x: unknown, path: string): AccessEventInput {
  const e = itemObject(x, path, ['id', 'record', 'patient', 'accessor', 'purpose', 'decision', 'reason', 'emergency', 'at', 'count']);
  const field = (f: string) => `${path}.${f}`;
  const at = (f: string) => ({ [field(f)]: e[f] }) as Body;
  if (typeof e.emergency !== 'boolean') throw new EhrError('INVALID_BODY', `body.${field('emergency')} must be a boolean`);
  const count = e.count === undefined ? undefined : intField(at('count'), field('count'), MAX_EVENT_COUNT);
  if (count !== undefined && (count < 1 || (count > 1 && (e.decision !== 'denied' || e.emergency))))
    throw new EhrError(
      'INVALID_BODY',
      `body.${field('count')} must be at least 1, and above 1 only for a denial that is not an emergency read`,
    );
  return {
    id: stringField(at('id'), field('id'), /^[A-Za-z0-9_-]{1,64}$/, 'an event id'),
    record: nullable(at('record'), field('record'), hex16Field),
    patient: nullable(at('patient'), field('patient'), idField),
    accessor: nullable(at('accessor'), field('accessor'), idField),
    purpose: nullable(at('purpose'), field('purpose'), (b, f) => enumField(b, f, PURPOSES)),
    decision: enumField(at('decision'), field('decision'), ['allowed', 'denied'] as const),
    reason: stringField(at('reason'), field('reason'), /^[A-Z_]{1,40}$/, 'a reason code'),
    emergency: e.emergency,
    at: intField(at('at'), field('at')),
    ...(count === undefined ? {} : { count }),
  };
}

/** Append `logKey` to the patient's dense list `log` (keys.accessIndex): a client proves pages of it complete. */
function appendToLog(state: Parameters<TxKind['apply']>[2], log: 'all' | 'emergency', patient: string, logKey: string): void {
  const n = Number(state.getState(keys.accessCount(log, patient)) ?? '0');
  state.set(keys.accessIndex(log, patient, n), logKey);
  state.set(keys.accessCount(log, patient), String(n + 1));
}

export const accessEvent: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'access.event', ['events']);
    const events = arrayField(b, 'events', MAX_ACCESS_EVENTS, parseEvent);
    // An active validator only: one governance removed (status revoked) writes no more
    // events, forged ones included, into any patient's log (REVOKED, as for every signer).
    const signer = activeSigner(state, tx.signer);
    if (signer.role !== 'validator') throw new EhrError('UNAUTHORIZED', 'only validator nodes record access events');
    const node = idFromPublicKey(tx.signer);
    for (const e of events) {
      const eventKey = `${node}-${e.id}`;
      if (state.getState(keys.accessSeen(eventKey)) !== undefined) continue;
      state.set(keys.accessSeen(eventKey), String(ctx.height));
      const patient = e.patient ?? '-';
      const count = e.count ?? 1;
      const block = { height: ctx.height, time: ctx.time };
      const logKey = keys.accessEvent(patient, ctx.height, eventKey);
      // A refusal (never an emergency read) joins the event of the same accessor, record, reason
      // and hour of block time, so a flood of refusals adds one event per hour, not one per read.
      if (e.decision === 'denied' && !e.emergency) {
        const bucket = keys.accessBucket(patient, e.accessor ?? '-', e.record ?? '-', e.reason, Math.floor(ctx.time / DENIAL_BUCKET_MS));
        const heldAt = state.getState(bucket);
        const held = heldAt === undefined ? undefined : readJson<AccessEvent>(state, heldAt);
        if (heldAt !== undefined && held !== undefined) {
          writeJson(state, heldAt, { ...held, count: held.count + count, last: block });
          continue;
        }
        state.set(bucket, logKey);
      }
      const committed: AccessEvent = { ...e, node, ...block, count, last: block };
      writeJson(state, logKey, committed);
      appendToLog(state, 'all', patient, logKey);
      // Emergency reads also go to their own index, listed apart from everything else.
      if (e.emergency) {
        writeJson(state, keys.emergencyAccessEvent(patient, ctx.height, eventKey), committed);
        appendToLog(state, 'emergency', patient, logKey);
      }
    }
  },
};
