// The insurance routes over HTTP on a real node: who sees which list (an insurer's staff only
// their own queues, a patient their own claims, a provider its own submissions), paging with
// limit/cursor/next, refused parameters, and the routes in the OpenAPI document.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  type ClaimView,
  ClientError,
  insuranceIdOf,
  listInsurance,
  MedLedgerClient,
  staffRegisterBody,
  TrustedGenesis,
} from '@medledger/client';
import { generateKeyBundle, idFromPublicKey, type KeyBundle, toHex } from '@medledger/crypto';
import { readOrgKey } from './home.js';
import { startSoloNode, TEST_PASSPHRASE, type TestNode } from './testing/harness.js';

let t: TestNode;
before(async () => {
  t = await startSoloNode({
    organizations: [
      { name: 'General Hospital', kind: 'hospital' },
      { name: 'Riverside Clinic', kind: 'clinic' },
      { name: 'Evergreen Health Insurance', kind: 'insurer' },
      { name: 'Blue Lake Insurance', kind: 'insurer' },
    ],
  });
});
after(async () => {
  await t.cleanup();
});

const home = () => join(t.dir, 'node0');
/** The genesis the SDK clients here trust: the test node's own. */
const trusted = () => TrustedGenesis.fromDocument(t.node.chain.genesis);
const org = (file: string) =>
  new MedLedgerClient({ genesis: trusted(), url: t.url, keys: readOrgKey(home(), { file, passphrase: TEST_PASSPHRASE }) });

async function staffOf(admin: MedLedgerClient, role: 'clinician' | 'insurer'): Promise<MedLedgerClient> {
  const keys: KeyBundle = generateKeyBundle();
  await admin.submitAndWait(
    'staff.register',
    staffRegisterBody({ publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role }),
  );
  return new MedLedgerClient({ genesis: trusted(), url: t.url, keys });
}

const refusal = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    if (err instanceof ClientError) return { code: err.code, status: err.status };
    throw err;
  }
  return undefined;
};

test('insurance lists: each party sees only its own, pages follow the cursor, bad parameters are refused', async () => {
  const hospital = org('org.key');
  const clinic = org('org-riverside-clinic.key');
  const evergreen = org('org-evergreen-health-insurance.key');
  const blueLake = org('org-blue-lake-insurance.key');
  const hospitalId = idFromPublicKey(hospital.keys.signing.publicKey);
  const clinicId = idFromPublicKey(clinic.keys.signing.publicKey);
  const evergreenId = idFromPublicKey(evergreen.keys.signing.publicKey);
  const doctor = await staffOf(hospital, 'clinician');
  const clinicDoctor = await staffOf(clinic, 'clinician');
  const adjuster = await staffOf(evergreen, 'insurer');
  const rival = await staffOf(blueLake, 'insurer');
  const patient = new MedLedgerClient({ genesis: trusted(), url: t.url, keys: generateKeyBundle() });
  const { id: patientId } = await patient.registerPatient();
  const other = new MedLedgerClient({ genesis: trusted(), url: t.url, keys: generateKeyBundle() });
  await other.registerPatient();
  // Claims date last year's care (care already given, whatever day the suite runs); coverage runs
  // from last year to the end of this one, so it is in force today too.
  const year = String(new Date().getUTCFullYear() - 1);

  const plan = await evergreen.submitAndWait('plan.publish', {
    name: 'Evergreen Basic',
    effectiveFrom: `${year}-01-01`,
    deductible: 0,
    oopMax: 100_000,
    copay: 1_000,
    network: [],
    services: [{ code: '99213', allowed: 10_000 }],
  });
  const cov = await adjuster.submitAndWait('coverage.add', {
    patient: patientId,
    plan: insuranceIdOf(plan.tx),
    memberId: 'EVG-1',
    from: `${year}-01-01`,
    to: `${Number(year) + 1}-12-31`,
  });
  const coverage = insuranceIdOf(cov.tx);
  await patient.grant({ grantee: hospitalId, categories: ['billing'], purpose: 'payment' });
  await patient.grant({ grantee: clinicId, categories: ['billing'], purpose: 'treatment' });
  const claim = (who: MedLedgerClient, day: number) =>
    who.submitAndWait('claim.submit', {
      patient: patientId,
      coverage,
      type: 'professional',
      items: [{ sequence: 1, code: '99213', serviceDate: `${year}-01-${String(day).padStart(2, '0')}`, quantity: 1, charge: 10_000 }],
      contentHash: toHex(new Uint8Array(32).fill(day)),
    });
  for (let day = 1; day <= 5; day++) await claim(doctor, day);
  await claim(clinicDoctor, 9);

  // The insurer's queue, three pages of two and one of one.
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 10; pages++) {
    const page = await listInsurance<ClaimView>(adjuster, {
      by: 'insurers',
      id: evergreenId,
      of: 'claims',
      limit: 2,
      ...(cursor === undefined ? {} : { cursor }),
    });
    seen.push(...page.items.map((c) => c.id));
    if (page.next === null) break;
    cursor = page.next;
  }
  assert.equal(seen.length, 6);
  assert.equal(new Set(seen).size, 6, 'no claim twice across pages');
  const filtered = await listInsurance<ClaimView>(adjuster, { by: 'insurers', id: evergreenId, of: 'claims', status: 'adjudicated' });
  assert.equal(filtered.items.length, 6);
  assert.equal(filtered.next, null);

  // Another insurer's staff, a provider and the patient are refused the insurer's queue.
  for (const who of [rival, doctor, patient]) {
    assert.deepEqual(await refusal(listInsurance(who, { by: 'insurers', id: evergreenId, of: 'claims' })), {
      code: 'ACCESS_DENIED',
      status: 403,
    });
  }
  // Each provider sees its own submissions only; the patient all of theirs; nobody else's.
  const hospitalClaims = await listInsurance<ClaimView>(doctor, { by: 'providers', id: hospitalId, of: 'claims' });
  assert.equal(hospitalClaims.items.length, 5);
  assert.ok(hospitalClaims.items.every((c) => c.provider === hospitalId));
  assert.equal((await listInsurance(clinicDoctor, { by: 'providers', id: clinicId, of: 'claims' })).items.length, 1);
  assert.deepEqual(await refusal(listInsurance(clinicDoctor, { by: 'providers', id: hospitalId, of: 'claims' })), {
    code: 'ACCESS_DENIED',
    status: 403,
  });
  assert.equal((await listInsurance(patient, { by: 'patients', id: patientId, of: 'claims' })).items.length, 6);
  assert.equal((await listInsurance(patient, { by: 'patients', id: patientId, of: 'coverages' })).items.length, 1);
  assert.deepEqual(await refusal(listInsurance(other, { by: 'patients', id: patientId, of: 'claims' })), {
    code: 'ACCESS_DENIED',
    status: 403,
  });
  // One claim: the clinic cannot read the hospital's, the rival insurer cannot either.
  const one = hospitalClaims.items[0] as ClaimView;
  assert.equal((await refusal(clinicDoctor.get(`/v1/claims/${one.id}`, { auth: true })))?.status, 403);
  assert.equal((await refusal(rival.get(`/v1/claims/${one.id}`, { auth: true })))?.status, 403);
  assert.equal(((await adjuster.get(`/v1/claims/${one.id}`, { auth: true })) as ClaimView).claimResponse.resourceType, 'ClaimResponse');

  // Parameters are checked: a forged cursor, a page too large, an unknown status.
  const bad = (q: string) => refusal(adjuster.get(`/v1/insurers/${evergreenId}/claims?${q}`, { auth: true }));
  assert.equal((await bad('cursor=../../identity'))?.code, 'INVALID_PARAM');
  assert.equal((await bad('limit=501'))?.code, 'INVALID_PARAM');
  assert.equal((await bad('status=lost'))?.code, 'INVALID_PARAM');

  // The public decision-time metrics need no session; the routes are in the OpenAPI document.
  const metrics = (await (await fetch(`${t.url}/v1/insurers/${evergreenId}/preauth-metrics`)).json()) as { decided: number };
  assert.equal(metrics.decided, 0);
  const openapi = (await (await fetch(`${t.url}/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
  for (const path of ['/v1/patients/{id}/eligibility', '/v1/claims/{id}', '/v1/insurers/{id}/claims', '/v1/providers/{id}/preauths'])
    assert.ok(openapi.paths[path], `${path} is documented`);
});

test("an expired consent stops showing the patient's coverage at once, though no block has come since (the gatekeeper's time)", async () => {
  const hospital = org('org.key');
  const hospitalId = idFromPublicKey(hospital.keys.signing.publicKey);
  const patient = new MedLedgerClient({ genesis: trusted(), url: t.url, keys: generateKeyBundle() });
  const { id: patientId } = await patient.registerPatient();
  const expiresAt = Date.now() + 2_000;
  await patient.grant({ grantee: hospitalId, categories: ['billing'], access: 'read', purpose: 'treatment', expiresAt });
  const coverages = `/v1/patients/${patientId}/coverages`;
  const eligibility = `/v1/patients/${patientId}/eligibility?service=99213`;
  assert.deepEqual(((await hospital.get(coverages, { auth: true })) as { coverages: unknown[] }).coverages, []);
  assert.equal(((await hospital.get(eligibility, { auth: true })) as { eligible: boolean }).eligible, false);

  // This node makes no empty blocks: the tip's time stays before expiresAt.
  await new Promise((r) => setTimeout(r, expiresAt + 200 - Date.now()));
  assert.ok(t.node.chain.tipTime < expiresAt, 'no block came after the expiry');
  assert.deepEqual(await refusal(hospital.get(coverages, { auth: true })), { code: 'ACCESS_DENIED', status: 403 });
  assert.deepEqual(await refusal(hospital.get(eligibility, { auth: true })), { code: 'NO_CONSENT', status: 403 });
});
