// The embedded engine's block checks follow block limits lowered by governance (chain.ts
// blockLimits, governance.ts effectiveBlockLimits), what every proposal and every block-synced
// block goes through (validateNext): from the block after the vote passed, a faulty proposer's
// block over the voted count or bytes is refused and one within them is accepted. The CometBFT
// application applies the same limits (abci/ehr-app.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '@medledger/crypto';
import { MAX_TX_BYTES } from '@medledger/ehr';
import { type Block, blockHash, type Genesis, type SignedTx, signTx, txBytes } from '@medledger/ledger';
import { signCommit } from '@medledger/ledger/testing';
import { MemoryStore } from '@medledger/storage';
import { Chain } from './chain.js';

const CHAIN = 'block-limits-chain';
const refusedWith = (code: string, message: RegExp) => (err: unknown) =>
  (err as { code?: string }).code === code && message.test((err as Error).message);

/** A chain of one validator and one member organization at height 2, where the organization passed `param` = `value`. */
function withVotedLimit(params: Partial<Genesis['params']>, param: 'maxBlockTxs' | 'maxBlockBytes', value: number) {
  const validator = generateSigningKeyPair();
  const org = generateSigningKeyPair();
  const genesis: Genesis = {
    chainId: CHAIN,
    genesisTime: 1_700_000_000_000,
    validators: [{ name: 'v0', publicKey: validator.publicKey, encryptionKey: generateEncryptionKeyPair().publicKey, power: 1 }],
    organizations: [{ name: 'Org', kind: 'hospital', adminKey: org.publicKey, adminEncryptionKey: generateEncryptionKeyPair().publicKey }],
    params: { maxBlockTxs: 1000, maxBlockBytes: 1 << 20, maxClockDriftMs: 10_000, ...params },
  };
  const chain = new Chain(genesis, new MemoryStore());
  let nonce = 0;
  const orgTx = (kind: string, body: Record<string, unknown>) =>
    signTx({ v: 1, chain: CHAIN, kind, signer: org.publicKey, nonce: nonce++, body }, org.privateKey);
  /** What a proposer (honest or not) builds: chain.buildBlock puts in every transaction given. */
  const build = (txs: SignedTx[]): Block => chain.buildBlock(txs, chain.tipTime + 1000, validator.publicKey);
  const commit = (block: Block) => {
    chain.validateNext(block, block.header.time);
    chain.commitBlock(block, signCommit(CHAIN, block.header.height, blockHash(block.header), [validator]));
  };
  const genesisLimits = chain.blockLimits();
  commit(build([orgTx('gov.propose', { action: { type: 'param.set', param, value }, votingPeriodMs: 3_600_000 })]));
  const whileOpen = chain.blockLimits();
  commit(build([orgTx('gov.vote', { proposal: 1, vote: 'yes' })]));
  return { chain, build, genesisLimits, whileOpen };
}

/** A patient registration signed by a new key; `pad` characters in its body make it larger (execution refuses the pad, the size check does not look). */
function registration(pad?: number): SignedTx {
  const who = generateSigningKeyPair();
  const body = {
    role: 'patient',
    encryptionKey: generateEncryptionKeyPair().publicKey,
    ...(pad === undefined ? {} : { pad: 'x'.repeat(pad) }),
  };
  return signTx({ v: 1, chain: CHAIN, kind: 'identity.register', signer: who.publicKey, nonce: 0, body }, who.privateKey);
}

test('a maxBlockTxs lowered by governance is the count every validator checks a proposal against, from the next block', () => {
  const { chain, build, genesisLimits, whileOpen } = withVotedLimit({}, 'maxBlockTxs', 2);
  assert.deepEqual(genesisLimits, { maxBlockTxs: 1000, maxBlockBytes: 1 << 20 });
  assert.deepEqual(whileOpen, genesisLimits, 'an open proposal changes nothing');
  assert.deepEqual(chain.blockLimits(), { maxBlockTxs: 2, maxBlockBytes: 1 << 20 });
  const over = build([registration(), registration(), registration()]);
  assert.throws(() => chain.validateNext(over, over.header.time), refusedWith('INVALID_BLOCK', /more than 2 transactions/));
  const within = build([registration(), registration()]);
  assert.equal(chain.validateNext(within, within.header.time), blockHash(within.header));
});

test('a maxBlockBytes lowered by governance is the size every validator checks a proposal against, to the byte', () => {
  const { chain, build } = withVotedLimit({ maxBlockBytes: 4 * MAX_TX_BYTES }, 'maxBlockBytes', MAX_TX_BYTES);
  assert.deepEqual(chain.blockLimits(), { maxBlockTxs: 1000, maxBlockBytes: MAX_TX_BYTES });
  // Two registrations of exactly half the voted limit each, then one byte more.
  const sized = (size: number) => registration(size - txBytes(registration(0)).length);
  const a = sized(MAX_TX_BYTES / 2);
  const b = sized(MAX_TX_BYTES / 2);
  const bPlusOne = sized(MAX_TX_BYTES / 2 + 1);
  assert.equal(txBytes(a).length + txBytes(b).length, MAX_TX_BYTES);
  const over = build([a, bPlusOne]);
  assert.throws(() => chain.validateNext(over, over.header.time), refusedWith('INVALID_BLOCK', new RegExp(`exceed ${MAX_TX_BYTES} bytes`)));
  const atLimit = build([a, b]);
  assert.equal(chain.validateNext(atLimit, atLimit.header.time), blockHash(atLimit.header));
});
