// The FHIR endpoint through a standard FHIR client (fhir-kit-client): tokens, create,
// read, vread, update, search with paging, transaction Bundles, errors and the audit trail.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateKeyBundle, idFromPublicKey } from '@medledger/crypto';
import { getIdentity, prefixes } from '@medledger/ehr';
import { signTx } from '@medledger/ledger';
import { Client } from 'fhir-kit-client';
import { startSoloNode, waitFor } from '../testing/harness.js';
import { signClientAssertion } from './auth.js';
import { parseFhirConfig } from './routes.js';
import { type FhirTestNode, requestToken, startFhirNode, tokenFor } from './testing.js';

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever FHIR JSON came back
type Any = any;

async function fails(p: Promise<unknown>): Promise<{ status: number; data: Any }> {
  try {
    await p;
  } catch (err) {
    const r = (err as { response?: { status: number; data: unknown } }).response;
    if (r === undefined) throw err;
    return { status: r.status, data: typeof r.data === 'string' ? JSON.parse(r.data) : r.data };
  }
  throw new Error('expected the request to fail');
}

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe('FHIR R4 endpoint', () => {
  let t: FhirTestNode;
  let client: Any;
  let patientId: string;

  before(async () => {
    t = await startFhirNode();
    client = new Client({ baseUrl: t.base, bearerToken: await tokenFor(t.base, t.orgKeys) });
  });
  after(async () => {
    await t.cleanup();
  });

  test('metadata is a CapabilityStatement naming the SMART token endpoint', async () => {
    const cs: Any = await new Client({ baseUrl: t.base }).capabilityStatement();
    assert.equal(cs.resourceType, 'CapabilityStatement');
    assert.equal(cs.fhirVersion, '4.0.1');
    const uris = cs.rest[0].security.extension[0].extension;
    assert.deepEqual(uris, [{ url: 'token', valueUri: `${t.base}/auth/token` }]);
    assert.ok(cs.rest[0].resource.some((r: Any) => r.type === 'Observation' && r.interaction.some((i: Any) => i.code === 'vread')));
  });

  test('token endpoint refuses replayed, mis-addressed, expired and foreign assertions', async () => {
    const tokenUrl = `${t.base}/auth/token`;
    const form = (assertion: string) => ({
      grant_type: 'client_credentials',
      client_assertion_type: JWT_BEARER,
      client_assertion: assertion,
    });
    const clientId = t.orgId;
    const good = await signClientAssertion({ clientId, privateKey: t.orgKeys.signing.privateKey, tokenUrl });
    assert.equal((await requestToken(t.base, form(good))).status, 200);
    const replay = await requestToken(t.base, form(good));
    assert.equal(replay.status, 401);
    assert.equal(replay.json.error, 'invalid_client');

    const wrongAud = await signClientAssertion({ clientId, privateKey: t.orgKeys.signing.privateKey, tokenUrl: 'http://elsewhere/token' });
    assert.equal((await requestToken(t.base, form(wrongAud))).json.error, 'invalid_client');
    const expired = await signClientAssertion({ clientId, privateKey: t.orgKeys.signing.privateKey, tokenUrl, now: Date.now() - 600_000 });
    assert.equal((await requestToken(t.base, form(expired))).status, 401);
    const tooLong = await signClientAssertion({ clientId, privateKey: t.orgKeys.signing.privateKey, tokenUrl, lifetimeS: 3600 });
    assert.equal((await requestToken(t.base, form(tooLong))).status, 401);
    // Signed by another key claiming to be the organization.
    const forged = await signClientAssertion({ clientId, privateKey: generateKeyBundle().signing.privateKey, tokenUrl });
    assert.equal((await requestToken(t.base, form(forged))).status, 401);
    // A registered identity that is not this organization's.
    const stranger = generateKeyBundle();
    t.node.submitTx(
      signTx(
        {
          v: 1,
          chain: 'test-chain',
          kind: 'identity.register',
          signer: stranger.signing.publicKey,
          nonce: 0,
          body: { role: 'patient', encryptionKey: stranger.encryption.publicKey },
        },
        stranger.signing.privateKey,
      ),
    );
    const strangerId = idFromPublicKey(stranger.signing.publicKey);
    await waitFor(() => getIdentity(t.node.chain.state, strangerId), 'stranger registered');
    await assert.rejects(tokenFor(t.base, stranger), /401 invalid_client/);
    const badType = await requestToken(t.base, { ...form(good), client_assertion_type: 'other' });
    assert.equal(badType.status, 400);
    const badGrant = await requestToken(t.base, { ...form(good), grant_type: 'password' });
    assert.equal(badGrant.json.error, 'unsupported_grant_type');
  });

  test('no token, or a made-up one, is 401 with an OperationOutcome', async () => {
    const anon = await fails(new Client({ baseUrl: t.base }).search({ resourceType: 'Observation' }));
    assert.equal(anon.status, 401);
    assert.equal(anon.data.resourceType, 'OperationOutcome');
    const fake = await fails(
      new Client({ baseUrl: t.base, bearerToken: 'ab'.repeat(32) }).read({ resourceType: 'Patient', id: 'a'.repeat(40) }),
    );
    assert.equal(fake.status, 401);
  });

  test('create Patient registers a custodial identity; create, read, update and vread an Observation', async () => {
    const patient: Any = await client.create({
      resourceType: 'Patient',
      body: { resourceType: 'Patient', gender: 'female', name: [{ family: 'Rivera' }] },
    });
    patientId = patient.id;
    assert.match(patientId, /^[0-9a-f]{40}$/);
    const identity = getIdentity(t.node.chain.state, patientId);
    assert.equal(identity?.role, 'patient');
    assert.deepEqual((await client.read({ resourceType: 'Patient', id: patientId })).name, [{ family: 'Rivera' }]);

    const obs = {
      resourceType: 'Observation',
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '8302-2' }], text: 'Body Height' },
      subject: { reference: `Patient/${patientId}` },
      effectiveDateTime: '2021-03-04T10:00:00Z',
      valueQuantity: { value: 170.5, unit: 'cm' },
    };
    const created: Any = await client.create({ resourceType: 'Observation', body: obs });
    assert.match(created.id, /^[0-9a-f]{32}$/);
    assert.equal(created.meta.versionId, created.id);
    const read: Any = await client.read({ resourceType: 'Observation', id: created.id });
    assert.deepEqual(read.valueQuantity, obs.valueQuantity);
    // The record on chain is in the Observation's own category.
    const { getRecord } = await import('@medledger/ehr');
    assert.equal(getRecord(t.node.chain.state, created.id)?.category, 'vital-signs');

    const updated: Any = await client.update({
      resourceType: 'Observation',
      id: created.id,
      body: { ...obs, id: created.id, status: 'amended', valueQuantity: { value: 171, unit: 'cm' } },
    });
    assert.notEqual(updated.meta.versionId, created.meta.versionId);
    assert.equal((await client.read({ resourceType: 'Observation', id: created.id })).status, 'amended');
    const v1: Any = await client.vread({ resourceType: 'Observation', id: created.id, version: created.meta.versionId });
    assert.equal(v1.status, 'final');
    assert.deepEqual(v1.valueQuantity, obs.valueQuantity);
    const noVersion = await fails(client.vread({ resourceType: 'Observation', id: created.id, version: '0'.repeat(32) }));
    assert.equal(noVersion.status, 404);
  });

  test('a Patient update is a new version under the same patient id; vread returns the first', async () => {
    const v1: Any = await client.read({ resourceType: 'Patient', id: patientId });
    const v2: Any = await client.update({ resourceType: 'Patient', id: patientId, body: { ...v1, name: [{ family: 'Rivera-Lee' }] } });
    assert.equal(v2.id, patientId);
    assert.notEqual(v2.meta.versionId, v1.meta.versionId);
    assert.deepEqual((await client.read({ resourceType: 'Patient', id: patientId })).name, [{ family: 'Rivera-Lee' }]);
    assert.deepEqual((await client.vread({ resourceType: 'Patient', id: patientId, version: v1.meta.versionId })).name, [
      { family: 'Rivera' },
    ]);
    const mismatch = await fails(client.update({ resourceType: 'Patient', id: patientId, body: { ...v1, id: 'a'.repeat(40) } }));
    assert.equal(mismatch.status, 400);
  });

  test('invalid resources are 400/422 OperationOutcomes naming the problem, and nothing is written', async () => {
    const before = t.node.chain.store.scanState(prefixes.patientRecords(patientId)).length;
    const badStatus = await fails(
      client.create({
        resourceType: 'Observation',
        body: { resourceType: 'Observation', status: 'guessed', code: { text: 'x' }, subject: { reference: `Patient/${patientId}` } },
      }),
    );
    assert.equal(badStatus.status, 422);
    assert.deepEqual(badStatus.data.issue[0].expression, ['Observation.status']);
    assert.equal(badStatus.data.issue[0].code, 'code-invalid');
    const missing = await fails(
      client.create({
        resourceType: 'Observation',
        body: { resourceType: 'Observation', status: 'final', subject: { reference: `Patient/${patientId}` } },
      }),
    );
    assert.equal(missing.status, 422);
    const noPatient = await fails(
      client.create({ resourceType: 'Observation', body: { resourceType: 'Observation', status: 'final', code: { text: 'x' } } }),
    );
    assert.equal(noPatient.status, 422);
    const wrongType = await fails(
      client.create({ resourceType: 'Condition', body: { resourceType: 'Observation', status: 'final', code: { text: 'x' } } }),
    );
    assert.equal(wrongType.status, 400);
    const unknownType = await fails(client.read({ resourceType: 'Spaceship', id: 'a'.repeat(32) }));
    assert.equal(unknownType.status, 404);
    assert.equal(t.node.chain.store.scanState(prefixes.patientRecords(patientId)).length, before);
  });

  test('a patient who never granted this organization anything is not readable, nor writable', async () => {
    const own = generateKeyBundle();
    t.node.submitTx(
      signTx(
        {
          v: 1,
          chain: 'test-chain',
          kind: 'identity.register',
          signer: own.signing.publicKey,
          nonce: 0,
          body: { role: 'patient', encryptionKey: own.encryption.publicKey },
        },
        own.signing.privateKey,
      ),
    );
    const ownId = idFromPublicKey(own.signing.publicKey);
    await waitFor(() => getIdentity(t.node.chain.state, ownId), 'patient registered');
    const write = await fails(
      client.create({
        resourceType: 'Observation',
        body: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${ownId}` } },
      }),
    );
    assert.equal(write.status, 403);
    const search: Any = await client.search({ resourceType: 'Observation', searchParams: { patient: ownId } });
    assert.equal(search.total, 0);
    const read = await fails(client.read({ resourceType: 'Patient', id: ownId }));
    assert.equal(read.status, 403);
  });

  test('transaction Bundle, then search by patient, _type, category and date with _count paging', async () => {
    const vitals = (i: number) => ({
      fullUrl: `urn:uuid:00000000-0000-0000-0000-00000000000${i}`,
      resource: {
        resourceType: 'Observation',
        status: 'final',
        category: [
          {
            coding: [
              { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: i % 2 === 0 ? 'vital-signs' : 'laboratory' },
            ],
          },
        ],
        code: { text: `m${i}` },
        subject: { reference: 'urn:uuid:patient-1' },
        encounter: { reference: 'urn:uuid:enc-1' },
        effectiveDateTime: `2019-0${i + 1}-15`,
      },
      request: { method: 'POST', url: 'Observation' },
    });
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:patient-1',
          resource: { resourceType: 'Patient', gender: 'male' },
          request: { method: 'POST', url: 'Patient' },
        },
        {
          fullUrl: 'urn:uuid:enc-1',
          resource: {
            resourceType: 'Encounter',
            status: 'finished',
            class: { code: 'AMB' },
            subject: { reference: 'urn:uuid:patient-1' },
            period: { start: '2019-01-01' },
          },
          request: { method: 'POST', url: 'Encounter' },
        },
        ...[0, 1, 2, 3, 4, 5].map(vitals),
      ],
    };
    const response: Any = await client.transaction({ body: bundle });
    assert.equal(response.type, 'transaction-response');
    assert.equal(response.entry.length, 8);
    assert.ok(response.entry.every((e: Any) => e.response.status === '201 Created'));
    const pid = response.entry[0].response.location.split('/')[1];
    const encId = response.entry[1].response.location.split('/')[1];
    const first: Any = await client.read({ resourceType: 'Observation', id: response.entry[2].response.location.split('/')[1] });
    assert.equal(first.subject.reference, `Patient/${pid}`);
    assert.equal(first.encounter.reference, `Encounter/${encId}`);

    const all: Any = await client.search({ resourceType: 'Observation', searchParams: { patient: pid, _count: 4 } });
    assert.equal(all.total, 6);
    assert.equal(all.entry.length, 4);
    const page2: Any = await client.nextPage({ bundle: all });
    assert.equal(page2.entry.length, 2);
    assert.equal(client.nextPage({ bundle: page2 }), undefined);
    const seen = new Set([...all.entry, ...page2.entry].map((e: Any) => e.resource.code.text));
    assert.equal(seen.size, 6);

    const vital: Any = await client.search({ resourceType: 'Observation', searchParams: { patient: pid, category: 'vital-signs' } });
    assert.deepEqual(vital.entry.map((e: Any) => e.resource.code.text).sort(), ['m0', 'm2', 'm4']);
    const dated: Any = await client.search({
      resourceType: 'Observation',
      searchParams: { patient: pid, date: ['ge2019-03-01', 'lt2019-05-01'] },
    });
    assert.deepEqual(dated.entry.map((e: Any) => e.resource.code.text).sort(), ['m2', 'm3']);
    const exactMonth: Any = await client.search({ resourceType: 'Observation', searchParams: { patient: pid, date: '2019-02' } });
    assert.deepEqual(
      exactMonth.entry.map((e: Any) => e.resource.code.text),
      ['m1'],
    );
    const system: Any = await client.search({ searchParams: { patient: pid, _type: 'Encounter,Patient' } });
    assert.deepEqual(system.entry.map((e: Any) => e.resource.resourceType).sort(), ['Encounter', 'Patient']);
    const unsupported = await fails(client.search({ resourceType: 'Observation', searchParams: { code: '1234' } }));
    assert.equal(unsupported.status, 400);
    const badDate = await fails(client.search({ resourceType: 'Observation', searchParams: { date: 'sa2019' } }));
    assert.equal(badDate.status, 400);
  });

  test('a date search reads (and logs) each candidate once across its pages, only as far as a page needs, never a type with no date', async () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:p-dated',
          resource: { resourceType: 'Patient', gender: 'female' },
          request: { method: 'POST', url: 'Patient' },
        },
        {
          resource: { resourceType: 'Practitioner', name: [{ family: 'Undated' }] },
          request: { method: 'POST', url: 'Practitioner' },
        },
        {
          resource: {
            resourceType: 'Encounter',
            status: 'finished',
            class: { code: 'AMB' },
            subject: { reference: 'urn:uuid:p-dated' },
            period: { start: '2019-01-01' },
          },
          request: { method: 'POST', url: 'Encounter' },
        },
        ...[0, 1, 2, 3, 4, 5].map((i) => ({
          resource: {
            resourceType: 'Observation',
            status: 'final',
            code: { text: `d${i}` },
            subject: { reference: 'urn:uuid:p-dated' },
            effectiveDateTime: `2019-0${i + 1}-15`,
          },
          request: { method: 'POST', url: 'Observation' },
        })),
      ],
    };
    const response: Any = await client.transaction({ body: bundle });
    const idAt = (i: number) => response.entry[i].response.location.split('/')[1] as string;
    const pid = idAt(0);
    const [practitioner, encounter] = [idAt(1), idAt(2)];
    const observations = [3, 4, 5, 6, 7, 8].map(idAt);
    // The org's allowed reads of each of this patient's records, once every read so far is on
    // chain: a read of the Encounter is queued after them, so when it is committed they are too.
    let sentinels = 0;
    const readsSoFar = async (): Promise<Map<string, number>> => {
      await client.read({ resourceType: 'Encounter', id: encounter });
      sentinels++;
      return waitFor(() => {
        const reads = new Map<string, number>();
        for (const [, v] of t.node.chain.store.scanState(prefixes.accessLog(pid))) {
          const e = JSON.parse(v);
          if (e.decision === 'allowed' && e.accessor === t.orgId) reads.set(e.record, (reads.get(e.record) ?? 0) + e.count);
        }
        return (reads.get(encounter) ?? 0) >= sentinels ? reads : undefined;
      }, 'access events committed');
    };
    const readsOf = (reads: Map<string, number>, ids: string[]) => ids.map((id) => reads.get(id) ?? 0);
    const before = await readsSoFar();
    assert.deepEqual(readsOf(before, observations), [0, 0, 0, 0, 0, 0]);

    // One page of one: reads candidates only until it has its match, leaves `total` out
    // (counting would read every record) and links to the next page.
    const one: Any = await client.search({ resourceType: 'Observation', searchParams: { patient: pid, date: 'ge2019-01-01', _count: 1 } });
    assert.equal(one.entry.length, 1);
    assert.equal(one.total, undefined);
    assert.ok(one.link.some((l: Any) => l.relation === 'next'));
    const afterOne = await readsSoFar();
    assert.equal(
      readsOf(afterOne, observations).reduce((a, b) => a + b, 0),
      1,
      'a page of one whose first candidate matches reads one record, not every candidate',
    );

    // Walk every page of a filtered search: each match once, and each candidate read once in
    // all (not once per page, as when every page re-read every candidate).
    const matched: string[] = [];
    let page: Any = await client.search({ resourceType: 'Observation', searchParams: { patient: pid, date: 'ge2019-03-01', _count: 2 } });
    for (let pages = 0; page !== undefined; pages++) {
      assert.ok(pages < 10, 'the next links end');
      assert.ok(page.entry.length <= 2);
      matched.push(...page.entry.map((e: Any) => e.resource.code.text));
      page = await client.nextPage({ bundle: page });
    }
    assert.deepEqual(matched.sort(), ['d2', 'd3', 'd4', 'd5']);
    const afterWalk = await readsSoFar();
    assert.deepEqual(
      readsOf(afterWalk, observations).map((n, i) => n - (readsOf(afterOne, observations)[i] as number)),
      [1, 1, 1, 1, 1, 1],
      'every candidate read exactly once over the pages',
    );

    // Across types: the Patient and Practitioner have no date, so they are never read for a
    // `date` search; one page that read every candidate gives `total`.
    const across: Any = await client.search({ searchParams: { patient: pid, date: '2019-02' } });
    assert.deepEqual(
      across.entry.map((e: Any) => e.resource.code?.text),
      ['d1'],
    );
    assert.equal(across.total, 1);
    const afterAcross = await readsSoFar();
    assert.equal(afterAcross.get(pid) ?? 0, 0, 'the Patient is not read by a date search');
    assert.equal(afterAcross.get(practitioner) ?? 0, 0, 'nor the Practitioner');
    // The Encounter was a candidate (read once) besides the reads that mark each checkpoint.
    assert.equal(afterAcross.get(encounter), sentinels + 1);
    assert.deepEqual(
      readsOf(afterAcross, observations).map((n, i) => n - (readsOf(afterWalk, observations)[i] as number)),
      [1, 1, 1, 1, 1, 1],
    );
  });

  test('a transaction with one invalid entry writes nothing', async () => {
    const patientsBefore = t.node.chain.store.scanState('identity/').length;
    const bad = await fails(
      client.transaction({
        body: {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [
            { fullUrl: 'urn:uuid:p', resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
            {
              resource: { resourceType: 'Observation', status: 'nope', code: { text: 'x' }, subject: { reference: 'urn:uuid:p' } },
              request: { method: 'POST', url: 'Observation' },
            },
          ],
        },
      }),
    );
    assert.equal(bad.status, 422);
    assert.match(bad.data.issue[0].expression[0], /Observation.status/);
    assert.equal(t.node.chain.store.scanState('identity/').length, patientsBefore);
  });

  test('every read is an access event on chain, naming the organization', async () => {
    const log = await waitFor(() => {
      const events = t.node.chain.store.scanState(prefixes.accessLog(patientId)).map(([, v]) => JSON.parse(v));
      return events.some((e: Any) => e.decision === 'allowed' && e.accessor === t.orgId) ? events : undefined;
    }, 'access events committed');
    assert.ok(log.every((e: Any) => e.patient === patientId));
  });

  test('a read of an id that is not of that type is refused and recorded as a denied access', async () => {
    const obs: Any = await client.create({
      resourceType: 'Observation',
      body: { resourceType: 'Observation', status: 'final', code: { text: 'probe' }, subject: { reference: `Patient/${patientId}` } },
    });
    const probe = await fails(client.read({ resourceType: 'Condition', id: obs.id }));
    assert.equal(probe.status, 403);
    const unknown = await fails(client.read({ resourceType: 'Condition', id: 'f'.repeat(32) }));
    assert.equal(unknown.status, 403, 'an unknown id looks the same as a refused one');
    await waitFor(() => {
      const events = t.node.chain.store.scanState(prefixes.accessLog(patientId)).map(([, v]) => JSON.parse(v));
      return events.find((e: Any) => e.record === obs.id && e.decision === 'denied' && e.reason === 'UNKNOWN_RECORD');
    }, 'denied access event committed');
  });

  test('a transaction Bundle larger than the node API body limit (1 MiB) is read, not refused for size', async () => {
    const big = 'x'.repeat(1_500_000);
    const answer = await fails(
      client.transaction({
        body: {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [{ resource: { resourceType: 'Basic', code: { text: big } }, request: { method: 'POST', url: 'Basic' } }],
        },
      }),
    );
    assert.equal(answer.status, 422, 'a Basic without a patient is unprocessable, which means the body was read');
  });

  test('a revoked staff member loses their token at once; an active one reads', async () => {
    const staff = generateKeyBundle();
    const staffId = idFromPublicKey(staff.signing.publicKey);
    const { submitAs } = await import('./testing.js');
    await submitAs(t, t.orgKeys, 'staff.register', {
      publicKey: staff.signing.publicKey,
      encryptionKey: staff.encryption.publicKey,
      role: 'clinician',
    });
    await waitFor(() => getIdentity(t.node.chain.state, staffId), 'staff registered');
    const staffClient: Any = new Client({ baseUrl: t.base, bearerToken: await tokenFor(t.base, staff) });
    assert.equal((await staffClient.read({ resourceType: 'Patient', id: patientId })).resourceType, 'Patient');
    await submitAs(t, t.orgKeys, 'staff.revoke', { id: staffId });
    await waitFor(() => (getIdentity(t.node.chain.state, staffId)?.status === 'revoked' ? true : undefined), 'staff revoked');
    assert.equal((await fails(staffClient.read({ resourceType: 'Patient', id: patientId }))).status, 401);
  });
});

describe('FHIR configuration', () => {
  test('without a fhir entry in config.json the node serves no FHIR endpoint', async () => {
    const plain = await startSoloNode();
    try {
      assert.equal((await fetch(`${plain.url}/fhir/R4/metadata`)).status, 404);
    } finally {
      await plain.cleanup();
    }
  });

  test('a malformed fhir entry is refused with a message naming the field', () => {
    assert.equal(parseFhirConfig(undefined, '/home'), undefined);
    assert.equal(parseFhirConfig({ enabled: false }, '/home'), undefined);
    assert.equal(parseFhirConfig({}, '/home')?.orgKeyHome, '/home');
    assert.throws(() => parseFhirConfig({ baseUrl: 'ftp://x' }, '/home'), /fhir.baseUrl/);
    assert.throws(() => parseFhirConfig({ bodyLimitBytes: -1 }, '/home'), /fhir.bodyLimitBytes/);
    assert.throws(() => parseFhirConfig('yes', '/home'), /config.fhir must be an object/);
  });

  test('fhir.smartClients: each identity id with its scopes; a malformed id or scope is refused, naming the entry', () => {
    const id = 'ab'.repeat(20);
    const other = 'cd'.repeat(20);
    const cfg = parseFhirConfig({ smartClients: { [id]: ' system/*.read  system/Claim.c system/*.read', [other]: 'system/*.*' } }, '/home');
    assert.deepEqual(
      [...(cfg?.smartClients ?? [])],
      [
        [id, ['system/*.read', 'system/Claim.c']],
        [other, ['system/*.*']],
      ],
    );
    assert.equal(cfg?.smartClientsOnly, false);
    assert.equal(parseFhirConfig({}, '/home')?.smartClients.size, 0);
    assert.equal(parseFhirConfig({ smartClients: { [id]: 'system/*.rs' }, smartClientsOnly: true }, '/home')?.smartClientsOnly, true);
    const refused: Array<[unknown, RegExp]> = [
      [{ smartClients: [id] }, /config\.fhir\.smartClients must be an object/],
      [{ smartClients: 'system/*.rs' }, /config\.fhir\.smartClients must be an object/],
      [{ smartClients: { [id.slice(2)]: 'system/*.rs' } }, new RegExp(`smartClients: '${id.slice(2)}' is not an identity id`)],
      [{ smartClients: { [id.toUpperCase()]: 'system/*.rs' } }, /is not an identity id \(40 lowercase hex/],
      [{ smartClients: { 'org-analytics': 'system/*.rs' } }, /'org-analytics' is not an identity id/],
      [{ smartClients: { [id]: ['system/*.rs'] } }, new RegExp(`smartClients\\.${id} must be a string of space-separated scopes`)],
      [{ smartClients: { [id]: ' ' } }, new RegExp(`smartClients\\.${id} must be a string`)],
      [
        { smartClients: { [id]: 'system/*.rs patient/*.read' } },
        new RegExp(`smartClients\\.${id}: 'patient/\\*\\.read' is not a system scope`),
      ],
      [{ smartClients: { [id]: 'system/*.sr' } }, /'system\/\*\.sr' is not a system scope this server grants/],
      [{ smartClients: { [id]: 'system/Observation.' } }, /'system\/Observation\.' is not a system scope/],
      [{ smartClients: { [id]: 'system/*.rs' }, smartClientsOnly: 'yes' }, /config\.fhir\.smartClientsOnly must be true or false/],
      [{ smartClientsOnly: true }, /smartClientsOnly is true but config\.fhir\.smartClients lists no client/],
    ];
    for (const [raw, message] of refused) assert.throws(() => parseFhirConfig(raw, '/home'), message, JSON.stringify(raw));
  });

  test('a node whose fhir.smartClients names no identity refuses to start, saying which entry', async () => {
    // A node that starts anyway is stopped, so the failure is reported rather than left running.
    const started = startSoloNode({ config: { fhir: { smartClients: { analytics: 'system/*.rs' } } } });
    await assert.rejects(
      started.then(async (n) => n.cleanup()),
      /config\.fhir\.smartClients: 'analytics' is not an identity id/,
    );
  });
});
