// The insurance lists as counted, dense indexes (docs/insurance.md "Complete lists"): entries
// at positions 0, 1, 2, … in append order, the count beside them, and nothing else written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keys, StateOverlay } from '../state.js';
import { appendInsuranceList, insuranceListCount, insuranceListEntry } from './lists.js';

const insurer = 'aa'.repeat(20);
const other = 'bb'.repeat(20);
const empty = { getState: () => undefined };

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
      [keys.insuranceIndex('iclaim', insurer, 0), ids[0]],
      [keys.insuranceIndex('iclaim', insurer, 1), ids[1]],
      [keys.insuranceIndex('iclaim', insurer, 2), ids[2]],
      [keys.insuranceIndex('iclaim', other, 0), '04'.repeat(16)],
      [keys.insuranceIndexCount('iclaim', insurer), '3'],
      [keys.insuranceIndexCount('iclaim', other), '1'],
    ],
  );
  assert.equal(keys.insuranceIndex('iclaim', insurer, 2), `ins-iclaim/${insurer}/000000000002`);
});
