// Following validator-set changes from genesis (validator-set.ts, verify.ts): each new set is
// proven by the commit of the set before it, and a set that was replaced cannot sign new history.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateSigningKeyPair } from '@medledger/crypto';
import { blockHash, commitHash } from './block.js';
import { type FixtureValidator, makeChain, makeGovernedChain, signCommit } from './testing/chain-fixture.js';
import type { Block, Commit } from './types.js';
import { validatorSetHash } from './validator-set.js';
import { verifyChain } from './verify.js';

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const fresh = (power = 1): FixtureValidator => ({ key: generateSigningKeyPair(), power });

describe('verifyChain follows validator-set changes', () => {
  const v = [fresh(), fresh(), fresh(), fresh()];
  const added = fresh();
  const rotated = fresh();
  // Add a fifth at 4, remove v0 at 7, give v1 power 3 at 9, rotate v2's key at 11.
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

  test('a chain through an add, a removal, a power change and a key rotation verifies from genesis', () => {
    const result = verifyChain(fx.genesis, fx.blocks);
    assert.equal(result.ok, true, JSON.stringify(result));
  });

  test('blocks signed by the removed validators after their removal are refused', () => {
    // The old set (with v0, without nothing else changed) forks at height 8 and names itself.
    const oldSet = afterAdd;
    const b = clone(fx.blocks.slice(0, 7));
    const prev = b[6] as { block: Block; commit: Commit };
    const forged: Block = {
      header: {
        ...prev.block.header,
        height: 8,
        time: prev.block.header.time + 1000,
        prevHash: blockHash(prev.block.header),
        lastCommitHash: commitHash(prev.commit),
        proposer: (oldSet[0] as FixtureValidator).key.publicKey,
        validatorsHash: validatorSetHash(oldSet.map((x) => ({ publicKey: x.key.publicKey, power: x.power }))),
        nextValidatorsHash: validatorSetHash(oldSet.map((x) => ({ publicKey: x.key.publicKey, power: x.power }))),
      },
      lastCommit: prev.commit,
      txs: [],
    };
    const commit = signCommit(
      fx.genesis.chainId,
      8,
      blockHash(forged.header),
      oldSet.map((x) => x.key),
    );
    const result = verifyChain(fx.genesis, [...b, { block: forged, commit }]);
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.height, 8);
      assert.equal(result.code, 'BAD_VALIDATORS', result.reason);
    }
  });

  test('the removed validator and the old key of a rotated one cannot help sign a block naming the true set', () => {
    // Height 12 is signed by afterRotate; a commit by v0 (removed), v2's old key, v3 and the added one is refused.
    const b = clone(fx.blocks.slice(0, 12));
    const last = b[11] as { block: Block; commit: Commit };
    last.commit = signCommit(fx.genesis.chainId, 12, blockHash(last.block.header), [
      (v[0] as FixtureValidator).key,
      (v[2] as FixtureValidator).key,
      (v[3] as FixtureValidator).key,
      added.key,
    ]);
    const result = verifyChain(fx.genesis, b);
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.height, 12);
      assert.equal(result.code, 'BAD_COMMIT', result.reason);
    }
  });

  test('voting power counts after a power change: v1 (power 3) with two others passes 2/3, three others without it do not', () => {
    // At height 10 the set is v1 (3), v2, v3, added (1 each): total 6, quorum 5.
    const signWith = (keys: FixtureValidator[]) => {
      const b = clone(fx.blocks.slice(0, 10));
      const last = b[9] as { block: Block; commit: Commit };
      last.commit = signCommit(
        fx.genesis.chainId,
        10,
        blockHash(last.block.header),
        keys.map((x) => x.key),
      );
      return verifyChain(fx.genesis, b);
    };
    assert.equal(signWith([v[1] as FixtureValidator, v[2] as FixtureValidator, v[3] as FixtureValidator]).ok, true);
    assert.equal(signWith([v[2] as FixtureValidator, v[3] as FixtureValidator, added]).ok, false);
  });

  test('a next set whose list does not match its hash is refused, and a missing list leaves the set unknown', () => {
    const wrong = clone(fx.blocks);
    (wrong[2] as { nextValidators?: unknown }).nextValidators = afterRemove.map((x) => ({ publicKey: x.key.publicKey, power: x.power }));
    const r1 = verifyChain(fx.genesis, wrong);
    assert.equal(r1.ok, false);
    if (!r1.ok) assert.equal(r1.code, 'BAD_VALIDATORS', r1.reason);
    const missing = clone(fx.blocks);
    delete (missing[2] as { nextValidators?: unknown }).nextValidators;
    const r2 = verifyChain(fx.genesis, missing);
    assert.equal(r2.ok, false);
    if (!r2.ok) {
      assert.equal(r2.height, 4);
      assert.equal(r2.code, 'VALIDATORS_UNKNOWN', r2.reason);
    }
  });

  test('a header without set hashes after one that had them is refused', () => {
    const b = clone(fx.blocks.slice(0, 2));
    const second = b[1] as { block: Block; commit: Commit };
    delete second.block.header.validatorsHash;
    delete second.block.header.nextValidatorsHash;
    second.commit = signCommit(
      fx.genesis.chainId,
      2,
      blockHash(second.block.header),
      v.map((x) => x.key),
    );
    const result = verifyChain(fx.genesis, b);
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.code, 'BAD_VALIDATORS', result.reason);
  });

  test('a chain made before the hashes existed still verifies against its genesis set', () => {
    const old = makeChain({ validators: 4, blocks: 4 });
    assert.equal(verifyChain(old.genesis, old.blocks).ok, true);
  });
});
