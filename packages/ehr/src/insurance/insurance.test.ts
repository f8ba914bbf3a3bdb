// Insurance rules as pure functions and through the application: adjudication arithmetic,
// prior authorization, fraud flags, disputes, insurer isolation and determinism.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { generateEncryptionKeyPair, generateSigningKeyPair, idFromPublicKey, toHex } from '@medledger/crypto';
import { type Genesis, type SignedTx, signTx, txHash } from '@medledger/ledger';
import { EhrApp, initChain } from '../app.js';
import { MemoryCommittedState } from '../committed.js';
import { getIdentity, type Identity } from '../identity.js';
import type { StateWrite } from '../state.js';
import { replayIndependently } from '../testing/world.js';
import { seesChainBodies, seesTxBody } from '../visibility.js';
import { adjudicateLines, coinsuranceOf } from './adjudicate.js';
import { getClaim } from './claims.js';
import { checkEligibility } from './eligibility.js';
import { insuranceListCount } from './lists.js';
import { type Accumulator, DAY_MS, type PlanVersion, preauthStatus } from './model.js';
import { getAccumulator } from './plans.js';
import { getPreauth, getPreauthMetrics } from './preauth.js';

const CHAIN = 'insurance-test';
const T0 = Date.parse('2026-01-10T00:00:00Z');
const hash = () => toHex(randomBytes(32));

function actor() {
  const signing = generateSigningKeyPair();
  const encryption = generateEncryptionKeyPair();
  let nonce = 0;
  return {
    signing,
    encryption,
    id: idFromPublicKey(signing.publicKey),
    tx: (kind: string, body: Record<string, unknown>): SignedTx =>
      signTx({ v: 1, chain: CHAIN, kind, signer: signing.publicKey, nonce: nonce++, body }, signing.privateKey),
  };
}

const idOf = (tx: SignedTx) => txHash(tx).slice(0, 32);

function plan(overrides: Partial<PlanVersion> = {}): PlanVersion {
  return {
    plan: '00'.repeat(16),
    version: 1,
    insurer: '11'.repeat(20),
    name: 'Test',
    effectiveFrom: '2026-01-01',
    deductible: 50_000,
    oopMax: 100_000,
    costShare: { kind: 'coinsurance', bps: 2000 },
    network: [],
    services: [{ code: '99213', allowed: 1_000_000, maxPerPeriod: null, priorAuth: false, justifyingDiagnoses: [], costShare: null }],
    authValidityDays: 90,
    outlierMultiple: 10,
    publishedAt: { height: 1, time: T0 },
    ...overrides,
  };
}

const line = (sequence: number, charge: number) => ({ sequence, code: '99213', serviceDate: '2026-02-01', quantity: 1, charge });
const input = (p: PlanVersion, sequence: number, charge: number) => ({
  line: line(sequence, charge),
  service: p.services[0],
  denial: null,
  allowedOverride: null,
  preauth: null,
});

describe('adjudication arithmetic', () => {
  test('the deductible is crossed within one claim: the first line goes to it, the second splits', () => {
    const p = plan();
    const acc: Accumulator = { deductibleMet: 0, oopMet: 0, counts: {} };
    const r = adjudicateLines(p, acc, [input(p, 1, 30_000), input(p, 2, 40_000)]);
    assert.deepEqual(r.lines[0]?.amounts, {
      submitted: 30_000,
      allowed: 30_000,
      deductible: 30_000,
      costShare: 0,
      benefit: 0,
      patient: 30_000,
    });
    // 20 000 finishes the deductible; 20 % of the remaining 20 000 is 4 000.
    assert.deepEqual(r.lines[1]?.amounts, {
      submitted: 40_000,
      allowed: 40_000,
      deductible: 20_000,
      costShare: 4_000,
      benefit: 16_000,
      patient: 24_000,
    });
    assert.deepEqual(r.acc, { deductibleMet: 50_000, oopMet: 54_000, counts: { '99213': 2 } });
    assert.deepEqual(acc, { deductibleMet: 0, oopMet: 0, counts: {} }, 'the input accumulator is not changed');
  });

  test('the out-of-pocket maximum caps the patient share, then the plan pays everything', () => {
    const p = plan();
    const r = adjudicateLines(p, { deductibleMet: 50_000, oopMet: 54_000, counts: {} }, [input(p, 1, 300_000), input(p, 2, 10_000)]);
    // 20 % of 300 000 is 60 000, but only 46 000 of the maximum is left.
    assert.deepEqual(r.lines[0]?.amounts, {
      submitted: 300_000,
      allowed: 300_000,
      deductible: 0,
      costShare: 46_000,
      benefit: 254_000,
      patient: 46_000,
    });
    assert.deepEqual(r.lines[1]?.amounts, { submitted: 10_000, allowed: 10_000, deductible: 0, costShare: 0, benefit: 10_000, patient: 0 });
    assert.equal(r.acc.oopMet, 100_000);
  });

  test('the cap comes off the cost share first, then off the deductible', () => {
    const p = plan({ deductible: 50_000, oopMax: 50_000 });
    const r = adjudicateLines(p, { deductibleMet: 0, oopMet: 20_000, counts: {} }, [input(p, 1, 60_000)]);
    assert.deepEqual(r.lines[0]?.amounts, {
      submitted: 60_000,
      allowed: 60_000,
      deductible: 30_000,
      costShare: 0,
      benefit: 30_000,
      patient: 30_000,
    });
  });

  test('coinsurance rounds half up in integer cents', () => {
    assert.equal(coinsuranceOf(12_345, 2000), 2469);
    assert.equal(coinsuranceOf(1, 5000), 1, '0.5 cent rounds up');
    assert.equal(coinsuranceOf(3, 1500), 0, '0.45 cent rounds down');
    assert.equal(coinsuranceOf(10, 2500), 3, '2.5 cents round up');
    assert.equal(coinsuranceOf(100_000_000_000, 9999), 99_990_000_000, 'the largest charge stays exact');
  });

  test('a copay never exceeds what is left after the deductible; the fee schedule bounds allowed', () => {
    const p = plan({ deductible: 0, costShare: { kind: 'copay', amount: 2_500 } });
    const small = { ...p, services: [{ ...(p.services[0] as PlanVersion['services'][0]), allowed: 1_000 }] };
    const r = adjudicateLines(small, { deductibleMet: 0, oopMet: 0, counts: {} }, [input(small, 1, 9_000)]);
    assert.deepEqual(r.lines[0]?.amounts, {
      submitted: 9_000,
      allowed: 1_000,
      deductible: 0,
      costShare: 1_000,
      benefit: 0,
      patient: 1_000,
    });
  });
});

/** A chain with a hospital, a pharmacy, two insurers, their staff and one consenting patient. */
function world() {
  const hospital = actor();
  const pharmacy = actor();
  const insurerA = actor();
  const insurerB = actor();
  const validator = actor();
  const org = (name: string, kind: string, a: ReturnType<typeof actor>) => ({
    name,
    kind,
    adminKey: a.signing.publicKey,
    adminEncryptionKey: a.encryption.publicKey,
  });
  const genesis: Genesis = {
    chainId: CHAIN,
    genesisTime: T0,
    validators: [{ name: 'v0', publicKey: validator.signing.publicKey, encryptionKey: validator.encryption.publicKey, power: 1 }],
    organizations: [
      org('General Hospital', 'hospital', hospital),
      org('Corner Pharmacy', 'pharmacy', pharmacy),
      org('Evergreen Health Insurance', 'insurer', insurerA),
      org('Blue Lake Insurance', 'insurer', insurerB),
    ],
    params: { maxBlockTxs: 1000, maxBlockBytes: 1 << 20, maxClockDriftMs: 10_000 },
  };
  const state = new MemoryCommittedState();
  state.apply(initChain(genesis));
  const app = new EhrApp(CHAIN, state);
  let height = 0;
  let now = T0;
  const log: Array<{ time: number; txs: SignedTx[] }> = [];
  const writes: StateWrite[][] = [];
  /** Apply one block of `txs`, `advanceMs` after the previous one; returns each tx's result code. */
  const block = (txs: SignedTx[], advanceMs = 1000): string[] => {
    height += 1;
    now += advanceMs;
    log.push({ time: now, txs });
    const exec = app.finalizeBlock({ height, time: now, txs });
    writes.push(exec.writes);
    state.apply(exec);
    app.commit();
    return exec.results.map((r) => `${r.code}${r.code === 'ok' ? '' : `: ${r.log}`}`.replace(/:.*/, ''));
  };
  const doctor = actor();
  const pharmacist = actor();
  const staffA = actor();
  const staffB = actor();
  const patient = actor();
  const staff = (a: ReturnType<typeof actor>, role: string) => ({
    publicKey: a.signing.publicKey,
    encryptionKey: a.encryption.publicKey,
    role,
  });
  assert.deepEqual(
    block([
      patient.tx('identity.register', { role: 'patient', encryptionKey: patient.encryption.publicKey }),
      hospital.tx('staff.register', staff(doctor, 'clinician')),
      pharmacy.tx('staff.register', staff(pharmacist, 'pharmacy')),
      insurerA.tx('staff.register', staff(staffA, 'insurer')),
      insurerB.tx('staff.register', staff(staffB, 'insurer')),
    ]),
    ['ok', 'ok', 'ok', 'ok', 'ok'],
  );
  const consent = (grantee: string) =>
    patient.tx('consent.grant', { patient: patient.id, grantee, scope: { categories: ['billing'] }, access: 'read', purpose: 'payment' });
  assert.deepEqual(block([consent(hospital.id), consent(pharmacy.id)]), ['ok', 'ok']);

  const planTx = insurerA.tx('plan.publish', {
    name: 'Evergreen Silver',
    effectiveFrom: '2026-01-01',
    deductible: 50_000,
    oopMax: 300_000,
    coinsuranceBps: 2000,
    network: [hospital.id, pharmacy.id],
    services: [
      { code: '185349003', allowed: 20_000, maxPerPeriod: 12 },
      { code: '72148', allowed: 150_000, priorAuth: true, justifyingDiagnoses: ['M54.5'] },
      { code: '313782', allowed: 3_000, copay: 1_000 },
    ],
  });
  assert.deepEqual(block([planTx]), ['ok']);
  const planId = idOf(planTx);
  const coverageTx = insurerA.tx('coverage.add', {
    patient: patient.id,
    plan: planId,
    memberId: 'EVG-0001',
    from: '2026-01-01',
    to: '2026-12-31',
  });
  assert.deepEqual(block([coverageTx]), ['ok']);
  return {
    state,
    block,
    log,
    writes,
    genesis,
    hospital,
    pharmacy,
    insurerA,
    insurerB,
    doctor,
    pharmacist,
    staffA,
    staffB,
    patient,
    validator,
    planTx,
    coverageTx,
    planId,
    coverage: idOf(coverageTx),
    now: () => now,
  };
}

type World = ReturnType<typeof world>;

const claimBody = (w: World, type: string, items: Array<[string, string, number]>, extra: Record<string, unknown> = {}) => ({
  patient: w.patient.id,
  coverage: w.coverage,
  type,
  items: items.map(([code, serviceDate, charge], i) => ({ sequence: i + 1, code, serviceDate, quantity: 1, charge })),
  contentHash: hash(),
  ...extra,
});

describe('prior authorization', () => {
  test('the plan rules approve with a justifying diagnosis, deny an uncovered code, and pend the rest with a 72 h or 7 day deadline', () => {
    const w = world();
    const request = (code: string, extra: Record<string, unknown> = {}) =>
      w.doctor.tx('preauth.request', { patient: w.patient.id, coverage: w.coverage, items: [{ code }], ...extra });
    const approve = request('72148', { diagnoses: ['M54.5'] });
    const deny = request('99999');
    const pendUrgent = request('72148', { urgent: true });
    const pendStandard = request('72148');
    assert.deepEqual(w.block([approve, deny, pendUrgent, pendStandard]), ['ok', 'ok', 'ok', 'ok']);
    const at = w.now();
    const a = getPreauth(w.state, idOf(approve));
    assert.equal(a && preauthStatus(a, at), 'approved');
    assert.equal(a?.decision?.reasonCode, 'MEETS_CRITERIA');
    assert.equal(a?.decision?.validTo, '2026-04-10', '90 days from the request');
    const d = getPreauth(w.state, idOf(deny));
    assert.equal(d && preauthStatus(d, at), 'denied');
    assert.equal(d?.decision?.reasonCode, 'NOT_COVERED');
    const u = getPreauth(w.state, idOf(pendUrgent));
    assert.equal(u?.deadline, at + 72 * 3_600_000);
    assert.equal(getPreauth(w.state, idOf(pendStandard))?.deadline, at + 7 * DAY_MS);
    assert.equal(u && preauthStatus(u, at + 72 * 3_600_000 - 1), 'pended');
    assert.equal(u && preauthStatus(u, at + 72 * 3_600_000), 'overdue', 'overdue is derived from block time');

    // The other insurer's staff cannot decide it; this insurer's staff must give a reason for a denial.
    const decide = (who: World['staffA'], id: string, body: Record<string, unknown>) => who.tx('preauth.decide', { preauth: id, ...body });
    assert.deepEqual(w.block([decide(w.staffB, idOf(pendStandard), { approve: false, reasonCode: 'NOT_NECESSARY', text: 'no' })]), [
      'UNAUTHORIZED',
    ]);
    assert.deepEqual(w.block([decide(w.staffA, idOf(pendStandard), { approve: false, reasonCode: 'NOT_NECESSARY' })]), ['INVALID_BODY']);
    assert.deepEqual(
      w.block(
        [
          decide(w.staffA, idOf(pendStandard), {
            approve: true,
            reasonCode: 'MEDICAL_NECESSITY',
            validFrom: '2026-01-10',
            validTo: '2026-03-31',
          }),
          decide(w.staffA, idOf(pendUrgent), { approve: false, reasonCode: 'INSUFFICIENT_DOCUMENTATION', text: 'no imaging history' }),
        ],
        80 * 3_600_000,
      ),
      ['ok', 'ok'],
    );
    assert.equal(getPreauth(w.state, idOf(pendStandard))?.decision?.late, false);
    assert.equal(getPreauth(w.state, idOf(pendUrgent))?.decision?.late, true, 'decided after the 72 h deadline');
    assert.deepEqual(
      w.block([decide(w.staffA, idOf(pendUrgent), { approve: true, reasonCode: 'X1', validFrom: '2026-01-10', validTo: '2026-01-11' })]),
      ['WRONG_STATE'],
    );
    const metrics = getPreauthMetrics(w.state, w.insurerA.id);
    assert.deepEqual(
      { ...metrics, totalDecisionMs: undefined, maxDecisionMs: undefined },
      {
        automatic: 2,
        pended: 2,
        decided: 2,
        decidedLate: 1,
        totalDecisionMs: undefined,
        maxDecisionMs: undefined,
      },
    );
    assert.equal(metrics.maxDecisionMs, 80 * 3_600_000 + 2000);
  });

  test('a provider without the patient’s payment or treatment consent is refused', () => {
    const w = world();
    const stranger = actor();
    const insurerStaff = w.staffA.tx('preauth.request', { patient: w.patient.id, coverage: w.coverage, items: [{ code: '72148' }] });
    assert.deepEqual(w.block([insurerStaff]), ['UNAUTHORIZED']);
    assert.deepEqual(w.block([stranger.tx('identity.register', { role: 'patient', encryptionKey: stranger.encryption.publicKey })]), [
      'ok',
    ]);
    // Revoke the hospital's consent: its doctor is refused from then on.
    const grant = JSON.parse(w.state.getState(`grants/${w.patient.id}/${w.hospital.id}`) as string)[0];
    assert.deepEqual(w.block([w.patient.tx('consent.revoke', { grant })]), ['ok']);
    assert.deepEqual(
      w.block([w.doctor.tx('preauth.request', { patient: w.patient.id, coverage: w.coverage, items: [{ code: '72148' }] })]),
      ['NO_CONSENT'],
    );
  });
});

describe('claims', () => {
  test('a claim needing prior authorization without a valid one is denied with that reason; with one it pays and uses it up', () => {
    const w = world();
    const without = w.doctor.tx('claim.submit', claimBody(w, 'professional', [['72148', '2026-01-10', 150_000]]));
    assert.deepEqual(w.block([without]), ['ok']);
    const denied = getClaim(w.state, idOf(without));
    assert.equal(denied?.status, 'denied');
    assert.equal(denied?.adjudications[0]?.lines[0]?.denial, 'PREAUTH_REQUIRED');
    assert.deepEqual(getAccumulator(w.state, w.coverage), { deductibleMet: 0, oopMet: 0, counts: {} });

    const pa = w.doctor.tx('preauth.request', {
      patient: w.patient.id,
      coverage: w.coverage,
      items: [{ code: '72148' }],
      diagnoses: ['M54.5'],
    });
    assert.deepEqual(w.block([pa]), ['ok']);
    // The denied claim is no duplicate of the resubmission.
    const withAuth = w.doctor.tx('claim.submit', claimBody(w, 'professional', [['72148', '2026-01-10', 150_000]], { preauth: idOf(pa) }));
    assert.deepEqual(w.block([withAuth]), ['ok']);
    const paid = getClaim(w.state, idOf(withAuth));
    assert.equal(paid?.status, 'adjudicated');
    assert.deepEqual(paid?.adjudications[0]?.total, {
      submitted: 150_000,
      allowed: 150_000,
      deductible: 50_000,
      costShare: 20_000,
      benefit: 80_000,
      patient: 70_000,
    });
    assert.deepEqual(getPreauth(w.state, idOf(pa))?.used, { '72148': 1 });
    const again = w.doctor.tx('claim.submit', claimBody(w, 'professional', [['72148', '2026-01-11', 150_000]], { preauth: idOf(pa) }));
    assert.deepEqual(w.block([again]), ['ok']);
    assert.equal(getClaim(w.state, idOf(again))?.adjudications[0]?.lines[0]?.denial, 'PREAUTH_REQUIRED', 'the one authorized unit is used');

    // Payment: only the insurer, exactly what is owed, once.
    const pay = (who: World['staffA'], amount: number) => who.tx('claim.pay', { claim: idOf(withAuth), amount, date: '2026-02-01' });
    assert.deepEqual(w.block([pay(w.staffB, 80_000), pay(w.staffA, 79_999), pay(w.staffA, 80_000), pay(w.staffA, 80_000)]), [
      'UNAUTHORIZED',
      'AMOUNT_MISMATCH',
      'ok',
      'WRONG_STATE',
    ]);
    assert.equal(getClaim(w.state, idOf(withAuth))?.status, 'paid');
  });

  test('another provider cannot bill against a provider’s prior authorization or use up its units', () => {
    const w = world();
    const pa = w.doctor.tx('preauth.request', {
      patient: w.patient.id,
      coverage: w.coverage,
      items: [{ code: '72148' }],
      diagnoses: ['M54.5'],
    });
    assert.deepEqual(w.block([pa]), ['ok']);
    // The pharmacy is in network and has the patient's consent, but the authorization is the hospital's.
    const foreign = w.pharmacist.tx(
      'claim.submit',
      claimBody(w, 'professional', [['72148', '2026-01-10', 150_000]], { preauth: idOf(pa) }),
    );
    assert.deepEqual(w.block([foreign]), ['ok']);
    const denied = getClaim(w.state, idOf(foreign));
    assert.equal(denied?.status, 'denied');
    assert.equal(denied?.adjudications[0]?.lines[0]?.denial, 'PREAUTH_REQUIRED');
    assert.deepEqual(getPreauth(w.state, idOf(pa))?.used, {});
    const own = w.doctor.tx('claim.submit', claimBody(w, 'professional', [['72148', '2026-01-10', 150_000]], { preauth: idOf(pa) }));
    assert.deepEqual(w.block([own]), ['ok']);
    assert.equal(getClaim(w.state, idOf(own))?.status, 'adjudicated');
    assert.deepEqual(getPreauth(w.state, idOf(pa))?.used, { '72148': 1 });
  });

  test('the same patient, provider, code and date again goes to review; an institutional and a pharmacy claim of one encounter do not', () => {
    const w = world();
    const institutional = w.doctor.tx('claim.submit', claimBody(w, 'institutional', [['185349003', '2026-01-09', 20_000]]));
    // Synthea bills an encounter's medication on a separate pharmacy claim, same patient and date.
    const pharmacy = w.pharmacist.tx('claim.submit', claimBody(w, 'pharmacy', [['313782', '2026-01-09', 3_000]]));
    const hospitalPharmacy = w.doctor.tx('claim.submit', claimBody(w, 'pharmacy', [['185349003', '2026-01-09', 20_000]]));
    assert.deepEqual(w.block([institutional, pharmacy, hospitalPharmacy]), ['ok', 'ok', 'ok']);
    for (const tx of [institutional, pharmacy, hospitalPharmacy]) assert.equal(getClaim(w.state, idOf(tx))?.status, 'adjudicated');
    const duplicate = w.doctor.tx('claim.submit', claimBody(w, 'institutional', [['185349003', '2026-01-09', 20_000]]));
    assert.deepEqual(w.block([duplicate]), ['ok']);
    const held = getClaim(w.state, idOf(duplicate));
    assert.equal(held?.status, 'review');
    assert.deepEqual(held?.flags, ['DUPLICATE']);
    assert.equal(held?.adjudications[0]?.applied, false, 'a claim in review changes no accumulator');
    const before = getAccumulator(w.state, w.coverage);
    assert.deepEqual(
      w.block([w.staffA.tx('claim.review', { claim: idOf(duplicate), approve: false, reasonCode: 'DUPLICATE', text: 'billed twice' })]),
      ['ok'],
    );
    assert.equal(getClaim(w.state, idOf(duplicate))?.status, 'denied');
    assert.deepEqual(getAccumulator(w.state, w.coverage), before);
  });

  test('counts over the limit, services after death and charges far above the fee schedule go to review', () => {
    const w = world();
    w.block([], Date.parse('2026-04-03T12:00:00Z') - w.now()); // after every service date below
    const twelve = Array.from(
      { length: 12 },
      (_, i) => ['185349003', `2026-03-${String(i + 1).padStart(2, '0')}`, 20_000] as [string, string, number],
    );
    const tx = w.doctor.tx('claim.submit', claimBody(w, 'professional', twelve));
    assert.deepEqual(w.block([tx]), ['ok']);
    assert.equal(getClaim(w.state, idOf(tx))?.status, 'adjudicated');
    const thirteenth = w.doctor.tx('claim.submit', claimBody(w, 'professional', [['185349003', '2026-03-20', 20_000]]));
    const outlier = w.doctor.tx('claim.submit', claimBody(w, 'professional', [['313782', '2026-03-21', 30_001]]));
    assert.deepEqual(w.block([thirteenth, outlier, w.staffA.tx('coverage.death', { coverage: w.coverage, date: '2026-04-01' })]), [
      'ok',
      'ok',
      'ok',
    ]);
    assert.deepEqual(getClaim(w.state, idOf(thirteenth))?.flags, ['OVER_LIMIT']);
    assert.deepEqual(getClaim(w.state, idOf(outlier))?.flags, ['CHARGE_OUTLIER']);
    const afterDeath = w.doctor.tx('claim.submit', claimBody(w, 'professional', [['313782', '2026-04-02', 3_000]]));
    assert.deepEqual(w.block([afterDeath]), ['ok']);
    assert.deepEqual(getClaim(w.state, idOf(afterDeath))?.flags, ['AFTER_DEATH']);
    // Released by review, the claim is adjudicated against the accumulator as it is then.
    assert.deepEqual(w.block([w.staffA.tx('claim.review', { claim: idOf(outlier), approve: true, reasonCode: 'VERIFIED' })]), ['ok']);
    const released = getClaim(w.state, idOf(outlier));
    assert.equal(released?.status, 'adjudicated');
    assert.equal(released?.adjudications.length, 2);
    assert.equal(released?.adjudications[1]?.applied, true);
  });

  test('a dispute overturned re-adjudicates, supersedes and keeps the history; only within 180 days', () => {
    const w = world();
    const claim = w.doctor.tx(
      'claim.submit',
      claimBody(w, 'professional', [
        ['72148', '2026-01-10', 150_000],
        ['185349003', '2026-01-10', 20_000],
      ]),
    );
    assert.deepEqual(w.block([claim]), ['ok']);
    const id = idOf(claim);
    const first = getClaim(w.state, id);
    assert.equal(first?.status, 'adjudicated', 'one line denied, one adjudicated');
    assert.equal(first?.adjudications[0]?.lines[0]?.denial, 'PREAUTH_REQUIRED');
    assert.deepEqual(getAccumulator(w.state, w.coverage), { deductibleMet: 20_000, oopMet: 20_000, counts: { '185349003': 1 } });

    assert.deepEqual(w.block([w.staffA.tx('claim.dispute', { claim: id, reason: 'x' })]), ['UNAUTHORIZED']);
    assert.deepEqual(w.block([w.patient.tx('claim.dispute', { claim: id, reason: 'the MRI was an emergency' })]), ['ok']);
    assert.deepEqual(w.block([w.doctor.tx('claim.dispute', { claim: id, reason: 'again' })]), ['WRONG_STATE']);
    assert.deepEqual(
      w.block([w.staffA.tx('claim.resolve', { claim: id, outcome: 'overturn', reason: 'emergency imaging needs no prior auth' })]),
      ['ok'],
    );
    const after = getClaim(w.state, id);
    assert.equal(after?.adjudications.length, 2, 'the first adjudication stays in the history');
    assert.equal(after?.adjudications[1]?.cause, 'dispute-overturned');
    assert.equal(after?.adjudications[1]?.lines[0]?.denial, null);
    assert.deepEqual(after?.adjudications[1]?.total, {
      submitted: 170_000,
      allowed: 170_000,
      deductible: 50_000,
      costShare: 24_000,
      benefit: 96_000,
      patient: 74_000,
    });
    // The old contribution was taken out before the new one went in.
    assert.deepEqual(getAccumulator(w.state, w.coverage), {
      deductibleMet: 50_000,
      oopMet: 74_000,
      counts: { '185349003': 1, '72148': 1 },
    });
    assert.equal(after?.disputes[0]?.resolution?.outcome, 'overturn');

    assert.deepEqual(w.block([w.doctor.tx('claim.dispute', { claim: id, reason: 'late' })], 181 * DAY_MS), ['DISPUTE_WINDOW_CLOSED']);
  });

  test('a claim for care not yet given is refused: a service date after the block date (plus one day for time zones ahead of UTC)', () => {
    const w = world(); // block time 2026-01-10
    const later = w.doctor.tx('claim.submit', claimBody(w, 'professional', [['185349003', '2026-01-12', 20_000]]));
    const mixed = w.doctor.tx(
      'claim.submit',
      claimBody(w, 'professional', [
        ['185349003', '2026-01-09', 20_000],
        ['72148', '2027-01-09', 150_000],
      ]),
    );
    assert.deepEqual(w.block([later, mixed]), ['FUTURE_SERVICE_DATE', 'FUTURE_SERVICE_DATE']);
    for (const tx of [later, mixed]) assert.equal(getClaim(w.state, idOf(tx)), undefined, 'nothing is written');
    assert.deepEqual(getAccumulator(w.state, w.coverage), { deductibleMet: 0, oopMet: 0, counts: {} });
    // Tomorrow in UTC is today somewhere east of it.
    const tomorrow = w.doctor.tx('claim.submit', claimBody(w, 'professional', [['185349003', '2026-01-11', 20_000]]));
    assert.deepEqual(w.block([tomorrow]), ['ok']);
    // The same claim dated two days on is accepted once the chain's time has reached it.
    w.block([], 2 * DAY_MS);
    const now = w.doctor.tx('claim.submit', claimBody(w, 'professional', [['72148', '2026-01-12', 150_000]]));
    assert.deepEqual(w.block([now]), ['ok']);
  });

  test('two insurers: staff of one cannot pay, review or resolve the other’s claims', () => {
    const w = world();
    const claim = w.doctor.tx('claim.submit', claimBody(w, 'professional', [['185349003', '2026-01-10', 20_000]]));
    assert.deepEqual(w.block([claim]), ['ok']);
    assert.deepEqual(
      w.block([
        w.staffB.tx('claim.pay', { claim: idOf(claim), amount: 0, date: '2026-02-01' }),
        w.insurerB.tx('coverage.add', { patient: w.patient.id, plan: w.planId, memberId: 'X', from: '2026-01-01', to: '2026-12-31' }),
        w.insurerB.tx('plan.publish', {
          plan: w.planId,
          name: 'steal',
          effectiveFrom: '2026-06-01',
          deductible: 0,
          oopMax: 0,
          copay: 0,
          network: [],
          services: [{ code: 'A', allowed: 1 }],
        }),
      ]),
      ['UNAUTHORIZED', 'UNAUTHORIZED', 'UNAUTHORIZED'],
    );
  });

  test('a second coverage of the same plan overlapping the first is refused; the next period or another plan is not', () => {
    const w = world();
    const cover = (from: string, to: string, plan = w.planId) =>
      w.staffA.tx('coverage.add', { patient: w.patient.id, plan, memberId: 'EVG-0002', from, to });
    // Overlapping by one day, inside, or around: each would be a second accumulator (a fresh
    // deductible and count limit) for the same benefit; twice in one block, the second is refused too.
    assert.deepEqual(w.block([cover('2026-12-31', '2027-12-30'), cover('2026-03-01', '2026-03-31'), cover('2025-01-01', '2027-12-31')]), [
      'DUPLICATE_COVERAGE',
      'DUPLICATE_COVERAGE',
      'DUPLICATE_COVERAGE',
    ]);
    assert.equal(insuranceListCount(w.state, 'pcov', w.patient.id), 1);
    const renewal = cover('2027-01-01', '2027-12-31');
    assert.deepEqual(w.block([renewal, cover('2027-06-01', '2027-06-30')]), ['ok', 'DUPLICATE_COVERAGE']);
    // Another plan of the same insurer (a dental plan beside the medical one) is another benefit.
    const dental = w.insurerA.tx('plan.publish', {
      name: 'Evergreen Dental',
      effectiveFrom: '2026-01-01',
      deductible: 0,
      oopMax: 100_000,
      copay: 2_000,
      network: [],
      services: [{ code: 'D1110', allowed: 9_000 }],
    });
    assert.deepEqual(w.block([dental]), ['ok']);
    assert.deepEqual(w.block([cover('2026-01-01', '2026-12-31', idOf(dental))]), ['ok']);
    assert.equal(insuranceListCount(w.state, 'pcov', w.patient.id), 3);
  });

  test('eligibility answers from state: covered with the estimate, limits, network and prior auth', () => {
    const w = world();
    const q = { coverage: w.coverage, code: '185349003', date: '2026-02-01', provider: w.hospital.id, quantity: 1 };
    assert.deepEqual(checkEligibility(w.state, q), {
      covered: true,
      reason: 'COVERED',
      coverage: w.coverage,
      insurer: w.insurerA.id,
      plan: w.planId,
      planVersion: 1,
      memberId: 'EVG-0001',
      priorAuthRequired: false,
      remainingCount: 12,
      deductibleRemaining: 50_000,
      oopRemaining: 300_000,
      allowed: 20_000,
      estimatedPatientShare: 20_000,
      estimatedBenefit: 0,
    });
    assert.equal(checkEligibility(w.state, { ...q, code: '72148' }).priorAuthRequired, true);
    assert.equal(checkEligibility(w.state, { ...q, code: '00000' }).reason, 'NOT_COVERED');
    assert.equal(checkEligibility(w.state, { ...q, date: '2027-01-01' }).reason, 'COVERAGE_INACTIVE');
    assert.equal(checkEligibility(w.state, { ...q, provider: w.insurerB.id }).reason, 'OUT_OF_NETWORK');
    assert.equal(checkEligibility(w.state, { ...q, quantity: 13 }).reason, 'LIMIT_REACHED');
  });

  test('a new plan version judges claims whose service date falls in it', () => {
    const w = world();
    const v2 = w.insurerA.tx('plan.publish', {
      plan: w.planId,
      name: 'Evergreen Silver 2',
      effectiveFrom: '2026-07-01',
      deductible: 0,
      oopMax: 300_000,
      copay: 500,
      network: [],
      services: [{ code: '185349003', allowed: 20_000 }],
    });
    assert.deepEqual(w.block([v2]), ['ok']);
    w.block([], Date.parse('2026-07-02T12:00:00Z') - w.now()); // claims come after the care
    const june = w.doctor.tx('claim.submit', claimBody(w, 'professional', [['185349003', '2026-06-30', 20_000]]));
    const july = w.doctor.tx('claim.submit', claimBody(w, 'professional', [['185349003', '2026-07-01', 20_000]]));
    assert.deepEqual(w.block([june, july]), ['ok', 'ok']);
    assert.equal(getClaim(w.state, idOf(june))?.adjudications[0]?.planVersion, 1);
    assert.equal(getClaim(w.state, idOf(june))?.adjudications[0]?.total.deductible, 20_000);
    assert.equal(getClaim(w.state, idOf(july))?.adjudications[0]?.planVersion, 2);
    assert.deepEqual(getClaim(w.state, idOf(july))?.adjudications[0]?.total.patient, 500);
  });
});

describe('who sees the transactions of a member’s case (blocks and /v1/txs)', () => {
  test('only the insurer, the patient and delegates, the provider and validators; the rest of the consortium does not', () => {
    const w = world();
    const other = actor();
    const delegate = actor();
    assert.deepEqual(
      w.block([
        other.tx('identity.register', { role: 'patient', encryptionKey: other.encryption.publicKey }),
        delegate.tx('identity.register', { role: 'patient', encryptionKey: delegate.encryption.publicKey }),
      ]),
      ['ok', 'ok'],
    );
    assert.deepEqual(w.block([w.patient.tx('delegate.set', { delegate: delegate.id })]), ['ok']);
    assert.deepEqual(w.block([delegate.tx('delegate.accept', { patient: w.patient.id })]), ['ok']);
    const request = w.doctor.tx('preauth.request', { patient: w.patient.id, coverage: w.coverage, items: [{ code: '72148' }] });
    const claim = w.doctor.tx(
      'claim.submit',
      claimBody(w, 'professional', [['185349003', '2026-01-10', 20_000]], { diagnoses: ['F32.9'] }),
    );
    assert.deepEqual(w.block([request, claim]), ['ok', 'ok']);
    const decide = w.staffA.tx('preauth.decide', {
      preauth: idOf(request),
      approve: false,
      reasonCode: 'NOT_NECESSARY',
      text: 'conservative care first',
    });
    const pay = w.staffA.tx('claim.pay', { claim: idOf(claim), amount: 0, date: '2026-02-01' });
    const dispute = w.patient.tx('claim.dispute', { claim: idOf(claim), reason: 'my depression visit was covered' });
    const death = w.staffA.tx('coverage.death', { coverage: w.coverage, date: '2030-01-01' });
    w.block([decide, pay, dispute, death]);
    const who = (a: { id: string }) => getIdentity(w.state, a.id) as Identity;
    const sees = (a: { id: string }) =>
      [w.coverageTx, request, claim, decide, pay, dispute, death].map((tx) => seesTxBody(w.state, tx, who(a)));
    const all = [true, true, true, true, true, true, true];
    const none = [false, false, false, false, false, false, false];
    for (const party of [w.validator, w.insurerA, w.staffA, w.patient, delegate]) assert.deepEqual(sees(party), all, 'insurer, patient');
    // The provider sees its requests and claims and what became of them, not the coverage's own
    // transactions (it reads a coverage through GET /v1/coverages/:id, with the patient's consent).
    for (const provider of [w.hospital, w.doctor]) assert.deepEqual(sees(provider), [false, true, true, true, true, true, false]);
    // Consortium members all (they see every other block body), yet no party to this member's case.
    for (const outsider of [w.insurerB, w.staffB, w.pharmacy, w.pharmacist]) {
      assert.equal(seesChainBodies(w.state, who(outsider)), true);
      assert.deepEqual(sees(outsider), none);
    }
    assert.deepEqual(sees(other), none);
    // A plan names no member: it stays consortium metadata.
    assert.equal(seesTxBody(w.state, w.planTx, who(w.pharmacist)), true);
  });
});

test('determinism: two independent applications of the same blocks write byte-identical state', () => {
  const w = world();
  w.block([], Date.parse('2026-02-04T12:00:00Z') - w.now()); // after the service date below
  const pa = w.doctor.tx('preauth.request', { patient: w.patient.id, coverage: w.coverage, items: [{ code: '72148' }] });
  const claim = w.doctor.tx(
    'claim.submit',
    claimBody(w, 'institutional', [
      ['185349003', '2026-02-03', 20_000],
      ['72148', '2026-02-03', 150_000],
    ]),
  );
  w.block([pa, claim]);
  w.block([
    w.staffA.tx('preauth.decide', { preauth: idOf(pa), approve: true, reasonCode: 'OK', validFrom: '2026-02-01', validTo: '2026-02-28' }),
  ]);
  w.block([w.patient.tx('claim.dispute', { claim: idOf(claim), reason: 'authorized since' })]);
  w.block([
    w.staffA.tx('claim.resolve', {
      claim: idOf(claim),
      outcome: 'overturn',
      reason: 'authorized',
      allowed: [{ sequence: 1, amount: 15_000 }],
    }),
  ]);

  // A second, independent application fed the same genesis and blocks.
  const state = replayIndependently(CHAIN, w);
  const claimNow = getClaim(state, idOf(claim));
  assert.equal(claimNow?.adjudications.length, 2);
  assert.equal(claimNow?.adjudications[1]?.lines[0]?.amounts.allowed, 15_000);
});
