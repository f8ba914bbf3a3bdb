// A lying node on insurance answers (issue 13 under issue 11's rule): a proxy between the
// client and an honest node rewrites an adjudicated amount, a prior-authorization decision or
// an eligibility estimate (on /v1 and, for the CLI, on the FHIR endpoint). The SDK and the CLI, given only the genesis, refuse each with
// FACT_NOT_PROVEN, and show the same answers when the proxy is honest.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  addCoverage,
  ClientError,
  checkEligibility,
  decidePreauth,
  getClaim,
  getPreauth,
  listInsurance,
  MedLedgerClient,
  publishPlan,
  requestPreauth,
  staffRegisterBody,
  submitClaim,
  TrustedGenesis,
} from '@medledger/client';
import { type Answer, editJson, type LyingProxy, pathOf, type SentRequest, startLyingProxy } from '@medledger/client/testing/lying-proxy';
import { encryptKeystore, generateKeyBundle, idFromPublicKey, type KeyBundle } from '@medledger/crypto';
import { initNetwork, loadHome, MedLedgerNode, type OrgKeyFile, readOrgKey } from '@medledger/node';
import { TEST_PASSPHRASE } from '@medledger/node/testing';
import { runCli } from './testing/cli.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-lying-insurance-'));
const genesisFile = join(dir, 'genesis.json');
let trusted: TrustedGenesis;
let home = '';
let node: MedLedgerNode;
let url = '';
let proxy: LyingProxy;
let hospital: OrgKeyFile;
let evergreen: OrgKeyFile;
let doctorKeys: KeyBundle;
let adjusterKeys: KeyBundle;
let doctorFile = '';
let adjusterFile = '';
let patientId = '';
let claimId = '';
let preauthId = '';

const direct = (keys: KeyBundle) => new MedLedgerClient({ url, keys, genesis: trusted, pollIntervalMs: 20 });
const viaProxy = (keys: KeyBundle) => new MedLedgerClient({ url: proxy.url, keys, genesis: trusted, pollIntervalMs: 20 });

function keyFile(name: string, keys: KeyBundle): string {
  const path = join(dir, `${name}.key`);
  writeFileSync(path, JSON.stringify(encryptKeystore(keys, TEST_PASSPHRASE)), { mode: 0o600 });
  return path;
}

before(async () => {
  const init = initNetwork({
    validators: 1,
    out: dir,
    chainId: 'lying-insurance',
    organizations: [
      { name: 'General Hospital', kind: 'hospital' },
      { name: 'Evergreen Health Insurance', kind: 'insurer' },
    ],
  });
  home = init.homes[0] as string;
  [hospital, evergreen] = init.orgKeys as [OrgKeyFile, OrgKeyFile];
  trusted = TrustedGenesis.fromDocument(JSON.parse(readFileSync(genesisFile, 'utf8')));
  const loaded = loadHome(home);
  loaded.config.api.port = 0;
  loaded.config.p2p.port = 0;
  loaded.config.consensus.blockIntervalMs = 20;
  // The FHIR endpoint, for the hospital (this home's organization) and its staff: eligibility on it is proven too.
  Object.assign(loaded.config, { fhir: {} });
  node = new MedLedgerNode(loaded, { logger: () => {} });
  url = await node.start();
  proxy = await startLyingProxy(url);
  const org = (o: OrgKeyFile) => new MedLedgerClient({ genesis: trusted, url, keys: readOrgKey(home, { file: o.file }) });
  doctorKeys = generateKeyBundle();
  adjusterKeys = generateKeyBundle();
  for (const [o, keys, role] of [
    [hospital, doctorKeys, 'clinician'],
    [evergreen, adjusterKeys, 'insurer'],
  ] as const)
    await org(o).submitAndWait(
      'staff.register',
      staffRegisterBody({ publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role, name: `${role} one` }),
    );
  doctorFile = keyFile('doctor', doctorKeys);
  adjusterFile = keyFile('adjuster', adjusterKeys);

  const patient = new MedLedgerClient({ genesis: trusted, url, keys: generateKeyBundle() });
  patientId = (await patient.registerPatient()).id;
  await patient.grant({ grantee: hospital.id, categories: ['billing'], access: 'read-write', purpose: 'payment' });
  const year = new Date().toISOString().slice(0, 4);
  const plan = await publishPlan(org(evergreen), {
    name: 'Evergreen Silver',
    effectiveFrom: `${year}-01-01`,
    deductible: 50_000,
    oopMax: 300_000,
    coinsuranceBps: 2000,
    network: [hospital.id],
    services: [
      { code: '99213', allowed: 10_000 },
      { code: '72148', allowed: 150_000, priorAuth: true, justifyingDiagnoses: ['M54.5'] },
    ],
  });
  const coverage = await addCoverage(direct(adjusterKeys), {
    patient: patientId,
    plan: plan.id,
    memberId: 'EVG-1',
    from: `${year}-01-01`,
    to: `${year}-12-31`,
  });
  const pa = await requestPreauth(direct(doctorKeys), { patient: patientId, coverage: coverage.id, items: [{ code: '72148' }] });
  preauthId = pa.id;
  await decidePreauth(direct(adjusterKeys), {
    preauth: preauthId,
    approve: false,
    reasonCode: 'NOT_NECESSARY',
    text: 'conservative care first',
  });
  const today = new Date().toISOString().slice(0, 10);
  const claim = await submitClaim(direct(doctorKeys), {
    patient: patientId,
    coverage: coverage.id,
    claim: {
      resourceType: 'Claim',
      status: 'active',
      use: 'claim',
      type: { coding: [{ code: 'professional' }] },
      billablePeriod: { start: today },
      item: [{ sequence: 1, productOrService: { coding: [{ code: '99213' }] }, servicedDate: today, net: { value: 100 } }],
    },
  });
  claimId = claim.id;
});
after(async () => {
  await proxy?.close();
  await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Rewrite the JSON of answers to GETs whose path passes `on`. */
// biome-ignore lint/suspicious/noExplicitAny: a lie may rewrite any part of an answer
const onGet = (on: (path: string) => boolean, change: (json: any) => unknown) => (r: SentRequest, a: Answer) =>
  r.method === 'GET' && on(pathOf(r)) && a.status === 200 ? editJson(a, change) : undefined;

// biome-ignore lint/suspicious/noExplicitAny: the lies below edit FHIR and claim JSON
const benefitOf = (adjudication: any[]) => adjudication.find((a) => a.category.coding[0].code === 'benefit');

/** The insurer pays more than owed, in the stored adjudication and in the ClaimResponse alike. */
const inflatedBenefit = onGet(
  (p) => p.startsWith('/v1/claims/') || p.endsWith('/claims'),
  (j) => {
    for (const c of j.claims ?? [j]) {
      const a = c.adjudications.at(-1);
      a.total.benefit += 50_000;
      a.total.patient -= 50_000;
      a.lines[0].amounts.benefit += 50_000;
      a.lines[0].amounts.patient -= 50_000;
      c.outstanding += 50_000;
      benefitOf(c.claimResponse.total).amount.value += 500;
      benefitOf(c.claimResponse.item[0].adjudication).amount.value += 500;
    }
  },
);
/** Only the FHIR ClaimResponse says the insurer paid more. */
const inflatedClaimResponse = onGet(
  (p) => p.startsWith('/v1/claims/'),
  (j) => {
    benefitOf(j.claimResponse.item[0].adjudication).amount.value += 500;
  },
);
/** A denied prior authorization shown as approved. */
const flippedDecision = onGet(
  (p) => p.startsWith('/v1/preauths/') || p.endsWith('/preauths'),
  (j) => {
    for (const p of j.preauths ?? [j]) {
      p.decision.approved = true;
      p.decision.reasonCode = 'MEDICAL_NECESSITY';
      p.status = 'approved';
      p.claimResponse.disposition = 'approved';
    }
  },
);
/** Eligibility that promises the patient pays nothing. */
const cheaperEstimate = onGet(
  (p) => p.includes('/eligibility'),
  (j) => {
    j.best.estimatedPatientShare = 0;
    j.best.estimatedBenefit = j.best.allowed;
    j.answers[0] = j.best;
  },
);

/** Rewrite the CoverageEligibilityResponse of the FHIR endpoint (its first coverage's first item). */
// biome-ignore lint/suspicious/noExplicitAny: a lie may rewrite any part of an answer
const onFhirEligibility = (change: (item: any) => unknown) => (r: SentRequest, a: Answer) =>
  r.method === 'POST' && pathOf(r) === '/fhir/R4/CoverageEligibilityRequest/$submit' && a.status === 200
    ? editJson(a, (j) => {
        change(j.insurance[0].item[0]);
      })
    : undefined;
/** The FHIR answer promises the patient pays nothing. */
const cheaperFhirEstimate = onFhirEligibility((item) => {
  for (const b of item.benefit) if (b.type.text === 'estimated patient share') b.allowedMoney.value = 0;
});
/** The FHIR answer says a covered service is not covered. */
const fhirNotCovered = onFhirEligibility((item) => {
  item.excluded = true;
});

/** A claims page (the insurer's queue, a patient's claims) without its first claim: each shown claim is still true. */
const omittedClaim = onGet(
  (p) => p.endsWith('/claims'),
  (j) => {
    j.claims.shift();
  },
);
/** An eligibility answer that leaves out the patient's coverage (so it says "not eligible"). */
const omittedCoverage = onGet(
  (p) => p.includes('/eligibility'),
  (j) => {
    j.answers = [];
    j.best = null;
    j.eligible = false;
  },
);
/** A queue cut short: the first page says it is the last (keeping where it stopped). */
const cutShort = onGet(
  (p) => p.endsWith('/claims'),
  (j) => {
    j.next = null;
  },
);
/** The same, without saying where the page stopped. */
const cutShortSilently = onGet(
  (p) => p.endsWith('/claims'),
  (j) => {
    j.next = null;
    delete j.end;
  },
);
/** An empty last page: the node claims the list ends where the cursor is. */
const emptyEnd = onGet(
  (p) => p.endsWith('/claims'),
  (j) => {
    j.claims = [];
    j.next = null;
    j.end = '000000000000';
  },
);

async function refusal(act: () => Promise<unknown>): Promise<string> {
  try {
    await act();
  } catch (err) {
    assert.ok(err instanceof ClientError, String(err));
    return err.code;
  }
  return 'no refusal';
}

async function underLie<T>(lie: Parameters<LyingProxy['lie']>[0], act: () => Promise<T>): Promise<T> {
  proxy.lie(lie);
  try {
    return await act();
  } finally {
    proxy.lie(undefined);
  }
}

describe('the SDK refuses insurance answers a lying node alters', () => {
  test('honest control: through the proxy, the claim, the denial and eligibility are shown as committed', async () => {
    const claim = await getClaim(viaProxy(adjusterKeys), claimId);
    assert.equal(claim.adjudications.at(-1)?.total.benefit, 0, 'the first 100.00 went to the deductible');
    assert.equal((claim.provenAt as number) > 0, true);
    const pa = await getPreauth(viaProxy(doctorKeys), preauthId);
    assert.equal(pa.status, 'denied');
    const e = await checkEligibility(viaProxy(doctorKeys), { patient: patientId, service: '99213' });
    assert.equal(e.eligible, true);
    assert.equal(e.best?.estimatedPatientShare, 10_000, 'still inside the deductible');
  });

  test('an altered adjudicated amount is refused (FACT_NOT_PROVEN), in one claim and in the queue', async () => {
    assert.equal(await underLie(inflatedBenefit, () => refusal(() => getClaim(viaProxy(adjusterKeys), claimId))), 'FACT_NOT_PROVEN');
    assert.equal(await underLie(inflatedClaimResponse, () => refusal(() => getClaim(viaProxy(adjusterKeys), claimId))), 'FACT_NOT_PROVEN');
    const queue = () => listInsurance(viaProxy(adjusterKeys), { by: 'insurers', id: evergreen.id, of: 'claims' });
    assert.equal(await underLie(inflatedBenefit, () => refusal(queue)), 'FACT_NOT_PROVEN');
  });

  test('a denied prior authorization shown as approved is refused (FACT_NOT_PROVEN)', async () => {
    assert.equal(await underLie(flippedDecision, () => refusal(() => getPreauth(viaProxy(doctorKeys), preauthId))), 'FACT_NOT_PROVEN');
    const mine = () => listInsurance(viaProxy(doctorKeys), { by: 'providers', id: hospital.id, of: 'preauths' });
    assert.equal(await underLie(flippedDecision, () => refusal(mine)), 'FACT_NOT_PROVEN');
  });

  test('an eligibility estimate the proven plan and accumulator do not give is refused (FACT_NOT_PROVEN)', async () => {
    const ask = () => checkEligibility(viaProxy(doctorKeys), { patient: patientId, service: '99213' });
    assert.equal(await underLie(cheaperEstimate, () => refusal(ask)), 'FACT_NOT_PROVEN');
  });

  test('a claim left out of a proven list is caught (FACT_NOT_PROVEN), filtered or not, and a coverage left out of eligibility', async () => {
    const queue = (status?: string) => () =>
      listInsurance(viaProxy(adjusterKeys), { by: 'insurers', id: evergreen.id, of: 'claims', ...(status ? { status } : {}) });
    // Honest first: the queue holds the claim, and the same page under the filter.
    assert.deepEqual(
      (await queue()()).items.map((c) => c.id),
      [claimId],
    );
    assert.deepEqual(
      (await queue('adjudicated')()).items.map((c) => c.id),
      [claimId],
    );
    assert.equal(await underLie(omittedClaim, () => refusal(queue())), 'FACT_NOT_PROVEN');
    assert.equal(await underLie(omittedClaim, () => refusal(queue('adjudicated'))), 'FACT_NOT_PROVEN');
    const mine = () => listInsurance(viaProxy(adjusterKeys), { by: 'patients', id: patientId, of: 'claims' });
    assert.equal(await refusal(mine), 'ACCESS_DENIED', "the insurer does not list the patient's own claims");
    const ask = () => checkEligibility(viaProxy(doctorKeys), { patient: patientId, service: '99213' });
    assert.equal(await underLie(omittedCoverage, () => refusal(ask)), 'FACT_NOT_PROVEN');
  });

  test('a list cut short (next: null before the end) loses nothing: paged on from where it stopped, or refused (FACT_NOT_PROVEN)', async () => {
    const second = await submitClaim(direct(doctorKeys), {
      patient: patientId,
      coverage: (await listInsurance(direct(adjusterKeys), { by: 'insurers', id: evergreen.id, of: 'coverages' })).items[0]?.id as string,
      claim: {
        resourceType: 'Claim',
        status: 'active',
        use: 'claim',
        type: { coding: [{ code: 'professional' }] },
        item: [
          {
            sequence: 1,
            productOrService: { coding: [{ code: '99213' }] },
            servicedDate: `${new Date().toISOString().slice(0, 4)}-01-02`,
            net: { value: 40 },
          },
        ],
      },
    });
    const first = await listInsurance(viaProxy(adjusterKeys), { by: 'insurers', id: evergreen.id, of: 'claims', limit: 1 });
    assert.deepEqual(
      first.items.map((c) => c.id),
      [claimId],
    );
    assert.notEqual(first.next, null);
    const rest = await listInsurance(viaProxy(adjusterKeys), {
      by: 'insurers',
      id: evergreen.id,
      of: 'claims',
      limit: 1,
      cursor: first.next as string,
    });
    assert.deepEqual(
      rest.items.map((c) => c.id),
      [second.id],
    );
    assert.equal(rest.next, null);
    const cut = () => listInsurance(viaProxy(adjusterKeys), { by: 'insurers', id: evergreen.id, of: 'claims', limit: 1 });
    // Told where the page stopped, the client pages on from there: the second claim is not lost.
    assert.equal((await underLie(cutShort, cut)).next, first.next);
    assert.equal(await underLie(cutShortSilently, () => refusal(cut)), 'FACT_NOT_PROVEN');
    assert.equal(await underLie(emptyEnd, () => refusal(cut)), 'FACT_NOT_PROVEN');
  });

  test('a claim committed while the last page was on its way is paged on to, not refused', async () => {
    const coverage = (await listInsurance(direct(adjusterKeys), { by: 'insurers', id: evergreen.id, of: 'coverages' })).items[0]
      ?.id as string;
    const before = await listInsurance(direct(adjusterKeys), { by: 'insurers', id: evergreen.id, of: 'claims' });
    assert.equal(before.next, null);
    let late = '';
    // The honest answer is taken first; then a claim commits before the client asks for its proofs.
    const meanwhile = async (r: SentRequest) => {
      if (r.method !== 'GET' || !pathOf(r).endsWith('/claims') || late !== '') return undefined;
      const day = `${new Date().toISOString().slice(0, 4)}-01-03`;
      late = (
        await submitClaim(direct(doctorKeys), {
          patient: patientId,
          coverage,
          claim: {
            resourceType: 'Claim',
            status: 'active',
            use: 'claim',
            type: { coding: [{ code: 'professional' }] },
            item: [{ sequence: 1, productOrService: { coding: [{ code: '99213' }] }, servicedDate: day, net: { value: 30 } }],
          },
        })
      ).id;
      return undefined;
    };
    const page = await underLie(meanwhile, () => listInsurance(viaProxy(adjusterKeys), { by: 'insurers', id: evergreen.id, of: 'claims' }));
    assert.deepEqual(
      page.items.map((c) => c.id),
      before.items.map((c) => c.id),
    );
    assert.equal(page.next, String(before.items.length).padStart(12, '0'));
    const rest = await listInsurance(viaProxy(adjusterKeys), {
      by: 'insurers',
      id: evergreen.id,
      of: 'claims',
      cursor: page.next as string,
    });
    assert.deepEqual(
      rest.items.map((c) => c.id),
      [late],
    );
    assert.equal(rest.next, null);
  });

  test('a forged claim value inside the proofs is refused (STATE_PROOF_INVALID)', async () => {
    const forge = (r: SentRequest, a: Answer) =>
      r.method === 'POST' && pathOf(r) === '/v1/state/proofs' && a.status === 200
        ? editJson(a, (j) => {
            for (const e of j.entries)
              if (e.key.startsWith('claim/') && e.value !== null) e.value = e.value.replace('"benefit":0', '"benefit":1');
          })
        : undefined;
    assert.equal(await underLie(forge, () => refusal(() => getClaim(viaProxy(adjusterKeys), claimId))), 'STATE_PROOF_INVALID');
  });
});

test('proofs of insurance state go only to those the routes show it to', async () => {
  const stranger = direct(generateKeyBundle());
  await stranger.registerPatient();
  for (const key of [`claim/${claimId}`, `preauth/${preauthId}`]) {
    assert.equal(await refusal(() => stranger.post('/v1/state/proofs', { keys: [key] }, { auth: true })), 'ACCESS_DENIED', key);
    const answer = (await direct(adjusterKeys).post('/v1/state/proofs', { keys: [key] }, { auth: true })) as {
      entries: Array<{ value: string }>;
    };
    assert.equal(JSON.parse(answer.entries[0]?.value ?? '{}').id, key.split('/')[1]);
  }
  // A list's count and entries go to whoever may ask for the list: the insurer's queue to its staff.
  for (const key of [`inscount/iclaim/${evergreen.id}`, `ins-iclaim/${evergreen.id}/000000000000`]) {
    assert.equal(await refusal(() => stranger.post('/v1/state/proofs', { keys: [key] }, { auth: true })), 'ACCESS_DENIED', key);
    assert.equal(await refusal(() => direct(doctorKeys).post('/v1/state/proofs', { keys: [key] }, { auth: true })), 'ACCESS_DENIED', key);
    const answer = (await direct(adjusterKeys).post('/v1/state/proofs', { keys: [key] }, { auth: true })) as {
      entries: Array<{ value: string | null }>;
    };
    assert.notEqual(answer.entries[0]?.value ?? null, null, key);
  }
  // CMS-0057-F metrics are public.
  const metrics = (await stranger.post('/v1/state/proofs', { keys: [`pametrics/${evergreen.id}`] })) as { entries: unknown[] };
  assert.equal(metrics.entries.length, 1);
});

describe('the CLI refuses insurance answers a lying node alters', () => {
  const cli = (args: string[]) => runCli([...args, '--url', proxy.url, '--genesis', genesisFile], { timeoutMs: 120_000 });

  test('claim show, preauth show and eligibility: honest through the proxy, refused when altered (exit 6, FACT_NOT_PROVEN)', async () => {
    const honest = await cli(['claim', 'show', '--key', adjusterFile, '--id', claimId, '--json']);
    assert.equal(honest.code, 0, honest.stderr);
    assert.equal(JSON.parse(honest.stdout).adjudications.at(-1).total.benefit, 0);
    for (const [lie, args] of [
      [inflatedBenefit, ['claim', 'show', '--key', adjusterFile, '--id', claimId]],
      [inflatedBenefit, ['claim', 'list', '--key', adjusterFile, '--insurer', evergreen.id]],
      [flippedDecision, ['preauth', 'show', '--key', doctorFile, '--id', preauthId]],
      [cheaperEstimate, ['eligibility', '--key', doctorFile, '--patient', patientId, '--service', '99213']],
      [omittedClaim, ['claim', 'list', '--key', adjusterFile, '--insurer', evergreen.id]],
      [omittedCoverage, ['eligibility', '--key', doctorFile, '--patient', patientId, '--service', '99213']],
    ] as const) {
      const run = await underLie(lie, () => cli([...args]));
      assert.notEqual(run.code, 0, `${args.join(' ')} must fail under the lie`);
      assert.match(run.stderr, /FACT_NOT_PROVEN/, args.join(' '));
    }
  });

  test('eligibility --fhir: the CoverageEligibilityResponse is shown when true, refused when altered (exit 1, naming the fact)', async () => {
    const args = ['eligibility', '--fhir', '--key', doctorFile, '--patient', patientId, '--service', '99213'];
    const honest = await cli(args);
    assert.equal(honest.code, 0, honest.stderr);
    assert.match(honest.stdout, /^covered \(COVERED\)/);
    assert.match(honest.stdout, /estimated patient share \$100\.00/, 'the visit still goes to the deductible');
    const json = await cli([...args, '--json']);
    assert.equal(JSON.parse(json.stdout).resourceType, 'CoverageEligibilityResponse');
    for (const [lie, names] of [
      [cheaperFhirEstimate, /estimated patient share for service 99213/],
      [fhirNotCovered, /covered \(excluded\) for service 99213/],
    ] as const) {
      const run = await underLie(lie, () => cli(args));
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /FACT_NOT_PROVEN/);
      assert.match(run.stderr, names);
    }
  });
});

// Ids used by both halves must exist before the CLI half runs.
test('setup made a claim, a denied preauth and the staff', () => {
  assert.match(claimId, /^[0-9a-f]{32}$/);
  assert.match(preauthId, /^[0-9a-f]{32}$/);
  assert.equal(idFromPublicKey(doctorKeys.signing.publicKey).length, 40);
});
