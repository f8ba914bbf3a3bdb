// The claim path's fast paths must give exactly what the slower code they replaced gave, or
// validators upgraded across the change would judge the same transaction differently: dates
// checked in integers (model.ts isCalendarDate) against a UTC Date round trip, and the
// charge-outlier compare in doubles (claims.ts chargeAbove) against BigInt.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EhrError } from '../errors.js';
import { chargeAbove } from './claims.js';
import { dateField } from './model.js';

const byDate = (v: string) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) === v;
const byRule = (v: string) => {
  try {
    return dateField({ d: v }, 'd') === v;
  } catch (err) {
    assert.ok(err instanceof EhrError && err.code === 'INVALID_BODY', String(err));
    return false;
  }
};

test('a claim date is a calendar date exactly when a UTC Date round trip says so (leap years, month ends, out-of-range parts)', () => {
  const two = (n: number) => String(n).padStart(2, '0');
  let checked = 0;
  for (const year of ['0000', '0004', '1600', '1900', '1999', '2000', '2023', '2024', '2026', '2100', '2400', '9999'])
    for (let month = 0; month <= 13; month++)
      for (let day = 0; day <= 32; day++) {
        const v = `${year}-${two(month)}-${two(day)}`;
        assert.equal(byRule(v), byDate(v), v);
        checked++;
      }
  assert.equal(checked, 12 * 14 * 33);
  assert.equal(byRule('2024-02-29'), true);
  assert.equal(byRule('2023-02-29'), false);
  assert.equal(byRule('1900-02-29'), false);
  assert.equal(byRule('2000-02-29'), true);
  assert.equal(byRule('2026-04-31'), false);
});

test('the charge-outlier compare is exact on both sides of 2^53, as BigInt gives it', () => {
  const exact = (c: number, m: number, f: number, q: number) => BigInt(c) > BigInt(m) * BigInt(f) * BigInt(q);
  const cases: Array<[number, number, number, number]> = [
    [30_001, 10, 3_000, 1],
    [30_000, 10, 3_000, 1],
    [29_999, 10, 3_000, 1],
    [Number.MAX_SAFE_INTEGER, 1_000, 9_007_199_254_740, 1],
    [Number.MAX_SAFE_INTEGER, 1, 2 ** 30, 2 ** 23],
    [Number.MAX_SAFE_INTEGER, 1, 2 ** 30, 2 ** 23 - 1],
    [Number.MAX_SAFE_INTEGER, 3, 3_002_399_751_580_331, 1],
    [Number.MAX_SAFE_INTEGER - 1, 1, Number.MAX_SAFE_INTEGER, 1],
    [9_000_000_000_000_000, 100, 1_000_000_000_000, 10_000],
  ];
  for (const [c, m, f, q] of cases) assert.equal(chargeAbove(c, m, f, q), exact(c, m, f, q), `${c} vs ${m}×${f}×${q}`);
  for (let i = 0; i < 2_000; i++) {
    const m = 1 + ((i * 7919) % 1_000);
    const f = 1 + ((i * 104_729) % 2 ** 40);
    const q = 1 + (i % 10_000);
    const c = (i * 2_654_435_761) % Number.MAX_SAFE_INTEGER;
    assert.equal(chargeAbove(c, m, f, q), exact(c, m, f, q), `${c} vs ${m}×${f}×${q}`);
  }
});
