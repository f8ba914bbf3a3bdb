// "Check this record on the ledger": find the record's anchor in its block, get the node's
// inclusion proof for it, and verify proof and commit here in the browser.
import type { NodeConnection, RecordMeta } from '@medledger/client';
import { objectAt, parseInclusion } from '@medledger/client';
import { checkInclusion, findAnchorTx, type InclusionCheck, parseStoredBlock } from './verify.js';

/** Check a record's anchor against the chain. Throws ClientError or LedgerError when the node cannot answer. */
export async function checkRecordOnChain(conn: NodeConnection, meta: RecordMeta): Promise<InclusionCheck & { height: number }> {
  const height = (meta.anchoredAt as { height?: number } | undefined)?.height;
  if (typeof height !== 'number') throw new Error('the record does not say which block holds it');
  const status = await conn.status();
  const stored = parseStoredBlock(await conn.get(`/v1/blocks/${height}`));
  const anchor = findAnchorTx(stored.block, meta.record);
  if (anchor === undefined) {
    return { ok: false, height, steps: [{ what: 'The record’s entry is in the block the ledger names', ok: false }] };
  }
  const inclusion = parseInclusion(objectAt(await conn.get(`/v1/txs/${anchor.hash}`), 'tx'));
  const validators = status.validators as Array<{ name: string; publicKey: string; power: number }>;
  const result = checkInclusion(status.chainId, validators, stored, anchor.tx, inclusion.proof);
  return { ...result, height };
}
