// Proven reads of committed state (DESIGN §1.5, docs/sdk.md "Trusted genesis"): every answer
// comes with a header, its commit and a state proof per key, and is refused unless all three
// verify against the trusted genesis and the answer is no older than one already verified.
import type { BlockHeader, Commit } from '@medledger/ledger';
import { ClientError } from './errors.js';
import { headerHash, type TrustedSets, ValidatorSetTracker, verifyCommit } from './light.js';
import { defaultStateProofVerifier, type StateProofVerifier } from './state-proof.js';
import { refuse, type TrustedGenesis } from './trust.js';

/**
 * Where proven answers come from: `POST /v1/state/proofs` (a NodeConnection does this), and
 * `GET /v1/headers` to follow validator-set changes from genesis (light-sets.ts). Without
 * `get`, only headers signed by the genesis set are believed.
 */
export interface StateProofSource {
  post(path: string, body: unknown): Promise<unknown>;
  get?(path: string): Promise<unknown>;
}

/** Committed state values for the keys asked, proven at one height. */
export interface ProvenState {
  /** The height the values were proven at (the header's height). */
  height: number;
  /** The proven header's block time (ms since the epoch). */
  time: number;
  blockHash: string;
  /** The proven value of `key` (null: proven absent). Throws INVALID_ARGUMENT for a key not asked. */
  value(key: string): string | null;
}

/** Keys per `POST /v1/state/proofs` request; longer lists are sent in several. */
export const MAX_PROOF_KEYS = 100;

function objectAt(x: unknown, what: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new ClientError('MALFORMED_RESPONSE', `${what} must be an object`);
  return x as Record<string, unknown>;
}

/**
 * Reads committed state through one or more nodes and believes only what it can prove. It
 * remembers the highest height it verified and refuses any later answer proven lower
 * (`STALE_HEIGHT`): a node replaying an old, validly signed answer is caught.
 */
export class VerifiedReader {
  readonly trusted: TrustedGenesis;
  private readonly source: StateProofSource;
  private readonly verifier: StateProofVerifier;
  private highest: number;
  private readonly onHeight: ((height: number) => void) | undefined;
  /** The validator set trusted at each height, followed from genesis. */
  private readonly sets: TrustedSets;

  /**
   * `minHeight`: a height verified earlier (e.g. kept by the CLI between runs), below which no
   * answer is accepted. `onHeight` is told each new highest verified height.
   */
  constructor(
    trusted: TrustedGenesis,
    source: StateProofSource,
    opts: { verifier?: StateProofVerifier; minHeight?: number; onHeight?: (height: number) => void } = {},
  ) {
    this.trusted = trusted;
    this.source = source;
    this.verifier = opts.verifier ?? defaultStateProofVerifier;
    this.highest = opts.minHeight ?? 0;
    this.onHeight = opts.onHeight;
    const get = source.get?.bind(source);
    this.sets =
      get === undefined
        ? { chainId: trusted.chainId, verifyHeader: async (header, commit) => verifyCommit(trusted.genesis, header, commit) }
        : new ValidatorSetTracker(trusted.genesis, { get });
  }

  /** The highest height this reader has verified (0 before the first answer). */
  get highestHeight(): number {
    return this.highest;
  }

  /**
   * Prove the values of `keys` at the node's latest height. Throws ClientError with a
   * TrustErrorCode naming the failed check (`UNTRUSTED_COMMIT`, `HEADER_MISMATCH`,
   * `APP_HASH_MISMATCH`, `STATE_PROOF_INVALID`, `STALE_HEIGHT`, `GENESIS_MISMATCH`),
   * `MALFORMED_RESPONSE`, or the node's own error.
   */
  async read(keys: readonly string[]): Promise<ProvenState> {
    const unique = [...new Set(keys)];
    if (unique.length === 0) throw new ClientError('INVALID_ARGUMENT', 'no state keys to prove');
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += MAX_PROOF_KEYS) chunks.push(unique.slice(i, i + MAX_PROOF_KEYS));
    const parts = await Promise.all(chunks.map((chunk) => this.readChunk(chunk)));
    const values = new Map<string, string | null>();
    for (const p of parts) for (const [k, v] of p.values) values.set(k, v);
    // Facts proven in several answers carry the oldest of their heights.
    const oldest = parts.reduce((a, b) => (b.height < a.height ? b : a));
    return {
      height: oldest.height,
      time: oldest.time,
      blockHash: oldest.blockHash,
      value(key: string) {
        const v = values.get(key);
        if (v === undefined) throw new ClientError('INVALID_ARGUMENT', `state key ${key} was not asked for`);
        return v;
      },
    };
  }

  private async readChunk(
    keys: string[],
  ): Promise<{ height: number; time: number; blockHash: string; values: Map<string, string | null> }> {
    // An answer must be no older than what was verified before asking; answers to parallel
    // requests may arrive in any order, so the floor is taken now.
    const floor = this.highest;
    const answer = objectAt(await this.source.post('/v1/state/proofs', { keys }), 'state proof answer');
    const header = objectAt(answer.header, 'answer.header') as unknown as BlockHeader;
    const commit = objectAt(answer.commit, 'answer.commit') as unknown as Commit;
    const { stateRoot, resultsRoot } = answer;
    if (typeof stateRoot !== 'string' || typeof resultsRoot !== 'string')
      throw new ClientError('MALFORMED_RESPONSE', 'answer.stateRoot and answer.resultsRoot must be hex strings');
    if (!Array.isArray(answer.entries)) throw new ClientError('MALFORMED_RESPONSE', 'answer.entries must be an array');

    if (header.chainId !== this.trusted.chainId)
      refuse('GENESIS_MISMATCH', `the node answers for chain '${String(header.chainId)}', not the trusted '${this.trusted.chainId}'`);
    if (answer.height !== header.height)
      refuse('HEADER_MISMATCH', `the answer claims height ${String(answer.height)} but its header is for height ${String(header.height)}`);
    let hash: string;
    try {
      hash = headerHash(header);
    } catch {
      refuse('HEADER_MISMATCH', 'the header has no canonical form');
    }
    if (commit.blockHash !== hash) refuse('HEADER_MISMATCH', `the header of height ${header.height} is not the block its commit signs`);
    try {
      await this.sets.verifyHeader(header, commit);
    } catch (err) {
      if (err instanceof ClientError) refuse('UNTRUSTED_COMMIT', `block ${header.height}: ${err.message}`);
      throw err;
    }
    if (header.height < floor)
      refuse('STALE_HEIGHT', `the node answered at height ${header.height}, below height ${floor} already verified`);
    if (header.appHash !== this.verifier.appHashOf(stateRoot, resultsRoot))
      refuse('APP_HASH_MISMATCH', `the app hash of block ${header.height} is not the hash of the state and results roots given`);

    const values = new Map<string, string | null>();
    for (const raw of answer.entries) {
      const e = objectAt(raw, 'answer.entries[]');
      const key = e.key;
      if (typeof key !== 'string' || !keys.includes(key)) refuse('STATE_PROOF_INVALID', `the answer holds a key that was not asked for`);
      if (values.has(key)) refuse('STATE_PROOF_INVALID', `the answer holds key ${key} twice`);
      const value = e.value;
      if (value !== null && typeof value !== 'string') refuse('STATE_PROOF_INVALID', `the value of ${key} is neither a string nor null`);
      if (!this.verifier.verify(stateRoot, key, value, e.proof))
        refuse('STATE_PROOF_INVALID', `the proof of ${key} does not lead to the state root of block ${header.height}`);
      values.set(key, value);
    }
    const missing = keys.find((k) => !values.has(k));
    if (missing !== undefined) refuse('STATE_PROOF_INVALID', `the answer leaves out key ${missing}`);

    if (header.height > this.highest) {
      this.highest = header.height;
      this.onHeight?.(header.height);
    }
    return { height: header.height, time: header.time, blockHash: hash, values };
  }
}
