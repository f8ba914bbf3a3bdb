// Proven state reads (docs/api.md "Proven state"): a key's committed value with a proof
// against the state root, the roots that hash to the tip header's app hash, and the tip
// header and commit, so a client holding only the genesis can check the answer itself.

import { appHashOf, type ProvenStateAnswer, type ProvenStateEntry } from '@medledger/ledger';
import type { CometCommitJson, CometHeaderJson } from '@medledger/ledger/cometbft';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { schemas } from './api-schemas.js';
import { dispensesFor } from './dispense-writers.js';
import { ApiError } from './errors.js';
import type { Gatekeeper } from './gatekeeper.js';
import type { RouteDeps } from './route-deps.js';
import { keyAccess, SERVED_KEY_FAMILIES } from './state-access.js';

/**
 * A proven answer on CometBFT: the state after block `height`, proven by CometBFT's header
 * `height + 1` (`next`, whose app hash is this state's) and its commit; `cometHeader` is
 * header `height`, linked by `next.header.last_block_id`, for the state's time.
 */
export interface CometProvenStateAnswer {
  engine: 'cometbft';
  height: number;
  cometHeader: CometHeaderJson;
  next: { header: CometHeaderJson; commit: CometCommitJson };
  stateRoot: string;
  resultsRoot: string;
  entries: ProvenStateEntry[];
}

/** Most keys one POST /v1/state/proofs proves. */
export const MAX_PROOF_KEYS = 256;
/** Longest key accepted (the longest real key, an access-log entry, is about 200 characters). */
export const MAX_KEY_LENGTH = 512;

export function registerStateRoutes(app: FastifyInstance, node: RouteDeps, gate: Gatekeeper): void {
  /**
   * The proven answer for `keys` at the tip, or ApiError: INVALID_PARAM for a malformed key,
   * KEY_NOT_SERVED for a key outside the served families, UNAUTHENTICATED / ACCESS_DENIED
   * when a key is not public and the caller may not see it, NO_COMMITTED_BLOCK before block 1.
   * Everything is read synchronously, so header, roots and entries are of one height.
   */
  const prove = async (req: FastifyRequest, keys: readonly string[]): Promise<ProvenStateAnswer | CometProvenStateAnswer> => {
    const chain = node.chain;
    const height = chain.height;
    const header = chain.tipHeader;
    const commit = chain.tipCommit;
    if (height === 0 || (node.engineName === 'embedded' && (header === null || commit === null)))
      throw new ApiError('NO_COMMITTED_BLOCK', 'no block is committed yet; retry shortly', 503);
    const time = node.accessTime();
    let caller: ReturnType<Gatekeeper['authenticate']> | undefined;
    for (const key of keys) {
      if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH || /[^\x21-\x7e]/.test(key))
        throw new ApiError('INVALID_PARAM', `a key is 1–${MAX_KEY_LENGTH} printable ASCII characters`);
      const access = keyAccess(chain.state, key, time, (caller, patient) => dispensesFor(chain.state, chain.store, caller, patient, time));
      if (access === undefined)
        throw new ApiError('KEY_NOT_SERVED', `proofs are served for these keys only: ${SERVED_KEY_FAMILIES.join(', ')}`);
      if (access.public) continue;
      caller ??= gate.authenticate(req.headers.authorization);
      if (!access.allowed(caller)) throw new ApiError('ACCESS_DENIED', `you may not see '${key}', or it does not exist`);
    }
    const entries = keys.map((key) => chain.proveState(key));
    const { stateRoot, resultsRoot } = chain;
    if (node.engineName === 'cometbft' && node.cometProofHeaders !== undefined) {
      // The entries and roots are of the state after `height`, read now; CometBFT's header
      // H+1 carries its app hash, so the answer waits for that block (docs/cometbft.md).
      const signed = await node.cometProofHeaders(height, appHashOf(stateRoot, resultsRoot));
      return { engine: 'cometbft', height: signed.height, cometHeader: signed.header, next: signed.next, stateRoot, resultsRoot, entries };
    }
    if (header === null || commit === null) throw new ApiError('NO_COMMITTED_BLOCK', 'no block is committed yet; retry shortly', 503);
    return { height: header.height, header, commit, stateRoot, resultsRoot, entries };
  };

  app.get<{ Querystring: { key: string } }>('/v1/state/proof', { schema: schemas.stateProof }, async (req) => prove(req, [req.query.key]));

  app.post('/v1/state/proofs', { schema: schemas.stateProofs }, async (req) => {
    const body = req.body as { keys: string[] };
    if (body.keys.length > MAX_PROOF_KEYS) throw new ApiError('INVALID_BODY', `at most ${MAX_PROOF_KEYS} keys per request`);
    return prove(req, [...new Set(body.keys)]);
  });
}
