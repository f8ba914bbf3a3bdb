// Proven reads of committed state (DESIGN §1.5, docs/sdk.md "Trusted genesis"): every answer
// comes with a header, its commit and a state proof per key, and is refused unless all three
// verify against the trusted genesis and the answer is no older than one already verified.
import type { BlockHeader, Commit } from '@medledger/ledger';
import { type CometCommitJson, type CometHeaderJson, cometHeaderHash, parseCometTime } from '@medledger/ledger/cometbft';
import { ClientError } from './errors.js';
import { genesisSetOnly, headerHash, type TrustedSets, trustedEngine, ValidatorSetTracker } from './light.js';
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
    this.sets = get === undefined ? genesisSetOnly(trusted.genesis) : new ValidatorSetTracker(trusted.genesis, { get });
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
    const { stateRoot, resultsRoot } = answer;
    if (typeof stateRoot !== 'string' || typeof resultsRoot !== 'string')
      throw new ClientError('MALFORMED_RESPONSE', 'answer.stateRoot and answer.resultsRoot must be hex strings');
    if (!Array.isArray(answer.entries)) throw new ClientError('MALFORMED_RESPONSE', 'answer.entries must be an array');
    // The engine is the one the trusted genesis names, never the answer's choice: a node
    // answering for one engine's chain in the other's format is refused (ENGINE_MISMATCH).
    // Either engine's commit needs the signatures of the set followed from genesis to its
    // height (docs/cometbft.md).
    const engine = trustedEngine(this.trusted.genesis);
    const shape = answer.engine === 'cometbft' ? 'cometbft' : 'embedded';
    if (shape !== engine)
      refuse(
        'ENGINE_MISMATCH',
        `the node answered with ${shape === 'cometbft' ? 'CometBFT' : 'MedLedger'} headers, but the trusted genesis names the ${engine} engine`,
      );
    const proven =
      engine === 'cometbft'
        ? await checkCometHeaders(this.trusted, this.sets, answer)
        : await checkMedLedgerHeader(this.trusted, this.sets, answer);
    const { height } = proven;
    if (height < floor) refuse('STALE_HEIGHT', `the node answered at height ${height}, below height ${floor} already verified`);
    if (proven.appHash !== this.verifier.appHashOf(stateRoot, resultsRoot))
      refuse('APP_HASH_MISMATCH', `the app hash proving block ${height}'s state is not the hash of the state and results roots given`);

    const values = new Map<string, string | null>();
    for (const raw of answer.entries) {
      const e = objectAt(raw, 'answer.entries[]');
      const key = e.key;
      if (typeof key !== 'string' || !keys.includes(key)) refuse('STATE_PROOF_INVALID', `the answer holds a key that was not asked for`);
      if (values.has(key)) refuse('STATE_PROOF_INVALID', `the answer holds key ${key} twice`);
      const value = e.value;
      if (value !== null && typeof value !== 'string') refuse('STATE_PROOF_INVALID', `the value of ${key} is neither a string nor null`);
      if (!this.verifier.verify(stateRoot, key, value, e.proof))
        refuse('STATE_PROOF_INVALID', `the proof of ${key} does not lead to the state root of block ${height}`);
      values.set(key, value);
    }
    const missing = keys.find((k) => !values.has(k));
    if (missing !== undefined) refuse('STATE_PROOF_INVALID', `the answer leaves out key ${missing}`);

    if (height > this.highest) {
      this.highest = height;
      this.onHeight?.(height);
    }
    return { height, time: proven.time, blockHash: proven.blockHash, values };
  }
}

/** The height, time and block hash a checked answer proves state at, and the app hash that state must have. */
interface ProvenHeader {
  height: number;
  time: number;
  blockHash: string;
  appHash: string;
}

/** The embedded engine's answer: the tip header, its commit, and the header's own app hash. */
async function checkMedLedgerHeader(trusted: TrustedGenesis, sets: TrustedSets, answer: Record<string, unknown>): Promise<ProvenHeader> {
  const header = objectAt(answer.header, 'answer.header') as unknown as BlockHeader;
  const commit = objectAt(answer.commit, 'answer.commit') as unknown as Commit;
  if (header.chainId !== trusted.chainId)
    refuse('GENESIS_MISMATCH', `the node answers for chain '${String(header.chainId)}', not the trusted '${trusted.chainId}'`);
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
    await sets.verifyHeader(header, commit);
  } catch (err) {
    if (err instanceof ClientError) refuse('UNTRUSTED_COMMIT', `block ${header.height}: ${err.message}`);
    throw err;
  }
  return { height: header.height, time: header.time, blockHash: hash, appHash: header.appHash };
}

/**
 * CometBFT's answer (docs/cometbft.md "Proven state"): a CometBFT header carries the app hash
 * of the block before it, so the state after block H is proven by header H+1 (`next`) with a
 * commit of more than 2/3 of the genesis validators, over CometBFT's canonical vote sign
 * bytes, and a validator-set hash that is theirs; header H (`cometHeader`), which H+1's last
 * block id names, gives the state's height and time.
 */
async function checkCometHeaders(trusted: TrustedGenesis, sets: TrustedSets, answer: Record<string, unknown>): Promise<ProvenHeader> {
  const header = objectAt(answer.cometHeader, 'answer.cometHeader') as unknown as CometHeaderJson;
  const next = objectAt(answer.next, 'answer.next');
  const nextHeader = objectAt(next.header, 'answer.next.header') as unknown as CometHeaderJson;
  const nextCommit = objectAt(next.commit, 'answer.next.commit') as unknown as CometCommitJson;
  const { chainId } = trusted;
  if (header.chain_id !== chainId || nextHeader.chain_id !== chainId)
    refuse('GENESIS_MISMATCH', `the node answers for chain '${String(nextHeader.chain_id)}', not the trusted '${chainId}'`);
  const height = answer.height;
  if (typeof height !== 'number' || !Number.isSafeInteger(height) || height < 1)
    throw new ClientError('MALFORMED_RESPONSE', 'answer.height must be a positive integer');
  if (header.height !== String(height) || nextHeader.height !== String(height + 1))
    refuse(
      'HEADER_MISMATCH',
      `the answer claims height ${height} but its headers are for heights ${String(header.height)} and ${String(nextHeader.height)}`,
    );
  let blockHash = '';
  let time = 0;
  try {
    await sets.verifyCometHeader(nextHeader, nextCommit);
    blockHash = cometHeaderHash(header);
    const t = parseCometTime(header.time);
    time = Number(t.seconds) * 1000 + Math.floor(t.nanos / 1_000_000);
  } catch (err) {
    refuse('UNTRUSTED_COMMIT', `block ${height + 1}: ${(err as Error).message}`);
  }
  if (typeof nextHeader.last_block_id?.hash !== 'string' || nextHeader.last_block_id.hash.toLowerCase() !== blockHash)
    refuse('HEADER_MISMATCH', `the header of height ${height} is not the block that block ${height + 1} follows`);
  if (typeof nextHeader.app_hash !== 'string') throw new ClientError('MALFORMED_RESPONSE', 'answer.next.header.app_hash must be hex');
  return { height, time, blockHash, appHash: nextHeader.app_hash.toLowerCase() };
}

/**
 * The proven length of a dense list (its count key; absent: 0). Throws ClientError
 * STATE_PROOF_INVALID when the proven value is not a count.
 */
export function provenCount(state: ProvenState, key: string): number {
  const raw = state.value(key);
  if (raw === null) return 0;
  if (!/^(0|[1-9][0-9]{0,11})$/.test(raw)) refuse('STATE_PROOF_INVALID', `the proven value of ${key} is not a count`);
  return Number(raw);
}
