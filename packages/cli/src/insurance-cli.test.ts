// The insurance commands end to end against a real node, as an operator runs them: a plan and
// coverage, eligibility refused without consent and answered with it, prior authorization
// pended then decided, claims with a deductible crossing, a missing preauth, a duplicate held
// for review, payment, a dispute overturned, and two insurers that cannot see each other's queues.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MedLedgerClient, staffRegisterBody, TrustedGenesis } from '@medledger/client';
import { encryptKeystore, generateKeyBundle, idFromPublicKey, type KeyBundle } from '@medledger/crypto';
import { initNetwork, loadHome, MedLedgerNode, type OrgKeyFile, readOrgKey } from '@medledger/node';
import { TEST_PASSPHRASE } from '@medledger/node/testing';
import { runCli } from './testing/cli.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-insurance-cli-'));
/** The genesis the SDK clients and CLI runs of this file trust: the test network's own file. */
const trusted = () => TrustedGenesis.fromDocument(JSON.parse(readFileSync(join(dir, 'genesis.json'), 'utf8')));
let home = '';
let orgs: OrgKeyFile[] = [];
let node: MedLedgerNode;
let url = '';

before(async () => {
  const init = initNetwork({
    validators: 1,
    out: dir,
    chainId: 'insurance-cli',
    organizations: [
      { name: 'General Hospital', kind: 'hospital' },
      { name: 'Evergreen Health Insurance', kind: 'insurer' },
      { name: 'Blue Lake Insurance', kind: 'insurer' },
    ],
  });
  home = init.homes[0] as string;
  orgs = init.orgKeys;
  const loaded = loadHome(home);
  loaded.config.api.port = 0;
  loaded.config.p2p.port = 0;
  loaded.config.consensus.blockIntervalMs = 20;
  node = new MedLedgerNode(loaded, { logger: () => {} });
  url = await node.start();
});
after(async () => {
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

function keyFile(name: string, keys: KeyBundle): string {
  const path = join(dir, `${name}.key`);
  writeFileSync(path, JSON.stringify(encryptKeystore(keys, TEST_PASSPHRASE)), { mode: 0o600 });
  return path;
}

async function staff(org: OrgKeyFile, role: 'clinician' | 'insurer', name: string) {
  const keys = generateKeyBundle();
  await new MedLedgerClient({ genesis: trusted(), url, keys: readOrgKey(home, { file: org.file }) }).submitAndWait(
    'staff.register',
    staffRegisterBody({ publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role, name }),
  );
  return { id: idFromPublicKey(keys.signing.publicKey), file: keyFile(name.replace(/\W/g, ''), keys) };
}

const cli = async (...args: string[]) => {
  const run = await runCli([...args, '--url', url, '--genesis', join(dir, 'genesis.json')]);
  return { ...run, json: () => JSON.parse(run.stdout) };
};

const fhirClaim = (type: string, date: string, lines: Array<[string, string]>) => ({
  resourceType: 'Claim',
  status: 'active',
  use: 'claim',
  type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: type }] },
  billablePeriod: { start: date, end: date },
  diagnosis: [{ sequence: 1, diagnosisCodeableConcept: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'M54.5' }] } }],
  item: lines.map(([code, dollars], i) => ({
    sequence: i + 1,
    productOrService: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code }] },
    servicedDate: date,
    net: { value: Number(dollars), currency: 'USD' },
  })),
});

test('insurance through the CLI: plan, coverage, eligibility, prior authorization, claims, review, payment, dispute, isolation', async () => {
  const [hospital, evergreen, blueLake] = orgs as [OrgKeyFile, OrgKeyFile, OrgKeyFile];
  const doctor = await staff(hospital, 'clinician', 'Dr Claims');
  const adjuster = await staff(evergreen, 'insurer', 'Evergreen Adjuster');
  const rival = await staff(blueLake, 'insurer', 'Blue Lake Adjuster');
  const patientKeys = generateKeyBundle();
  const patient = new MedLedgerClient({ genesis: trusted(), url, keys: patientKeys });
  const { id: patientId } = await patient.registerPatient();
  const patientFile = keyFile('patient', patientKeys);
  const today = new Date().toISOString().slice(0, 10);
  const year = today.slice(0, 4);

  const planFile = join(dir, 'plan.json');
  writeFileSync(
    planFile,
    JSON.stringify({
      name: 'Evergreen Silver',
      effectiveFrom: `${year}-01-01`,
      deductible: 50_000,
      oopMax: 300_000,
      coinsuranceBps: 2000,
      network: [hospital.id],
      services: [
        { code: '99213', allowed: 10_000, maxPerPeriod: 20 },
        { code: '72148', allowed: 150_000, priorAuth: true, justifyingDiagnoses: ['M54.5'] },
      ],
    }),
  );
  const published = await cli('plan', 'publish', '--org-key', join(home, evergreen.file), '--file', planFile, '--json');
  assert.equal(published.code, 0, published.stderr);
  const planId = published.json().plan as string;
  const notInsurer = await cli('plan', 'publish', '--org-key', join(home, hospital.file), '--file', planFile);
  assert.equal(notInsurer.code, 5, notInsurer.stderr);

  const added = await cli(
    'coverage',
    'add',
    '--key',
    adjuster.file,
    '--patient',
    patientId,
    '--plan',
    planId,
    '--member',
    'EVG-1001',
    '--from',
    `${year}-01-01`,
    '--to',
    `${year}-12-31`,
    '--json',
  );
  assert.equal(added.code, 0, added.stderr);
  const coverage = added.json().coverage as string;

  // Without the patient's consent the provider learns nothing.
  const refused = await cli('eligibility', '--key', doctor.file, '--patient', patientId, '--service', '99213', '--json');
  assert.equal(refused.code, 5, refused.stderr);
  assert.equal(refused.json().error.code, 'NO_CONSENT');

  await patient.grant({ grantee: hospital.id, categories: ['billing'], access: 'read-write', purpose: 'payment' });
  // The insurer reads the Claim records and writes the ExplanationOfBenefit into the patient's billing records.
  await patient.grant({ grantee: evergreen.id, categories: ['billing'], access: 'read-write', purpose: 'payment' });

  const eligible = await cli('eligibility', '--key', doctor.file, '--patient', patientId, '--service', '72148', '--json');
  assert.equal(eligible.code, 0, eligible.stderr);
  const answer = eligible.json();
  assert.equal(answer.eligible, true);
  assert.equal(answer.best.priorAuthRequired, true);
  assert.equal(answer.best.deductibleRemaining, 50_000);
  // 500.00 deductible, then 20 % of the remaining 1000.00.
  assert.equal(answer.best.estimatedPatientShare, 70_000);

  // Pended without a justifying diagnosis; the rival insurer cannot decide it; the right one approves.
  const pended = await cli(
    'preauth',
    'request',
    '--key',
    doctor.file,
    '--patient',
    patientId,
    '--coverage',
    coverage,
    '--service',
    '72148',
    '--urgent',
    '--json',
  );
  assert.equal(pended.code, 0, pended.stderr);
  const pa = pended.json();
  assert.equal(pa.status, 'pended');
  assert.ok(pa.deadline - pa.requestedAt.time === 72 * 3_600_000, 'urgent: 72 hours of block time');
  const rivalDecides = await cli('preauth', 'decide', '--key', rival.file, '--id', pa.id, '--approve', '--reason', 'MEDICAL_NECESSITY');
  assert.equal(rivalDecides.code, 5, rivalDecides.stderr);
  const denyWithoutText = await cli('preauth', 'decide', '--key', adjuster.file, '--id', pa.id, '--deny', '--reason', 'NOT_NECESSARY');
  assert.equal(denyWithoutText.code, 2, denyWithoutText.stderr);
  const decided = await cli(
    'preauth',
    'decide',
    '--key',
    adjuster.file,
    '--id',
    pa.id,
    '--approve',
    '--reason',
    'MEDICAL_NECESSITY',
    '--json',
  );
  assert.equal(decided.code, 0, decided.stderr);
  assert.equal(decided.json().status, 'approved');
  assert.equal(decided.json().decision.authNumber, pa.id);

  // A claim for the MRI without the preauth: that line is denied with the reason.
  const mriFile = join(dir, 'mri-claim.json');
  writeFileSync(
    mriFile,
    JSON.stringify(
      fhirClaim('professional', today, [
        ['99213', '100.00'],
        ['72148', '1500'],
      ]),
    ),
  );
  const submit = (file: string, ...extra: string[]) =>
    cli('claim', 'submit', '--key', doctor.file, '--patient', patientId, '--coverage', coverage, '--file', file, '--json', ...extra);
  const withoutAuth = await submit(mriFile);
  assert.equal(withoutAuth.code, 0, withoutAuth.stderr);
  const denied = withoutAuth.json();
  assert.equal(denied.adjudications[0].lines[1].denial, 'PREAUTH_REQUIRED');

  // The same services with the preauth: the deductible is crossed inside the claim. The office
  // visit was already billed on this date by the first claim: a duplicate, held for review.
  const withAuth = await submit(mriFile, '--preauth', pa.id);
  assert.equal(withAuth.code, 0, withAuth.stderr);
  const held = withAuth.json();
  assert.equal(held.status, 'review');
  assert.deepEqual(held.flags, ['DUPLICATE']);
  const released = await cli('claim', 'review', '--key', adjuster.file, '--id', held.id, '--approve', '--reason', 'VERIFIED', '--json');
  assert.equal(released.code, 0, released.stderr);
  const paidClaim = released.json();
  assert.equal(paidClaim.status, 'adjudicated');
  assert.deepEqual(paidClaim.adjudications.at(-1).total, {
    submitted: 160_000,
    allowed: 160_000,
    // The first claim's visit took 100.00 of the deductible; 400.00 is left for this one.
    deductible: 40_000,
    costShare: 24_000,
    benefit: 96_000,
    patient: 64_000,
  });
  const firstLine = paidClaim.claimResponse.item[0].adjudication.find(
    (a: { category: { coding: Array<{ code: string }> } }) => a.category.coding[0]?.code === 'benefit',
  );
  assert.equal(firstLine.amount.value, 0, 'the first 100.00 went to the deductible');

  // An institutional claim for the same visit is no duplicate of the professional one.
  const facilityFile = join(dir, 'facility-claim.json');
  writeFileSync(facilityFile, JSON.stringify(fhirClaim('institutional', today, [['99213', '100.00']])));
  const facility = await submit(facilityFile);
  assert.equal(facility.code, 0, facility.stderr);
  assert.equal(facility.json().status, 'adjudicated');

  // Queues: each insurer sees only its own.
  const queue = await cli('claim', 'list', '--key', adjuster.file, '--insurer', evergreen.id, '--limit', '2', '--json');
  assert.equal(queue.code, 0, queue.stderr);
  assert.equal(queue.json().claims.length, 2);
  assert.equal(typeof queue.json().next, 'string', 'three claims, pages of two');
  const rest = await cli(
    'claim',
    'list',
    '--key',
    adjuster.file,
    '--insurer',
    evergreen.id,
    '--limit',
    '2',
    '--cursor',
    queue.json().next,
    '--json',
  );
  assert.equal(rest.json().claims.length, 1);
  assert.equal(rest.json().next, null);
  const spying = await cli('claim', 'list', '--key', rival.file, '--insurer', evergreen.id, '--json');
  assert.equal(spying.code, 5, spying.stderr);
  const rivalShow = await cli('claim', 'show', '--key', rival.file, '--id', held.id);
  assert.equal(rivalShow.code, 5, rivalShow.stderr);
  const mine = await cli('claim', 'list', '--key', patientFile, '--patient', patientId, '--json');
  assert.equal(mine.json().claims.length, 3);

  // Payment of exactly what is owed.
  const paid = await cli('claim', 'pay', '--key', adjuster.file, '--id', held.id, '--date', today, '--json');
  assert.equal(paid.code, 0, paid.stderr);
  assert.equal(paid.json().status, 'paid');
  assert.equal(paid.json().outstanding, 0);
  const eobId = paid.json().eob.recordId as string;
  assert.match(eobId, /^[0-9a-f]{32}$/, JSON.stringify(paid.json().eob));
  // The patient reads the EOB in their records: billed, paid by the insurer, owed.
  const eob = (await patient.readRecord(eobId)).resource as {
    resourceType: string;
    payment: { amount: { value: number } };
    total: unknown[];
  };
  assert.equal(eob.resourceType, 'ExplanationOfBenefit');
  assert.equal(eob.payment.amount.value, 960);

  // The patient disputes the denied MRI line; the insurer overturns: re-adjudicated, history kept.
  const disputed = await cli(
    'claim',
    'dispute',
    '--key',
    patientFile,
    '--id',
    denied.id,
    '--reason',
    'the scan was authorized the same day',
    '--json',
  );
  assert.equal(disputed.code, 0, disputed.stderr);
  assert.equal(disputed.json().disputeOpen, true);
  const resolved = await cli(
    'claim',
    'resolve',
    '--key',
    adjuster.file,
    '--id',
    denied.id,
    '--overturn',
    '--reason',
    'authorized',
    '--json',
  );
  assert.equal(resolved.code, 0, resolved.stderr);
  const overturned = resolved.json();
  assert.equal(overturned.adjudications.length, 2);
  assert.equal(overturned.adjudications[1].cause, 'dispute-overturned');
  assert.equal(overturned.adjudications[1].lines[1].denial, null);
  const shown = await cli('claim', 'show', '--key', doctor.file, '--id', denied.id);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /1 earlier adjudication\(s\) superseded/);
});
