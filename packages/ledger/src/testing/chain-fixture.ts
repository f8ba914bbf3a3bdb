// A valid chain built from scratch for tests: a genesis with N fresh validators and K
// blocks of signed no-op transactions, each finalised by every validator's precommit.
import { generateEncryptionKeyPair, generateSigningKeyPair, type SigningKeyPair } from '@medledger/crypto';
import { blockHash, commitHash, signVote, ZERO_HASH } from '../block.js';
import { txRoot } from '../merkle.js';
import { signTx } from '../tx.js';
import type { Block, Commit, Genesis } from '../types.js';

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
