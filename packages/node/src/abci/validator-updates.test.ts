// CometBFT validator updates from governed sets: a joining key gets its power, a leaving one
// power 0, a rotation is both, a power change is the new power, and the list is the same
// bytes whatever order the sets come in.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validatorUpdates } from './validator-updates.js';

const key = (c: string) => c.repeat(64);
const set = (...entries: Array<[string, number]>) => entries.map(([c, power]) => ({ publicKey: key(c), power }));

test('an added validator gets its power and a removed one power 0', () => {
  assert.deepEqual(validatorUpdates(set(['a', 1], ['b', 1]), set(['a', 1], ['b', 1], ['c', 1])), [{ publicKey: key('c'), power: 1 }]);
  assert.deepEqual(validatorUpdates(set(['a', 1], ['b', 1]), set(['b', 1])), [{ publicKey: key('a'), power: 0 }]);
});

test('a rotated key is the old key removed and the new key added; a power change is the new power', () => {
  assert.deepEqual(validatorUpdates(set(['a', 1], ['b', 1]), set(['c', 1], ['b', 1])), [
    { publicKey: key('a'), power: 0 },
    { publicKey: key('c'), power: 1 },
  ]);
  assert.deepEqual(validatorUpdates(set(['a', 1], ['b', 1]), set(['a', 5], ['b', 1])), [{ publicKey: key('a'), power: 5 }]);
});

test('the same sets give no updates, and the updates do not depend on the order of either set', () => {
  assert.deepEqual(validatorUpdates(set(['a', 1], ['b', 2]), set(['b', 2], ['a', 1])), []);
  const before = set(['d', 1], ['a', 1], ['b', 1]);
  const after = set(['e', 2], ['b', 3], ['c', 1]);
  assert.deepEqual(validatorUpdates(before, after), validatorUpdates([...before].reverse(), [...after].reverse()));
  assert.deepEqual(
    validatorUpdates(before, after).map((u) => u.publicKey),
    ['a', 'b', 'c', 'd', 'e'].map(key),
  );
});
