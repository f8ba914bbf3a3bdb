// Attacks on the FHIR endpoint over real HTTP (issue 12 item 6), each shown refused: a forged
// Host header, burning a patient's claim code, hostile JSON, a Bundle entry without a URL, and
// a researcher reading a patient's demographics under the organization's treatment grant.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateKeyBundle, idFromPublicKey, type KeyBundle } from '@medledger/crypto';
import { getIdentity, prefixes } from '@medledger/ehr';
import { Client } from 'fhir-kit-client';
import { startSoloNode, waitFor } from '../testing/harness.js';
import { signClientAssertion } from './auth.js';
import { type FhirTestNode, requestToken, startFhirNode, submitAs, tokenFor } from './testing.js';

// biome-ignore lint/suspicious/noExplicitAny: FHIR JSON
type Any = any;

/** A raw HTTP request, optionally from another loopback source address or with another Host. */
function send(
  url: string,
  opts: { method?: string; body?: string; headers?: Record<string, string>; localAddress?: string } = {},
): Promise<{ status: number; json: Any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: opts.method ?? 'GET', headers: opts.headers ?? {}, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text === '' ? undefined : JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

const fhirJson = { 'content-type': 'application/fhir+json' };

/** Register a staff member of the node's organization with `role`; a FHIR client with its token. */
async function staff(role: string): Promise<Any> {
  const keys = generateKeyBundle();
  await submitAs(t, t.orgKeys, 'staff.register', { publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role });
  await waitFor(() => getIdentity(t.node.chain.state, idFromPublicKey(keys.signing.publicKey)), `${role} registered`);
  return new Client({ baseUrl: t.base, bearerToken: await tokenFor(t.base, keys) });
}

/** The HTTP status a fhir-kit-client call failed with (0 if it succeeded). */
const statusOf = (p: Promise<unknown>): Promise<number> =>
  p.then(
    () => 0,
    (err: Any) => err.response?.status ?? -1,
  );

let t: FhirTestNode;
let fhir: Any;
before(async () => {
  t = await startFhirNode();
  fhir = new Client({ baseUrl: t.base, bearerToken: await tokenFor(t.base, t.orgKeys) });
});
after(async () => {
  await t.cleanup();
});

test('a forged Host header chooses neither the token audience nor any advertised URL', async () => {
  const evil = { host: 'evil.example:443' };
  const meta = await send(`${t.base}/metadata`, { headers: evil });
  assert.equal(meta.status, 200);
  assert.equal(JSON.stringify(meta.json).includes('evil.example'), false);
  assert.equal(meta.json.rest[0].security.extension[0].extension[0].valueUri, `${t.base}/auth/token`);
  const smart = await send(`${t.base}/.well-known/smart-configuration`, { headers: evil });
  assert.equal(smart.json.token_endpoint, `${t.base}/auth/token`);
  // An assertion addressed to the attacker's host is refused even when sent with that Host.
  const assertion = await signClientAssertion({
    clientId: t.orgId,
    privateKey: t.orgKeys.signing.privateKey,
    tokenUrl: 'https://evil.example:443/fhir/R4/auth/token',
  });
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
  }).toString();
  const token = await send(`${t.base}/auth/token`, {
    method: 'POST',
    body: form,
    headers: { ...evil, 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(token.status, 401);
  assert.equal(token.json.error, 'invalid_client');
});

test('the FHIR endpoint refuses to start off loopback without fhir.baseUrl', async () => {
  await assert.rejects(
    startSoloNode({ config: { fhir: {}, api: { host: '0.0.0.0', port: 0 } } }),
    /config\.fhir\.baseUrl is required when the API listens on 0\.0\.0\.0/,
  );
});

test('fhir.smartClients: a read-only integration cannot get a write token, system/*.* is narrowed, and the narrowed token cannot create', async () => {
  // Two clinicians, registered before the node starts: the analytics one for reads only, the
  // other for everything. smartClientsOnly refuses the organization itself, which is not listed.
  const readOnly = generateKeyBundle();
  const full = generateKeyBundle();
  const [readOnlyId, fullId] = [readOnly, full].map((k) => idFromPublicKey(k.signing.publicKey)) as [string, string];
  const r = await startFhirNode({
    fhir: { smartClients: { [readOnlyId]: 'system/*.read', [fullId]: 'system/*.cruds' }, smartClientsOnly: true },
  });
  try {
    for (const k of [readOnly, full])
      await submitAs(r, r.orgKeys, 'staff.register', {
        publicKey: k.signing.publicKey,
        encryptionKey: k.encryption.publicKey,
        role: 'clinician',
      });
    await waitFor(() => getIdentity(r.node.chain.state, readOnlyId) && getIdentity(r.node.chain.state, fullId), 'staff registered');
    const ask = async (keys: KeyBundle, scope?: string) =>
      requestToken(r.base, {
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await signClientAssertion({
          clientId: idFromPublicKey(keys.signing.publicKey),
          privateKey: keys.signing.privateKey,
          tokenUrl: `${r.base}/auth/token`,
        }),
        ...(scope === undefined ? {} : { scope }),
      });

    const write = await ask(readOnly, 'system/Patient.c');
    assert.equal(write.status, 400);
    assert.equal(write.json.error, 'invalid_scope');
    assert.match(write.json.error_description as string, /may be granted: system\/\*\.read/);
    const wide = await ask(readOnly, 'system/*.*');
    assert.equal(wide.status, 200);
    assert.equal(wide.json.scope, 'system/*.rs');
    assert.equal((await ask(readOnly)).json.scope, 'system/*.read');
    const unlisted = await ask(r.orgKeys, 'system/*.rs');
    assert.equal(unlisted.status, 401);
    assert.equal(unlisted.json.error, 'invalid_client');

    // The full client creates a patient; the read-only token reads the chart but creates nothing.
    const writer: Any = new Client({ baseUrl: r.base, bearerToken: (await ask(full, 'system/*.cruds')).json.access_token });
    const reader: Any = new Client({ baseUrl: r.base, bearerToken: wide.json.access_token });
    const body = { resourceType: 'Patient', name: [{ family: 'Okafor', given: ['Ada'] }] };
    const created: Any = await writer.create({ resourceType: 'Patient', body });
    assert.equal((await reader.read({ resourceType: 'Patient', id: created.id })).name[0].family, 'Okafor');
    const refused = await reader.create({ resourceType: 'Patient', body }).then(
      () => ({ status: 0, issue: undefined }),
      (err: Any) => ({ status: err.response?.status, issue: err.response?.data?.issue?.[0] }),
    );
    assert.equal(refused.status, 403);
    assert.equal(refused.issue?.code, 'forbidden');
    assert.match(refused.issue?.diagnostics ?? '', /scopes do not allow this on Patient/);
  } finally {
    await r.cleanup();
  }
});

test('burning a custodial patient’s claim code with wrong tries does not lock out the holder', async () => {
  const patient: Any = await fhir.create({ resourceType: 'Patient', body: { resourceType: 'Patient', name: [{ family: 'Adeyemi' }] } });
  const pid = patient.id as string;
  const issued: Any = await fhir.operation({ name: 'claim-code', resourceType: 'Patient', id: pid, method: 'POST', input: {} });
  const code = issued.parameter.find((p: Any) => p.name === 'code').valueString as string;
  const claimBody = (c: string, keys: KeyBundle, proof = '00'.repeat(64)) =>
    JSON.stringify({
      resourceType: 'Parameters',
      parameter: [
        { name: 'code', valueString: c },
        { name: 'publicKey', valueString: keys.signing.publicKey },
        { name: 'encryptionKey', valueString: keys.encryption.publicKey },
        { name: 'proof', valueString: proof },
      ],
    });
  // The attacker, from 127.0.0.2, guesses many times: refused, then slowed to 429; never the code burnt.
  const attacker = generateKeyBundle();
  const answers: number[] = [];
  for (let i = 0; i < 12; i++)
    answers.push(
      (
        await send(`${t.base}/Patient/${pid}/$claim`, {
          method: 'POST',
          body: claimBody('ab'.repeat(16), attacker),
          headers: fhirJson,
          localAddress: '127.0.0.2',
        })
      ).status,
    );
  assert.deepEqual(answers, [...Array(10).fill(403), 429, 429]);
  // The holder, from its own address, claims with the right code.
  const { identityRotateBody } = await import('@medledger/client');
  const mine = generateKeyBundle();
  const { proof } = identityRotateBody({
    chain: t.node.chain.chainId,
    id: pid,
    newSigning: mine.signing,
    encryptionKey: mine.encryption.publicKey,
  });
  const done = await send(`${t.base}/Patient/${pid}/$claim`, { method: 'POST', body: claimBody(code, mine, proof), headers: fhirJson });
  assert.equal(done.status, 200, JSON.stringify(done.json));
  assert.equal(getIdentity(t.node.chain.state, pid)?.publicKey, mine.signing.publicKey);
});

test('__proto__ and constructor members, 200,000-deep nesting and a Bundle entry without request.url are 4xx OperationOutcomes', async () => {
  const token = await tokenFor(t.base, t.orgKeys);
  const post = (path: string, body: string, contentType = 'application/fhir+json') =>
    send(`${t.base}${path}`, { method: 'POST', body, headers: { authorization: `Bearer ${token}`, 'content-type': contentType } });
  const obs = '{"resourceType":"Observation","status":"final","code":{"text":"x"}';
  const cases: Array<[string, Promise<{ status: number; json: Any }>]> = [
    ['__proto__', post('/Observation', `${obs},"__proto__":{"polluted":true}}`)],
    ['constructor.prototype', post('/Observation', `${obs},"constructor":{"prototype":{"polluted":true}}}`)],
    ['constructor', post('/Observation', `${obs},"code":{"constructor":{"text":"x"}}}`)],
    ['__proto__ as plain JSON', post('/Observation', `${obs},"__proto__":{"polluted":true}}`, 'application/json')],
    ['deep nesting', post('/Observation', `${'['.repeat(200_000)}${']'.repeat(200_000)}`)],
    [
      'deep nesting in a Bundle',
      post('/', `{"resourceType":"Bundle","type":"transaction","entry":${'['.repeat(200_000)}${']'.repeat(200_000)}}`),
    ],
    [
      'Bundle entry without request.url',
      post(
        '/',
        JSON.stringify({
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [{ request: { method: 'POST' }, resource: { resourceType: 'Patient', name: [{ family: 'X' }] } }],
        }),
      ),
    ],
  ];
  for (const [what, pending] of cases) {
    const res = await pending;
    assert.ok(res.status >= 400 && res.status < 500, `${what}: ${res.status}`);
    assert.equal(res.json?.resourceType, 'OperationOutcome', what);
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype was polluted');
  // The node is still up and serving.
  assert.equal((await send(`${t.base}/metadata`)).status, 200);
});

test('a researcher on staff cannot read a custodial patient’s name, birth date or MRN under the treatment grant; a clinician can', async () => {
  const patient: Any = await fhir.create({
    resourceType: 'Patient',
    body: {
      resourceType: 'Patient',
      name: [{ family: 'Nakamura', given: ['Aiko'] }],
      birthDate: '1980-02-03',
      identifier: [{ system: 'urn:mrn', value: 'MRN-4471' }],
    },
  });
  const pid = patient.id as string;
  const vital: Any = await fhir.create({
    resourceType: 'Observation',
    body: {
      resourceType: 'Observation',
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
      code: { text: 'pulse' },
      subject: { reference: `Patient/${pid}` },
    },
  });
  const researcher: Any = await staff('researcher');
  for (const [type, id] of [
    ['Patient', pid],
    ['Observation', vital.id],
  ]) {
    const refused = await researcher.read({ resourceType: type, id }).then(
      () => 0,
      (err: Any) => err.response?.status,
    );
    assert.equal(refused, 403, `researcher read ${type}`);
  }
  const found: Any = await researcher.search({ resourceType: 'Patient', searchParams: { patient: pid } });
  assert.equal(found.total, 0, 'the researcher finds nothing to list either');
  const clinician: Any = await staff('clinician');
  const chart: Any = await clinician.read({ resourceType: 'Patient', id: pid });
  assert.equal(chart.birthDate, '1980-02-03');
  // The refusals are on the patient's record, with their reason.
  await waitFor(() => {
    const log = t.node.chain.store.scanState(`access/${pid}/`, {});
    return log.some(([, v]) => v.includes('ROLE_NOT_PERMITTED')) ? true : undefined;
  }, 'the refused reads in the access log');
});

test('staff cannot issue a claim code (which would let them take over the patient’s identity); only the organization can', async () => {
  const patient: Any = await fhir.create({ resourceType: 'Patient', body: { resourceType: 'Patient', name: [{ family: 'Okafor' }] } });
  const pid = patient.id as string;
  const claimCode = (client: Any) => client.operation({ name: 'claim-code', resourceType: 'Patient', id: pid, method: 'POST', input: {} });
  for (const role of ['researcher', 'device', 'clinician']) assert.equal(await statusOf(claimCode(await staff(role))), 403, role);
  // The organization's own system still issues it.
  const issued: Any = await claimCode(fhir);
  assert.match(issued.parameter.find((p: Any) => p.name === 'code').valueString, /^[0-9a-f]{32}$/);
});

test('staff whose role may not write a chart register no patient, directly or in a transaction; a clinician may', async () => {
  const custodyDir = join(t.dir, 'node0', 'fhir-custody');
  const held = () => readdirSync(custodyDir).length;
  const before = held();
  const body = { resourceType: 'Patient', name: [{ family: 'Lindqvist' }] };
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:p', request: { method: 'POST', url: 'Patient' }, resource: body },
      {
        request: { method: 'POST', url: 'Observation' },
        resource: { resourceType: 'Observation', status: 'final', code: { text: 'pulse' }, subject: { reference: 'urn:uuid:p' } },
      },
    ],
  };
  for (const role of ['researcher', 'auditor', 'privacy-officer', 'device']) {
    const client = await staff(role);
    assert.equal(await statusOf(client.create({ resourceType: 'Patient', body })), 403, `${role} create`);
    assert.equal(await statusOf(client.transaction({ body: bundle })), 403, `${role} transaction`);
  }
  assert.equal(held(), before, 'no custodial keys were made or kept for a refused registration');
  const clinician = await staff('clinician');
  const made: Any = await clinician.create({ resourceType: 'Patient', body });
  assert.equal(getIdentity(t.node.chain.state, made.id)?.role, 'patient');
  const tx: Any = await clinician.transaction({ body: bundle });
  assert.equal(tx.entry.length, 2);
});

test('a transaction cannot write for a patient who gave no consent, even beside a new Patient; nothing is written or kept', async () => {
  const victim = generateKeyBundle();
  await submitAs(t, victim, 'identity.register', { role: 'patient', encryptionKey: victim.encryption.publicKey });
  const vid = idFromPublicKey(victim.signing.publicKey);
  await waitFor(() => getIdentity(t.node.chain.state, vid), 'victim registered');
  const custodyDir = join(t.dir, 'node0', 'fhir-custody');
  const heldBefore = readdirSync(custodyDir).length;
  const obs = (ref: Record<string, unknown>) => ({
    request: { method: 'POST', url: 'Observation' },
    resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, ...ref },
  });
  const bundles = [
    [obs({ subject: { reference: `Patient/${vid}` } })],
    // Filed by a reference other than subject, next to a Patient the caller may register.
    [
      { fullUrl: 'urn:uuid:new', request: { method: 'POST', url: 'Patient' }, resource: { resourceType: 'Patient' } },
      obs({ subject: { reference: 'urn:uuid:new' } }),
      obs({ focus: [{ reference: `Patient/${vid}` }] }),
    ],
  ];
  for (const entry of bundles) {
    const res = await send(`${t.base}/`, {
      method: 'POST',
      body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }),
      headers: { ...fhirJson, authorization: `Bearer ${await tokenFor(t.base, t.orgKeys)}` },
    });
    assert.equal(res.status, 403, JSON.stringify(res.json));
    assert.equal(res.json.resourceType, 'OperationOutcome');
  }
  assert.deepEqual(t.node.chain.store.scanState(prefixes.patientRecords(vid), {}), [], 'no record of the victim');
  assert.equal(readdirSync(custodyDir).length, heldBefore, 'the refused Bundle’s new patient left no keys behind');
});

test('an update cannot move a resource into another patient’s name', async () => {
  const [a, b] = await Promise.all(
    ['Ahn', 'Berg'].map((family) => fhir.create({ resourceType: 'Patient', body: { resourceType: 'Patient', name: [{ family }] } })),
  );
  const body = (pid: string) => ({
    resourceType: 'Observation',
    status: 'final',
    code: { text: 'bp' },
    subject: { reference: `Patient/${pid}` },
  });
  const made: Any = await fhir.create({ resourceType: 'Observation', body: body(a.id) });
  const moved = await statusOf(fhir.update({ resourceType: 'Observation', id: made.id, body: { ...body(b.id), id: made.id } }));
  assert.equal(moved, 422);
  const kept: Any = await fhir.read({ resourceType: 'Observation', id: made.id });
  assert.equal(kept.subject.reference, `Patient/${a.id}`);
  assert.equal(kept.meta.versionId, made.meta.versionId, 'no new version was written');
  // An update that keeps the patient still works.
  const updated: Any = await fhir.update({
    resourceType: 'Observation',
    id: made.id,
    body: { ...body(a.id), id: made.id, status: 'amended' },
  });
  assert.equal(updated.status, 'amended');
});

test('searches: _include, _revinclude, _has, chains and _count above 500 are refused; a patient without consent looks like no patient', async () => {
  const token = await tokenFor(t.base, t.orgKeys);
  const get = (q: string) => send(`${t.base}${q}`, { headers: { authorization: `Bearer ${token}` } });
  for (const q of [
    '/Observation?_include=Observation:subject',
    '/Patient?_revinclude=Observation:subject',
    '/Patient?_has:Observation:patient:code=1234',
    '/Observation?subject.name=Smith',
    '/Observation?patient:Patient.name=Smith',
    '/Observation?_count=501',
    '/Observation?_count=0',
  ]) {
    const res = await get(q);
    assert.equal(res.status, 400, q);
    assert.equal(res.json.resourceType, 'OperationOutcome', q);
  }
  const stranger = generateKeyBundle();
  await submitAs(t, stranger, 'identity.register', { role: 'patient', encryptionKey: stranger.encryption.publicKey });
  const sid = idFromPublicKey(stranger.signing.publicKey);
  await waitFor(() => getIdentity(t.node.chain.state, sid), 'stranger registered');
  const strangerSearch = await get(`/Observation?patient=${sid}`);
  const nobodySearch = await get(`/Observation?patient=${'0'.repeat(40)}`);
  assert.equal(strangerSearch.status, 200);
  assert.deepEqual(
    [strangerSearch.json.total, strangerSearch.json.entry],
    [nobodySearch.json.total, nobodySearch.json.entry],
    'the same empty answer for a real patient as for none',
  );
});

test('a $claim whose parameter is not a list is a 4xx, not a server error', async () => {
  for (const parameter of ['code', { name: 'code' }, [null], 7]) {
    const res = await send(`${t.base}/Patient/${'0'.repeat(40)}/$claim`, {
      method: 'POST',
      body: JSON.stringify({ resourceType: 'Parameters', parameter }),
      headers: fhirJson,
      localAddress: '127.0.0.3',
    });
    assert.ok(res.status >= 400 && res.status < 500, `${JSON.stringify(parameter)}: ${res.status}`);
  }
});
