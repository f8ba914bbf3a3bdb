// The node serves the built web UI at `/`: files with their content types, index.html for
// app routes, and never in place of the API — /v1 and /fhir keep their JSON 404s.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { startSoloNode, type TestNode } from './testing/index.js';
import { findWebDist, isApiPath, isNonCanonicalApiPath } from './web-static.js';

const dist = mkdtempSync(join(tmpdir(), 'medledger-web-dist-'));
const INDEX = '<!doctype html><html><head><script defer src="./assets/app-1.js"></script></head><body><div id="root"></div></body></html>';
// What the node sends: the page marked as served by a node (the app then talks to it alone).
const SERVED = INDEX.replace('<head>', '<head>\n    <meta name="medledger-node" content="this node">');
let net: TestNode;

before(async () => {
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), INDEX);
  writeFileSync(join(dist, 'assets', 'app-1.js'), 'console.log(1);');
  writeFileSync(join(dist, 'assets', 'app-1.css'), 'body{}');
  writeFileSync(join(dirname(dist), 'secret-outside-dist.txt'), 'must not be served');
  process.env.MEDLEDGER_WEB_DIST = dist;
  net = await startSoloNode();
});
after(async () => {
  await net.cleanup();
  rmSync(dist, { recursive: true, force: true });
  rmSync(join(dirname(dist), 'secret-outside-dist.txt'), { force: true });
});

test('the app and its assets are served with their content types and a restrictive CSP', async () => {
  const home = await fetch(`${net.url}/`);
  assert.equal(home.status, 200);
  assert.match(home.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(home.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  assert.equal(home.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(home.headers.get('x-frame-options'), 'DENY');
  assert.match(home.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  assert.equal(home.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(home.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.match(home.headers.get('permissions-policy') ?? '', /camera=\(\)/);
  assert.equal(await home.text(), SERVED);
  const js = await fetch(`${net.url}/assets/app-1.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
  assert.match(js.headers.get('cache-control') ?? '', /immutable/);
  const css = await fetch(`${net.url}/assets/app-1.css`);
  assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
});

test('app routes get index.html (reload works); a missing asset is a plain 404', async () => {
  for (const path of ['/records', '/clinician/patients/abc', '/explorer/blocks/3']) {
    const res = await fetch(`${net.url}${path}`);
    assert.equal(res.status, 200, path);
    assert.equal(await res.text(), SERVED, path);
  }
  const missing = await fetch(`${net.url}/assets/nope-2.js`);
  assert.equal(missing.status, 404);
  assert.notEqual(await missing.text(), SERVED);
});

test('relative asset paths work from any page route: /records/assets/x is the built /assets/x', async () => {
  for (const path of ['/records/assets/app-1.js', '/clinician/patients/abc/assets/app-1.js']) {
    const res = await fetch(`${net.url}${path}`);
    assert.equal(res.status, 200, path);
    assert.equal(await res.text(), 'console.log(1);', path);
    assert.match(res.headers.get('content-type') ?? '', /^text\/javascript/);
  }
  assert.equal((await fetch(`${net.url}/records/assets/nope-2.js`)).status, 404);
});

test('the UI never shadows the API: unknown /v1 and /fhir paths and non-GET methods answer the JSON 404', async () => {
  for (const path of ['/v1/nope', '/v1', '/fhir/R4/Patient']) {
    const res = await fetch(`${net.url}${path}`);
    assert.equal(res.status, 404, path);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'NOT_FOUND', path);
  }
  const post = await fetch(`${net.url}/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(post.status, 404);
  assert.equal(((await post.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
  const status = await fetch(`${net.url}/v1/status`);
  assert.equal(status.status, 200);
});

test('a path that only looks like an API path (another case, doubled slashes, encoded) is a JSON 404 NON_CANONICAL_PATH, not the app', async () => {
  for (const path of [
    '/V1/status',
    '/V1',
    '//v1/status',
    '///v1/identities/abc',
    '/FHIR/R4/metadata',
    '//fhir/R4/Patient',
    '/%56%31/status',
    '/Fhir',
  ]) {
    for (const method of ['GET', 'HEAD', 'POST']) {
      const init: RequestInit = method === 'POST' ? { method, headers: { 'content-type': 'application/json' }, body: '{}' } : { method };
      const res = await fetch(`${net.url}${path}?q=1`, init);
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/, `${method} ${path}`);
      if (method === 'HEAD') continue;
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'NON_CANONICAL_PATH', `${method} ${path}`);
      assert.match(body.error.message, /lowercase, with single slashes/);
    }
  }
  // The canonical spellings still answer (the router decodes /%761/status to /v1/status), and
  // page routes that merely contain v1 are the app's.
  assert.equal((await fetch(`${net.url}/v1/status`)).status, 200);
  assert.equal((await fetch(`${net.url}/%761/status`)).status, 200);
  for (const path of ['/v1x', '/records/v1', '/explorer/V1']) {
    const res = await fetch(`${net.url}${path}`);
    assert.equal(res.status, 200, path);
    assert.equal(await res.text(), SERVED, path);
  }
});

test('paths that climb out of the dist directory are not served', async () => {
  for (const path of [
    '/..%2fsecret-outside-dist.txt',
    '/%2e%2e/secret-outside-dist.txt',
    '/assets/..%2f..%2fsecret-outside-dist.txt',
    '/records/assets/..%2f..%2fsecret-outside-dist.txt',
    '/records/assets/..',
  ]) {
    const res = await fetch(`${net.url}${path}`);
    const body = await res.text();
    assert.ok(!body.includes('must not be served'), path);
  }
});

test('isApiPath and findWebDist', () => {
  assert.equal(isApiPath('/v1/status?x=1'), true);
  assert.equal(isApiPath('/fhir/R4/metadata'), true);
  assert.equal(isApiPath('/v1x'), false);
  assert.equal(isApiPath('/records'), false);
  assert.equal(isNonCanonicalApiPath('/V1/status'), true);
  assert.equal(isNonCanonicalApiPath('//v1'), true);
  assert.equal(isNonCanonicalApiPath('/fHiR/R4/metadata?x=1'), true);
  assert.equal(isNonCanonicalApiPath('/%66hir/R4'), true);
  assert.equal(isNonCanonicalApiPath('/v1/status'), false, 'canonical: the API itself answers');
  assert.equal(isNonCanonicalApiPath('/V1x'), false);
  assert.equal(isNonCanonicalApiPath('/records/V1'), false);
  assert.equal(isNonCanonicalApiPath('/records?next=/V1/status'), false);
  assert.equal(findWebDist({ MEDLEDGER_WEB_DIST: dist }), dist);
});
