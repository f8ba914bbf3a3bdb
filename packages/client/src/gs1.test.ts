// Scanned GS1 codes through the libraries: the printed element string, the raw one a scanner
// sends (FNC1 group separators, ]d2 symbology identifier), and a Digital Link URI give the same
// identifier; wrong check digits, missing serials and garbage are refused by name.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClientError } from './errors.js';
import { gtinCheckDigitValid, parseGs1 } from './gs1.js';

const GS = '\u001d';
const expected = { gtin: '00036000291452', serial: 'S1', lot: 'L1', expiry: '2027-12-31' };
const refused = (code: string, message: RegExp) =>
  assert.throws(
    () => parseGs1(code),
    (e: unknown) => e instanceof ClientError && e.code === 'INVALID_ARGUMENT' && message.test(e.message),
  );

test('a printed element string, a raw scan and a Digital Link URI give one identifier', () => {
  assert.deepEqual(parseGs1('(01)00036000291452(21)S1(10)L1(17)271231'), expected);
  assert.deepEqual(parseGs1(`]d201000360002914521727123110L1${GS}21S1${GS}`), expected);
  assert.deepEqual(parseGs1('https://id.gs1.org/01/00036000291452/21/S1?10=L1&17=271231'), expected);
  // Day 00 is the last day of the month (GS1 General Specifications §3.4.4).
  assert.equal(parseGs1('(01)00036000291452(21)S1(17)270200').expiry, '2027-02-28');
  assert.deepEqual(parseGs1('(01)00036000291452(21)S1'), { gtin: '00036000291452', serial: 'S1' });
});

test('GTIN check digits are verified, in element strings and Digital Links', () => {
  assert.equal(gtinCheckDigitValid('00036000291452'), true);
  assert.equal(gtinCheckDigitValid('00036000291453'), false);
  assert.equal(gtinCheckDigitValid('4006381333931'), true);
  refused('(01)00036000291453(21)S1', /check digit/);
  refused('https://id.gs1.org/01/00036000291453/21/S1', /Digital Link/);
});

test('a code without a serial, or not GS1 at all, is refused by name', () => {
  refused('(01)00036000291452(10)L1', /serial number \(21\)/);
  refused('(21)S1', /GTIN \(01\)/);
  refused('hello', /not a GS1 element string/);
  refused('https://example.com/not/a/link', /Digital Link/);
  refused('', /1–500/);
});
