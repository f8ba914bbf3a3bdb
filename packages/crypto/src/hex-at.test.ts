// hexAt and writeHexAt against the Buffer-backed toHex/fromHex: every byte value, views and
// offsets, and refusals that leave the target unchanged.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromHex, toHex } from './bytes.js';
import { hexAt, writeHexAt } from './hex-at.js';

const ALL = Uint8Array.from({ length: 256 }, (_, i) => i);

test('hexAt gives the lowercase hex of exactly its range, for every byte value and a view', () => {
  assert.equal(hexAt(ALL, 0, 256), toHex(ALL));
  for (let start = 0; start < 256; start += 37)
    for (const length of [0, 1, 32, 33]) {
      if (start + length <= 256) assert.equal(hexAt(ALL, start, length), toHex(ALL.subarray(start, start + length)));
    }
  const view = ALL.subarray(10, 80);
  assert.equal(hexAt(view, 1, 32), toHex(ALL.subarray(11, 43)));
  assert.throws(() => hexAt(view, 40, 32), RangeError);
  assert.throws(() => hexAt(view, -1, 2), RangeError);
});

test('writeHexAt decodes into its range only, refuses bad hex, and a range that does not fit without writing', () => {
  const out = new Uint8Array(300).fill(0xee);
  writeHexAt(toHex(ALL), out, 20);
  assert.deepEqual(out.subarray(20, 276), ALL);
  assert.ok(out.subarray(0, 20).every((b) => b === 0xee) && out.subarray(276).every((b) => b === 0xee));
  const view = new Uint8Array(64).subarray(16, 48);
  writeHexAt('ab'.repeat(32), view, 0);
  assert.deepEqual(view, fromHex('ab'.repeat(32)));
  for (const bad of ['abc', 'AB', '0g', 'zz', '\u0100\u0100', 'é1', '\u01300', `${'00'.repeat(31)}0G`, '/0', ':0', '`0'])
    assert.throws(() => writeHexAt(bad, new Uint8Array(32), 0), TypeError, bad);
  const before = Uint8Array.from(out);
  assert.throws(() => writeHexAt('00'.repeat(10), out, 295), RangeError);
  assert.throws(() => writeHexAt('00', out, -1), RangeError);
  assert.deepEqual(out, before);
});
