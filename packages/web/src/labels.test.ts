// Errors in words: a hospital-wide share opened on a node that is not the hospital's says where to go.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { friendlyError } from './labels.js';

test('ORGANIZATION_KEY says to use the organization’s own server, not "something went wrong"', () => {
  const text = friendlyError({ code: 'ORGANIZATION_KEY' });
  assert.match(text, /organization’s own server/);
  assert.doesNotMatch(text, /Something went wrong/);
});

test('a medicines refusal names the pack and, for one that does not verify, the GS1 reason in words', () => {
  const refusal = (code: string, message: string) => friendlyError(Object.assign(new Error(message), { code }));
  assert.equal(
    refusal('NOT_VERIFIED', 'package 00036000291452 serial SN7 does not verify: Recalled'),
    'Pack SN7 does not verify: this lot has been recalled — do not dispense. Do not use it.',
  );
  assert.match(
    refusal('WRONG_STATE', 'package 00036000291452 serial SN7 is already dispensed'),
    /^Pack SN7 was already dispensed to a patient/,
  );
  assert.match(
    refusal('NOT_FOUND', 'no package 00036000291452 serial FAKE1'),
    /^Pack FAKE1: this serial number was never made .*counterfeit/,
  );
  assert.match(refusal('NOT_ADDRESSEE', 'package 00036000291452 serial SN7 is not in transit to you'), /^Pack SN7 was not shipped to you/);
  assert.match(refusal('NOT_ADDRESSEE', 'case 003614141000000015 is not in transit to you'), /^Case 003614141000000015 was not shipped/);
  // A refusal that names no pack keeps its general words; a form's own words are shown as written.
  assert.match(refusal('WRONG_STATE', 'notification ab is already terminated'), /already done/);
  assert.equal(friendlyError({ plainWords: 'List the packs.' }), 'List the packs.');
});
