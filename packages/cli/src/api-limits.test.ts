// The node's HTTP API as a whole: the OpenAPI document built from the validating schemas,
// rate limits per signed-in identity and per anonymous IP, request size limits, and HTTPS.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type ClientError, MedLedgerClient, TrustedGenesis } from '@medledger/client';
import { generateKeyBundle } from '@medledger/crypto';
import { initNetwork, loadHome, MedLedgerNode, type NodeConfig } from '@medledger/node';
import { newSigner, TEST_PASSPHRASE } from '@medledger/node/testing';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-api-'));
const running: MedLedgerNode[] = [];
after(async () => {
  for (const n of running) await n.stop();
  rmSync(dir, { recursive: true, force: true });
});

let count = 0;
async function startNode(edit: (c: NodeConfig) => void = () => {}): Promise<{ node: MedLedgerNode; url: string; home: string }> {
  const { homes } = initNetwork({ validators: 1, out: join(dir, `net${count++}`), chainId: 'api-test' });
  const home = loadHome(homes[0] as string);
  home.config.api.port = 0;
  home.config.p2p.port = 0;
  home.config.consensus.blockIntervalMs = 20;
  edit(home.config);
  const node = new MedLedgerNode(home, { logger: () => {} });
  const url = await node.start();
  running.push(node);
  return { node, url, home: homes[0] as string };
}

test('GET /v1/openapi.json is an OpenAPI 3 document of every /v1 route, from the schemas that validate requests', async () => {
  const { url } = await startNode();
  const doc = (await (await fetch(`${url}/v1/openapi.json`)).json()) as {
    openapi: string;
    paths: Record<string, Record<string, unknown>>;
    components: { schemas: Record<string, { required?: string[] }> };
  };
  assert.match(doc.openapi, /^3\./);
  for (const path of [
    '/v1/txs',
    '/v1/txs/batch',
    '/v1/txs/{hash}',
    '/v1/blocks/{height}',
    '/v1/status',
    '/v1/accounts/{publicKey}',
    '/v1/identities/{id}',
    '/v1/auth/challenge',
    '/v1/auth/session',
    '/v1/vault/{hash}',
    '/v1/records/{id}',
    '/v1/patients/{id}/records',
    '/v1/patients/{id}/grants',
    '/v1/patients/{id}/access-log',
    '/v1/patients/{id}/access-log/emergency',
    '/v1/patients/{id}/recipients',
    '/v1/me/grants',
    '/v1/grants/{id}',
    '/v1/emergency/params',
    '/v1/emergency/windows/{id}',
    '/v1/patients/{id}/emergency',
    '/v1/orgs/{id}/emergency',
    '/v1/me/emergency',
    '/v1/orgs/{id}/reviewers',
    '/v1/directory',
  ])
    assert.ok(doc.paths[path], `${path} is documented`);
  assert.ok(doc.paths['/v1/auth/session']?.delete && doc.paths['/v1/auth/session']?.post);
  assert.equal(doc.paths['/v1/openapi.json'], undefined);
  assert.deepEqual(
    Object.keys(doc.paths).filter((p) => !p.startsWith('/v1/')),
    [],
    'only /v1 is in this document (FHIR has its CapabilityStatement)',
  );
  for (const [path, ops] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(ops))
      assert.equal(
        JSON.stringify((op as { responses?: Record<string, unknown> }).responses?.['4XX']).includes('#/components/schemas/Error'),
        true,
        `${method} ${path} documents its error shape`,
      );
  assert.deepEqual(doc.components.schemas.SignedTx?.required?.sort(), ['body', 'chain', 'kind', 'nonce', 'sig', 'signer', 'v']);
  // Every list documents its paging: `limit` and `cursor` in the query (docs/api.md "Paging").
  for (const path of [
    '/v1/patients/{id}/records',
    '/v1/patients/{id}/grants',
    '/v1/patients/{id}/access-log',
    '/v1/patients/{id}/access-log/emergency',
    '/v1/me/grants',
    '/v1/patients/{id}/emergency',
    '/v1/orgs/{id}/emergency',
    '/v1/me/emergency',
    '/v1/patients/{id}/delegates',
    '/v1/me/delegations',
  ]) {
    const params = (doc.paths[path]?.get as { parameters?: Array<{ name: string; in: string }> } | undefined)?.parameters ?? [];
    for (const name of ['limit', 'cursor'])
      assert.ok(
        params.some((p) => p.name === name && p.in === 'query'),
        `${path} documents ?${name}`,
      );
  }

  // The documented schema is the one enforced: a nonce sent as a string is malformed, not coerced.
  const tx = newSigner('api-test').register();
  const res = await fetch(`${url}/v1/txs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...tx, nonce: String(tx.nonce) }),
  });
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'MALFORMED_TX');
  const badQuery = await fetch(`${url}/v1/patients/${'ab'.repeat(20)}/recipients?category=x`);
  assert.equal(badQuery.status, 400);
  assert.equal(((await badQuery.json()) as { error: { code: string } }).error.code, 'INVALID_PARAM');
});

test('rate limits: each signed-in identity has its own budget, anonymous callers one per IP; 429 RATE_LIMITED', async () => {
  const { url, node } = await startNode((c) => {
    c.rateLimit = { windowMs: 300_000, perIdentity: 6, perIp: 200 };
  });
  const genesis = TrustedGenesis.fromDocument(node.chain.genesis);
  const a = new MedLedgerClient({ url, keys: generateKeyBundle(), pollIntervalMs: 50, genesis });
  const b = new MedLedgerClient({ url, keys: generateKeyBundle(), pollIntervalMs: 50, genesis });
  await a.registerPatient();
  await b.registerPatient();
  await a.signIn();
  await b.signIn();
  // A patient's own list is two requests: the page, and the proof that it is complete.
  for (let i = 0; i < 3; i++) await a.listRecords(a.id);
  await assert.rejects(a.listRecords(a.id), (e: ClientError) => e.code === 'RATE_LIMITED' && e.status === 429);
  await b.listRecords(b.id); // B's budget is its own

  // Anonymous requests from this address run out on their own...
  let limited: Response | undefined;
  for (let i = 0; i < 400 && limited === undefined; i++) {
    const res = await fetch(`${url}/v1/status`);
    if (res.status === 429) limited = res;
    else assert.equal(res.status, 200);
  }
  assert.ok(limited, 'the anonymous budget ends');
  assert.equal(((await limited.json()) as { error: { code: string } }).error.code, 'RATE_LIMITED');
  assert.ok(Number(limited.headers.get('retry-after')) > 0, 'retry-after says when to come back');
  // ...and a signed-in identity from the same address is still served.
  await b.listRecords(b.id);
});

test('a request body over the limit is 413 BODY_TOO_LARGE', async () => {
  const { url } = await startNode((c) => {
    c.bodyLimitBytes = 2048;
  });
  const res = await fetch(`${url}/v1/txs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ padding: 'x'.repeat(4096) }),
  });
  assert.equal(res.status, 413);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'BODY_TOO_LARGE');
});

test('with a certificate and key configured, the API is served over HTTPS', async () => {
  const certDir = mkdtempSync(join(dir, 'tls-'));
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'].concat([
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(certDir, 'key.pem'),
      '-out',
      join(certDir, 'cert.pem'),
    ]),
    { stdio: 'ignore' },
  );
  const { url } = await startNode((c) => {
    c.tls = { cert: join(certDir, 'cert.pem'), key: join(certDir, 'key.pem') };
  });
  assert.match(url, /^https:\/\//);
  const ca = readFileSync(join(certDir, 'cert.pem'));
  const status = await new Promise<{ code: number; body: string }>((resolve, reject) => {
    request(`${url}/v1/status`, { ca }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += String(c);
      });
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
  assert.equal(status.code, 200);
  assert.equal(JSON.parse(status.body).chainId, 'api-test');
  // Plain HTTP to the same port gets no API answer.
  await assert.rejects(
    fetch(`${url.replace('https://', 'http://')}/v1/status`).then(async (r) => {
      if (r.ok) await r.json();
      throw new Error(`status ${r.status}`);
    }),
  );
});
