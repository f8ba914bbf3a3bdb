// Following validator-set changes from genesis (docs/light-client.md "Validator-set changes"):
// a client pinned to genesis learns the set that signs each height by walking the chain's
// headers. Each header names its signers' set and the next one (`validatorsHash`,
// `nextValidatorsHash`); a header that changes the next set is checked against the commit of
// the set before it, so a new set is proven by the old one, and a set that was replaced
// cannot sign later history. Browser-safe, like light.ts.
import type { BlockHeader, Commit, Genesis, GenesisValidator } from '@medledger/ledger';
import { type CommitCheck, fail, headerHash, validatorSetHash, verifyCommit } from './light-commit.js';

const ZERO_HASH = '0'.repeat(64);
/** Most headers asked for at once (GET /v1/headers pages at 100). */
const HEADERS_PAGE = 100;
const LARGEST_POWER = 1_000_000;

/** Where headers come from: anything with `get(path)` answering the node's JSON. */
export interface HeaderSource {
  get(path: string): Promise<unknown>;
}

/** The validator sets a client trusts, height by height. */
export interface TrustedSets {
  readonly chainId: string;
  /** The genesis the walk starts from (CometBFT blocks are checked under its set: docs/cometbft.md). */
  readonly genesis: Pick<Genesis, 'chainId' | 'validators'>;
  /**
   * Check that `commit` finalises `header` under the set trusted at its height, and that the
   * header is the one the followed chain holds at that height. Throws ClientError `BAD_COMMIT`,
   * `WRONG_CHAIN` or `MALFORMED_RESPONSE`.
   */
  verifyHeader(header: BlockHeader, commit: Commit): Promise<CommitCheck>;
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

/**
 * The validator sets of one chain, followed from genesis through one node's `GET /v1/headers`.
 * Every header is hash-linked to the one before and must name the set its predecessor
 * announced; a header that announces a different next set is verified by the commit of its
 * own set before the new set is taken (the list, which the node gives, must hash to what the
 * header names). A block is then accepted only under the set so followed, and only if it is
 * the header the walk found at its height. A long chain costs one request per 100 headers the
 * first time; the tracker remembers what it walked, so keep one per client.
 */
export class ValidatorSetTracker implements TrustedSets {
  readonly chainId: string;
  /** Sets by the height they start at, ascending; the first is genesis's, from height 1. */
  private changes: Array<{ from: number; validators: GenesisValidator[] }>;
  /** Header hashes of the heights walked, index = height (index 0 unused). */
  private hashes: string[] = [ZERO_HASH];
  private hashed = false;
  private walking: Promise<void> = Promise.resolve();

  constructor(
    readonly genesis: Pick<Genesis, 'chainId' | 'validators'>,
    private readonly source: HeaderSource,
  ) {
    this.chainId = genesis.chainId;
    this.changes = [{ from: 1, validators: [...genesis.validators] }];
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
    const height = header?.height;
    if (typeof height !== 'number' || !Number.isSafeInteger(height) || height < 1)
      fail('MALFORMED_RESPONSE', 'block header height must be a positive integer');
    const validators = await this.validatorsAt(height);
    const check = verifyCommit({ chainId: this.chainId, validators }, header, commit);
    const walked = height <= this.walkedHeight ? this.hashes[height] : undefined;
    const linked = walked === undefined ? header.prevHash === this.hashes[height - 1] : check.blockHash === walked;
    if (!linked) {
      // The node's walk and this header disagree: forget the walk, so the next check starts afresh.
      this.reset();
      fail('BAD_COMMIT', `block ${height} is not the block the followed chain holds at its height`);
    }
    return check;
  }

  private setAt(height: number): readonly GenesisValidator[] {
    let set = this.changes[0]?.validators ?? [];
    for (const c of this.changes) if (c.from <= height) set = c.validators;
    return set;
  }

  private reset(): void {
    this.changes = [{ from: 1, validators: [...this.genesis.validators] }];
    this.hashes = [ZERO_HASH];
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
      for (const entry of answer.headers as Array<{ header: BlockHeader; commit: Commit; nextValidators?: unknown }>) {
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
  private step(entry: { header: BlockHeader; commit: Commit; nextValidators?: unknown }): void {
    const header = entry?.header;
    const height = this.walkedHeight + 1;
    if (typeof header !== 'object' || header === null || header.height !== height)
      fail('MALFORMED_RESPONSE', `the node gave a header out of order where block ${height} was expected`);
    if (header.chainId !== this.chainId) fail('WRONG_CHAIN', `header is for chain '${String(header.chainId)}', not '${this.chainId}'`);
    if (header.prevHash !== this.hashes[height - 1]) fail('BAD_COMMIT', `block ${height} does not link to block ${height - 1}`);
    const set = this.setAt(height);
    const setHash = validatorSetHash(set);
    if (header.validatorsHash === undefined) {
      if (this.hashed) fail('BAD_COMMIT', `block ${height} lacks the validator-set hashes its predecessors carry`);
    } else {
      if (header.validatorsHash !== setHash) fail('BAD_COMMIT', `block ${height} names a validator set other than the one proven for it`);
      this.hashed = true;
      if (header.nextValidatorsHash !== setHash) {
        // A change: proven only by the commit of the set in force now.
        verifyCommit({ chainId: this.chainId, validators: set }, header, entry.commit);
        const next = parseSet(entry.nextValidators, height);
        if (validatorSetHash(next) !== header.nextValidatorsHash)
          fail('BAD_COMMIT', `the next validator set given for block ${height} does not match its header`);
        this.changes.push({ from: height + 1, validators: next });
      }
    }
    this.hashes.push(headerHash(header));
  }
}

/** The tracker to check blocks with: `trusted` itself when it is one, else a fresh one from `trusted`'s genesis set. */
export function trackerFor(source: HeaderSource, trusted: Pick<Genesis, 'chainId' | 'validators'> | TrustedSets): TrustedSets {
  return 'verifyHeader' in trusted ? trusted : new ValidatorSetTracker(trusted, source);
}
