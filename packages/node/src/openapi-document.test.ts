// The OpenAPI document at /v1/openapi.json on a real node: every operation documents its
// success answer, the documented success schemas never cut an answer down, the request
// schemas allow no value the API then refuses, and a method the API does not serve at a /v1
// path is 405 with `Allow` (defects schemathesis found, docs/api.md "The OpenAPI document").
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { get, startSoloNode, type TestNode } from './testing/harness.js';

let t: TestNode;
// biome-ignore lint/suspicious/noExplicitAny: the test walks whatever JSON the document holds
let doc: any;
before(async () => {
  t = await startSoloNode();
  doc = (await get(`${t.url}/v1/openapi.json`)).json;
});
after(async () => {
  await t.cleanup();
});

/** A raw request with any method (fetch refuses TRACE), with an optional JSON body. */
function send(
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; allow?: string; json: { error?: { code: string } } }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${t.url}${path}`,
      { method, headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, allow: res.headers.allow, json: text === '' ? {} : JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('every operation documents its success status, with a body schema unless it is 204', () => {
  const ops = Object.entries(doc.paths as Record<string, Record<string, { responses: Record<string, { content?: unknown }> }>>).flatMap(
    ([path, methods]) => Object.entries(methods).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, op })),
  );
  assert.ok(ops.length >= 64, `${ops.length} operations`);
  for (const { name, op } of ops) {
    const success = Object.keys(op.responses).filter((s) => /^2\d\d$/.test(s));
    assert.ok(success.length > 0, `${name} documents a success status`);
    for (const s of success) assert.equal(op.responses[s]?.content === undefined, s === '204', `${name} ${s}: a body unless 204`);
  }
  assert.deepEqual(Object.keys(doc.paths['/v1/txs'].post.responses).sort(), ['202', '4XX', '5XX']);
  assert.deepEqual(Object.keys(doc.paths['/v1/vault/{hash}'].put.responses).sort(), ['200', '201', '4XX', '5XX']);
});

test('the success schemas only document: a field they do not list is still sent', async () => {
  const schema = doc.paths['/v1/status'].get.responses['200'].content['application/json'].schema;
  assert.equal(schema.properties.name, undefined, 'the document does not list the node name');
  const status = (await get(`${t.url}/v1/status`)).json;
  assert.equal(typeof status.name, 'string', 'the answer still carries it');
});

test('list limits in the document are exactly the lists’ limits: a limit it allows is never refused', async () => {
  const limits = Object.entries(
    doc.paths as Record<string, Record<string, { parameters?: Array<{ name: string; in: string; schema: { pattern: string } }> }>>,
  ).flatMap(([path, methods]) =>
    Object.values(methods).flatMap((op) =>
      (op.parameters ?? []).filter((p) => p.in === 'query' && p.name === 'limit').map((p) => ({ path, re: new RegExp(p.schema.pattern) })),
    ),
  );
  assert.ok(limits.length >= 29, `${limits.length} paged operations`);
  for (const { path, re } of limits) {
    const most = path === '/v1/headers' ? 100 : 500;
    for (const n of [1, 9, 10, 99, 100, most]) assert.ok(re.test(String(n)), `${path} allows limit=${n}`);
    for (const bad of ['0', String(most + 1), '999', '01', '1000']) assert.ok(!re.test(bad), `${path} does not allow limit=${bad}`);
  }
  // The node agrees at both ends.
  assert.equal((await get(`${t.url}/v1/headers?from=1&limit=100`)).status, 200);
  assert.equal((await get(`${t.url}/v1/headers?from=1&limit=101`)).json.error.code, 'INVALID_PARAM');
});

test('a state key the document allows is one the node reads: printable ASCII without spaces', async () => {
  const re = new RegExp(doc.paths['/v1/state/proof'].get.parameters.find((p: { name: string }) => p.name === 'key').schema.pattern);
  assert.ok(re.test('meta/chain'));
  assert.ok(!re.test('identity/ x') && !re.test('identit\u00e9') && !re.test(''));
  assert.equal((await get(`${t.url}/v1/state/proof?key=${encodeURIComponent('identity/ x')}`)).json.error.code, 'INVALID_PARAM');
  // Public keys need no session, and the document says so (a session is optional there).
  assert.deepEqual(doc.paths['/v1/state/proof'].get.security, [{ session: [] }, {}]);
  // So is signing out, which is idempotent: 204 with an ended token, or none.
  assert.deepEqual(doc.paths['/v1/auth/session'].delete.security, [{ session: [] }, {}]);
  assert.equal((await send('DELETE', '/v1/auth/session')).status, 204);
});

test('a method not served at a /v1 path is 405 METHOD_NOT_ALLOWED with Allow, not 404, nor 400 for one that carries a body', async () => {
  for (const method of ['PATCH', 'DELETE', 'TRACE', 'QUERY']) {
    const res = await send(method, '/v1/status', method === 'QUERY' ? '{"x":1}' : undefined);
    assert.equal(res.status, 405, `${method} /v1/status`);
    assert.equal(res.json.error?.code, 'METHOD_NOT_ALLOWED');
    assert.equal(res.allow, 'GET, HEAD');
  }
  const post = await send('GET', '/v1/txs');
  assert.equal(post.status, 405);
  assert.equal(post.allow, 'POST');
  // A fixed path names its own route, even where a parametric one takes the method (GET /v1/txs/:hash).
  const batch = await send('GET', '/v1/txs/batch', '{"txs":[]}');
  assert.equal(batch.status, 405);
  assert.equal(batch.allow, 'POST');
  assert.equal((await send('GET', `/v1/txs/${'0'.repeat(64)}`)).json.error?.code, 'TX_NOT_FOUND');
  const session = await send('PUT', '/v1/auth/session');
  assert.equal(session.allow, 'DELETE, POST');
  // A path the API does not serve at all stays 404.
  assert.equal((await send('PATCH', '/v1/nothing-here')).status, 404);
});
