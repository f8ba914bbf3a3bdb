// `GET /v1/blocks/:height` when CometBFT decides the blocks (docs/cometbft.md "Blocks and
// proofs on CometBFT"): CometBFT's signed header and commit for the height, from its RPC,
// with each transaction's leaf (SHA-256 of its bytes: the leaves of the header's data hash),
// and the transactions shown by the same rule as the embedded engine's blocks (chain-view.ts):
// in full to consortium members and auditors, else only the caller's own. A client checks
// it against the genesis validators (@medledger/client/light).
import { sha256Hex } from '@medledger/crypto';
import { type Identity, isTxParty, type StateReader, seesChainBodies } from '@medledger/ehr';
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
  if (caller !== undefined && seesChainBodies(deps.state, caller))
    return { ...base, block: { header: signed.header, txs }, results: txs.map(resultAt), bodies: 'full' };
  const own = caller === undefined ? [] : txs.flatMap((tx, index) => (isTxParty(tx, caller) ? [{ index, tx, result: resultAt(tx) }] : []));
  return { ...base, block: { header: signed.header }, bodies: 'withheld', own };
}

/** What `GET /v1/headers` needs under CometBFT: its RPC, and the application's record of set changes. */
export interface CometHeaderDeps {
  raw(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** The set in effect from `height + 1` when it differs from the one at `height` (the app's governed record). */
  nextValidatorsOf(height: number): GenesisValidator[] | undefined;
}

/** Headers fetched from CometBFT at once. */
const HEADER_FETCHES = 20;

/**
 * `GET /v1/headers` under CometBFT (docs/light-client.md "Validator-set changes"): CometBFT's
 * signed header and commit for each height from `from` to `last`, and, where a header's
 * next validator set differs from its own, that set from the application's record, so a
 * client can check it against the header's `next_validators_hash`. Stops early at a height
 * CometBFT does not have yet. Throws ApiError ENGINE_UNAVAILABLE when the RPC does not answer.
 */
export async function cometHeadersPage(deps: CometHeaderDeps, from: number, last: number): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  for (let start = from; start <= last; start += HEADER_FETCHES) {
    const heights = Array.from({ length: Math.min(HEADER_FETCHES, last - start + 1) }, (_, i) => start + i);
    let signed: Array<{ header: CometHeaderJson; commit: CometCommitJson } | undefined>;
    try {
      signed = await Promise.all(
        heights.map(async (h) => {
          try {
            const r = (await deps.raw('commit', { height: String(h) })) as {
              signed_header: { header: CometHeaderJson; commit: CometCommitJson };
            };
            return r.signed_header;
          } catch (err) {
            if (err instanceof CometRpcError && /must be less than or equal|could not find/i.test(err.message)) return undefined;
            throw err;
          }
        }),
      );
    } catch (err) {
      if (err instanceof CometRpcError)
        throw new ApiError('ENGINE_UNAVAILABLE', 'the consensus engine (CometBFT) does not answer; retry shortly');
      throw err;
    }
    for (const [i, s] of signed.entries()) {
      if (s === undefined) return out;
      const height = heights[i] as number;
      const changes = s.header.next_validators_hash.toLowerCase() !== s.header.validators_hash.toLowerCase();
      const nextValidators = changes ? deps.nextValidatorsOf(height) : undefined;
      out.push({ header: s.header, commit: s.commit, ...(nextValidators === undefined ? {} : { nextValidators }) });
    }
  }
  return out;
}
