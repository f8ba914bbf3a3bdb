// Real data: every Synthea transaction Bundle in /work/shared/fixtures/synthea/ imported
// through the FHIR endpoint; every resource reads back equal (RFC 8785 canonical JSON)
// after decryption, and the counts per type match.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { canonicalJson } from '@medledger/ledger';
import { Client } from 'fhir-kit-client';
import { type FhirTestNode, startFhirNode, tokenFor } from './testing.js';

// biome-ignore lint/suspicious/noExplicitAny: FHIR JSON
type Any = any;

// shared/ sits beside the repository (here and in CI); MEDLEDGER_SYNTHEA overrides.
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const FIXTURES =
  process.env.MEDLEDGER_SYNTHEA ??
  [join(repoRoot, '..', 'shared', 'fixtures', 'synthea'), '/work/shared/fixtures/synthea'].find((d) => existsSync(d)) ??
  '/work/shared/fixtures/synthea';
const files = existsSync(FIXTURES)
  ? readdirSync(FIXTURES)
      .filter((f) => f.endsWith('.json'))
      .sort()
  : [];

/** The resource as the server should hold it: its urn:uuid references rewritten, server id and version dropped. */
function expected(resource: Any, targets: Map<string, string>): Any {
  const copy = structuredClone(resource);
  const walk = (v: Any) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null)
      for (const [k, x] of Object.entries(v)) {
        if (k === 'reference' && typeof x === 'string' && targets.has(x)) v[k] = targets.get(x);
        else walk(x);
      }
  };
  walk(copy);
  return comparable(copy);
}

/** Without the server-assigned parts: id, meta.versionId, meta.lastUpdated. */
function comparable(resource: Any): string {
  const { id: _id, meta, ...rest } = resource;
  const { versionId: _v, lastUpdated: _l, ...keptMeta } = meta ?? {};
  return canonicalJson(Object.keys(keptMeta).length > 0 ? { ...rest, meta: keptMeta } : rest);
}

let t: FhirTestNode;
let client: Any;
before(async () => {
  t = await startFhirNode();
});
// Each bundle gets a fresh access token, as a SMART client asks for one when the last expires
// (tokens live 5 minutes; a slow machine can take longer than that over all eight bundles).
beforeEach(async () => {
  client = new Client({ baseUrl: t.base, bearerToken: await tokenFor(t.base, t.orgKeys) });
});
after(async () => {
  await t.cleanup();
});

test('the Synthea fixtures are there (8 bundles)', () => {
  assert.equal(files.length, 8);
});

for (const file of files) {
  test(`Synthea ${file}: imported as a transaction, every resource reads back equal, counts match`, async () => {
    const bundle = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8'));
    const response: Any = await client.transaction({ body: bundle });
    assert.equal(response.entry.length, bundle.entry.length);
    const targets = new Map<string, string>();
    bundle.entry.forEach((e: Any, i: number) => {
      const [type, id] = response.entry[i].response.location.split('/');
      assert.equal(type, e.resource.resourceType);
      targets.set(e.fullUrl, `${type}/${id}`);
    });
    const patientId = (targets.get(bundle.entry.find((e: Any) => e.resource.resourceType === 'Patient').fullUrl) as string).split('/')[1];

    // Each resource by read, equal to what was sent (references resolved).
    for (const [i, e] of bundle.entry.entries()) {
      const [type, id] = (response.entry[i].response.location as string).split('/');
      const read: Any = await client.read({ resourceType: type, id });
      assert.equal(comparable(read), expected(e.resource, targets), `${file} entry ${i} (${type}) differs`);
    }

    // Counts per type, through search with paging.
    const want = new Map<string, number>();
    for (const e of bundle.entry) want.set(e.resource.resourceType, (want.get(e.resource.resourceType) ?? 0) + 1);
    const got = new Map<string, number>();
    let page: Any = await client.search({ searchParams: { patient: patientId, _count: 200 } });
    assert.equal(page.total, bundle.entry.length);
    while (page !== undefined) {
      for (const e of page.entry ?? []) got.set(e.resource.resourceType, (got.get(e.resource.resourceType) ?? 0) + 1);
      page = await client.nextPage({ bundle: page });
    }
    assert.deepEqual([...got].sort(), [...want].sort());
  });
}
