// Which vault objects a committed block refers to (so every node fetches them) and which it
// erased (so every node deletes them), derived from its successful transactions.
import { getRecord, recordObjectHashes, type StateReader } from '@medledger/ehr';
import type { SignedTx, TxResult } from '@medledger/ledger';

type Hashed = { hash?: unknown };

function envelopeHashes(body: { envelopes?: unknown }): string[] {
  return Array.isArray(body.envelopes) ? body.envelopes.map((e: Hashed) => String(e.hash)) : [];
}

/** `anchored`: hashes now referenced on chain; `erased`: hashes of records erased by the block. */
export function vaultEffects(
  txs: readonly SignedTx[],
  results: readonly TxResult[],
  after: StateReader,
): { anchored: string[]; erased: string[] } {
  const anchored: string[] = [];
  const erased: string[] = [];
  txs.forEach((tx, i) => {
    if (results[i]?.code !== 'ok') return;
    const body = tx.body as { contentHash?: string; envelopes?: unknown; record?: string };
    switch (tx.kind) {
      case 'record.anchor':
        anchored.push(String(body.contentHash), ...envelopeHashes(body));
        return;
      case 'record.share':
      case 'consent.grant':
        anchored.push(...envelopeHashes(body));
        return;
      case 'emergency.rewrap': {
        // After a key rotation the old emergency envelopes are deleted everywhere.
        const items = Array.isArray(body.envelopes) ? (body.envelopes as Array<Hashed & { old?: unknown }>) : [];
        anchored.push(...items.map((e) => String(e.hash)));
        erased.push(...items.map((e) => String(e.old)));
        return;
      }
      case 'record.erase': {
        const record = getRecord(after, String(body.record));
        if (record !== undefined) erased.push(...recordObjectHashes(record));
        return;
      }
      default:
        return;
    }
  });
  return { anchored, erased };
}
