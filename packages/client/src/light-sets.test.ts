// The light client follows validator-set changes from genesis (light-sets.ts) against chains
// built with @medledger/ledger: an add, a removal, a power change and a key rotation are
// followed to the newest block; blocks signed by a replaced set, a next set that does not
// match its header, and a hidden change are refused.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateSigningKeyPair } from '@medledger/crypto';
import { type Block, blockHash, type Commit, commitHash, validatorSetHash as ledgerSetHash } from '@medledger/ledger';
import { type FixtureValidator, makeGovernedChain, signCommit } from '@medledger/ledger/testing';
import { ClientError } from './errors.js';
import { fetchVerifiedBlock, type ProofSource, ValidatorSetTracker, validatorSetHash } from './light.js';

const hasCode = (code: string) => (err: unknown) => err instanceof ClientError && err.code === code;
const fresh = (power = 1): FixtureValidator => ({ key: generateSigningKeyPair(), power });
const listOf = (set: FixtureValidator[]) => set.map((x) => ({ publicKey: x.key.publicKey, power: x.power }));

type Served = { block: Block; commit: Commit; nextValidators?: unknown };

/** A node serving `blocks` over GET /v1/headers and GET /v1/blocks/:height. */
function nodeOf(blocks: Served[]): ProofSource {
  return {
    async get(path) {
      const page = /^\/v1\/headers\?from=(\d+)&limit=(\d+)$/.exec(path);
      if (page !== null) {
        const from = Number(page[1]);
        const slice = blocks.slice(from - 1, from - 1 + Number(page[2]));
        return structuredClone({
          headers: slice.map((b) => ({
            header: b.block.header,
            commit: b.commit,
            ...(b.nextValidators === undefined ? {} : { nextValidators: b.nextValidators }),
          })),
          next: null,
        });
      }
      const m = /^\/v1\/blocks\/(\w+)$/.exec(path);
      const b = m?.[1] === 'latest' ? blocks[blocks.length - 1] : blocks[Number(m?.[1]) - 1];
      if (b === undefined) throw new ClientError('BLOCK_NOT_FOUND', 'no block', 404);
      return structuredClone({ hash: blockHash(b.block.header), block: b.block, commit: b.commit, leaves: [] });
    },
  };
}

describe('ValidatorSetTracker', () => {
  const v = [fresh(), fresh(), fresh(), fresh()];
  const added = fresh();
  const rotated = fresh();
  const afterAdd = [...v, added];
  const afterRemove = afterAdd.slice(1);
  const afterPower = afterRemove.map((x) => (x === v[1] ? { key: x.key, power: 3 } : x));
  const afterRotate = afterPower.map((x) => (x.key === v[2]?.key ? { key: rotated.key, power: x.power } : x));
  const fx = makeGovernedChain({
    genesisSet: v,
    changes: [
      { effectiveHeight: 4, set: afterAdd },
      { effectiveHeight: 7, set: afterRemove },
      { effectiveHeight: 9, set: afterPower },
      { effectiveHeight: 11, set: afterRotate },
    ],
    blocks: 13,
  });

  test('its set hash is the ledger’s', () => {
    assert.equal(validatorSetHash(listOf(afterPower)), ledgerSetHash(listOf(afterPower)));
  });

  test('a client pinned to genesis follows an add, a removal, a power change and a rotation to the newest block', async () => {
    const source = nodeOf(fx.blocks);
    const sets = new ValidatorSetTracker(fx.genesis, source);
    const newest = await fetchVerifiedBlock(source, sets, 'latest');
    assert.equal(newest.header.height, 13);
    assert.deepEqual(
      (await sets.validatorsAt(13)).map((x) => x.publicKey),
      afterRotate.map((x) => x.key.publicKey),
    );
    assert.deepEqual(
      (await sets.validatorsAt(5)).map((x) => x.publicKey),
      afterAdd.map((x) => x.key.publicKey),
    );
    // An older block checks against its own height's set; given only the genesis, a call walks afresh.
    assert.equal((await fetchVerifiedBlock(source, sets, 2)).header.height, 2);
    assert.equal((await fetchVerifiedBlock(source, fx.genesis, 12)).header.height, 12);
  });

  test('a block signed by the removed validators after their removal is refused', async () => {
    // The real chain up to 7 (whose header named the set without v0 for 8); a forged 8 signed by the old set, naming itself.
    const real = fx.blocks.slice(0, 7) as Served[];
    const prev = real[6] as Served;
    const old = listOf(afterAdd);
    const header = {
      ...prev.block.header,
      height: 8,
      time: prev.block.header.time + 1000,
      prevHash: blockHash(prev.block.header),
      lastCommitHash: commitHash(prev.commit),
      validatorsHash: ledgerSetHash(old),
      nextValidatorsHash: ledgerSetHash(old),
    };
    const forged: Served = {
      block: { header, lastCommit: prev.commit, txs: [] },
      commit: signCommit(
        fx.genesis.chainId,
        8,
        blockHash(header),
        afterAdd.map((x) => x.key),
      ),
    };
    const source = nodeOf([...real, forged]);
    await assert.rejects(fetchVerifiedBlock(source, new ValidatorSetTracker(fx.genesis, source), 8), hasCode('BAD_COMMIT'));
    // The same forgery naming the true set is refused for its signatures.
    const named = { ...header, validatorsHash: ledgerSetHash(listOf(afterRemove)), nextValidatorsHash: ledgerSetHash(listOf(afterRemove)) };
    const forged2: Served = {
      block: { header: named, lastCommit: prev.commit, txs: [] },
      commit: signCommit(
        fx.genesis.chainId,
        8,
        blockHash(named),
        afterAdd.slice(0, 4).map((x) => x.key),
      ),
    };
    const source2 = nodeOf([...real, forged2]);
    await assert.rejects(fetchVerifiedBlock(source2, new ValidatorSetTracker(fx.genesis, source2), 8), hasCode('BAD_COMMIT'));
  });

  test('a next set that does not match its header, or one the node withholds, is refused', async () => {
    const wrong = structuredClone(fx.blocks) as Served[];
    (wrong[2] as Served).nextValidators = listOf(afterRemove);
    const source = nodeOf(wrong);
    await assert.rejects(fetchVerifiedBlock(source, new ValidatorSetTracker(fx.genesis, source), 'latest'), hasCode('BAD_COMMIT'));
    const hidden = structuredClone(fx.blocks) as Served[];
    delete (hidden[2] as Served).nextValidators;
    const source2 = nodeOf(hidden);
    await assert.rejects(fetchVerifiedBlock(source2, new ValidatorSetTracker(fx.genesis, source2), 'latest'), hasCode('BAD_COMMIT'));
  });

  test('a header that changes the next set must be signed by the set in force', async () => {
    // Block 3 announces the add; here its commit is signed by outsiders.
    const bad = structuredClone(fx.blocks) as Served[];
    const third = bad[2] as Served;
    third.commit = signCommit(
      fx.genesis.chainId,
      3,
      blockHash(third.block.header),
      [fresh(), fresh(), fresh()].map((x) => x.key),
    );
    const source = nodeOf(bad);
    await assert.rejects(fetchVerifiedBlock(source, new ValidatorSetTracker(fx.genesis, source), 'latest'), hasCode('BAD_COMMIT'));
  });
});
