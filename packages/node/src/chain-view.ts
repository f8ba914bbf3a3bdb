// What a caller sees of a block or a transaction (docs/records.md "Who sees which metadata").
// Block bodies name patients, grantees, record categories and emergency windows, so they go
// only to the consortium and its auditors (`seesChainBodies`); everyone else gets the header,
// the commit and each transaction's Merkle leaf hash, which is all a light client needs to
// check the header chain, the tx root and the inclusion of a transaction it holds. Prescription
// transactions and insurance transactions about a member's case go only to their parties and
// validators (ehr `seesTxBody`), even in the consortium.
import { type Identity, type isTxParty, type StateReader, seesChainBodies, seesTxBody } from '@medledger/ehr';
import type { StoredBlock } from '@medledger/storage';

/** `full`: every transaction and result; `withheld`: header, commit, leaves and the caller's own transactions. */
export type BodiesView = 'full' | 'withheld';

/**
 * `GET /v1/blocks/:height` for `caller` (undefined: anonymous). `leaves` is the RFC 9162 leaf
 * hash `SHA-256(0x00 ‖ tx)` of each transaction, hex (block-proofs.ts): the tx root is their Merkle root.
 */
export function blockView(
  state: StateReader,
  stored: StoredBlock,
  caller: Identity | undefined,
  leaves: string[],
): Record<string, unknown> {
  const { hash, block, commit, results } = stored;
  const seen = caller === undefined ? [] : block.txs.map((tx) => seesTxBody(state, tx, caller));
  if (caller !== undefined && seesChainBodies(state, caller) && seen.every(Boolean))
    return { hash, block, commit, results, leaves, bodies: 'full' satisfies BodiesView };
  // Anyone else gets the transactions they may see, with their index: a signed-in patient
  // their own (to prove their records' anchors), a consortium member all but the prescription
  // and insurance-case transactions it is no party to.
  const own = block.txs.flatMap((tx, index) => (seen[index] === true ? [{ index, tx, result: results[index] }] : []));
  return {
    hash,
    block: { header: block.header, lastCommit: block.lastCommit },
    commit,
    leaves,
    bodies: 'withheld' satisfies BodiesView,
    own,
  };
}

/** May `caller` see the body of a transaction (`tx` in `GET /v1/txs/:hash`)? */
export function seesTx(state: StateReader, tx: Parameters<typeof isTxParty>[0], caller: Identity | undefined): boolean {
  return caller !== undefined && seesTxBody(state, tx, caller);
}
