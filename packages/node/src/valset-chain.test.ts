// The chain's block checks follow validator-set changes (chain.ts validatorsFor): what every
// proposal and every block-synced block goes through. A validator removed by vote can neither
// propose nor help commit a block from its removal's effective height, a block naming the old
// set is refused, and the stored chain still verifies offline with a replay.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateEncryptionKeyPair, generateSigningKeyPair, idFromPublicKey, type SigningKeyPair } from '@medledger/crypto';
import { type Block, blockHash, type Genesis, type SignedTx, signTx, validatorSetHash } from '@medledger/ledger';
import { signCommit } from '@medledger/ledger/testing';
import { MemoryStore } from '@medledger/storage';
import { Chain } from './chain.js';
import { verifyStoredChain } from './verify-store.js';

const CHAIN = 'valset-chain';

function actor() {
  const signing = generateSigningKeyPair();
  let nonce = 0;
  return {
    signing,
    encryption: generateEncryptionKeyPair(),
    id: idFromPublicKey(signing.publicKey),
    tx: (kind: string, body: Record<string, unknown>): SignedTx =>
      signTx({ v: 1, chain: CHAIN, kind, signer: signing.publicKey, nonce: nonce++, body }, signing.privateKey),
  };
}

const refusedWith = (code: string) => (err: unknown) => (err as { code?: string }).code === code;

test('from a removal’s effective height the removed validator can neither propose nor help commit, and a block naming the old set is refused', () => {
  const orgs = [actor(), actor(), actor(), actor()];
  const vals = [actor(), actor(), actor(), actor()];
  const genesis: Genesis = {
    chainId: CHAIN,
    genesisTime: 1_700_000_000_000,
    validators: vals.map((v, i) => ({ name: `v${i}`, publicKey: v.signing.publicKey, encryptionKey: v.encryption.publicKey, power: 1 })),
    organizations: orgs.map((o, i) => ({
      name: `Org ${i}`,
      kind: 'hospital',
      adminKey: o.signing.publicKey,
      adminEncryptionKey: o.encryption.publicKey,
    })),
    params: { maxBlockTxs: 1000, maxBlockBytes: 1 << 20, maxClockDriftMs: 10_000 },
  };
  const store = new MemoryStore();
  const chain = new Chain(genesis, store);
  const keys = (...i: number[]): SigningKeyPair[] => i.map((j) => (vals[j] as ReturnType<typeof actor>).signing);
  const build = (txs: SignedTx[], proposer: SigningKeyPair): Block => chain.buildBlock(txs, chain.tipTime + 1000, proposer.publicKey);
  const commit = (block: Block, signers: SigningKeyPair[]) => {
    chain.validateNext(block, block.header.time);
    chain.commitBlock(block, signCommit(CHAIN, block.header.height, blockHash(block.header), signers));
  };

  // Block 1: organization 0 proposes removing v0; block 2: three of four members vote yes (decided at 2, effective at 4).
  const [v0] = keys(0) as [SigningKeyPair];
  commit(
    build(
      [
        (orgs[0] as ReturnType<typeof actor>).tx('gov.propose', {
          action: { type: 'validator.remove', validator: idFromPublicKey(v0.publicKey) },
          votingPeriodMs: 3_600_000,
        }),
      ],
      v0,
    ),
    keys(0, 1, 2),
  );
  commit(
    build(
      [1, 2, 3].map((i) => (orgs[i] as ReturnType<typeof actor>).tx('gov.vote', { proposal: 1, vote: 'yes' })),
      v0,
    ),
    keys(0, 1, 2),
  );
  // Block 3 is still the genesis set's: v0 signs, and the header announces the set without it.
  assert.deepEqual(
    chain.validatorsFor(3).map((v) => v.publicKey),
    genesis.validators.map((v) => v.publicKey),
  );
  const third = build([], v0);
  assert.equal(third.header.nextValidatorsHash, validatorSetHash(genesis.validators.slice(1)));
  commit(third, keys(0, 1, 2));

  // Height 4: the set is v1–v3.
  assert.deepEqual(
    chain.validatorsFor(4).map((v) => v.publicKey),
    genesis.validators.slice(1).map((v) => v.publicKey),
  );
  const fourth = build([], keys(1)[0] as SigningKeyPair);
  assert.throws(
    () => chain.commitBlock(fourth, signCommit(CHAIN, 4, blockHash(fourth.header), keys(0, 1, 2))),
    refusedWith('BAD_COMMIT'),
    'v0 and two others are not a quorum of the new set',
  );
  const namingOldSet: Block = { ...fourth, header: { ...fourth.header, validatorsHash: validatorSetHash(genesis.validators) } };
  assert.throws(() => chain.validateNext(namingOldSet, fourth.header.time), refusedWith('BAD_VALIDATORS'));
  assert.throws(() => chain.validateNext(build([], v0), fourth.header.time), refusedWith('BAD_PROPOSER'));
  commit(fourth, keys(1, 2, 3));
  commit(build([], keys(2)[0] as SigningKeyPair), keys(1, 2, 3));
  assert.equal(chain.height, 5);

  chain.checkStoredChain();
  assert.deepEqual(verifyStoredChain(genesis, store), { ok: true, blocks: 5, txs: 4, lastBlockHash: chain.tipHash });
});
