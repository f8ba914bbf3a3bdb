// "Check this record on the ledger": prove with the light client (@medledger/client/light)
// that the record's anchor is in a block committed by more than 2/3 of the validators,
// checking the inclusion proof and commit signatures here in the browser.
import type { NodeConnection, RecordMeta } from '@medledger/client';
import { proveRecord, ValidatorSetTracker } from '@medledger/client/light';
import type { GenesisValidator } from '@medledger/ledger';
import { type InclusionCheck, validatorNames } from './verify.js';

const STEP_PROOF = 'The record’s entry is in the block’s list of transactions (Merkle proof to the block header)';
const STEP_COMMIT = 'More than two thirds of the validators signed that block';
const STEP_CONTENT = 'The entry names this record’s locked content';

/**
 * Check a record's anchor against the chain, under the validator sets followed from the
 * genesis this session trusts (else the node's), on the engine that genesis names.
 * Does not throw for a failed check (the steps say what failed); throws ClientError when
 * the node cannot answer at all.
 */
export async function checkRecordOnChain(conn: NodeConnection, meta: RecordMeta): Promise<InclusionCheck & { height?: number }> {
  // The light client follows the validator sets from the genesis to the anchor's block
  // (light-sets.ts), on the engine the genesis names: the one this session trusts, else the
  // node's.
  const genesis =
    conn.trusted?.genesis ??
    ((await conn.get('/v1/genesis')) as { chainId: string; engine?: 'embedded' | 'cometbft'; validators: GenesisValidator[] });
  const sets = new ValidatorSetTracker(genesis, { get: (path) => conn.get(path) });
  const heightHint = (meta.anchoredAt as { height?: number } | undefined)?.height;
  try {
    // Signed in: nodes show block bodies only to consortium members and auditors, and each
    // patient their own transactions (the record's anchor); the proof still trusts no node.
    const source = { get: (path: string) => conn.get(path, { auth: true }) };
    const proof = await proveRecord(source, sets, meta.record, {
      ...(heightHint === undefined ? {} : { heightHint }),
      maxBlocks: 500,
    });
    const names = validatorNames(await sets.validatorsAt(proof.height));
    return {
      ok: proof.anchor.contentHash === meta.contentHash,
      height: proof.height,
      steps: [
        { what: STEP_PROOF, ok: true },
        { what: `${STEP_COMMIT} (${proof.commit.signers.map((k) => names.get(k) ?? 'a validator').join(', ')})`, ok: true },
        { what: STEP_CONTENT, ok: proof.anchor.contentHash === meta.contentHash },
      ],
    };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'BAD_COMMIT' || code === 'WRONG_CHAIN') return { ok: false, steps: [{ what: STEP_COMMIT, ok: false }] };
    if (code === 'BAD_PROOF' || code === 'RECORD_NOT_FOUND' || code === 'TX_NOT_COMMITTED' || code === 'BODIES_WITHHELD')
      return { ok: false, steps: [{ what: STEP_PROOF, ok: false }] };
    throw err;
  }
}
