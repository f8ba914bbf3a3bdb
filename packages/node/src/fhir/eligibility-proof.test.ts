// FHIR eligibility proven (docs/insurance.md "Trusting the answers"), on a real node over HTTP:
// a lying proxy between the SDK and the node's FHIR endpoint rewrites the
// CoverageEligibilityResponse — covered when the plan does not cover the service, a wrong
// remaining count, deductible or patient share, a dropped prior-authorization flag, a coverage
// left out, another service date — and the SDK (fhirEligibility), pinned to the genesis only,
// refuses each with FACT_NOT_PROVEN naming the fact. The honest answer passes through the
// same proxy, and is the one the /v1 eligibility answer gives.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ClientError, checkEligibility, fhirEligibility, MedLedgerClient, TrustedGenesis } from '@medledger/client';
import { type Answer, editJson, type LyingProxy, pathOf, type SentRequest, startLyingProxy } from '@medledger/client/testing/lying-proxy';
import { generateKeyBundle, type KeyBundle, toHex } from '@medledger/crypto';
import { txHash } from '@medledger/ledger';
import { readOrgKey } from '../home.js';
import { type FhirTestNode, startFhirNode, tokenFor } from './testing.js';

let t: FhirTestNode;
let proxy: LyingProxy;
let genesis: TrustedGenesis;
let patientId = '';
let strangerId = '';
let hospitalToken = '';
const coverageIds: string[] = [];
const year = new Date().toISOString().slice(0, 4);
const today = new Date().toISOString().slice(0, 10);
/** Covered with a count limit; needs prior authorization; not in the plan. */
const SERVICES = ['99213', '72148', '99999'];

const direct = (keys: KeyBundle) => new MedLedgerClient({ genesis, url: t.url, keys, pollIntervalMs: 20 });
const viaProxy = (keys: KeyBundle) => new MedLedgerClient({ genesis, url: proxy.url, keys, pollIntervalMs: 20 });
const ask = (patient = patientId, opts: { date?: string; coverage?: string } = {}) =>
  fhirEligibility(viaProxy(t.orgKeys), { patient, services: SERVICES, token: hospitalToken, ...opts });

before(async () => {
  t = await startFhirNode({
    organizations: [
      { name: 'General Hospital', kind: 'hospital' },
      { name: 'Evergreen Health Insurance', kind: 'insurer' },
    ],
  });
  genesis = TrustedGenesis.fromDocument(t.node.chain.genesis);
  proxy = await startLyingProxy(t.url);
  const insurer = direct(readOrgKey(join(t.dir, 'node0'), { file: 'org-evergreen-health-insurance.key' }));
  const hospital = direct(t.orgKeys);
  const patient = direct(generateKeyBundle());
  patientId = (await patient.registerPatient()).id;
  await patient.grant({ grantee: t.orgId, categories: ['billing'], purpose: 'payment' });
  strangerId = (await direct(generateKeyBundle()).registerPatient()).id;
  const plan = await insurer.submitAndWait('plan.publish', {
    name: 'Evergreen Silver',
    effectiveFrom: `${Number(year) - 1}-01-01`,
    deductible: 10_000,
    oopMax: 300_000,
    coinsuranceBps: 2_000,
    network: [t.orgId],
    services: [
      { code: '99213', allowed: 12_000, maxPerPeriod: 10 },
      { code: '72148', allowed: 150_000, priorAuth: true, justifyingDiagnoses: ['M54.5'] },
    ],
  });
  const planId = txHash(plan.tx).slice(0, 32);
  // Last year's coverage (inactive today) and this year's: the answer names both, in list order.
  for (const [from, to, member] of [
    [`${Number(year) - 1}-01-01`, `${Number(year) - 1}-12-31`, 'EVG-0'],
    [`${year}-01-01`, `${year}-12-31`, 'EVG-1'],
  ] as const) {
    const added = await insurer.submitAndWait('coverage.add', { patient: patientId, plan: planId, memberId: member, from, to });
    coverageIds.push(txHash(added.tx).slice(0, 32));
  }
  // One visit this year: the deductible is met and one unit of ten used.
  await hospital.submitAndWait('claim.submit', {
    patient: patientId,
    coverage: coverageIds[1],
    type: 'professional',
    items: [{ sequence: 1, code: '99213', serviceDate: today, quantity: 1, charge: 15_000 }],
    contentHash: toHex(new Uint8Array(32).fill(7)),
  });
  hospitalToken = await tokenFor(t.base, t.orgKeys);
});
after(async () => {
  await proxy?.close();
  await t?.cleanup();
});

// biome-ignore lint/suspicious/noExplicitAny: the lies below edit FHIR JSON
type Loose = any;
/** Rewrite the CoverageEligibilityResponse the endpoint answers. */
const onEligibility = (change: (r: Loose) => unknown) => (r: SentRequest, a: Answer) =>
  r.method === 'POST' && pathOf(r) === '/fhir/R4/CoverageEligibilityRequest/$submit' && a.status === 200 ? editJson(a, change) : undefined;
/** This year's coverage (the second), item i. */
const item = (r: Loose, i: number) => r.insurance[1].item[i];
const benefit = (x: Loose, code: string) =>
  x.benefit.find((b: Loose) => (code === 'share' ? b.type.text === 'estimated patient share' : b.type.coding?.[0]?.code === code));

const lies: Array<[string, (r: Loose) => unknown, RegExp]> = [
  [
    'covered when the plan does not cover the service',
    (r) => {
      Object.assign(item(r, 2), { excluded: false, description: 'COVERED' });
    },
    /covered \(excluded\) for service 99999/,
  ],
  [
    'a wrong remaining count',
    (r) => {
      benefit(item(r, 0), 'visit').allowedUnsignedInt += 5;
    },
    /remaining count for service 99213/,
  ],
  [
    'a wrong deductible',
    (r) => {
      benefit(item(r, 1), 'deductible').allowedMoney.value += 100;
    },
    /deductible remaining for service 72148/,
  ],
  [
    'a wrong patient share',
    (r) => {
      benefit(item(r, 0), 'share').allowedMoney.value = 0;
      benefit(item(r, 0), 'benefit').allowedMoney.value = 120;
    },
    /estimated patient share for service 99213/,
  ],
  [
    'a dropped prior-authorization flag',
    (r) => {
      item(r, 1).authorizationRequired = false;
    },
    /prior-authorization flag for service 72148/,
  ],
  [
    'a coverage left out',
    (r) => {
      r.insurance.shift();
    },
    /coverage list \(1 shown, the patient has 2 proven\)/,
  ],
  [
    'another service date',
    (r) => {
      r.servicedDate = `${year}-01-01`;
    },
    /service date/,
  ],
  [
    'another disposition',
    (r) => {
      r.disposition = 'no coverage on record';
    },
    /content/,
  ],
];

async function refusal(act: () => Promise<unknown>): Promise<ClientError | undefined> {
  try {
    await act();
  } catch (err) {
    assert.ok(err instanceof ClientError, String(err));
    return err;
  }
  return undefined;
}

describe('the SDK refuses a CoverageEligibilityResponse a lying node alters', () => {
  test('honest control: through the proxy the response is proven, and agrees with the /v1 answer', async () => {
    const { response, provenAt } = await ask();
    assert.ok(provenAt > 0);
    const r = response as Loose;
    assert.equal(r.servicedDate, today);
    assert.deepEqual(
      r.insurance.map((i: Loose) => [i.coverage.reference, i.inforce]),
      [
        [`Coverage/${coverageIds[0]}`, false],
        [`Coverage/${coverageIds[1]}`, true],
      ],
    );
    const [visit, mri, other] = [item(r, 0), item(r, 1), item(r, 2)];
    assert.deepEqual([visit.excluded, mri.excluded, other.excluded], [false, false, true]);
    assert.equal(mri.authorizationRequired, true);
    assert.equal(benefit(visit, 'visit').allowedUnsignedInt, 9, 'one of ten used');
    assert.equal(benefit(visit, 'deductible').allowedMoney.value, 0, 'the first visit met the deductible');
    assert.equal(benefit(visit, 'share').allowedMoney.value, 24, '20 % of $120');
    const v1 = await checkEligibility(direct(t.orgKeys), { patient: patientId, service: '99213' });
    assert.equal(v1.best?.estimatedPatientShare, 2_400);
    // One coverage asked for: only it is answered, and proven so.
    const one = (await ask(patientId, { coverage: coverageIds[1] as string })).response as Loose;
    assert.deepEqual(
      one.insurance.map((i: Loose) => i.coverage.reference),
      [`Coverage/${coverageIds[1]}`],
    );
  });

  for (const [name, change, names] of lies)
    test(`${name} is refused (FACT_NOT_PROVEN), naming it`, async () => {
      proxy.lie(onEligibility(change));
      try {
        const err = await refusal(() => ask());
        assert.equal(err?.code, 'FACT_NOT_PROVEN', String(err?.message));
        assert.match(err.message, names);
      } finally {
        proxy.lie(undefined);
      }
    });

  test('a date asked for must be the date judged', async () => {
    proxy.lie(
      onEligibility((r) => {
        r.servicedDate = `${year}-02-01`;
      }),
    );
    try {
      const err = await refusal(() => ask(patientId, { date: `${year}-03-01` }));
      assert.equal(err?.code, 'FACT_NOT_PROVEN');
      assert.match(String(err?.message), /service date/);
    } finally {
      proxy.lie(undefined);
    }
  });

  test('a patient without consent: the endpoint refuses (HTTP_ERROR 403), nothing to prove', async () => {
    const err = await refusal(() => ask(strangerId));
    assert.equal(err?.code, 'HTTP_ERROR');
    assert.equal(err?.status, 403);
  });
});
