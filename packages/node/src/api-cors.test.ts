// The JSON API answers pages on other origins (a copy of the web app the user trusts, opened
// from a file or another host: docs/web.md "Using a copy you trust") with CORS `*` and never
// with credentials; /fhir and the web app's files get no CORS headers, and nothing sets cookies.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startSoloNode, type TestNode } from './testing/index.js';

let net: TestNode;
before(async () => {
  net = await startSoloNode();
});
after(async () => {
  await net.cleanup();
});

const ORIGIN = 'null'; // what a page opened from a file sends

test('a preflight for a signed /v1 call is allowed from any origin, without credentials', async () => {
  const res = await fetch(`${net.url}/v1/auth/session`, {
    method: 'OPTIONS',
    headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.match(res.headers.get('access-control-allow-methods') ?? '', /POST/);
  assert.match(res.headers.get('access-control-allow-headers') ?? '', /authorization/);
  assert.match(res.headers.get('access-control-allow-headers') ?? '', /content-type/);
  assert.equal(res.headers.get('access-control-allow-credentials'), null);
});

test('every /v1 answer, errors included, is readable cross-origin; none carries credentials or cookies', async () => {
  const answers = [
    await fetch(`${net.url}/v1/status`, { headers: { origin: ORIGIN } }),
    await fetch(`${net.url}/v1/genesis`, { headers: { origin: 'https://copy.example' } }),
    await fetch(`${net.url}/v1/nope`, { headers: { origin: ORIGIN } }),
    await fetch(`${net.url}/v1/me/grants`, { headers: { origin: ORIGIN } }),
    await fetch(`${net.url}/v1/auth/challenge`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/json' },
      body: JSON.stringify({ publicKey: '00'.repeat(32) }),
    }),
  ];
  assert.deepEqual(
    answers.map((r) => r.status),
    [200, 200, 404, 401, answers[4]?.status],
  );
  for (const res of answers) {
    assert.equal(res.headers.get('access-control-allow-origin'), '*', res.url);
    assert.equal(res.headers.get('access-control-allow-credentials'), null, res.url);
    assert.equal(res.headers.get('set-cookie'), null, res.url);
  }
});

test('/fhir and the web app get no CORS headers (a preflight there is refused)', async () => {
  for (const path of ['/fhir/R4/metadata', '/', '/records']) {
    const res = await fetch(`${net.url}${path}`, { headers: { origin: ORIGIN } });
    assert.equal(res.headers.get('access-control-allow-origin'), null, path);
  }
  const preflight = await fetch(`${net.url}/fhir/R4/Patient`, {
    method: 'OPTIONS',
    headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
  });
  assert.equal(preflight.headers.get('access-control-allow-origin'), null);
});
