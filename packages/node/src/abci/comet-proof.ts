// Proofs of committed state on CometBFT (docs/cometbft.md "Proven state on CometBFT"). A
// CometBFT header carries the app hash of the block *before* it, so the state after block H
// is proven by header H+1 and its commit, and header H (linked by H+1's last block id) gives
// the state's height and time. The node reads both from CometBFT's RPC on loopback; the
// client checks them against the genesis validators (@medledger/ledger/cometbft).
import type { CometCommitJson, CometHeaderJson } from '@medledger/ledger/cometbft';
import { ApiError } from '../errors.js';
import { CometRpcError } from './rpc.js';

/** What proves the state after block `header.height`: that header, and the next one with its commit. */
export interface CometProofHeaders {
  header: CometHeaderJson;
  next: { header: CometHeaderJson; commit: CometCommitJson };
}

export interface CometProofOptions {
  /** How long to wait for block H+1 (CometBFT makes it promptly after a block that changed the app hash). */
  waitMs: number;
  pollMs: number;
}

export const DEFAULT_COMET_PROOF_OPTIONS: CometProofOptions = { waitMs: 15_000, pollMs: 50 };

type Raw = (method: string, params: Record<string, unknown>) => Promise<Record<string, unknown>>;

/** CometBFT's signed header at `height`, or undefined while it has no such block yet. */
async function signedHeader(raw: Raw, height: number): Promise<{ header: CometHeaderJson; commit: CometCommitJson } | undefined> {
  try {
    const r = (await raw('commit', { height: String(height) })) as { signed_header?: { header: CometHeaderJson; commit: CometCommitJson } };
    return r.signed_header;
  } catch (err) {
    if (err instanceof CometRpcError && /must be less than or equal to the current blockchain height|could not find/i.test(err.message))
      return undefined;
    throw err;
  }
}

/**
 * The headers that prove the state after block `height`, whose app hash is `appHash` (lower
 * hex): header `height + 1` carries it. While the chain is idle CometBFT makes that block only
 * after its empty-block interval; but when header `height` already carries the same app hash
 * (the last block changed nothing), the state after `height - 1` is this very state, and header
 * `height` proves it now. Otherwise waits for block `height + 1` up to `opts.waitMs`. Returns
 * the height the answer proves (`height` or `height - 1`). Throws ApiError `NO_COMMITTED_BLOCK`
 * (503) when the block does not come in time, or `ENGINE_UNAVAILABLE` (503) when CometBFT's RPC
 * does not answer.
 */
export async function cometProofHeaders(
  raw: Raw,
  height: number,
  appHash: string,
  opts: CometProofOptions = DEFAULT_COMET_PROOF_OPTIONS,
): Promise<CometProofHeaders & { height: number }> {
  const deadline = Date.now() + opts.waitMs;
  let lastError: string | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      const next = await signedHeader(raw, height + 1);
      if (next !== undefined) {
        const own = await signedHeader(raw, height);
        if (own === undefined) throw new ApiError('ENGINE_UNAVAILABLE', `CometBFT has block ${height + 1} but not block ${height}`);
        return { height, header: own.header, next };
      }
      if (attempt === 0 && height > 1) {
        const own = await signedHeader(raw, height);
        if (own !== undefined && own.header.app_hash.toLowerCase() === appHash) {
          const before = await signedHeader(raw, height - 1);
          if (before !== undefined) return { height: height - 1, header: before.header, next: own };
        }
      }
      lastError = undefined;
    } catch (err) {
      // A dropped loopback connection under load is retried like a block not yet made.
      if (!(err instanceof CometRpcError)) throw err;
      lastError = err.message.slice(0, 200);
    }
    if (Date.now() >= deadline) {
      if (lastError !== undefined)
        throw new ApiError('ENGINE_UNAVAILABLE', `the consensus engine (CometBFT) does not answer (${lastError}); retry shortly`);
      throw new ApiError('NO_COMMITTED_BLOCK', `block ${height + 1}, which commits to this state, is not decided yet; retry shortly`);
    }
    await new Promise((r) => setTimeout(r, opts.pollMs));
  }
}
