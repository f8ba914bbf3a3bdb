// Every answer of the JSON API and the FHIR endpoint is uncacheable and inert as a page
// (api-headers.ts): the sign-in token, a patient's grants and records, errors and
// preflights alike; the web app's own page keeps its own policy and caching.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MedLedgerClient, TrustedGenesis } from '@medledger/client';
import { generateKeyBundle } from '@medledger/crypto';
import { API_HEADERS, HSTS } from './api-headers.js';
import { makeNodeCertificate } from './node-cert.js';
import { startSoloNode, TEST_PASSPHRASE, type TestNode } from './testing/index.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

let t: TestNode;
before(async () => {
  t = await startSoloNode({ config: { fhir: {} } });
});
after(async () => {
  await t.cleanup();
});

function assertApiHeaders(res: Response, what: string): void {
  assert.equal(res.headers.get('cache-control'), 'no-store', `${what}: cache-control`);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff', `${what}: nosniff`);
  assert.equal(res.headers.get('content-security-policy'), API_HEADERS['content-security-policy'], `${what}: CSP`);
}

test('signed-in answers with patient data (the session token, grants, a record) are never cacheable', async () => {
  const seen: Array<{ what: string; res: Response }> = [];
  const recording: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    seen.push({ what: `${init?.method ?? 'GET'} ${String(input).slice(t.url.length)}`, res });
    return res;
  };
  const patient = new MedLedgerClient({
    genesis: TrustedGenesis.fromDocument(t.node.chain.genesis),
    url: t.url,
    keys: generateKeyBundle(),
    fetch: recording,
  });
  const { id } = await patient.registerPatient();
  const { recordId } = await patient.writeRecord({
    patient: id,
    resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' } },
    category: 'vitals',
  });
  await patient.readRecord(recordId);
  await patient.grants(id);
  const paths = seen.map((s) => s.what);
  for (const must of ['POST /v1/auth/session', 'GET /v1/patients/'])
    assert.ok(
      paths.some((p) => p.startsWith(must)),
      `${must} among ${paths.join(', ')}`,
    );
  assert.ok(
    paths.some((p) => p.startsWith(`GET /v1/records/${recordId}`)),
    `the record read among ${paths.join(', ')}`,
  );
  for (const { what, res } of seen) assertApiHeaders(res, what);
});

test('errors, 404s, preflights, FHIR answers and non-canonical API paths carry the same headers; the app page keeps its own', async () => {
  const answers: Array<[string, Response]> = [
    ['status', await fetch(`${t.url}/v1/status`)],
    ['unauthenticated', await fetch(`${t.url}/v1/me/grants`)],
    ['unknown /v1 path', await fetch(`${t.url}/v1/<script>alert(1)</script>`)],
    ['non-canonical path', await fetch(`${t.url}/V1/status`)],
    [
      'preflight',
      await fetch(`${t.url}/v1/auth/session`, { method: 'OPTIONS', headers: { origin: 'null', 'access-control-request-method': 'POST' } }),
    ],
    ['FHIR metadata', await fetch(`${t.url}/fhir/R4/metadata`)],
    ['FHIR without a token', await fetch(`${t.url}/fhir/R4/Patient/abc`)],
  ];
  for (const [what, res] of answers) {
    assertApiHeaders(res, what);
    await res.arrayBuffer();
  }
  const page = await fetch(`${t.url}/records`);
  assert.notEqual(page.headers.get('cache-control'), 'no-store');
  assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  await page.arrayBuffer();
});

test('over HTTPS every answer, the app page and the API alike, carries Strict-Transport-Security; over HTTP none does', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'medledger-hsts-'));
  const made = await makeNodeCertificate({ name: 'hsts-node', hosts: ['127.0.0.1'] });
  writeFileSync(join(dir, 'node.crt'), made.cert);
  writeFileSync(join(dir, 'node.key'), made.key, { mode: 0o600 });
  const secure = await startSoloNode({ config: { tls: { cert: join(dir, 'node.crt'), key: join(dir, 'node.key') } } });
  try {
    assert.match(secure.url, /^https:/);
    for (const path of ['/', '/records', '/v1/status', '/v1/nope']) {
      const hsts = await new Promise<string | undefined>((done, fail) =>
        get(`${secure.url}${path}`, { rejectUnauthorized: false }, (res) => {
          res.resume();
          done(res.headers['strict-transport-security']);
        }).on('error', fail),
      );
      assert.equal(hsts, HSTS, path);
    }
  } finally {
    await secure.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
  const plain = await fetch(`${t.url}/`);
  assert.equal(plain.headers.get('strict-transport-security'), null);
  await plain.arrayBuffer();
});
