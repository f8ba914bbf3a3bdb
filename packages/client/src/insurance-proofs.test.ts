// The insurance rules the client restates to check a node's answers (insurance-proofs.ts)
// must agree with the ledger's (@medledger/ehr): the state keys, the coinsurance rounding and
// the one-line eligibility estimate, on random plans and accumulators.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adjudicateLines, coinsuranceOf as ehrCoinsurance, keys, type PlanVersion } from '@medledger/ehr';
import fc from 'fast-check';
import { coinsuranceOf, eligibilityOf, insuranceKeys, preauthStatusAt } from './insurance-proofs.js';

test('the client proves the same insurance state keys the ledger writes', () => {
  const id = 'ab'.repeat(16);
  assert.equal(insuranceKeys.plan(id), keys.plan(id));
  assert.equal(insuranceKeys.planVersion(id, 7), keys.planVersion(id, 7));
  assert.equal(insuranceKeys.coverage(id), keys.coverage(id));
  assert.equal(insuranceKeys.accumulator(id), keys.accumulator(id));
  assert.equal(insuranceKeys.preauth(id), keys.preauth(id));
  assert.equal(insuranceKeys.claim(id), keys.claim(id));
});

test('coinsurance rounds half up exactly as the ledger does', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 100_000_000_000 }), fc.integer({ min: 0, max: 10_000 }), (amount, bps) => {
      assert.equal(coinsuranceOf(amount, bps), ehrCoinsurance(amount, bps));
    }),
  );
});

test('a pended prior authorization is overdue from its deadline on', () => {
  const p = { id: 'x', deadline: 1_000, decision: null };
  assert.equal(preauthStatusAt(p, 999), 'pended');
  assert.equal(preauthStatusAt(p, 1_000), 'overdue');
});

test('the eligibility estimate equals the ledger adjudicating one line at the fee schedule', () => {
  const share = fc.oneof(
    fc.record({ kind: fc.constant('copay' as const), amount: fc.integer({ min: 0, max: 50_000 }) }),
    fc.record({ kind: fc.constant('coinsurance' as const), bps: fc.integer({ min: 0, max: 10_000 }) }),
  );
  fc.assert(
    fc.property(
      fc.record({
        deductible: fc.integer({ min: 0, max: 500_000 }),
        oopMax: fc.integer({ min: 0, max: 1_000_000 }),
        costShare: share,
        serviceShare: fc.option(share, { nil: null }),
        allowed: fc.integer({ min: 0, max: 400_000 }),
        quantity: fc.integer({ min: 1, max: 5 }),
        deductibleMet: fc.integer({ min: 0, max: 600_000 }),
        oopMet: fc.integer({ min: 0, max: 1_200_000 }),
      }),
      (x) => {
        const service = {
          code: '99213',
          allowed: x.allowed,
          maxPerPeriod: null,
          priorAuth: false,
          justifyingDiagnoses: [],
          costShare: x.serviceShare,
        };
        const plan = {
          plan: 'p',
          version: 1,
          insurer: 'i',
          name: 'n',
          effectiveFrom: '2026-01-01',
          deductible: x.deductible,
          oopMax: x.oopMax,
          costShare: x.costShare,
          network: [],
          services: [service],
          authValidityDays: 90,
          outlierMultiple: 10,
          publishedAt: { height: 1, time: 0 },
        } satisfies PlanVersion;
        const acc = { deductibleMet: x.deductibleMet, oopMet: x.oopMet, counts: {} };
        const line = { sequence: 1, code: '99213', serviceDate: '2026-03-01', quantity: x.quantity, charge: x.allowed * x.quantity };
        const ledger = adjudicateLines(plan, acc, [{ line, service, denial: null, allowedOverride: null, preauth: null }]).total;
        const coverage = { id: 'c', insurer: 'i', plan: 'p', memberId: 'M', from: '2026-01-01', to: '2026-12-31' };
        const client = eligibilityOf(
          { coverage: 'c', code: '99213', date: '2026-03-01', provider: 'h', quantity: x.quantity },
          coverage,
          [plan],
          acc,
        );
        assert.equal(client.allowed, ledger.allowed);
        assert.equal(client.estimatedPatientShare, ledger.patient);
        assert.equal(client.estimatedBenefit, ledger.benefit);
      },
    ),
  );
});
