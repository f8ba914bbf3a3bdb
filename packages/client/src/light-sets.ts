// Following validator-set changes from genesis (docs/light-client.md "Validator-set changes"):
// a client pinned to genesis learns the set that signs each height by walking the chain's
// headers. Each header names its signers' set and the next one (`validatorsHash` and
// `nextValidatorsHash`, or CometBFT's `validators_hash` and `next_validators_hash`); a header
// that changes the next set is checked against the commit of the set before it, so a new set
// is proven by the old one, and a set that was replaced cannot sign later history. The walk
// is one for both engines; which engine's headers it reads is fixed by the trusted genesis.
// Browser-safe, like light.ts.
import type { BlockHeader, Commit, Genesis, GenesisValidator } from '@medledger/ledger';
import { type CometCommitJson, type CometHeaderJson, cometHeaderHash, cometValidatorSetHash } from '@medledger/ledger/cometbft';
import { cometCommitCheck } from './light-comet.js';
import { type CommitCheck, fail, headerHash, requireEngine, trustedEngine, validatorSetHash, verifyCommit } from './light-commit.js';

/** Most headers asked for at once (GET /v1/headers pages at 100). */
const HEADERS_PAGE = 100;
const LARGEST_POWER = 1_000_000;

/** Where headers come from: anything with `get(path)` answering the node's JSON. */
export interface HeaderSource {
  get(path: string): Promise<unknown>;
}

/** What a client trusts: the genesis, whose `engine` fixes which engine's blocks it checks. */
export type TrustedGenesisDoc = Pick<Genesis, 'chainId' | 'validators' | 'engine'>;

/** The validator sets a client trusts, height by height. */
export interface TrustedSets {
  readonly chainId: string;
  /** The genesis the walk starts from; its engine is the only one whose blocks are accepted. */
  readonly genesis: TrustedGenesisDoc;
  /**
   * Check that `commit` finalises the MedLedger `header` under the set trusted at its height,
   * and that the header is the one the followed chain holds at that height. Throws ClientError
   * `BAD_COMMIT`, `WRONG_CHAIN`, `MALFORMED_RESPONSE`, or `ENGINE_MISMATCH` when the genesis
   * names CometBFT.
   */
  verifyHeader(header: BlockHeader, commit: Commit): Promise<CommitCheck>;
  /** The same for a CometBFT header and commit; `ENGINE_MISMATCH` unless the genesis names CometBFT. */
  verifyCometHeader(header: CometHeaderJson, commit: CometCommitJson): Promise<CommitCheck>;
}

function parseSet(x: unknown, height: number): GenesisValidator[] {
  if (!Array.isArray(x) || x.length === 0) fail('BAD_COMMIT', `block ${height} names a new validator set but the node did not give it`);
  const seen = new Set<string>();
  return x.map((v: Record<string, unknown>) => {
    const key = v?.publicKey;
    const power = v?.power;
    if (typeof key !== 'string' || !/^[0-9a-f]{64}$/.test(key) || seen.has(key))
      fail('MALFORMED_RESPONSE', `the next validator set of block ${height} has a bad or repeated key`);
    if (typeof power !== 'number' || !Number.isSafeInteger(power) || power < 1 || power > LARGEST_POWER)
      fail('MALFORMED_RESPONSE', `the next validator set of block ${height} has a bad voting power`);
    seen.add(key);
    return {
      name: typeof v.name === 'string' ? v.name : '',
      publicKey: key,
      encryptionKey: typeof v.encryptionKey === 'string' ? v.encryptionKey : '',
      power,
    };
  });
}

/** How one engine's headers are read: what the walk needs of them. */
interface HeaderRules<H, C> {
  /** What block 1 links back to. */
  readonly genesisLink: string;
  height(h: H): unknown;
  chainId(h: H): unknown;
  /** The hash of the block this one names as its predecessor (lower-case hex). */
  link(h: H): unknown;
  hash(h: H): string;
  /** The set hashes the header names; undefined for embedded headers older than validator-set changes. */
  validatorsHash(h: H): string | undefined;
  nextValidatorsHash(h: H): string | undefined;
  setHash(set: readonly GenesisValidator[]): string;
  verify(chainId: string, set: readonly GenesisValidator[], h: H, c: C): CommitCheck;
}

const lower = (x: unknown) => (typeof x === 'string' ? x.toLowerCase() : undefined);

const EMBEDDED_RULES: HeaderRules<BlockHeader, Commit> = {
  genesisLink: '0'.repeat(64),
  height: (h) => h?.height,
  chainId: (h) => h?.chainId,
  link: (h) => h.prevHash,
  hash: (h) => headerHash(h),
  validatorsHash: (h) => h.validatorsHash,
  nextValidatorsHash: (h) => h.nextValidatorsHash,
  setHash: (set) => validatorSetHash(set),
  verify: (chainId, validators, h, c) => verifyCommit({ chainId, validators }, h, c),
};

const COMET_RULES: HeaderRules<CometHeaderJson, CometCommitJson> = {
  genesisLink: '',
  height: (h) => (typeof h?.height === 'string' && /^[1-9][0-9]{0,15}$/.test(h.height) ? Number(h.height) : undefined),
  chainId: (h) => h?.chain_id,
  link: (h) => lower(h.last_block_id?.hash),
  hash: (h) => {
    try {
      return cometHeaderHash(h);
    } catch (err) {
      fail('MALFORMED_RESPONSE', `a CometBFT header has no hash: ${(err as Error).message}`);
    }
  },
  // CometBFT headers always name both sets.
  validatorsHash: (h) => lower(h.validators_hash) ?? '',
  nextValidatorsHash: (h) => lower(h.next_validators_hash) ?? '',
  setHash: (set) => cometValidatorSetHash(set.map((v) => ({ publicKey: v.publicKey, power: v.power }))),
  verify: (chainId, set, h, c) => cometCommitCheck(chainId, set, h, c),
};

/**
 * The validator sets of one chain, followed from genesis through one node's `GET /v1/headers`.
 * Every header is hash-linked to the one before and must name the set its predecessor
 * announced; a header that announces a different next set is verified by the commit of its
 * own set before the new set is taken (the list, which the node gives, must hash to what the
 * header names). A block is then accepted only under the set so followed, and only if it is
 * the header the walk found at its height. The headers walked are the genesis engine's
 * (MedLedger's, or CometBFT's on a chain whose genesis names it). A long chain costs one
 * request per 100 headers the first time; the tracker remembers what it walked, so keep one
 * per client.
 */
export class ValidatorSetTracker implements TrustedSets {
  readonly chainId: string;
  /** Sets by the height they start at, ascending; the first is genesis's, from height 1. */
  private changes: Array<{ from: number; validators: GenesisValidator[] }>;
  /** Header hashes of the heights walked, index = height (index 0: what block 1 links to). */
  private hashes: string[];
  private hashed = false;
  private walking: Promise<void> = Promise.resolve();
  // biome-ignore lint/suspicious/noExplicitAny: one walk for both engines' header types
  private readonly rules: HeaderRules<any, any>;

  constructor(
    readonly genesis: TrustedGenesisDoc,
    private readonly source: HeaderSource,
  ) {
    this.chainId = genesis.chainId;
    this.rules = trustedEngine(genesis) === 'cometbft' ? COMET_RULES : EMBEDDED_RULES;
    this.changes = [{ from: 1, validators: [...genesis.validators] }];
    this.hashes = [this.rules.genesisLink];
  }

  /** Height up to which headers were walked. */
  get walkedHeight(): number {
    return this.hashes.length - 1;
  }

  /** The set trusted at `height` (walking the headers below it first). Throws ClientError. */
  async validatorsAt(height: number): Promise<readonly GenesisValidator[]> {
    await this.walkTo(height - 1);
    return this.setAt(height);
  }

  async verifyHeader(header: BlockHeader, commit: Commit): Promise<CommitCheck> {
    requireEngine(this.genesis, 'embedded', `block ${String(header?.height)}`);
    return this.verifyAny(header, commit);
  }

  async verifyCometHeader(header: CometHeaderJson, commit: CometCommitJson): Promise<CommitCheck> {
    requireEngine(this.genesis, 'cometbft', `block ${String(header?.height)}`);
    return this.verifyAny(header, commit);
  }

  private async verifyAny(header: unknown, commit: unknown): Promise<CommitCheck> {
    const height = this.rules.height(header);
    if (typeof height !== 'number' || !Number.isSafeInteger(height) || height < 1)
      fail('MALFORMED_RESPONSE', 'block header height must be a positive integer');
    if (this.rules.chainId(header) !== this.chainId)
      fail('WRONG_CHAIN', `header is for chain '${String(this.rules.chainId(header))}', not '${this.chainId}'`);
    const validators = await this.validatorsAt(height);
    const check = this.rules.verify(this.chainId, validators, header, commit);
    const walked = height <= this.walkedHeight ? this.hashes[height] : undefined;
    const linked = walked === undefined ? this.rules.link(header) === this.hashes[height - 1] : check.blockHash === walked;
    if (!linked) {
      // The node's walk and this header disagree: forget the walk, so the next check starts afresh.
      this.reset();
      fail('BAD_COMMIT', `block ${height} is not the block the followed chain holds at its height`);
    }
    return check;
  }

  /** A set's hash under this engine's rules, computed once per set (a walk asks it at every header). */
  private readonly setHashes = new WeakMap<readonly GenesisValidator[], string>();
  private hashOf(set: readonly GenesisValidator[]): string {
    let hash = this.setHashes.get(set);
    if (hash === undefined) {
      hash = this.rules.setHash(set);
      this.setHashes.set(set, hash);
    }
    return hash;
  }

  private setAt(height: number): readonly GenesisValidator[] {
    let set = this.changes[0]?.validators ?? [];
    for (const c of this.changes) if (c.from <= height) set = c.validators;
    return set;
  }

  private reset(): void {
    this.changes = [{ from: 1, validators: [...this.genesis.validators] }];
    this.hashes = [this.rules.genesisLink];
    this.hashed = false;
  }

  /** Walk headers up to `height`, one walk at a time. */
  private walkTo(height: number): Promise<void> {
    const next = this.walking.then(() => this.walkSerial(height));
    this.walking = next.catch(() => {});
    return next;
  }

  private async walkSerial(height: number): Promise<void> {
    while (this.walkedHeight < height) {
      const from = this.walkedHeight + 1;
      const limit = Math.min(HEADERS_PAGE, height - this.walkedHeight);
      const answer = (await this.source.get(`/v1/headers?from=${from}&limit=${limit}`)) as { headers?: unknown };
      if (!Array.isArray(answer?.headers) || answer.headers.length === 0)
        fail('MALFORMED_RESPONSE', `the node gave no headers from height ${from}`);
      for (const entry of answer.headers as Array<{ header: unknown; commit: unknown; nextValidators?: unknown }>) {
        try {
          this.step(entry);
        } catch (err) {
          this.reset();
          throw err;
        }
        if (this.walkedHeight >= height) break;
      }
    }
  }

  /** Take the next header of the walk: linked, naming the announced set, and proven where it changes the next one. */
  private step(entry: { header: unknown; commit: unknown; nextValidators?: unknown }): void {
    const header = entry?.header;
    const rules = this.rules;
    const height = this.walkedHeight + 1;
    if (typeof header !== 'object' || header === null || rules.height(header) !== height)
      fail('MALFORMED_RESPONSE', `the node gave a header out of order where block ${height} was expected`);
    if (rules.chainId(header) !== this.chainId)
      fail('WRONG_CHAIN', `header is for chain '${String(rules.chainId(header))}', not '${this.chainId}'`);
    if (rules.link(header) !== this.hashes[height - 1]) fail('BAD_COMMIT', `block ${height} does not link to block ${height - 1}`);
    const set = this.setAt(height);
    const setHash = this.hashOf(set);
    const named = rules.validatorsHash(header);
    if (named === undefined) {
      if (this.hashed) fail('BAD_COMMIT', `block ${height} lacks the validator-set hashes its predecessors carry`);
    } else {
      if (named !== setHash) fail('BAD_COMMIT', `block ${height} names a validator set other than the one proven for it`);
      this.hashed = true;
      const nextHash = rules.nextValidatorsHash(header);
      if (nextHash !== setHash) {
        // A change: proven only by the commit of the set in force now.
        rules.verify(this.chainId, set, header, entry.commit);
        const next = parseSet(entry.nextValidators, height);
        if (rules.setHash(next) !== nextHash)
          fail('BAD_COMMIT', `the next validator set given for block ${height} does not match its header`);
        this.changes.push({ from: height + 1, validators: next });
      }
    }
    this.hashes.push(rules.hash(header));
  }
}

/**
 * Sets for a client with no header source (a stored block, a proof from a file): the genesis
 * set at every height, on the genesis engine. Sound but narrow: a header that names another
 * set (any block after a validator-set change) is refused, never checked under a stale set.
 */
export function genesisSetOnly(genesis: TrustedGenesisDoc): TrustedSets {
  return {
    chainId: genesis.chainId,
    genesis,
    verifyHeader: async (header, commit) => {
      requireEngine(genesis, 'embedded', `block ${String(header?.height)}`);
      return verifyCommit(genesis, header, commit);
    },
    verifyCometHeader: async (header, commit) => {
      requireEngine(genesis, 'cometbft', `block ${String(header?.height)}`);
      return cometCommitCheck(genesis.chainId, genesis.validators, header, commit);
    },
  };
}

/** The tracker to check blocks with: `trusted` itself when it is one, else a fresh one from `trusted`'s genesis set. */
export function trackerFor(source: HeaderSource, trusted: TrustedGenesisDoc | TrustedSets): TrustedSets {
  return 'verifyHeader' in trusted ? trusted : new ValidatorSetTracker(trusted, source);
}
