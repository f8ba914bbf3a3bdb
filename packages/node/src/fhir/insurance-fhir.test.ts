// Insurance on the FHIR endpoint of a real node: a hospital's system asks
// CoverageEligibilityRequest/$submit with the patient's payment consent and is refused
// without it; a submitted claim reads back as a ClaimResponse; ClaimResponse and
// ExplanationOfBenefit (CARIN Blue Button) search page and stop when the consent is revoked.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MedLedgerClient, TrustedGenesis } from '@medledger/client';
import { generateKeyBundle, idFromPublicKey, toHex } from '@medledger/crypto';
import { txHash } from '@medledger/ledger';
import { readOrgKey } from '../home.js';
import { type FhirTestNode, startFhirNode, tokenFor } from './testing.js';

let t: FhirTestNode;
let token = '';

before(async () => {
  t = await startFhirNode({
    organizations: [
      { name: 'General Hospital', kind: 'hospital' },
      { name: 'Evergreen Health Insurance', kind: 'insurer' },
    ],
  });
  token = await tokenFor(t.base, t.orgKeys);
});
after(async () => {
  await t.cleanup();
});

const fhir = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${t.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/fhir+json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};

// Claims date last year's care (care already given, whatever day the suite runs); coverage runs
// from last year to the end of this one, so it is in force today too.
const year = String(new Date().getUTCFullYear() - 1);
const insurerClient = () =>
  new MedLedgerClient({
    genesis: TrustedGenesis.fromDocument(t.node.chain.genesis),
    url: t.url,
    keys: readOrgKey(join(t.dir, 'node0'), { file: 'org-evergreen-health-insurance.key' }),
  });

/** The insurer publishes a plan in the hospital's network covering 99213 and covers `patient` under it this year; resolves to the coverage id. */
async function coverUnderNewPlan(
  insurer: MedLedgerClient,
  patient: string,
  plan: { name: string; deductible: number; copay: number; memberId: string },
): Promise<string> {
  const published = await insurer.submitAndWait('plan.publish', {
    name: plan.name,
    effectiveFrom: `${year}-01-01`,
    deductible: plan.deductible,
    oopMax: 300_000,
    copay: plan.copay,
    network: [t.orgId],
    services: [{ code: '99213', allowed: 12_000, maxPerPeriod: 10 }],
  });
  const cov = await insurer.submitAndWait('coverage.add', {
    patient,
    plan: txHash(published.tx).slice(0, 32),
    memberId: plan.memberId,
    from: `${year}-01-01`,
    to: `${Number(year) + 1}-12-31`,
  });
  return txHash(cov.tx).slice(0, 32);
}

test('CoverageEligibilityRequest/$submit answers from the ledger for a consented provider, and a ClaimResponse reads back', async () => {
  const insurer = insurerClient();
  const hospital = new MedLedgerClient({ genesis: TrustedGenesis.fromDocument(t.node.chain.genesis), url: t.url, keys: t.orgKeys });
  const patientKeys = generateKeyBundle();
  const patient = new MedLedgerClient({ genesis: TrustedGenesis.fromDocument(t.node.chain.genesis), url: t.url, keys: patientKeys });
  const { id: patientId } = await patient.registerPatient();
  const stranger = new MedLedgerClient({
    genesis: TrustedGenesis.fromDocument(t.node.chain.genesis),
    url: t.url,
    keys: generateKeyBundle(),
  });
  const { id: strangerId } = await stranger.registerPatient();
  const coverageId = await coverUnderNewPlan(insurer, patientId, {
    name: 'Evergreen Bronze',
    deductible: 50_000,
    copay: 2_500,
    memberId: 'EVG-7',
  });
  const consent = await patient.grant({ grantee: t.orgId, categories: ['billing'], access: 'read-write', purpose: 'payment' });

  const request = (who: string) => ({
    resourceType: 'CoverageEligibilityRequest',
    status: 'active',
    purpose: ['benefits', 'validation'],
    patient: { reference: `Patient/${who}` },
    created: new Date().toISOString(),
    insurer: { reference: `Organization/${idFromPublicKey(insurer.keys.signing.publicKey)}` },
    item: [{ productOrService: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '99213' }] } }],
  });
  const answered = await fhir('POST', '/CoverageEligibilityRequest/$submit', request(patientId));
  assert.equal(answered.status, 200, JSON.stringify(answered.json));
  assert.equal(answered.json.resourceType, 'CoverageEligibilityResponse');
  const insurance = answered.json.insurance as Array<{
    coverage: { reference: string };
    inforce: boolean;
    item: Array<Record<string, unknown>>;
  }>;
  assert.equal(insurance[0]?.coverage.reference, `Coverage/${coverageId}`);
  assert.equal(insurance[0]?.inforce, true);
  const item = insurance[0]?.item[0] as {
    excluded: boolean;
    authorizationRequired: boolean;
    benefit: Array<{ type: { coding?: Array<{ code: string }> }; allowedMoney?: { value: number }; allowedUnsignedInt?: number }>;
  };
  assert.equal(item.excluded, false);
  assert.equal(item.authorizationRequired, false);
  assert.equal(item.benefit.find((b) => b.type.coding?.[0]?.code === 'deductible')?.allowedMoney?.value, 500);
  assert.equal(item.benefit.find((b) => b.type.coding?.[0]?.code === 'visit')?.allowedUnsignedInt, 10);

  const refused = await fhir('POST', '/CoverageEligibilityRequest/$submit', request(strangerId));
  assert.equal(refused.status, 403);
  assert.equal(refused.json.resourceType, 'OperationOutcome');

  // The hospital organization bills a visit; its system reads the adjudication as a ClaimResponse.
  const claim = await hospital.submitAndWait('claim.submit', {
    patient: patientId,
    coverage: coverageId,
    type: 'professional',
    items: [{ sequence: 1, code: '99213', serviceDate: `${year}-01-15`, quantity: 1, charge: 15_000 }],
    contentHash: toHex(new Uint8Array(32).fill(7)),
  });
  const claimId = txHash(claim.tx).slice(0, 32);
  const response = await fhir('GET', `/ClaimResponse/${claimId}`);
  assert.equal(response.status, 200, JSON.stringify(response.json));
  assert.equal(response.json.resourceType, 'ClaimResponse');
  const total = response.json.total as Array<{ category: { coding: Array<{ code: string }> }; amount: { value: number } }>;
  // 150.00 billed, 120.00 allowed, all of it to the deductible.
  assert.equal(total.find((x) => x.category.coding[0]?.code === 'eligible')?.amount.value, 120);
  assert.equal(total.find((x) => x.category.coding[0]?.code === 'deductible')?.amount.value, 120);
  assert.equal((await fhir('GET', `/ClaimResponse/${'ab'.repeat(16)}`)).status, 404);

  // Claim/$submit (Da Vinci PAS style): the Claim is written encrypted to the patient's records,
  // then judged on chain; a prior authorization request the plan's rules approve at once.
  const fhirClaim = (use: string) => ({
    resourceType: 'Claim',
    status: 'active',
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'professional' }] },
    use,
    patient: { reference: `Patient/${patientId}` },
    created: `${year}-02-01`,
    provider: { reference: `Organization/${t.orgId}` },
    priority: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/processpriority', code: 'normal' }] },
    insurance: [{ sequence: 1, focal: true, coverage: { reference: `Coverage/${coverageId}` } }],
    item: [
      {
        sequence: 1,
        productOrService: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '99213' }] },
        servicedDate: `${year}-02-01`,
        net: { value: 120, currency: 'USD' },
      },
    ],
  });
  const pas = await fhir('POST', '/Claim/$submit', fhirClaim('preauthorization'));
  assert.equal(pas.status, 200, JSON.stringify(pas.json));
  assert.equal(pas.json.use, 'preauthorization');
  assert.equal(pas.json.disposition, 'approved');
  const submitted = await fhir('POST', '/Claim/$submit', fhirClaim('claim'));
  assert.equal(submitted.status, 200, JSON.stringify(submitted.json));
  assert.equal(submitted.json.resourceType, 'ClaimResponse');
  const paid = (submitted.json.total as Array<{ category: { coding: Array<{ code: string }> }; amount: { value: number } }>).find(
    (x) => x.category.coding[0]?.code === 'deductible',
  );
  assert.equal(paid?.amount.value, 120, 'still inside the deductible');
  const claimRecords = (await patient.listRecords(patientId)).filter((r) => r.resourceType === 'Claim');
  assert.equal(claimRecords.length, 2, 'both Claims are encrypted records of the patient');
  // Another patient's claim without consent is refused by the ledger.
  const foreign = await fhir('POST', '/Claim/$submit', { ...fhirClaim('claim'), patient: { reference: `Patient/${strangerId}` } });
  assert.equal(foreign.status, 403, JSON.stringify(foreign.json));

  // Search: the patient's two claims (one submitted on chain, one by $submit), paged by one.
  type Bundle = {
    total?: number;
    link: Array<{ relation: string; url: string }>;
    entry: Array<{ fullUrl: string; resource: Record<string, unknown> & { id: string } }>;
  };
  const first = (await fhir('GET', `/ClaimResponse?patient=${patientId}&_count=1`)).json as unknown as Bundle;
  // A provider's search is its own claims list filtered by patient: no total (counting the
  // matches would read the whole list); `_offset` is a position in that list.
  assert.equal(first.total, undefined);
  assert.equal(first.entry.length, 1);
  assert.equal(first.entry[0]?.resource.id, claimId, 'oldest first');
  const next = first.link.find((l) => l.relation === 'next')?.url as string;
  assert.ok(next.includes('_offset=1'), next);
  const second = (await fhir('GET', next.slice(t.base.length))).json as unknown as Bundle;
  assert.equal(second.entry.length, 1);
  assert.notEqual(second.entry[0]?.resource.id, claimId);
  assert.ok(!second.link.some((l) => l.relation === 'next'));
  const preauths = (await fhir('GET', `/ClaimResponse?patient=${patientId}&use=preauthorization`)).json as unknown as Bundle;
  assert.deepEqual(
    preauths.entry.map((e) => [e.resource.use, e.resource.disposition]),
    [['preauthorization', 'approved']],
  );
  assert.equal((await fhir('GET', `/ClaimResponse?patient=${patientId}&status=active`)).status, 400);

  const eobs = (await fhir('GET', `/ExplanationOfBenefit?patient=${patientId}`)).json as unknown as Bundle;
  assert.equal(eobs.entry.length, 2);
  const eob = eobs.entry[0]?.resource as unknown as Record<string, unknown> & {
    meta: { profile: string[] };
    total: Array<{ category: { coding: Array<{ system: string; code: string }> }; amount: { value: number } }>;
  };
  assert.equal(eob.resourceType, 'ExplanationOfBenefit');
  assert.match(eob.meta.profile[0] as string, /carin-bb\/StructureDefinition\/C4BB-ExplanationOfBenefit-Professional-NonClinician$/);
  const eobTotal = (code: string) => eob.total.find((x) => x.category.coding[0]?.code === code)?.amount.value;
  // Billed 150.00, allowed 120.00 (30.00 not covered), all of it the member's (deductible).
  assert.equal(eobTotal('submitted'), 150);
  assert.equal(eobTotal('noncovered'), 30);
  assert.equal(eobTotal('memberliability'), 120);
  assert.equal(eobTotal('benefit'), 0);
  const read = await fhir('GET', `/ExplanationOfBenefit/${claimId}`);
  assert.equal(read.status, 200);
  assert.deepEqual(read.json, eob);

  // Consent is respected as on every FHIR route: once the patient revokes it, the provider sees none.
  await patient.revoke(consent.grantId);
  const after = (await fhir('GET', `/ExplanationOfBenefit?patient=${patientId}`)).json as unknown as Bundle;
  assert.equal(after.entry.length, 0);
  assert.equal(((await fhir('GET', `/ClaimResponse?patient=${patientId}`)).json as unknown as Bundle).entry.length, 0);
  assert.equal((await fhir('GET', `/ClaimResponse/${claimId}`)).status, 404);
  // Answered exactly as an id that names nothing, so a hidden claim's id cannot be told from a made-up one.
  const hidden = await fhir('GET', `/ExplanationOfBenefit/${claimId}`);
  const madeUp = await fhir('GET', `/ExplanationOfBenefit/${'cd'.repeat(16)}`);
  assert.equal(hidden.status, 403);
  assert.deepEqual(hidden.json, madeUp.json);
});

test('an expired consent closes eligibility and the claims at once, though no block has come since (the gatekeeper’s time)', async () => {
  const genesis = TrustedGenesis.fromDocument(t.node.chain.genesis);
  const hospital = new MedLedgerClient({ genesis, url: t.url, keys: t.orgKeys });
  const patient = new MedLedgerClient({ genesis, url: t.url, keys: generateKeyBundle() });
  const { id: patientId } = await patient.registerPatient();
  const coverage = await coverUnderNewPlan(insurerClient(), patientId, {
    name: 'Evergreen Silver',
    deductible: 0,
    copay: 0,
    memberId: 'EVG-8',
  });
  const expiresAt = Date.now() + 4_000;
  await patient.grant({ grantee: t.orgId, categories: ['billing'], access: 'read-write', purpose: 'payment', expiresAt });
  const claim = await hospital.submitAndWait('claim.submit', {
    patient: patientId,
    coverage,
    type: 'professional',
    items: [{ sequence: 1, code: '99213', serviceDate: `${year}-01-15`, quantity: 1, charge: 12_000 }],
    contentHash: toHex(new Uint8Array(32).fill(9)),
  });
  const claimId = txHash(claim.tx).slice(0, 32);
  const eligibility = () =>
    fhir('POST', '/CoverageEligibilityRequest/$submit', {
      resourceType: 'CoverageEligibilityRequest',
      status: 'active',
      purpose: ['benefits'],
      patient: { reference: `Patient/${patientId}` },
      created: new Date().toISOString(),
      item: [{ productOrService: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '99213' }] } }],
    });
  type Bundle = { entry: unknown[] };
  const search = async () => ((await fhir('GET', `/ClaimResponse?patient=${patientId}`)).json as unknown as Bundle).entry.length;
  assert.equal((await eligibility()).status, 200);
  assert.equal((await fhir('GET', `/ClaimResponse/${claimId}`)).status, 200);
  assert.equal(await search(), 1);

  // This node makes no empty blocks: the tip's time stays before expiresAt.
  await new Promise((r) => setTimeout(r, expiresAt + 200 - Date.now()));
  assert.ok(t.node.chain.tipTime < expiresAt, 'no block came after the expiry');
  assert.equal((await eligibility()).status, 403);
  assert.equal((await fhir('GET', `/ClaimResponse/${claimId}`)).status, 404);
  assert.equal(await search(), 0);
  assert.equal((await fhir('GET', `/ExplanationOfBenefit/${claimId}`)).status, 403);
});
