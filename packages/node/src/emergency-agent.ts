// The validator's side of emergency access (docs/emergency.md): after each commit, for every
// active window this validator has not yet answered, open its share of the patient's key
// (sealed to this node's encryption key at registration), re-seal it to the requesting
// clinician and post it in a signed `emergency.share` transaction.
import { openEnvelope, sealToPublicKey, utf8 } from '@medledger/crypto';
import {
  activeWindowFor,
  type EmergencyWindow,
  emergencyPrefixes,
  getIdentity,
  getPostedShare,
  getSplit,
  getWindow,
  postedShareAad,
  registeredShareAad,
  windowIsActive,
} from '@medledger/ehr';
import { type SignedTx, signTx, txHash } from '@medledger/ledger';
import type { MedLedgerNode } from './node.js';

/** `config.json` `emergency`: `postShares: false` stops this validator answering windows. */
export interface EmergencyAgentConfig {
  postShares: boolean;
}
export const DEFAULT_EMERGENCY_AGENT_CONFIG: EmergencyAgentConfig = { postShares: true };

export class EmergencyAgent {
  /** Window id → hash of this node's pending share tx, so a commit does not resend it. */
  private readonly inFlight = new Map<string, string>();
  private readonly nodeId: string;

  constructor(
    private readonly node: MedLedgerNode,
    private readonly cfg: EmergencyAgentConfig,
    nodeId: string,
  ) {
    this.nodeId = nodeId;
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
      const page = this.node.chain.store.scanState(emergencyPrefixes.latest(), { limit: 5_000, ...(after === undefined ? {} : { after }) });
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
      const window = getWindow(this.node.chain.state, id);
      // A window that closed before our share landed needs no more tries.
      if (window === undefined || !windowIsActive(window, this.node.chain.tipTime)) this.inFlight.delete(id);
      else this.answer(window);
    }
  }

  private answerPatients(patients: readonly string[]): void {
    const time = this.node.chain.tipTime;
    for (const patient of new Set(patients)) {
      const window = activeWindowFor(this.node.chain.state, patient, time);
      if (window !== undefined) this.answer(window);
    }
  }

  private answer(window: EmergencyWindow): void {
    const state = this.node.chain.state;
    if (getPostedShare(state, window.id, this.nodeId) !== undefined) {
      this.inFlight.delete(window.id);
      return;
    }
    const pending = this.inFlight.get(window.id);
    if (pending !== undefined && this.node.mempool.has(pending)) return;
    const split = getSplit(state, window.patient);
    const mine = split?.shares.find((s) => s.validator === this.nodeId);
    const clinician = getIdentity(state, window.clinician);
    if (split === undefined || split.emergencyKey !== window.emergencyKey || mine === undefined || clinician === undefined) {
      this.node.log('warn', `emergency window ${window.id}: this validator holds no share for it`);
      return;
    }
    let sealed: ReturnType<typeof sealToPublicKey>;
    try {
      const share = openEnvelope(
        this.node.home.key.encryption.privateKey,
        mine.sealed,
        utf8(registeredShareAad(window.patient, this.nodeId, split.emergencyKey)),
      );
      try {
        sealed = sealToPublicKey(clinician.encryptionKey, share, utf8(postedShareAad(window.id, this.nodeId, clinician.id)));
      } finally {
        share.fill(0);
      }
    } catch {
      this.node.log('warn', `emergency window ${window.id}: the patient's share for this validator does not open`);
      return;
    }
    const tx = signTx(
      {
        v: 1,
        chain: this.node.chain.chainId,
        kind: 'emergency.share',
        signer: this.node.publicKey,
        nonce: this.node.chain.app.pendingNonce(this.node.publicKey),
        body: { window: window.id, x: mine.x, sealed },
      },
      this.node.home.key.signing.privateKey,
    );
    try {
      this.node.admit(tx);
      this.inFlight.set(window.id, txHash(tx));
      this.node.log('info', `emergency window ${window.id}: posted this validator's share for clinician ${clinician.id}`);
    } catch (err) {
      this.inFlight.set(window.id, '');
      this.node.log(
        'warn',
        `emergency share for window ${window.id} not submitted yet (${(err as { code?: string }).code ?? 'error'}); will retry`,
      );
    }
  }
}
