// The validator's side of emergency access (docs/emergency.md): after each commit, for every
// active window this validator has not yet answered, open its share of the patient's key
// (sealed to this node's encryption key at registration), re-seal it to the requesting
// clinician and post it in a signed `emergency.share` transaction.
import { sealToPublicKey, utf8 } from '@medledger/crypto';
import {
  activeWindowFor,
  type EmergencyWindow,
  emergencyPrefixes,
  getIdentity,
  getPostedShare,
  getSplit,
  getWindow,
  postedShareAad,
  windowIsActive,
} from '@medledger/ehr';
import type { SignedTx } from '@medledger/ledger';
import { openHeldParts, postedPayload } from './emergency-shares.js';
import type { CommittedView, Log, SubmitOwnTx } from './ports.js';

/** `config.json` `emergency`: `postShares: false` stops this validator answering windows. */
export interface EmergencyAgentConfig {
  postShares: boolean;
}
export const DEFAULT_EMERGENCY_AGENT_CONFIG: EmergencyAgentConfig = { postShares: true };

export interface EmergencyAgentOptions extends EmergencyAgentConfig {
  /** This validator's id (idFromPublicKey of its signing key). */
  nodeId: string;
  /** This node's X25519 private key: opens the shares sealed to it at registration. */
  encryptionPrivateKey: string;
  /** `node.next.key`'s, when a rotation by vote gave this validator a new encryption key. */
  nextEncryptionPrivateKey?: string;
}

export interface EmergencyAgentDeps {
  view: CommittedView;
  submitOwn: SubmitOwnTx;
  /** Whether a transaction is still in this node's mempool. */
  isPending: (hash: string) => boolean;
  log: Log;
}

export class EmergencyAgent {
  /** Window id → hash of this node's pending share tx, so a commit does not resend it. */
  private readonly inFlight = new Map<string, string>();
  private readonly nodeId: string;

  constructor(
    private readonly cfg: EmergencyAgentOptions,
    private readonly deps: EmergencyAgentDeps,
  ) {
    this.nodeId = cfg.nodeId;
  }

  /**
   * On start: answer every open window that lacks this validator's share, which covers
   * windows opened while the node was down. Windows are found from the per-patient pointer to
   * the latest window, one key per patient that ever had one.
   */
  onStart(): void {
    if (!this.cfg.postShares) return;
    // Every patient, page by page: a fixed cap would silently skip the rest.
    const patients: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = this.deps.view.scanState(emergencyPrefixes.latest(), { limit: 5_000, ...(after === undefined ? {} : { after }) });
      patients.push(...page.map(([key]) => key.slice(key.lastIndexOf('/') + 1)));
      if (page.length < 5_000) break;
      after = page[page.length - 1]?.[0];
    }
    this.answerPatients(patients);
  }

  /**
   * After a commit: answer the windows its transactions opened, and try again for windows
   * whose share has not reached the chain yet (dropped from the mempool, say). Nothing is
   * scanned, so an idle chain's empty blocks cost nothing here.
   */
  onCommitted(txs: readonly SignedTx[]): void {
    if (!this.cfg.postShares) return;
    const opened = txs.filter((tx) => tx.kind === 'emergency.access').map((tx) => String((tx.body as { patient?: unknown }).patient));
    this.answerPatients(opened);
    for (const id of [...this.inFlight.keys()]) {
      const window = getWindow(this.deps.view.state, id);
      // A window that closed before our share landed needs no more tries.
      if (window === undefined || !windowIsActive(window, this.deps.view.tipTime())) this.inFlight.delete(id);
      else this.answer(window);
    }
  }

  private answerPatients(patients: readonly string[]): void {
    const time = this.deps.view.tipTime();
    for (const patient of new Set(patients)) {
      const window = activeWindowFor(this.deps.view.state, patient, time);
      if (window !== undefined) this.answer(window);
    }
  }

  private answer(window: EmergencyWindow): void {
    const state = this.deps.view.state;
    if (getPostedShare(state, window.id, this.nodeId) !== undefined) {
      this.inFlight.delete(window.id);
      return;
    }
    const pending = this.inFlight.get(window.id);
    if (pending !== undefined && this.deps.isPending(pending)) return;
    const split = getSplit(state, window.patient);
    const mine = split?.shares.find((s) => s.validator === this.nodeId);
    const clinician = getIdentity(state, window.clinician);
    if (split === undefined || split.emergencyKey !== window.emergencyKey || mine === undefined || clinician === undefined) {
      this.deps.log('warn', `emergency window ${window.id}: this validator holds no share for it`);
      return;
    }
    let sealed: ReturnType<typeof sealToPublicKey>;
    try {
      // One share, or for a re-shared split one sub-share per dealer, posted side by side.
      const parts = openHeldParts(split, mine, [
        this.cfg.encryptionPrivateKey,
        ...(this.cfg.nextEncryptionPrivateKey === undefined ? [] : [this.cfg.nextEncryptionPrivateKey]),
      ]);
      const payload = postedPayload(parts);
      for (const p of parts) p.fill(0);
      try {
        sealed = sealToPublicKey(clinician.encryptionKey, payload, utf8(postedShareAad(window.id, this.nodeId, clinician.id)));
      } finally {
        payload.fill(0);
      }
    } catch {
      this.deps.log('warn', `emergency window ${window.id}: this validator's share does not open with its encryption key`);
      return;
    }
    try {
      const { hash } = this.deps.submitOwn('emergency.share', { window: window.id, x: mine.x, sealed });
      this.inFlight.set(window.id, hash);
      this.deps.log('info', `emergency window ${window.id}: posted this validator's share for clinician ${clinician.id}`);
    } catch (err) {
      this.inFlight.set(window.id, '');
      this.deps.log(
        'warn',
        `emergency share for window ${window.id} not submitted yet (${(err as { code?: string }).code ?? 'error'}); will retry`,
      );
    }
  }
}
