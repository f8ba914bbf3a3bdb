// FHIR insurance searches proven complete (docs/fhir.md "Insurance searches are proven
// complete"), on a real node over HTTP: a lying proxy between the SDK and the node's FHIR
// endpoint drops an ExplanationOfBenefit from a search, adds a forged one, alters one, cuts a
// page short or names another list, and the SDK (searchFhirInsurance), pinned to the genesis
// only, refuses each with FACT_NOT_PROVEN; honest pages, filtered by patient or by consent,
// pass and page on to the end. The endpoint serves its node's organization (a hospital here)
// and that organization's staff.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ClientError,
  type FhirInsuranceQuery,
  getClaim,
  MedLedgerClient,
  searchFhirInsurance,
  staffRegisterBody,
  TrustedGenesis,
} from '@medledger/client';
import { type Answer, editJson, type LyingProxy, pathOf, type SentRequest, startLyingProxy } from '@medledger/client/testing/lying-proxy';
import { generateKeyBundle, type KeyBundle, toHex } from '@medledger/crypto';
import { txHash } from '@medledger/ledger';
import { readOrgKey } from '../home.js';
import { type FhirTestNode, startFhirNode, tokenFor } from './testing.js';

let t: FhirTestNode;
let proxy: LyingProxy;
let genesis: TrustedGenesis;
let patientKeys: KeyBundle;
let clinicianKeys: KeyBundle;
let patientId = '';
let otherId = '';
let grantId = '';
const claimIds: string[] = [];
let preauthId = '';
const tokens = new Map<KeyBundle, string>();

const direct = (keys: KeyBundle) => new MedLedgerClient({ genesis, url: t.url, keys, pollIntervalMs: 20 });
const viaProxy = (keys: KeyBundle) => new MedLedgerClient({ genesis, url: proxy.url, keys, pollIntervalMs: 20 });
const search = (keys: KeyBundle, q: FhirInsuranceQuery) => searchFhirInsurance(viaProxy(keys), { ...q, token: tokens.get(keys) as string });

before(async () => {
  t = await startFhirNode({
    organizations: [
      { name: 'General Hospital', kind: 'hospital' },
      { name: 'Evergreen Health Insurance', kind: 'insurer' },
    ],
  });
  genesis = TrustedGenesis.fromDocument(t.node.chain.genesis);
  proxy = await startLyingProxy(t.url);
  const insurerKeys = readOrgKey(join(t.dir, 'node0'), { file: 'org-evergreen-health-insurance.key' });
  patientKeys = generateKeyBundle();
  const otherKeys = generateKeyBundle();
  const hospital = direct(t.orgKeys);
  const insurer = direct(insurerKeys);
  const patient = direct(patientKeys);
  const other = direct(otherKeys);
  patientId = (await patient.registerPatient()).id;
  otherId = (await other.registerPatient()).id;
  grantId = (await patient.grant({ grantee: t.orgId, categories: ['billing'], purpose: 'payment' })).grantId;
  await other.grant({ grantee: t.orgId, categories: ['billing'], purpose: 'payment' });
  // Claims date last year's care (care already given, whatever day the suite runs); coverage runs
  // from last year to the end of this one, so it is in force today too.
  const year = String(new Date().getUTCFullYear() - 1);
  const plan = await insurer.submitAndWait('plan.publish', {
    name: 'Evergreen Silver',
    effectiveFrom: `${year}-01-01`,
    deductible: 10_000,
    oopMax: 300_000,
    coinsuranceBps: 2_000,
    network: [t.orgId],
    services: [
      { code: '99213', allowed: 12_000 },
      { code: '72148', allowed: 150_000, priorAuth: true, justifyingDiagnoses: ['M54.5'] },
    ],
  });
  const planId = txHash(plan.tx).slice(0, 32);
  const cover = async (who: string, member: string) =>
    txHash(
      (
        await insurer.submitAndWait('coverage.add', {
          patient: who,
          plan: planId,
          memberId: member,
          from: `${year}-01-01`,
          to: `${Number(year) + 1}-12-31`,
        })
      ).tx,
    ).slice(0, 32);
  const coverages = { [patientId]: await cover(patientId, 'EVG-1'), [otherId]: await cover(otherId, 'EVG-2') };
  // Three claims of the patient with one of another patient in between, in the same lists.
  for (const [who, day] of [
    [patientId, '10'],
    [patientId, '11'],
    [otherId, '12'],
    [patientId, '13'],
  ] as const) {
    const claim = await hospital.submitAndWait('claim.submit', {
      patient: who,
      coverage: coverages[who] as string,
      type: 'professional',
      items: [{ sequence: 1, code: '99213', serviceDate: `${year}-01-${day}`, quantity: 1, charge: 15_000 }],
      contentHash: toHex(new Uint8Array(32).fill(Number(day))),
    });
    if (who === patientId) claimIds.push(txHash(claim.tx).slice(0, 32));
  }
  // A line that needs prior authorization and has none is denied; the first claim is paid:
  // their EOBs carry a denial reason and a payment, both checked byte for byte.
  const denied = await hospital.submitAndWait('claim.submit', {
    patient: patientId,
    coverage: coverages[patientId] as string,
    type: 'professional',
    items: [{ sequence: 1, code: '72148', serviceDate: `${year}-01-14`, quantity: 1, charge: 150_000 }],
    contentHash: toHex(new Uint8Array(32).fill(14)),
  });
  claimIds.push(txHash(denied.tx).slice(0, 32));
  const owed = (await getClaim(insurer, claimIds[0] as string)).outstanding as number;
  await insurer.submitAndWait('claim.pay', { claim: claimIds[0], amount: owed, date: `${year}-02-01` });
  clinicianKeys = generateKeyBundle();
  await hospital.submitAndWait(
    'staff.register',
    staffRegisterBody({
      publicKey: clinicianKeys.signing.publicKey,
      encryptionKey: clinicianKeys.encryption.publicKey,
      role: 'clinician',
      name: 'Dr Search',
    }),
  );
  const pa = await hospital.submitAndWait('preauth.request', {
    patient: patientId,
    coverage: coverages[patientId],
    items: [{ code: '72148' }],
  });
  preauthId = txHash(pa.tx).slice(0, 32);
  for (const keys of [clinicianKeys, t.orgKeys]) tokens.set(keys, await tokenFor(t.base, keys));
});
after(async () => {
  await proxy?.close();
  await t?.cleanup();
});

/** Rewrite the JSON of FHIR search answers whose path starts with `/fhir/R4/<type>?`. */
// biome-ignore lint/suspicious/noExplicitAny: a lie may rewrite any part of a Bundle
const onSearch = (type: string, change: (bundle: any) => unknown) => (r: SentRequest, a: Answer) =>
  r.method === 'GET' && pathOf(r).startsWith(`/fhir/R4/${type}`) && r.path.includes('?') && a.status === 200
    ? editJson(a, change)
    : undefined;

// biome-ignore lint/suspicious/noExplicitAny: the lies edit FHIR JSON
const spanPart = (bundle: any, name: string) => bundle.meta.extension[0].extension.find((e: any) => e.url === name);

async function underLie<T>(lie: Parameters<LyingProxy['lie']>[0], act: () => Promise<T>): Promise<string> {
  proxy.lie(lie);
  try {
    await act();
    return 'no refusal';
  } catch (err) {
    assert.ok(err instanceof ClientError, String(err));
    return err.code;
  } finally {
    proxy.lie(undefined);
  }
}

describe('FHIR insurance searches are proven complete', () => {
  test('honest: the provider organization and its clinician get every claim, proven, and page to the end', async () => {
    const all = await search(t.orgKeys, { type: 'ExplanationOfBenefit' });
    assert.equal(all.listCount, 5, "the hospital's list holds all five claims");
    assert.equal(all.resources.length, 5);
    assert.equal(all.nextOffset, null);
    // biome-ignore lint/suspicious/noExplicitAny: FHIR JSON
    const eob = (id: string) => all.resources.find((r) => r.id === id) as any;
    assert.equal(eob(claimIds[0] as string).payment.amount.currency, 'USD', 'the paid claim shows its payment');
    assert.equal(eob(claimIds[3] as string).item[0].adjudication.at(-1).reason.coding[0].code, 'PREAUTH_REQUIRED');
    const mine = await search(clinicianKeys, { type: 'ExplanationOfBenefit', patient: patientId });
    assert.deepEqual(
      mine.resources.map((r) => r.id),
      claimIds,
    );
    // The provider's list filtered by patient: the other patient's claim is proven not theirs.
    const first = await search(t.orgKeys, { type: 'ClaimResponse', patient: patientId, count: 2 });
    assert.deepEqual(
      first.resources.map((r) => r.id),
      claimIds.slice(0, 2),
    );
    assert.equal(first.nextOffset, 2);
    const second = await search(t.orgKeys, { type: 'ClaimResponse', patient: patientId, count: 2, offset: 2 });
    assert.deepEqual(
      second.resources.map((r) => r.id),
      claimIds.slice(2, 3),
      'position 2 (the other patient) is left out, position 3 shown',
    );
    assert.equal(second.nextOffset, 4);
    const last = await search(t.orgKeys, { type: 'ClaimResponse', patient: patientId, count: 2, offset: 4 });
    assert.deepEqual(
      last.resources.map((r) => r.id),
      claimIds.slice(3),
    );
    assert.equal(last.nextOffset, null);
    const preauths = await search(t.orgKeys, { type: 'ClaimResponse', use: 'preauthorization' });
    assert.deepEqual(
      preauths.resources.map((r) => [r.id, r.disposition]),
      [[preauthId, 'pended']],
    );
  });

  test('an ExplanationOfBenefit dropped from a search is caught (FACT_NOT_PROVEN)', async () => {
    const drop = onSearch('ExplanationOfBenefit', (b) => {
      b.entry.splice(1, 1);
      if (b.total !== undefined) b.total -= 1;
    });
    assert.equal(await underLie(drop, () => search(t.orgKeys, { type: 'ExplanationOfBenefit' })), 'FACT_NOT_PROVEN');
    assert.equal(await underLie(drop, () => search(clinicianKeys, { type: 'ExplanationOfBenefit' })), 'FACT_NOT_PROVEN');
    assert.equal(
      await underLie(drop, () => search(t.orgKeys, { type: 'ExplanationOfBenefit', patient: patientId })),
      'FACT_NOT_PROVEN',
      "a provider's filtered search",
    );
  });

  test('a forged ExplanationOfBenefit added to a search, or one shown twice, is caught (FACT_NOT_PROVEN)', async () => {
    const forged = onSearch('ExplanationOfBenefit', (b) => {
      const copy = structuredClone(b.entry[0]);
      copy.resource.id = 'ab'.repeat(16);
      copy.resource.identifier[0].value = copy.resource.id;
      b.entry.push(copy);
    });
    assert.equal(await underLie(forged, () => search(t.orgKeys, { type: 'ExplanationOfBenefit' })), 'FACT_NOT_PROVEN');
    const twice = onSearch('ExplanationOfBenefit', (b) => {
      b.entry.push(structuredClone(b.entry[0]));
    });
    assert.equal(await underLie(twice, () => search(clinicianKeys, { type: 'ExplanationOfBenefit' })), 'FACT_NOT_PROVEN');
    // Another patient's claim slipped into a patient-filtered search: a true claim, not a match.
    const foreign = onSearch('ExplanationOfBenefit', (b) => {
      b.entry = [];
    });
    assert.equal(
      await underLie(foreign, () => search(t.orgKeys, { type: 'ExplanationOfBenefit', patient: otherId })),
      'FACT_NOT_PROVEN',
      "the other patient's claim left out of their own filtered search",
    );
  });

  test('an altered amount, patient or decision, in an EOB or a ClaimResponse, is caught (FACT_NOT_PROVEN)', async () => {
    const richer = (type: string) =>
      onSearch(type, (b) => {
        // biome-ignore lint/suspicious/noExplicitAny: FHIR JSON
        const benefit = b.entry[0].resource.total.find((x: any) => x.category.coding[0].code === 'benefit');
        benefit.amount.value += 100;
      });
    assert.equal(
      await underLie(richer('ExplanationOfBenefit'), () => search(t.orgKeys, { type: 'ExplanationOfBenefit' })),
      'FACT_NOT_PROVEN',
    );
    assert.equal(await underLie(richer('ClaimResponse'), () => search(t.orgKeys, { type: 'ClaimResponse' })), 'FACT_NOT_PROVEN');
    const otherPatient = onSearch('ClaimResponse', (b) => {
      b.entry[0].resource.patient.reference = `Patient/${otherId}`;
    });
    assert.equal(
      await underLie(otherPatient, () => search(t.orgKeys, { type: 'ClaimResponse' })),
      'FACT_NOT_PROVEN',
      'a response moved to another patient',
    );
    const approved = onSearch('ClaimResponse', (b) => {
      b.entry[0].resource.disposition = 'approved';
    });
    assert.equal(await underLie(approved, () => search(t.orgKeys, { type: 'ClaimResponse', use: 'preauthorization' })), 'FACT_NOT_PROVEN');
  });

  test('a page cut short loses nothing, and a page naming no list, another list or an empty end is refused', async () => {
    // The node stops after the first entry (as if it saw a shorter list): the SDK pages on from there.
    const short = onSearch('ExplanationOfBenefit', (b) => {
      b.entry = b.entry.slice(0, 1);
      spanPart(b, 'to').valueInteger = 1;
      spanPart(b, 'count').valueInteger = 1;
      b.link = b.link.filter((l: { relation: string }) => l.relation !== 'next');
    });
    proxy.lie(short);
    try {
      const page = await search(t.orgKeys, { type: 'ExplanationOfBenefit', patient: patientId });
      assert.deepEqual(
        page.resources.map((r) => r.id),
        claimIds.slice(0, 1),
      );
      assert.equal(page.nextOffset, 1, 'the rest comes on the next page, none is dropped');
    } finally {
      proxy.lie(undefined);
    }
    const empty = onSearch('ExplanationOfBenefit', (b) => {
      b.entry = [];
      spanPart(b, 'to').valueInteger = 0;
    });
    assert.equal(await underLie(empty, () => search(t.orgKeys, { type: 'ExplanationOfBenefit', patient: patientId })), 'FACT_NOT_PROVEN');
    const unnamed = onSearch('ExplanationOfBenefit', (b) => {
      delete b.meta;
    });
    assert.equal(await underLie(unnamed, () => search(t.orgKeys, { type: 'ExplanationOfBenefit', patient: patientId })), 'FACT_NOT_PROVEN');
    // Another list than the one the caller searches (the patient's, whose count differs).
    const otherList = onSearch('ExplanationOfBenefit', (b) => {
      spanPart(b, 'list').valueCode = 'pclaim';
      spanPart(b, 'party').valueString = patientId;
    });
    assert.equal(
      await underLie(otherList, () => search(t.orgKeys, { type: 'ExplanationOfBenefit', patient: patientId })),
      'FACT_NOT_PROVEN',
    );
  });

  test("once the patient revokes consent, the provider's search leaves their claims out, and the SDK proves why", async () => {
    await direct(patientKeys).revoke(grantId);
    const page = await search(t.orgKeys, { type: 'ExplanationOfBenefit' });
    assert.equal(page.listCount, 5);
    assert.deepEqual(
      page.resources.map((r) => r.patient),
      [{ reference: `Patient/${otherId}` }],
      "only the consenting patient's claim is shown; the other four are proven unconsented",
    );
    // A node that hides the consenting patient's claim too is still caught.
    const hideAll = onSearch('ExplanationOfBenefit', (b) => {
      b.entry = [];
    });
    assert.equal(await underLie(hideAll, () => search(t.orgKeys, { type: 'ExplanationOfBenefit' })), 'FACT_NOT_PROVEN');
  });
});
