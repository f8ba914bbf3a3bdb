// The insurance lists as counted, dense indexes (docs/insurance.md "Complete lists"): entries
// at positions 0, 1, 2, … in append order, 16 to a key, the count beside them, and nothing
// else written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { INSURANCE_LIST_CHUNK, keys, StateOverlay } from '../state.js';
import { appendInsuranceList, insuranceListCount, insuranceListEntry, insuranceListSpan } from './lists.js';

const insurer = 'aa'.repeat(20);
const other = 'bb'.repeat(20);
const empty = { getState: () => undefined };
const idAt = (n: number) => n.toString(16).padStart(32, '0');

test('appending keeps a list dense and counted, and lists of other parties apart', () => {
  const state = new StateOverlay(empty);
  assert.equal(insuranceListCount(state, 'iclaim', insurer), 0, 'an empty list has count 0 and no count key');
  const ids = ['01'.repeat(16), '02'.repeat(16), '03'.repeat(16)];
  for (const id of ids) appendInsuranceList(state, 'iclaim', insurer, id);
  appendInsuranceList(state, 'iclaim', other, '04'.repeat(16));
  assert.equal(insuranceListCount(state, 'iclaim', insurer), 3);
  assert.deepEqual(
    [0, 1, 2, 3].map((n) => insuranceListEntry(state, 'iclaim', insurer, n)),
    [...ids, undefined],
  );
  assert.equal(insuranceListCount(state, 'iclaim', other), 1);
  assert.equal(insuranceListCount(state, 'pclaim', insurer), 0, 'each list is its own');
  assert.deepEqual(
    state.changes().map((w) => [w.key, w.value]),
    [
      [keys.insuranceIndex('iclaim', insurer, 0), JSON.stringify(ids)],
      [keys.insuranceIndex('iclaim', other, 0), JSON.stringify(['04'.repeat(16)])],
      [keys.insuranceIndexCount('iclaim', insurer), '3'],
      [keys.insuranceIndexCount('iclaim', other), '1'],
    ],
  );
  assert.equal(keys.insuranceIndex('iclaim', insurer, 2), `ins-iclaim/${insurer}/000000000002`);
});

test('a list past one chunk: entry n is item n mod 16 of chunk n div 16, and a block of claims writes one key per chunk', () => {
  const committed = new StateOverlay(empty);
  for (let n = 0; n < 20; n++) appendInsuranceList(committed, 'iclaim', insurer, idAt(n));
  // A later block appends 30 more over committed state: chunk 1 grows, chunks 2 and 3 are new.
  const block = new StateOverlay(committed);
  for (let n = 20; n < 50; n++) appendInsuranceList(block, 'iclaim', insurer, idAt(n));
  assert.deepEqual(
    block.changes().map((w) => w.key),
    [1, 2, 3].map((c) => keys.insuranceIndex('iclaim', insurer, c)).concat(keys.insuranceIndexCount('iclaim', insurer)),
  );
  assert.equal(insuranceListCount(block, 'iclaim', insurer), 50);
  assert.deepEqual(
    Array.from({ length: 51 }, (_, n) => insuranceListEntry(block, 'iclaim', insurer, n)),
    [...Array.from({ length: 50 }, (_, n) => idAt(n)), undefined],
  );
  assert.deepEqual(
    insuranceListSpan(block, 'iclaim', insurer, 14, 60),
    Array.from({ length: 36 }, (_, n) => idAt(14 + n)),
  );
  const chunkOne = JSON.parse(block.getState(keys.insuranceIndex('iclaim', insurer, 1)) as string) as string[];
  assert.deepEqual(
    chunkOne,
    Array.from({ length: INSURANCE_LIST_CHUNK }, (_, n) => idAt(INSURANCE_LIST_CHUNK + n)),
  );
});
