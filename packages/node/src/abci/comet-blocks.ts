// `GET /v1/blocks/:height` when CometBFT decides the blocks (docs/cometbft.md "Blocks and
// proofs on CometBFT"): CometBFT's signed header and commit for the height, from its RPC,
// with each transaction's leaf (SHA-256 of its bytes: the leaves of the header's data hash),
// and the transactions shown by the same rule as the embedded engine's blocks (chain-view.ts):
// in full to consortium members and auditors (but a prescription transaction only to validators
// and its parties), else only the caller's own. A client checks
// it against the genesis validators (@medledger/client/light).
import { sha256Hex } from '@medledger/crypto';
import { type Identity, type StateReader, seesChainBodies, seesTxBody } from '@medledger/ehr';
import { type GenesisValidator, type SignedTx, type TxResult, txBytes, txHash } from '@medledger/ledger';
import type { CometCommitJson, CometHeaderJson } from '@medledger/ledger/cometbft';
import { ApiError } from '../errors.js';
import type { CometRecentBlocks } from './comet-recent-blocks.js';
import { decodeTx } from './ehr-app.js';
import { CometRpcError } from './rpc.js';

export interface CometBlockDeps {
  raw(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>>;
  recent: Pick<CometRecentBlocks, 'txsAt'>;
  state: StateReader;
  /** A committed transaction's result (the application's tx index). */
  resultOf(hash: string): TxResult | undefined;
}

/** The block's transactions: from the node's recent blocks, else CometBFT's `block`. */
async function txsAt(deps: CometBlockDeps, height: number): Promise<SignedTx[]> {
  const recent = deps.recent.txsAt(height);
  if (recent !== undefined) return [...recent];
  const r = (await deps.raw('block', { height: String(height) })) as { block: { data: { txs: string[] | null } } };
  return (r.block.data.txs ?? []).map((b64) => {
    const tx = decodeTx(new Uint8Array(Buffer.from(b64, 'base64')));
    // Every transaction in a decided block passed ProcessProposal, which refuses any other.
    if (!('sig' in tx)) throw new ApiError('INTERNAL', `block ${height} holds a transaction that is not canonical`);
    return tx;
  });
}

/**
 * The view of block `height` for `caller`. Throws ApiError BLOCK_NOT_FOUND above the
 * application's height, ENGINE_UNAVAILABLE when CometBFT's RPC does not answer.
 */
export async function cometBlockView(deps: CometBlockDeps, height: number, caller: Identity | undefined): Promise<Record<string, unknown>> {
  let signed: { header: CometHeaderJson; commit: CometCommitJson };
  let txs: SignedTx[];
  try {
    const r = (await deps.raw('commit', { height: String(height) })) as {
      signed_header: { header: CometHeaderJson; commit: CometCommitJson };
    };
    signed = r.signed_header;
    txs = await txsAt(deps, height);
  } catch (err) {
    if (err instanceof CometRpcError && /must be less than or equal|could not find|height must be greater/i.test(err.message))
      throw new ApiError('BLOCK_NOT_FOUND', `no block at height ${height}`);
    if (err instanceof CometRpcError)
      throw new ApiError('ENGINE_UNAVAILABLE', 'the consensus engine (CometBFT) does not answer; retry shortly');
    throw err;
  }
  const leaves = txs.map((tx) => sha256Hex(txBytes(tx)));
  const hash = signed.commit.block_id.hash.toLowerCase();
  const base = { engine: 'cometbft', hash, commit: signed.commit, leaves };
  const resultAt = (tx: SignedTx) => deps.resultOf(txHash(tx)) ?? null;
  // Per transaction, as blockView decides it: a prescription transaction only to validators and
  // its parties, even within the consortium, so a block holding one comes withheld to the rest.
  const seen = caller === undefined ? [] : txs.map((tx) => seesTxBody(deps.state, tx, caller));
  if (caller !== undefined && seesChainBodies(deps.state, caller) && seen.every(Boolean))
    return { ...base, block: { header: signed.header, txs }, results: txs.map(resultAt), bodies: 'full' };
  const own = txs.flatMap((tx, index) => (seen[index] === true ? [{ index, tx, result: resultAt(tx) }] : []));
  return { ...base, block: { header: signed.header }, bodies: 'withheld', own };
}

/** What `GET /v1/headers` needs under CometBFT: its RPC, and the application's record of set changes. */
export interface CometHeaderDeps {
  raw(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** The set in effect from `height + 1` when it differs from the one at `height` (the app's governed record). */
  nextValidatorsOf(height: number): GenesisValidator[] | undefined;
}

/** Most headers CometBFT's `blockchain` RPC answers at once. */
const HEADERS_PER_CALL = 20;

/** CometBFT's signed commit at `height`, or undefined when it has none yet. */
async function commitAt(deps: CometHeaderDeps, height: number): Promise<CometCommitJson | undefined> {
  try {
    const r = (await deps.raw('commit', { height: String(height) })) as { signed_header: { commit: CometCommitJson } };
    return r.signed_header.commit;
  } catch (err) {
    if (err instanceof CometRpcError && /must be less than or equal|could not find/i.test(err.message)) return undefined;
    throw err;
  }
}

/**
 * `GET /v1/headers` under CometBFT (docs/light-client.md "Validator-set changes"): CometBFT's
 * header for each height from `from` to `last` (its `blockchain` RPC, 20 at a time), and,
 * where a header's next validator set differs from its own, the commit that signs it and that
 * next set from the application's record, so a client can check the change against the
 * header's `next_validators_hash`. A walk checks a commit only there (every other header is
 * bound to it by hashes), so the others carry none; a block's own commit comes with
 * `GET /v1/blocks/:height`. Stops early at a height CometBFT does not have yet. Throws
 * ApiError ENGINE_UNAVAILABLE when the RPC does not answer.
 */
export async function cometHeadersPage(deps: CometHeaderDeps, from: number, last: number): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  try {
    const chunks: Array<[number, number]> = [];
    for (let lo = from; lo <= last; lo += HEADERS_PER_CALL) chunks.push([lo, Math.min(last, lo + HEADERS_PER_CALL - 1)]);
    const answers = await Promise.all(
      chunks.map(
        ([lo, hi]) =>
          deps.raw('blockchain', { minHeight: String(lo), maxHeight: String(hi) }) as Promise<{
            block_metas?: Array<{ header: CometHeaderJson }> | null;
          }>,
      ),
    );
    const byHeight = new Map<number, CometHeaderJson>();
    for (const a of answers) for (const m of a.block_metas ?? []) byHeight.set(Number(m.header.height), m.header);
    for (let height = from; height <= last; height++) {
      const header = byHeight.get(height);
      if (header === undefined) break;
      if (header.next_validators_hash.toLowerCase() === header.validators_hash.toLowerCase()) {
        out.push({ header });
        continue;
      }
      const commit = await commitAt(deps, height);
      if (commit === undefined) break;
      const nextValidators = deps.nextValidatorsOf(height);
      out.push({ header, commit, ...(nextValidators === undefined ? {} : { nextValidators }) });
    }
  } catch (err) {
    if (err instanceof CometRpcError)
      throw new ApiError('ENGINE_UNAVAILABLE', 'the consensus engine (CometBFT) does not answer; retry shortly');
    throw err;
  }
  return out;
}
