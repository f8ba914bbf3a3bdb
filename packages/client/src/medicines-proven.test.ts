// The client's medicines checks agree with the chain's: the state keys are ehr's, and the
// verification recomputed from proven state gives the same GS1 answer as ehr `verifyPackage`
// for every combination of product, package, lot, quarantine, recall, dispense and expiry.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type IllegitimateNotice, keys, noticeStatus, verifyPackage } from '@medledger/ehr';
import { noticeStatusAt } from './medicines-notices.js';
import { medicinesKeys, type ProductIdentifier, type VerificationFacts, verificationOf } from './medicines-proven.js';

const GTIN = '00036000291452';

test('the medicines state keys the client proves are the chain’s (ehr state.ts)', () => {
  assert.equal(medicinesKeys.product(GTIN), keys.product(GTIN));
  assert.equal(medicinesKeys.package(GTIN, 'S1'), keys.package(GTIN, 'S1'));
  assert.equal(medicinesKeys.recall(GTIN, 'L1'), keys.recall(GTIN, 'L1'));
  assert.equal(medicinesKeys.lotQuarantine(GTIN, 'L1'), keys.lotQuarantine(GTIN, 'L1'));
  assert.equal(medicinesKeys.epcisEvent('ab'.repeat(32)), keys.epcisEvent('ab'.repeat(32)));
  assert.equal(medicinesKeys.case('003614141000000015'), keys.case('003614141000000015'));
  assert.equal(medicinesKeys.prescription('cd'.repeat(16)), keys.prescription('cd'.repeat(16)));
  assert.equal(medicinesKeys.illegitimateNotice('cd'.repeat(16)), keys.illegitimateNotice('cd'.repeat(16)));
  assert.equal(medicinesKeys.verification(42, 'cd'.repeat(16)), keys.verification(42, 'cd'.repeat(16)));
});

test('the client’s notification status is ehr noticeStatus’s, around the 24-hour deadline', () => {
  const base = {
    id: 'ab'.repeat(16),
    gtin: GTIN,
    serial: 'S1',
    lot: null,
    reason: 'x',
    determinedBy: 'aa'.repeat(20),
    determinedAt: { height: 1, time: 0 },
    notifyBy: 1000,
  };
  const variants: IllegitimateNotice[] = [];
  for (const notifiedAt of [null, { height: 2, time: 999 }, { height: 3, time: 1001 }])
    for (const terminated of [null, { by: 'bb'.repeat(20), reason: 'y', height: 4, time: 2000 }])
      variants.push({ ...base, notifiedAt, terminated });
  for (const n of variants)
    for (const time of [999, 1000, 1001])
      assert.equal(noticeStatusAt(n as unknown as Record<string, unknown>, time), noticeStatus(n, time));
});

test('the client’s verification gives ehr verifyPackage’s answer in every case', () => {
  const time = Date.parse('2027-06-30T12:00:00Z');
  const ids: ProductIdentifier[] = [
    { gtin: GTIN, serial: 'S1' },
    { gtin: GTIN, serial: 'S1', lot: 'L1', expiry: '2027-06-30' },
    { gtin: GTIN, serial: 'S1', lot: 'L2' },
    { gtin: GTIN, serial: 'S1', expiry: '2027-07-01' },
  ];
  let cases = 0;
  for (const hasProduct of [false, true])
    for (const hasPkg of [false, true])
      for (const status of ['active', 'dispensed', 'destroyed'])
        for (const expiry of ['2027-06-29', '2027-06-30'])
          for (const serialQ of [null, 'suspect', 'illegitimate'])
            for (const lotQ of [null, 'suspect', 'illegitimate'])
              for (const recalled of [false, true])
                for (const id of ids) {
                  const pkg = {
                    gtin: GTIN,
                    serial: 'S1',
                    lot: 'L1',
                    expiry,
                    status,
                    quarantine: serialQ === null ? null : { kind: serialQ },
                  };
                  const state = new Map<string, string>();
                  if (hasProduct) state.set(keys.product(GTIN), JSON.stringify({ gtin: GTIN }));
                  if (hasPkg) state.set(keys.package(GTIN, 'S1'), JSON.stringify(pkg));
                  if (lotQ !== null) state.set(keys.lotQuarantine(GTIN, 'L1'), JSON.stringify({ kind: lotQ }));
                  if (recalled) state.set(keys.recall(GTIN, 'L1'), JSON.stringify({ gtin: GTIN, lot: 'L1' }));
                  const chain = verifyPackage({ getState: (k) => state.get(k) }, id, time);
                  const facts: VerificationFacts = {
                    product: hasProduct ? { gtin: GTIN } : undefined,
                    pkg: hasPkg ? pkg : undefined,
                    recall: recalled ? {} : undefined,
                    lotQuarantine: lotQ === null ? undefined : { kind: lotQ },
                  };
                  const client = verificationOf(facts, id, time);
                  assert.equal(client, chain.verified ? null : chain.reason, JSON.stringify({ facts, id }));
                  cases += 1;
                }
  assert.equal(cases, 2 * 2 * 3 * 2 * 3 * 3 * 2 * 4);
});
