// The organization's hands on the ledger inside the node: it signs with keys the node
// holds (the organization's, and custodial patients'), stores vault objects, and waits for
// commits. Everything it submits goes through the same checkTx as a client's transaction.
import type { KeyBundle } from '@medledger/crypto';
import type { RecordTarget } from '@medledger/ehr';
import { ApiError } from '../errors.js';
import { idsUnder, recordRecipients, scanAllState } from '../recipients.js';
import type { RouteDeps } from '../route-deps.js';
import { FhirError } from './outcome.js';

export class OrgAgent {
  constructor(
    readonly node: RouteDeps,
    readonly orgKeys: KeyBundle,
    readonly orgId: string,
  ) {}

  get state() {
    return this.node.chain.state;
  }

  /** The node's access time: what grants and expiries are judged by, as for /v1 reads. */
  get blockTime(): number {
    return this.node.accessTime();
  }

  /** Every key/value under `prefix` in committed state. */
  scanAll(prefix: string): Array<[string, string]> {
    return scanAllState(this.node, prefix);
  }

  /** The last path segment of each key under `prefix` (ids kept in index keys). */
  idsUnder(prefix: string): string[] {
    return idsUnder(this.node, prefix);
  }

  /** Sign and admit a transaction with `keys` and the signer's next nonce. Throws ApiError. */
  submit(kind: string, body: object, keys: KeyBundle = this.orgKeys): string {
    return this.node.submitOwn(kind, body as Record<string, unknown>, keys.signing).hash;
  }

  /** Store a vault object as an upload by `uploader` would (the identity that will sign the transaction naming it). */
  putObject(hash: string, bytes: Uint8Array, uploader: string = this.orgId): void {
    this.node.vault.put(hash, bytes, uploader);
  }

  /**
   * Wait until every transaction is committed. Throws FhirError 422 naming the first
   * refusal (its stable code), or 503 if they are not committed within `timeoutMs`.
   */
  async waitCommitted(hashes: readonly string[], timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let pending = [...hashes];
    while (pending.length > 0) {
      const still: string[] = [];
      for (const h of pending) {
        if (this.node.isPending(h)) {
          still.push(h);
          continue;
        }
        const loc = this.node.chain.store.findTx(h);
        if (loc !== undefined) {
          if (loc.result.code !== 'ok') throw new FhirError(422, 'processing', `the ledger refused a write: ${loc.result.code}`);
          continue;
        }
        let status: Record<string, unknown>;
        try {
          status = this.node.txStatus(h);
        } catch (err) {
          if (err instanceof ApiError && err.code === 'TX_NOT_FOUND') {
            still.push(h);
            continue;
          }
          throw err;
        }
        if (status.status === 'rejected') throw new FhirError(422, 'processing', `the ledger refused a write: ${String(status.code)}`);
        still.push(h);
      }
      pending = still;
      if (pending.length === 0) return;
      if (Date.now() > deadline) throw new FhirError(503, 'transient', 'the ledger did not commit the write in time; retry');
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /**
   * Who a new record of `target` for `patientId` must be sealed to, as
   * `GET /v1/patients/:id/recipients` answers it, plus this organization as the author.
   */
  recipients(patientId: string, target: RecordTarget, extra: Array<{ to: string; encryptionKey: string }> = []) {
    const out = new Map<string, string>();
    for (const e of extra) out.set(e.to, e.encryptionKey);
    for (const r of recordRecipients(this.node, patientId, target)) out.set(r.to, r.encryptionKey);
    out.set(this.orgId, this.orgKeys.encryption.publicKey);
    return [...out].map(([to, encryptionKey]) => ({ to, encryptionKey }));
  }
}
