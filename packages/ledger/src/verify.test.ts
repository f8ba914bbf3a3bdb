// Offline chain verification: a valid chain passes; each kind of tampering fails at the
// right height with a stable code.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateSigningKeyPair } from '@medledger/crypto';
import { blockHash, parseBlock, parseCommit, verifyCommit } from './block.js';
import { LedgerError } from './errors.js';
import { genesisEngine, genesisHash, parseGenesis } from './genesis.js';
import { txRoot } from './merkle.js';
import { type ChainFixture, makeChain, signCommit } from './testing/chain-fixture.js';
import type { Block, Commit } from './types.js';
import { verifyChain } from './verify.js';

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

function expectFailure(
  fx: ChainFixture,
  blocks: Array<{ block: Block; commit: Commit }>,
  height: number,
  code: string,
  replay?: (b: Block) => string,
) {
  const result = verifyChain(fx.genesis, blocks, replay === undefined ? {} : { replay });
  assert.equal(result.ok, false, 'verification should fail');
  if (!result.ok) {
    assert.equal(result.height, height, result.reason);
    assert.equal(result.code, code, result.reason);
  }
}

describe('verifyChain', () => {
  const fx = makeChain({ validators: 4, blocks: 6, txsPerBlock: 3 });

  test('a valid chain verifies, counting blocks and transactions', () => {
    const result = verifyChain(fx.genesis, fx.blocks);
    assert.deepEqual(result, { ok: true, blocks: 6, txs: 18, lastBlockHash: blockHash((fx.blocks[5] as { block: Block }).block.header) });
  });

  test('a changed transaction byte fails at its height (tx root)', () => {
    const b = clone(fx.blocks);
    ((b[2] as { block: Block }).block.txs[1] as { body: unknown }).body = { h: 99 };
    expectFailure(fx, b, 3, 'BAD_TX_ROOT');
  });

  test('a transaction whose signature is bad fails even when the root was recomputed', () => {
    const other = makeChain({ validators: 1, blocks: 1, chainId: fx.genesis.chainId });
    // Same structure, but the tx signature comes from a different key: rebuild header and commit around it.
    const b = clone(fx.blocks.slice(0, 1));
    const first = b[0] as { block: Block; commit: Commit };
    const tx = first.block.txs[0] as Block['txs'][number];
    tx.sig = (other.blocks[0] as { block: Block }).block.txs[0]?.sig as string;
    first.block.header.txRoot = txRoot(first.block.txs);
    first.commit = signCommit(fx.genesis.chainId, 1, blockHash(first.block.header), fx.validatorKeys);
    expectFailure(fx, b, 1, 'BAD_TX_SIGNATURE');
  });

  test('a changed header fails at that height (its commit no longer matches)', () => {
    const b = clone(fx.blocks);
    (b[3] as { block: Block }).block.header.time += 1;
    expectFailure(fx, b, 4, 'BAD_COMMIT');
  });

  test('a removed block fails at the gap', () => {
    const b = clone(fx.blocks);
    b.splice(2, 1);
    expectFailure(fx, b, 3, 'HEIGHT_GAP');
  });

  test('reordered blocks fail at the first misplaced height', () => {
    const b = clone(fx.blocks);
    [b[1], b[2]] = [b[2] as (typeof b)[number], b[1] as (typeof b)[number]];
    expectFailure(fx, b, 2, 'HEIGHT_GAP');
  });

  test('a commit with only 2 of 4 signatures fails', () => {
    const b = clone(fx.blocks);
    const last = b[5] as { commit: Commit };
    last.commit.signatures = last.commit.signatures.slice(0, 2);
    expectFailure(fx, b, 6, 'BAD_COMMIT');
  });

  test('one validator counted twice does not make a quorum', () => {
    const b = clone(fx.blocks);
    const last = b[5] as { commit: Commit };
    const sigs = last.commit.signatures;
    last.commit.signatures = [sigs[0], sigs[0], sigs[1]] as Commit['signatures'];
    expectFailure(fx, b, 6, 'BAD_COMMIT');
  });

  test('a signature from an unknown validator fails', () => {
    const b = clone(fx.blocks);
    const last = b[5] as { block: Block; commit: Commit };
    last.commit = signCommit(fx.genesis.chainId, 6, blockHash(last.block.header), [
      ...fx.validatorKeys.slice(0, 2),
      generateSigningKeyPair(),
    ]);
    expectFailure(fx, b, 6, 'BAD_COMMIT');
  });

  test('a changed commit signature in the next block fails at that block', () => {
    const b = clone(fx.blocks);
    const sig = ((b[4] as { block: Block }).block.lastCommit as Commit).signatures[0] as { sig: string };
    sig.sig = (sig.sig[0] === 'a' ? 'b' : 'a') + sig.sig.slice(1);
    expectFailure(fx, b, 5, 'BAD_LAST_COMMIT');
  });

  test('a wrong previous hash fails', () => {
    const b = clone(fx.blocks);
    const third = b[2] as { block: Block; commit: Commit };
    third.block.header.prevHash = 'ab'.repeat(32);
    third.commit = signCommit(fx.genesis.chainId, 3, blockHash(third.block.header), fx.validatorKeys);
    expectFailure(fx, b, 3, 'BAD_PREV_HASH');
  });

  test('a replay that yields a different app hash fails', () => {
    expectFailure(fx, fx.blocks, 1, 'APP_HASH_MISMATCH', () => 'cd'.repeat(32));
  });

  test('parseBlock and parseCommit reject malformed input naming the field', () => {
    const { block, commit } = clone(fx.blocks[1] as { block: Block; commit: Commit });
    assert.deepEqual(parseBlock(clone(block)), block);
    assert.deepEqual(parseCommit(clone(commit)), commit);
    assert.throws(
      () => parseBlock({ ...block, extra: 1 }),
      (e: unknown) => e instanceof LedgerError && /extra/.test(e.message),
    );
    assert.throws(() => parseBlock({ ...block, header: { ...block.header, height: -1 } }), /height/);
    assert.throws(() => parseCommit({ ...commit, round: 'x' }), /round/);
    assert.throws(() => parseCommit({ ...commit, signatures: [{ validator: 'x', sig: 'y' }] }), /validator/);
  });

  test('parseBlock reuses held transactions by signature, only for the bytes the tx root names', () => {
    const { block } = clone((fx.blocks.find((b) => b.block.txs.length > 0) ?? fx.blocks[0]) as { block: Block; commit: Commit });
    assert.ok(block.txs.length > 0, 'the fixture has a block with transactions');
    const held = block.txs.map((tx) => clone(tx));
    const bySig = new Map(held.map((tx) => [tx.sig, tx]));
    const parsed = parseBlock(clone(block), (sig) => bySig.get(sig));
    parsed.txs.forEach((tx, i) => {
      assert.equal(tx, held[i], 'the held object itself, not a parsed copy');
    });
    // A held transaction with the same signature, signer and nonce but another body (a
    // forged match) would change the block: the tx root refuses it.
    const forged = { ...(held[0] as Block['txs'][number]), body: { role: 'forged' } };
    assert.throws(
      () => parseBlock(clone(block), (sig) => (sig === forged.sig ? forged : undefined)),
      (e: unknown) => e instanceof LedgerError && e.code === 'MALFORMED_BLOCK' && /txRoot/.test(e.message),
    );
    // Nothing held, but the transactions are not the header's: refused all the same.
    const swapped = clone(block);
    swapped.txs.reverse();
    assert.ok(swapped.txs.length > 1, 'the fixture block has transactions to swap');
    assert.throws(
      () => parseBlock(swapped, () => undefined),
      (e: unknown) => e instanceof LedgerError && e.code === 'MALFORMED_BLOCK' && /txRoot/.test(e.message),
    );
    assert.deepEqual(parseBlock(clone(swapped)).txs, swapped.txs, 'without `known`, shape only, as before');
  });

  test('verifyCommit checks height and block hash', () => {
    const { block, commit } = fx.blocks[0] as { block: Block; commit: Commit };
    assert.throws(() => verifyCommit(fx.genesis.chainId, fx.genesis.validators, commit, 2, blockHash(block.header)), /height/);
    assert.throws(() => verifyCommit(fx.genesis.chainId, fx.genesis.validators, commit, 1, 'ab'.repeat(32)), /different block/);
    assert.throws(() => verifyCommit('other-chain', fx.genesis.validators, commit, 1, blockHash(block.header)), /invalid precommit/);
  });

  test('parseGenesis validates the genesis document', () => {
    assert.deepEqual(parseGenesis(clone(fx.genesis)), fx.genesis);
    assert.throws(() => parseGenesis({ ...fx.genesis, validators: [] }), /validators/);
    assert.throws(() => parseGenesis({ ...fx.genesis, validators: [fx.genesis.validators[0], fx.genesis.validators[0]] }), /twice/);
    assert.throws(() => parseGenesis({ ...fx.genesis, chainId: 'bad chain id' }), /chainId/);
    assert.throws(() => parseGenesis({ ...fx.genesis, engine: 'tendermint' }), /engine must be/);
  });

  // The engine is part of genesis: it changes the genesis hash, and a chain is verified only as
  // the engine's its genesis names (a CometBFT chain by the node's verifyCometChain).
  test('the engine is covered by the genesis hash, and verifyChain refuses a genesis naming CometBFT', () => {
    const comet = { ...fx.genesis, engine: 'cometbft' as const };
    assert.equal(genesisEngine(parseGenesis(clone(fx.genesis))), 'embedded');
    assert.equal(genesisEngine(parseGenesis(clone(comet))), 'cometbft');
    assert.notEqual(genesisHash(comet), genesisHash(fx.genesis));
    const r = verifyChain(comet, fx.blocks);
    assert.equal(r.ok, false);
    assert.equal(r.ok === false && r.code, 'ENGINE_MISMATCH');
    assert.equal(verifyChain({ ...fx.genesis, engine: 'embedded' }, fx.blocks).ok, true);
  });
});
