// A valid chain built from scratch for tests: a genesis with N fresh validators and K
// blocks of signed no-op transactions, each finalised by every validator's precommit.
import { generateEncryptionKeyPair, generateSigningKeyPair, type SigningKeyPair } from '@medledger/crypto';
import { blockHash, commitHash, signVote, ZERO_HASH } from '../block.js';
import { txRoot } from '../merkle.js';
import { signTx } from '../tx.js';
import type { Block, Commit, Genesis, GenesisValidator } from '../types.js';
import { validatorSetHash } from '../validator-set.js';

export interface ChainFixture {
  genesis: Genesis;
  validatorKeys: SigningKeyPair[];
  blocks: Array<{ block: Block; commit: Commit }>;
}

/** Sign a commit for `hash` at `height` by the given validator keys. */
export function signCommit(chainId: string, height: number, hash: string, keys: SigningKeyPair[], round = 0): Commit {
  return {
    height,
    round,
    blockHash: hash,
    signatures: keys.map((k) => ({
      validator: k.publicKey,
      sig: signVote(chainId, { type: 'precommit', height, round, blockHash: hash }, k.privateKey),
    })),
  };
}

/** Build a chain of `blocks` blocks with `txsPerBlock` signed `test.noop` transactions each. */
export function makeChain(opts: { validators?: number; blocks?: number; txsPerBlock?: number; chainId?: string } = {}): ChainFixture {
  const chainId = opts.chainId ?? 'fixture-chain';
  const validatorKeys = Array.from({ length: opts.validators ?? 4 }, () => generateSigningKeyPair());
  const genesis: Genesis = {
    chainId,
    genesisTime: 1_700_000_000_000,
    validators: validatorKeys.map((k, i) => ({
      name: `v${i}`,
      publicKey: k.publicKey,
      encryptionKey: generateEncryptionKeyPair().publicKey,
      power: 1,
    })),
    organizations: [],
    params: { maxBlockTxs: 1000, maxBlockBytes: 1 << 20, maxClockDriftMs: 10_000 },
  };
  const sender = generateSigningKeyPair();
  let nonce = 0;
  const blocks: ChainFixture['blocks'] = [];
  let prevHash = ZERO_HASH;
  let lastCommit: Commit | null = null;
  for (let h = 1; h <= (opts.blocks ?? 5); h++) {
    const txs = Array.from({ length: opts.txsPerBlock ?? 3 }, () =>
      signTx({ v: 1, chain: chainId, kind: 'test.noop', signer: sender.publicKey, nonce: nonce++, body: { h } }, sender.privateKey),
    );
    const header = {
      chainId,
      height: h,
      time: genesis.genesisTime + h * 1000,
      prevHash,
      txRoot: txRoot(txs),
      appHash: ZERO_HASH,
      proposer: (validatorKeys[h % validatorKeys.length] as SigningKeyPair).publicKey,
      lastCommitHash: lastCommit === null ? ZERO_HASH : commitHash(lastCommit),
    };
    const block: Block = { header, lastCommit, txs };
    const hash = blockHash(header);
    const commit = signCommit(chainId, h, hash, validatorKeys);
    blocks.push({ block, commit });
    prevHash = hash;
    lastCommit = commit;
  }
  return { genesis, validatorKeys, blocks };
}

/** A validator of a governed fixture chain: its key and voting power. */
export interface FixtureValidator {
  key: SigningKeyPair;
  power: number;
}

export interface GovernedChainFixture {
  genesis: Genesis;
  /** The set in effect at each height (index = height; index 0 = genesis). */
  setAt: (height: number) => FixtureValidator[];
  blocks: Array<{ block: Block; commit: Commit; nextValidators?: GenesisValidator[] }>;
}

const asValidators = (set: FixtureValidator[]): GenesisValidator[] =>
  set.map((v, i) => ({ name: `v${i}`, publicKey: v.key.publicKey, encryptionKey: v.key.publicKey, power: v.power }));

/**
 * A chain whose validator set changes: `changes` maps an effective height to the set from
 * then on. Every header carries the set hashes, each block is signed by more than 2/3 of its
 * height's set (all of it), and a block that names a new next set comes with its list.
 */
export function makeGovernedChain(opts: {
  genesisSet: FixtureValidator[];
  changes: Array<{ effectiveHeight: number; set: FixtureValidator[] }>;
  blocks: number;
  chainId?: string;
}): GovernedChainFixture {
  const chainId = opts.chainId ?? 'governed-fixture';
  const genesis: Genesis = {
    chainId,
    genesisTime: 1_700_000_000_000,
    validators: asValidators(opts.genesisSet),
    organizations: [],
    params: { maxBlockTxs: 1000, maxBlockBytes: 1 << 20, maxClockDriftMs: 10_000 },
  };
  const setAt = (height: number): FixtureValidator[] => {
    let set = opts.genesisSet;
    for (const c of opts.changes) if (c.effectiveHeight <= height) set = c.set;
    return set;
  };
  const blocks: GovernedChainFixture['blocks'] = [];
  let prevHash = ZERO_HASH;
  let lastCommit: Commit | null = null;
  for (let h = 1; h <= opts.blocks; h++) {
    const set = setAt(h);
    const next = setAt(h + 1);
    const header = {
      chainId,
      height: h,
      time: genesis.genesisTime + h * 1000,
      prevHash,
      txRoot: txRoot([]),
      appHash: ZERO_HASH,
      proposer: (set[h % set.length] as FixtureValidator).key.publicKey,
      lastCommitHash: lastCommit === null ? ZERO_HASH : commitHash(lastCommit),
      validatorsHash: validatorSetHash(asValidators(set)),
      nextValidatorsHash: validatorSetHash(asValidators(next)),
    };
    const block: Block = { header, lastCommit, txs: [] };
    const hash = blockHash(header);
    const commit = signCommit(
      chainId,
      h,
      hash,
      set.map((v) => v.key),
    );
    blocks.push({ block, commit, ...(next === set ? {} : { nextValidators: asValidators(next) }) });
    prevHash = hash;
    lastCommit = commit;
  }
  return { genesis, setAt, blocks };
}

/**
 * The block after `fx`'s last, as a state snapshot's block would be: linked to it, carrying
 * `appHash` and `txs`, naming the sets `fx.setAt` gives, and a commit by `signers` (default:
 * the whole set in effect at its height). Does not extend `fx`.
 */
export function nextGovernedBlock(
  fx: GovernedChainFixture,
  opts: { appHash: string; txs?: Block['txs']; signers?: SigningKeyPair[] },
): { block: Block; commit: Commit } {
  const last = fx.blocks[fx.blocks.length - 1] as GovernedChainFixture['blocks'][number];
  const height = last.block.header.height + 1;
  const set = fx.setAt(height);
  const txs = opts.txs ?? [];
  const header = {
    chainId: fx.genesis.chainId,
    height,
    time: last.block.header.time + 1000,
    prevHash: blockHash(last.block.header),
    txRoot: txRoot(txs),
    appHash: opts.appHash,
    proposer: (set[0] as FixtureValidator).key.publicKey,
    lastCommitHash: commitHash(last.commit),
    validatorsHash: validatorSetHash(asValidators(set)),
    nextValidatorsHash: validatorSetHash(asValidators(fx.setAt(height + 1))),
  };
  const block: Block = { header, lastCommit: last.commit, txs };
  const signers = opts.signers ?? set.map((v) => v.key);
  return { block, commit: signCommit(fx.genesis.chainId, height, blockHash(header), signers) };
}
