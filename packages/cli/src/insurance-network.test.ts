// Insurance end to end on four validators (issue 13, item 8), through the CLI, the SDK and the
// FHIR endpoint, for the cases the rules' unit tests alone covered before:
// - prior authorizations pended past their deadline in block time (72 h urgent, 7 days
//   standard) show `overdue` on every node (CLI), in the insurer's proven queue (SDK) and in
//   the provider's proven FHIR ClaimResponse search, and a decision after the deadline is
//   marked late in the insurer's public metrics. Block time moves by the test clock every validator shares
//   (MedLedgerNode's `now`), as records-skew.test.ts moves it; no rule is loosened;
// - the out-of-pocket maximum reached: the patient's share stops at the maximum and the
//   insurer pays the rest, then everything;
// - Synthea's non-duplicate: one encounter billed on an institutional and a pharmacy claim
//   (the same encounter code and date, as Synthea writes them) is adjudicated twice, while a
//   second institutional claim for it is held as a DUPLICATE.
// Every validator ends on the same app hash.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { listInsurance, MedLedgerClient, searchFhirInsurance, staffRegisterBody, TrustedGenesis } from '@medledger/client';
import { encryptKeystore, generateKeyBundle, idFromPublicKey, type KeyBundle } from '@medledger/crypto';
import { initNetwork, JWT_BEARER, loadHome, MedLedgerNode, type OrgKeyFile, readOrgKey, signClientAssertion } from '@medledger/node';
import { freePorts, TEST_PASSPHRASE, waitFor } from '@medledger/node/testing';
import { runCli } from './testing/cli.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const HOUR = 3_600_000;
const dir = mkdtempSync(join(tmpdir(), 'medledger-insurance-net-'));
const genesisFile = join(dir, 'genesis.json');
const trusted = () => TrustedGenesis.fromDocument(JSON.parse(readFileSync(genesisFile, 'utf8')));
/** The test clock: every validator's clock runs this far ahead of the wall clock. */
let ahead = 0;
const nodes: MedLedgerNode[] = [];
const urls: string[] = [];
let hospital: OrgKeyFile;
let evergreen: OrgKeyFile;
let doctorFile = '';
let adjusterFile = '';
let adjusterKeys: KeyBundle;
let doctorKeys: KeyBundle;
let patientId = '';
let planId = '';
/** The coverage from last year through next (claims date care already given), and the one of 2006 (the Synthea encounter's year). */
let coverage = '';
let coverage2006 = '';
const year = Number(new Date().toISOString().slice(0, 4));

before(async () => {
  const init = initNetwork({
    validators: 4,
    out: dir,
    chainId: 'insurance-net',
    ports: await freePorts(4),
    organizations: [
      { name: 'General Hospital', kind: 'hospital' },
      { name: 'Evergreen Health Insurance', kind: 'insurer' },
    ],
  });
  [hospital, evergreen] = init.orgKeys as [OrgKeyFile, OrgKeyFile];
  for (const [i, home] of init.homes.entries()) {
    const loaded = loadHome(home);
    loaded.config.consensus.blockIntervalMs = 50;
    // Node 0 is the hospital's: its FHIR endpoint answers eligibility for it and its staff.
    if (i === 0) Object.assign(loaded.config, { fhir: {} });
    const node = new MedLedgerNode(loaded, { now: () => Date.now() + ahead, logger: () => {} });
    urls.push(await node.start());
    nodes.push(node);
  }
  await waitFor(() => (nodes.every((n) => n.peerCounts().connected === 3) ? true : undefined), 'all links', 60_000);

  const org = (o: OrgKeyFile, i: number) =>
    new MedLedgerClient({ genesis: trusted(), url: urls[i] as string, keys: readOrgKey(o.home, { file: o.file }) });
  doctorKeys = generateKeyBundle();
  adjusterKeys = generateKeyBundle();
  for (const [o, i, keys, role] of [
    [hospital, 0, doctorKeys, 'clinician'],
    [evergreen, 1, adjusterKeys, 'insurer'],
  ] as const)
    await org(o, i).submitAndWait(
      'staff.register',
      staffRegisterBody({ publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role, name: `${role} one` }),
    );
  doctorFile = keyFile('doctor', doctorKeys);
  adjusterFile = keyFile('adjuster', adjusterKeys);
  const patient = new MedLedgerClient({ genesis: trusted(), url: urls[2] as string, keys: generateKeyBundle() });
  patientId = (await patient.registerPatient()).id;
  await patient.grant({ grantee: hospital.id, categories: ['billing'], access: 'read-write', purpose: 'payment' });

  const planFile = join(dir, 'plan.json');
  writeFileSync(
    planFile,
    JSON.stringify({
      name: 'Evergreen Bronze',
      effectiveFrom: '2006-01-01',
      deductible: 10_000,
      oopMax: 30_000,
      coinsuranceBps: 2_000,
      network: [hospital.id],
      services: [
        { code: '99213', allowed: 10_000 },
        { code: '70553', allowed: 200_000 },
        { code: '72148', allowed: 150_000, priorAuth: true, justifyingDiagnoses: ['M54.5'] },
        { code: SYNTHEA.code, allowed: 30_000 },
      ],
    }),
  );
  const published = await cli(1, 'plan', 'publish', '--org-key', join(evergreen.home, evergreen.file), '--file', planFile, '--json');
  assert.equal(published.code, 0, published.stderr);
  planId = published.json().plan;
  const cover = async (from: string, to: string, member: string) => {
    const run = await cli(
      3,
      'coverage',
      'add',
      '--key',
      adjusterFile,
      '--patient',
      patientId,
      '--plan',
      planId,
      '--member',
      member,
      '--from',
      from,
      '--to',
      to,
      '--json',
    );
    assert.equal(run.code, 0, run.stderr);
    return run.json().coverage as string;
  };
  coverage = await cover(`${year - 1}-01-01`, `${year + 1}-12-31`, 'EVG-1');
  coverage2006 = await cover('2006-01-01', '2006-12-31', 'EVG-2006');
});
after(async () => {
  for (const node of nodes) await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

function keyFile(name: string, keys: KeyBundle): string {
  const path = join(dir, `${name}.key`);
  writeFileSync(path, JSON.stringify(encryptKeystore(keys, TEST_PASSPHRASE)), { mode: 0o600 });
  return path;
}

/** The CLI against node `i` (commands are spread over the validators), pinned to the genesis. */
const cli = async (i: number, ...args: string[]) => {
  const run = await runCli([...args, '--url', urls[i % 4] as string, '--genesis', genesisFile], { timeoutMs: 120_000 });
  return { ...run, json: () => JSON.parse(run.stdout) };
};

/** Move every validator's clock forward, then commit a block so block time has moved too. */
async function advanceBlockTime(ms: number): Promise<number> {
  ahead += ms;
  const target = Date.now() + ahead;
  await new MedLedgerClient({ genesis: trusted(), url: urls[3] as string, keys: generateKeyBundle() }).registerPatient();
  await waitFor(() => (nodes.every((n) => n.chain.tipTime >= target) ? true : undefined), 'every node past the new block time', 60_000);
  return target;
}

/**
 * A SMART token for `keys` from node 0's FHIR endpoint, its client assertion signed at the
 * test clock: the validators' time, which the token endpoint judges an assertion's expiry by.
 */
async function fhirToken(keys: KeyBundle): Promise<string> {
  const tokenUrl = `${urls[0]}/fhir/R4/auth/token`;
  const assertion = await signClientAssertion({
    clientId: idFromPublicKey(keys.signing.publicKey),
    privateKey: keys.signing.privateKey,
    tokenUrl,
    now: Date.now() + ahead,
  });
  const res = await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: JWT_BEARER,
      client_assertion: assertion,
    }).toString(),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { access_token: string }).access_token;
}

const fhirClaim = (type: string, date: string, lines: Array<[string, number]>) => ({
  resourceType: 'Claim',
  status: 'active',
  use: 'claim',
  type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: type }] },
  billablePeriod: { start: date, end: date },
  item: lines.map(([code, dollars], i) => ({
    sequence: i + 1,
    productOrService: { coding: [{ code }] },
    servicedDate: date,
    net: { value: dollars, currency: 'USD' },
  })),
});

async function submitClaim(i: number, name: string, claim: object, cov = coverage) {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(claim));
  const run = await cli(i, 'claim', 'submit', '--key', doctorFile, '--patient', patientId, '--coverage', cov, '--file', file, '--json');
  assert.equal(run.code, 0, run.stderr);
  return run.json();
}

/**
 * An encounter of the Synthea fixtures (Liz Conn, 2006-08-04) that Synthea bills on an
 * institutional and a pharmacy claim, both naming only the encounter's code: read from the
 * fixture when it is there, these values otherwise.
 */
const SYNTHEA = syntheaEncounterPair();
function syntheaEncounterPair(): { code: string; date: string; institutional: number; pharmacy: number } {
  const known = { code: '185349003', date: '2006-08-04', institutional: 125, pharmacy: 255 };
  // Beside the repository (../shared), or where the development machine keeps them (as synthea-claims.test.ts looks).
  const file = [
    join(import.meta.dirname, '../../../../shared/fixtures/synthea/liz_conn.json'),
    join(import.meta.dirname, '../../../../../shared/fixtures/synthea/liz_conn.json'),
    '/work/shared/fixtures/synthea/liz_conn.json',
  ].find((f) => existsSync(f));
  if (file === undefined) return known;
  type Claim = {
    resourceType: string;
    type: { coding: Array<{ code: string }> };
    billablePeriod: { start: string };
    total: { value: number };
    item: Array<{ productOrService: { coding: Array<{ code: string }> } }>;
  };
  const claims = (JSON.parse(readFileSync(file, 'utf8')) as { entry: Array<{ resource: Claim }> }).entry
    .map((e) => e.resource)
    .filter((r) => r.resourceType === 'Claim' && r.billablePeriod.start.startsWith(known.date));
  const of = (type: string) => claims.find((c) => c.type.coding[0]?.code === type);
  const [inst, pharm] = [of('institutional'), of('pharmacy')];
  assert.ok(inst !== undefined && pharm !== undefined, 'the fixture bills the encounter on both claim types');
  assert.equal(inst.item[0]?.productOrService.coding[0]?.code, pharm.item[0]?.productOrService.coding[0]?.code, 'the same code on both');
  return {
    code: inst.item[0]?.productOrService.coding[0]?.code as string,
    date: known.date,
    institutional: inst.total.value,
    pharmacy: pharm.total.value,
  };
}

test("the out-of-pocket maximum reached: the patient's share stops at it and the insurer pays the rest", async () => {
  // The deductible (100.00) is met by a visit.
  const visit = await submitClaim(0, 'visit', fhirClaim('professional', `${year - 1}-01-05`, [['99213', 100]]));
  assert.equal(visit.adjudications.at(-1).total.patient, 10_000);
  // A 2,000.00 scan: 20 % would be 400.00, but only 200.00 is left under the 300.00 maximum.
  const scan = await submitClaim(1, 'scan', fhirClaim('professional', `${year - 1}-01-06`, [['70553', 2_000]]));
  assert.equal(scan.status, 'adjudicated');
  assert.deepEqual(scan.adjudications.at(-1).total, {
    submitted: 200_000,
    allowed: 200_000,
    deductible: 0,
    costShare: 20_000,
    benefit: 180_000,
    patient: 20_000,
  });
  // The maximum is reached: the next scan is the insurer's in full.
  const again = await submitClaim(2, 'scan-again', fhirClaim('professional', `${year - 1}-01-07`, [['70553', 2_000]]));
  assert.deepEqual(again.adjudications.at(-1).total, {
    submitted: 200_000,
    allowed: 200_000,
    deductible: 0,
    costShare: 0,
    benefit: 200_000,
    patient: 0,
  });
  const shown = await cli(3, 'claim', 'show', '--key', adjusterFile, '--id', again.id, '--json');
  assert.equal(shown.code, 0, shown.stderr);
  assert.equal(shown.json().adjudications.at(-1).total.patient, 0, 'the same on another validator, proven');
  // Eligibility says so, on /v1 and on the FHIR endpoint, each proven.
  const date = `${year}-02-01`;
  const v1 = await cli(1, 'eligibility', '--key', doctorFile, '--patient', patientId, '--service', '70553', '--date', date, '--json');
  assert.equal(v1.code, 0, v1.stderr);
  const best = v1.json().best;
  assert.deepEqual([best.oopRemaining, best.estimatedPatientShare, best.estimatedBenefit], [0, 0, 200_000]);
  const fhir = await cli(0, 'eligibility', '--fhir', '--key', doctorFile, '--patient', patientId, '--service', '70553', '--date', date);
  assert.equal(fhir.code, 0, fhir.stderr);
  assert.match(fhir.stdout, /out-of-pocket left \$0\.00/);
  assert.match(fhir.stdout, /estimated patient share \$0\.00/);
});

test("Synthea's institutional and pharmacy claims of one encounter are both adjudicated; a second institutional claim is a DUPLICATE", async () => {
  const institutional = await submitClaim(
    0,
    'synthea-institutional',
    fhirClaim('institutional', SYNTHEA.date, [[SYNTHEA.code, SYNTHEA.institutional]]),
    coverage2006,
  );
  const pharmacy = await submitClaim(
    1,
    'synthea-pharmacy',
    fhirClaim('pharmacy', SYNTHEA.date, [[SYNTHEA.code, SYNTHEA.pharmacy]]),
    coverage2006,
  );
  assert.deepEqual([institutional.status, institutional.flags], ['adjudicated', []]);
  assert.deepEqual([pharmacy.status, pharmacy.flags], ['adjudicated', []], 'another claim type is no duplicate');
  // 125.00 then 255.00 against a 100.00 deductible: the pharmacy claim pays 80 % of all of it.
  assert.equal(institutional.adjudications.at(-1).total.benefit, 2_000);
  assert.equal(pharmacy.adjudications.at(-1).total.benefit, 20_400);
  const copy = await submitClaim(
    2,
    'synthea-institutional-again',
    fhirClaim('institutional', SYNTHEA.date, [[SYNTHEA.code, SYNTHEA.institutional]]),
    coverage2006,
  );
  assert.equal(copy.status, 'review');
  assert.deepEqual(copy.flags, ['DUPLICATE']);
  const queue = await cli(3, 'claim', 'list', '--key', adjusterFile, '--insurer', evergreen.id, '--status', 'review', '--json');
  assert.equal(queue.code, 0, queue.stderr);
  assert.deepEqual(
    queue.json().claims.map((c: { id: string }) => c.id),
    [copy.id],
  );
});

// Last of the insurance cases: it moves every validator's clock days ahead of the wall clock,
// after which a SMART client assertion signed by the wall clock would be judged expired.
test('prior authorizations pended past their deadline in block time are overdue on every node; a late decision is counted late', async () => {
  const request = async (i: number, ...extra: string[]) => {
    const run = await cli(
      i,
      'preauth',
      'request',
      '--key',
      doctorFile,
      '--patient',
      patientId,
      '--coverage',
      coverage,
      '--service',
      '72148',
      '--json',
      ...extra,
    );
    assert.equal(run.code, 0, run.stderr);
    return run.json();
  };
  const urgent = await request(0, '--urgent');
  const standard = await request(1);
  assert.equal(urgent.status, 'pended', 'no justifying diagnosis: pended for staff');
  assert.equal(urgent.deadline - urgent.requestedAt.time, 72 * HOUR);
  assert.equal(standard.deadline - standard.requestedAt.time, 7 * 24 * HOUR);
  const show = async (i: number, id: string) => {
    const run = await cli(i, 'preauth', 'show', '--key', doctorFile, '--id', id, '--json');
    assert.equal(run.code, 0, run.stderr);
    return run.json();
  };
  assert.equal((await show(2, urgent.id)).status, 'pended');

  // 73 hours of block time later: the urgent request is overdue, the standard one still pended.
  await advanceBlockTime(73 * HOUR);
  for (const i of [0, 1, 2, 3]) {
    assert.equal((await show(i, urgent.id)).status, 'overdue', `node ${i}`);
  }
  assert.equal((await show(3, standard.id)).status, 'pended');
  // The insurer's queue filtered by status, proven complete against the validators' headers.
  const queue = (status: string, i: number) =>
    listInsurance(new MedLedgerClient({ genesis: trusted(), url: urls[i] as string, keys: adjusterKeys }), {
      by: 'insurers',
      id: evergreen.id,
      of: 'preauths',
      status,
    });
  assert.deepEqual(
    (await queue('overdue', 1)).items.map((p) => p.id),
    [urgent.id],
  );

  // Decided after the deadline: taken (the provider needs an answer) but marked late, publicly.
  const decided = await cli(
    2,
    'preauth',
    'decide',
    '--key',
    adjusterFile,
    '--id',
    urgent.id,
    '--approve',
    '--reason',
    'MEDICAL_NECESSITY',
    '--json',
  );
  assert.equal(decided.code, 0, decided.stderr);
  assert.equal(decided.json().status, 'approved');
  assert.equal(decided.json().decision.late, true);

  // Past 7 days: the standard request is overdue too, and is the only one in the overdue queue.
  await advanceBlockTime(7 * 24 * HOUR - 72 * HOUR);
  assert.equal((await show(0, standard.id)).status, 'overdue');
  assert.deepEqual(
    (await queue('overdue', 3)).items.map((p) => p.id),
    [standard.id],
  );
  // The provider sees the same on FHIR: the Da Vinci PAS responses of its prior authorizations, proven.
  const responses = await searchFhirInsurance(new MedLedgerClient({ genesis: trusted(), url: urls[0] as string, keys: doctorKeys }), {
    type: 'ClaimResponse',
    use: 'preauthorization',
    patient: patientId,
    token: await fhirToken(doctorKeys),
  });
  assert.deepEqual(
    responses.resources.map((r) => [r.id, r.disposition, r.outcome]),
    [
      [urgent.id, 'approved', 'complete'],
      [standard.id, 'overdue', 'queued'],
    ],
  );
  for (const url of urls) {
    const metrics = (await (await fetch(`${url}/v1/insurers/${evergreen.id}/preauth-metrics`)).json()) as Record<string, number>;
    assert.equal(metrics.pended, 2);
    assert.equal(metrics.decided, 1);
    assert.equal(metrics.decidedLate, 1);
    assert.ok(metrics.maxDecisionMs >= 73 * HOUR, `decision time ${metrics.maxDecisionMs} ms is block time`);
  }
});

test('every validator computed the same state: one app hash at the common tip', async () => {
  // One more block, so the last transactions' results are in a header every node holds.
  await new MedLedgerClient({ genesis: trusted(), url: urls[0] as string, keys: generateKeyBundle() }).registerPatient();
  const tip = Math.max(...nodes.map((n) => n.chain.height));
  await waitFor(() => (nodes.every((n) => n.chain.height >= tip) ? true : undefined), 'every node at the tip', 60_000);
  // Every block of the run, the clock jumps included: the same app hash on each node.
  for (let h = 1; h <= tip; h++) {
    const hashes = new Set(nodes.map((n) => n.chain.store.loadBlock(h)?.block.header.appHash));
    assert.equal(hashes.size, 1, `one app hash on every node at height ${h}`);
    assert.ok(!hashes.has(undefined), `every node holds block ${h}`);
  }
});
