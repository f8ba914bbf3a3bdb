// The validator's side of re-sharing emergency keys after a validator-set change
// (docs/emergency.md "When the validator set changes"): page through every patient's split,
// and for each one this validator holds a share of that is not yet shared among the current
// set, deal that share to the current validators with a fresh polynomial, many patients per
// `emergency.reshare` transaction. The work runs on a later tick than the commit that
// triggered it, one batch per tick, so a commit never waits on sealing thousands of envelopes.
import { dealSecret, fromHex, sealToPublicKey, shareCommitment, utf8 } from '@medledger/crypto';
import {
  dealtShareAad,
  type EmergencySplit,
  emergencyHolders,
  emergencyHoldersHash,
  emergencyPrefixes,
  emergencyThreshold,
  getSplit,
  MAX_RESHARE_ITEMS,
  reshareBlocker,
  splitVersion,
} from '@medledger/ehr';
import { openHeldParts, ownShare } from './emergency-shares.js';
import type { CommittedView, Log, SubmitOwnTx } from './ports.js';

export interface ReshareAgentOptions {
  /** This validator's id (idFromPublicKey of its signing key). */
  nodeId: string;
  /** This node's X25519 private keys (`node.key`'s, then `node.next.key`'s if any): open the share it holds. */
  encryptionPrivateKeys: readonly string[];
  /** Patients per transaction (at most MAX_RESHARE_ITEMS). */
  batch?: number;
  /** Splits read per page while looking for work. */
  pageSize?: number;
}

export interface ReshareAgentDeps {
  view: CommittedView;
  submitOwn: SubmitOwnTx;
  /** Whether a transaction is still in this node's mempool. */
  isPending: (hash: string) => boolean;
  log: Log;
  /** Runs `fn` on a later tick (setImmediate); tests may run it at once. */
  defer?: (fn: () => void) => void;
}

/** What the agent has done so far toward the current holder set. */
export interface ReshareProgress {
  target: string;
  /** Patients this validator dealt for (submitted) since the set changed. */
  dealt: number;
  /** True once a full pass found nothing left for this validator to deal. */
  done: boolean;
}

export class ReshareAgent {
  private target = '';
  /** The last split key of the page being worked through; undefined: start of a pass. */
  private cursor: string | undefined;
  /** Whether the current pass submitted anything (then another pass checks it landed). */
  private passFoundWork = false;
  private inFlight = '';
  /** Patients skipped because a window was open on them: looked at again, alone, after the pass. */
  private readonly deferred = new Set<string>();
  /** A full pass found nothing but deferred patients: look only at those from now on. */
  private onlyDeferred = false;
  /** Patients whose share this validator cannot open (sealed to a key it no longer has): left to the others. */
  private readonly cannotDeal = new Set<string>();
  private scheduled = false;
  private stopped = false;
  private progress: ReshareProgress = { target: '', dealt: 0, done: true };
  private readonly batch: number;
  private readonly pageSize: number;

  constructor(
    private readonly cfg: ReshareAgentOptions,
    private readonly deps: ReshareAgentDeps,
  ) {
    this.batch = Math.min(cfg.batch ?? MAX_RESHARE_ITEMS, MAX_RESHARE_ITEMS);
    this.pageSize = cfg.pageSize ?? 500;
  }

  /** No more batches (the node is stopping). */
  stop(): void {
    this.stopped = true;
  }

  /** Progress toward the current holder set (for status and tests). */
  status(): ReshareProgress {
    return { ...this.progress };
  }

  /** After every commit (and on start): if work may remain, schedule the next batch. */
  onCommitted(): void {
    if (this.stopped) return;
    const target = emergencyHoldersHash(emergencyHolders(this.deps.view.state));
    if (target !== this.target) {
      // A new set: start a fresh pass over every split.
      this.target = target;
      this.cursor = undefined;
      this.passFoundWork = false;
      this.inFlight = '';
      this.deferred.clear();
      this.cannotDeal.clear();
      this.onlyDeferred = false;
      this.progress = { target, dealt: 0, done: false };
    }
    if (this.progress.done || this.scheduled) return;
    this.scheduled = true;
    (this.deps.defer ?? setImmediate)(() => {
      this.scheduled = false;
      if (!this.stopped) this.step();
    });
  }

  // One batch: skip while the last one is still in the mempool, else find and deal the next items.
  private step(): void {
    if (this.inFlight !== '' && this.deps.isPending(this.inFlight)) return;
    this.inFlight = '';
    const holders = emergencyHolders(this.deps.view.state);
    if (!holders.some((h) => h.id === this.cfg.nodeId)) {
      // Not (or no longer) a validator: nothing to deal; staying validators do it.
      this.progress.done = true;
      return;
    }
    const splits = this.nextWork();
    if (splits.length === 0) return;
    const items = splits.flatMap((split) => {
      const item = this.deal(split, holders);
      if (item === undefined) this.cannotDeal.add(split.patient);
      return item ?? [];
    });
    if (items.length === 0) return;
    try {
      const { hash } = this.deps.submitOwn('emergency.reshare', { target: this.target, items });
      this.inFlight = hash;
      this.progress.dealt += items.length;
      this.deps.log('info', `emergency re-sharing: dealt this validator's shares for ${items.length} patients to the new validator set`);
    } catch (err) {
      // Refused (a set change in between, the mempool full): the next commit tries again.
      this.passFoundWork = true;
      this.deps.log('warn', `emergency re-sharing not submitted yet (${(err as { code?: string }).code ?? 'error'}); will retry`);
    }
  }

  // Up to one batch of splits this validator must still deal for, paging from the cursor. At
  // the end of a pass that found work, another pass checks it all landed; a pass that finds
  // nothing means this validator's part is done for this set.
  private nextWork(): EmergencySplit[] {
    const { view } = this.deps;
    if (this.onlyDeferred) return this.deferredWork();
    const found: EmergencySplit[] = [];
    for (;;) {
      const page = view.scanState(emergencyPrefixes.splits(), {
        limit: this.pageSize,
        ...(this.cursor === undefined ? {} : { after: this.cursor }),
      });
      for (const [key, value] of page) {
        this.cursor = key;
        const split = JSON.parse(value) as EmergencySplit;
        const blocker = reshareBlocker(view.state, split, this.cfg.nodeId, this.target, view.tipTime());
        if (blocker === 'window-open') this.deferred.add(split.patient);
        if (blocker !== undefined || this.cannotDeal.has(split.patient)) continue;
        found.push(split);
        if (found.length >= this.batch) {
          this.passFoundWork = true;
          return found;
        }
      }
      if (page.length < this.pageSize) break;
    }
    this.cursor = undefined;
    if (found.length > 0 || this.passFoundWork) {
      this.passFoundWork = found.length > 0;
      return found;
    }
    if (this.deferred.size > 0) {
      this.onlyDeferred = true;
      return this.deferredWork();
    }
    this.progress.done = true;
    this.deps.log('info', 'emergency re-sharing: this validator has dealt every share it holds to the current validator set');
    return found;
  }

  // After the pass: only the patients whose window was open, until each window closes (no
  // rescan of every split while a window runs its hours).
  private deferredWork(): EmergencySplit[] {
    const { view } = this.deps;
    const found: EmergencySplit[] = [];
    for (const patient of [...this.deferred].sort()) {
      const split = getSplit(view.state, patient);
      const blocker = split === undefined ? 'current' : reshareBlocker(view.state, split, this.cfg.nodeId, this.target, view.tipTime());
      if (blocker === 'window-open') continue;
      this.deferred.delete(patient);
      if (blocker === undefined && split !== undefined && found.length < this.batch) found.push(split);
      else if (blocker === undefined) this.deferred.add(patient);
    }
    // Dealt ones are checked by one more full pass, which also ends the work when all landed.
    if (found.length > 0) {
      this.onlyDeferred = false;
      this.passFoundWork = true;
    } else if (this.deferred.size === 0) {
      this.onlyDeferred = false;
      this.progress.done = true;
    }
    return found;
  }

  // This validator's dealing for one split, or undefined when its share does not open.
  private deal(split: EmergencySplit, holders: ReadonlyArray<{ id: string; encryptionKey: string }>) {
    const mine = split.shares.find((s) => s.validator === this.cfg.nodeId);
    if (mine === undefined) return undefined;
    let parts: Uint8Array[];
    try {
      parts = openHeldParts(split, mine, this.cfg.encryptionPrivateKeys);
    } catch {
      this.deps.log('warn', `emergency re-sharing: this validator's share for patient ${split.patient} does not open; others must deal`);
      return undefined;
    }
    const share = ownShare(split, parts);
    for (const p of parts) p.fill(0);
    try {
      const dealt = dealSecret(share, holders.length, emergencyThreshold(holders.length));
      return {
        patient: split.patient,
        from: splitVersion(split),
        x: mine.x,
        shares: dealt.map((sub, j) => {
          const holder = holders[j] as { id: string; encryptionKey: string };
          const y = fromHex(sub.y);
          try {
            const aad = dealtShareAad(split.patient, this.target, mine.x, holder.id, split.emergencyKey);
            return {
              validator: holder.id,
              x: sub.x,
              commitment: shareCommitment(sub),
              sealed: sealToPublicKey(holder.encryptionKey, y, utf8(aad)),
            };
          } finally {
            y.fill(0);
          }
        }),
      };
    } finally {
      share.fill(0);
    }
  }
}
