// The patient's access log on a real node over HTTP (docs/records.md "Access log"): a flood
// of refused reads cannot bury a break-glass read, every list pages with a cursor, the FHIR
// endpoint and /v1 share one read gate, and attempts without a session are on the record.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  type AccessEvent,
  allItems,
  type ClientError,
  MedLedgerClient,
  openEmergency,
  setEmergencyPrivilege,
  staffRegisterBody,
  TrustedGenesis,
} from '@medledger/client';
import { generateKeyBundle, idFromPublicKey, type KeyBundle } from '@medledger/crypto';
import { tokenFor } from './fhir/testing.js';
import { readOrgKey } from './home.js';
import { startSoloNode, TEST_PASSPHRASE, type TestNode, waitFor } from './testing/index.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

let t: TestNode;
let base = '';
let orgKeys: KeyBundle;
/** The genesis the SDK clients here trust: the test node's own. */
const trusted = () => TrustedGenesis.fromDocument(t.node.chain.genesis);
const org = () => new MedLedgerClient({ genesis: trusted(), url: t.url, keys: orgKeys });

before(async () => {
  // The flood is the point here, not the rate limiter: give it room (api-limits.test.ts tests the limiter).
  t = await startSoloNode({ config: { fhir: {}, rateLimit: { windowMs: 10_000, perIdentity: 1_000_000, perIp: 1_000_000 } } });
  base = `${t.url}/fhir/R4`;
  orgKeys = readOrgKey(join(t.dir, 'node0'));
});
after(async () => {
  await t.cleanup();
});

const allergy = (text: string) => ({ resourceType: 'AllergyIntolerance', code: { text }, criticality: 'high' });
const hasCode = (code: string, status?: number) => (e: ClientError) => e.code === code && (status === undefined || e.status === status);

async function newPatient(records = 1) {
  const client = new MedLedgerClient({ genesis: trusted(), url: t.url, keys: generateKeyBundle() });
  const { id } = await client.registerPatient();
  const ids: string[] = [];
  for (let i = 0; i < records; i++)
    ids.push((await client.writeRecord({ patient: id, resource: allergy(`allergy ${i}`), category: 'allergies' })).recordId);
  return { client, id, records: ids };
}

async function clinician(name: string, privileged = false) {
  const keys = generateKeyBundle();
  await org().submitAndWait(
    'staff.register',
    staffRegisterBody({ publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role: 'clinician', name }),
  );
  const id = idFromPublicKey(keys.signing.publicKey);
  if (privileged) await setEmergencyPrivilege(org(), id);
  return { client: new MedLedgerClient({ genesis: trusted(), url: t.url, keys }), id, keys };
}

/** Run `task` `n` times, `width` at a time. */
async function pool(n: number, width: number, task: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

/** An authenticated GET as its status, body and error code (no throw). */
async function fetchPage(client: MedLedgerClient, path: string): Promise<{ status: number; body: Record<string, unknown>; code?: string }> {
  try {
    return { status: 200, body: (await client.get(path, { auth: true })) as Record<string, unknown> };
  } catch (err) {
    const e = err as ClientError;
    return { status: e.status ?? 0, body: {}, code: e.code };
  }
}

const byAccessor = (events: AccessEvent[], accessor: string | null) => events.filter((e) => e.accessor === accessor);
const total = (events: AccessEvent[]) => events.reduce((n, e) => n + e.count, 0);

test('a flood of 10,000 refused reads cannot push a break-glass read off the top of the patient’s log', { timeout: 600_000 }, async () => {
  const patient = await newPatient(1);
  const record = patient.records[0] as string;
  // Anyone signed in can be refused: a self-registered identity reads a record id seen in a block.
  const attacker = new MedLedgerClient({ genesis: trusted(), url: t.url, keys: generateKeyBundle() });
  await attacker.registerPatient();
  const FLOOD = 10_000;
  await pool(FLOOD, 32, async () => {
    await assert.rejects(attacker.readRecord(record), hasCode('ACCESS_DENIED', 403));
  });
  // Every refusal is counted, in a handful of events (one per hour of block time, at most two here).
  const flood = await waitFor(
    async () => {
      const mine = byAccessor(await patient.client.accessLog(patient.id), attacker.id);
      return total(mine) === FLOOD ? mine : undefined;
    },
    'all 10,000 refusals on chain',
    120_000,
  );
  assert.ok(flood.length <= 2, `the flood is ${flood.length} events`);
  assert.ok(flood.every((e) => e.decision === 'denied' && e.reason === 'NO_GRANT' && e.record === record));

  // Then a break-glass read.
  const doctor = await clinician('Dr Break Glass', true);
  await openEmergency(doctor.client, { patient: patient.id, reason: 'unconscious, allergies unknown', durationMs: 10 * 60_000 });
  assert.deepEqual((await doctor.client.readRecord(record)).resource, allergy('allergy 0'));
  const isTheRead = (e: AccessEvent | undefined) =>
    e !== undefined && e.accessor === doctor.id && e.emergency && e.decision === 'allowed' && e.record === record;
  await waitFor(
    async () => (isTheRead((await patient.client.accessLogPage(patient.id, { limit: 1 })).emergency[0]) ? true : undefined),
    'the read',
  );

  // It tops the log through the raw API (one page of one) and the SDK…
  const session = await patient.client.accessLogPage(patient.id, { limit: 1 });
  assert.ok(isTheRead(session.events[0]), 'the newest event of the whole log');
  assert.ok(isTheRead(session.emergency[0]), 'and first of the emergency section');
  assert.notEqual(session.next, null, 'older events are a page away, and the answer says so');

  // …and more refusals afterwards, by others and by callers without a session, do not move it
  // out of the emergency section.
  const second = new MedLedgerClient({ genesis: trusted(), url: t.url, keys: generateKeyBundle() });
  await second.registerPatient();
  await pool(500, 16, async (i) => {
    if (i % 2 === 0) await assert.rejects(second.readRecord(record), hasCode('ACCESS_DENIED', 403));
    else assert.equal((await fetch(`${t.url}/v1/records/${record}`)).status, 401);
  });
  await waitFor(async () => {
    const log = await patient.client.accessLog(patient.id);
    return total(byAccessor(log, second.id)) === 250 && total(byAccessor(log, null)) >= 250 ? true : undefined;
  }, 'the second flood on chain');
  const later = await patient.client.accessLogPage(patient.id, { limit: 1 });
  assert.ok(!isTheRead(later.events[0]), 'the newest event is now a refusal');
  assert.ok(isTheRead(later.emergency[0]), 'the break-glass read still heads the emergency section');
  const emergencyOnly = await patient.client.emergencyAccesses(patient.id);
  assert.deepEqual(
    emergencyOnly.map((e) => e.accessor),
    [doctor.id],
  );
});

test('a read without a session, or with a dead token, is in the patient’s log with no identity; malformed ids are logged too', async () => {
  const patient = await newPatient(1);
  const record = patient.records[0] as string;
  assert.equal((await fetch(`${t.url}/v1/records/${record}`)).status, 401);
  const dead = await fetch(`${t.url}/v1/records/${record}`, { headers: { authorization: `Bearer ${'ab'.repeat(32)}` } });
  assert.equal(dead.status, 401);
  assert.equal(((await dead.json()) as { error: { code: string } }).error.code, 'UNAUTHENTICATED');
  assert.equal((await fetch(`${base}/AllergyIntolerance/${record}`)).status, 401, 'the FHIR endpoint too');
  const log = await waitFor(async () => {
    const events = byAccessor(await patient.client.accessLog(patient.id), null);
    return total(events) === 3 ? events : undefined;
  }, 'the anonymous attempts on chain');
  assert.ok(log.every((e) => e.record === record && e.decision === 'denied' && e.reason === 'UNAUTHENTICATED'));
  assert.ok(log.every((e) => e.patient === patient.id && e.purpose === null));

  // Malformed ids name no patient: they go to the log of unknown records, counted.
  const before = (await patient.client.accessLog(patient.id)).length;
  const bad = await fetch(`${t.url}/v1/records/not-a-record-id`);
  assert.equal(bad.status, 401, 'no session comes first');
  const signedIn = await fetchPage(patient.client, `/v1/records/${record.slice(0, 10)}`);
  assert.equal(signedIn.status, 400);
  assert.equal(signedIn.code, 'INVALID_PARAM');
  await waitFor(async () => {
    const unknown = t.node.chain.store.scanState('access/-/').map(([, v]) => JSON.parse(v) as AccessEvent);
    const malformed = unknown.filter((e) => e.reason === 'MALFORMED_REQUEST' && e.accessor === patient.id);
    return malformed.length > 0 ? true : undefined;
  }, 'the malformed request on chain');
  assert.equal((await patient.client.accessLog(patient.id)).length, before, "a malformed id is not put in anyone's log");
});

test('every list pages with a cursor: following next yields each item exactly once, and bad cursors are refused', async () => {
  const patient = await newPatient(7);
  const doctor = await clinician('Dr Pages', true);
  const nurse = await clinician('Nurse Pages');
  // Two grants to one grantee (one key, two items), one to another, one to the organization.
  const orgId = idFromPublicKey(orgKeys.signing.publicKey);
  await patient.client.grant({ grantee: doctor.id, categories: ['allergies'], purpose: 'treatment' });
  await patient.client.grant({ grantee: doctor.id, categories: ['allergies'], purpose: 'research' });
  await patient.client.grant({ grantee: nurse.id, categories: ['allergies'], purpose: 'treatment' });
  await patient.client.grant({ grantee: orgId, categories: ['allergies'], purpose: 'operations' });
  for (const r of patient.records) await doctor.client.readRecord(r, 'treatment');
  await waitFor(async () => ((await patient.client.accessLog(patient.id)).length >= 7 ? true : undefined), 'the reads on chain');
  // Two windows by one clinician on two patients.
  const other = await newPatient(1);
  for (const p of [patient.id, other.id]) await openEmergency(doctor.client, { patient: p, reason: 'paging test', durationMs: 60_000 });

  const lists: Array<{
    name: string;
    client: MedLedgerClient;
    path: string;
    field: string;
    key: (x: Record<string, unknown>) => string;
    min?: number;
  }> = [
    {
      name: 'records',
      client: patient.client,
      path: `/v1/patients/${patient.id}/records`,
      field: 'records',
      key: (r) => String(r.record),
    },
    {
      name: 'grants',
      client: patient.client,
      path: `/v1/patients/${patient.id}/grants?all=true`,
      field: 'grants',
      key: (g) => String(g.id),
    },
    { name: 'me/grants', client: doctor.client, path: '/v1/me/grants', field: 'grants', key: (g) => String(g.id) },
    {
      name: 'access log',
      client: patient.client,
      path: `/v1/patients/${patient.id}/access-log`,
      field: 'events',
      key: (e) => `${e.node}-${e.id}`,
    },
    { name: 'me/emergency', client: doctor.client, path: '/v1/me/emergency', field: 'windows', key: (w) => String(w.id) },
    { name: 'org emergency', client: org(), path: `/v1/orgs/${orgId}/emergency`, field: 'windows', key: (w) => String(w.id) },
    {
      name: 'patient emergency',
      client: patient.client,
      path: `/v1/patients/${patient.id}/emergency`,
      field: 'windows',
      key: (w) => String(w.id),
      min: 1,
    },
  ];
  const sep = (path: string) => (path.includes('?') ? '&' : '?');
  for (const list of lists) {
    const whole = await fetchPage(list.client, `${list.path}${sep(list.path)}limit=500`);
    assert.equal(whole.status, 200, list.name);
    assert.equal(whole.body.next, null, `${list.name}: one page of 500 is the whole list`);
    const expected = (whole.body[list.field] as Array<Record<string, unknown>>).map(list.key);
    assert.ok(expected.length >= (list.min ?? 2), `${list.name} has ${expected.length} items`);
    for (const limit of [1, 2]) {
      const pages = await allItems(async (cursor) => {
        const page = await fetchPage(
          list.client,
          `${list.path}${sep(list.path)}limit=${limit}${cursor === undefined ? '' : `&cursor=${cursor}`}`,
        );
        assert.equal(page.status, 200, list.name);
        const items = page.body[list.field] as Array<Record<string, unknown>>;
        assert.ok(items.length <= limit, `${list.name}: a page holds at most limit items`);
        assert.ok('next' in page.body, `${list.name}: every page says whether more exist`);
        return { items: items.map(list.key), next: page.body.next as string | null };
      });
      assert.deepEqual(pages, expected, `${list.name}, ${limit} a page: every item once, in order`);
    }
  }
  for (const query of ['limit=0', 'limit=501', 'limit=x', 'cursor=bm90IGEgY3Vyc29y', 'cursor=%7B%7D']) {
    const res = await fetchPage(patient.client, `/v1/patients/${patient.id}/records?${query}`);
    assert.equal(res.status, 400, query);
    assert.equal(res.code, 'INVALID_PARAM', query);
  }
  // A cursor from one list is no key to another.
  const first = await fetchPage(patient.client, `/v1/patients/${patient.id}/access-log?limit=1`);
  const foreign = await fetchPage(patient.client, `/v1/patients/${patient.id}/records?cursor=${first.body.next}`);
  assert.equal(foreign.code, 'INVALID_PARAM');
});

test('one read gate: the FHIR endpoint honours purpose and emergency windows exactly like /v1', async () => {
  const patient = await newPatient(0);
  const doctor = await clinician('Dr One Gate', true);
  const orgId = idFromPublicKey(orgKeys.signing.publicKey);
  // Grants for research only, to the clinician and to the organization (whose FHIR system reads).
  const toDoctor = await patient.client.grant({ grantee: doctor.id, categories: ['allergies'], purpose: 'research' });
  const toOrg = await patient.client.grant({ grantee: orgId, categories: ['allergies'], purpose: 'research' });
  const write = async (text: string) =>
    (await patient.client.writeRecord({ patient: patient.id, resource: allergy(text), category: 'allergies' })).recordId;
  const viaV1 = await write('read through /v1');
  const viaFhir = await write('read through FHIR');
  const token = await tokenFor(base, doctor.keys);
  const fhirRead = (id: string, purpose?: string) =>
    fetch(`${base}/AllergyIntolerance/${id}`, {
      headers: { authorization: `Bearer ${token}`, ...(purpose === undefined ? {} : { 'x-purpose-of-use': purpose }) },
    });

  // The wrong purpose is refused on both paths, for the same reason.
  await assert.rejects(doctor.client.readRecord(viaV1, 'treatment'), hasCode('ACCESS_DENIED', 403));
  assert.equal((await fhirRead(viaFhir, 'treatment')).status, 403);
  assert.equal((await fhirRead(viaFhir, 'nonsense')).status, 400);
  // The granted purpose, or none, is allowed on both.
  await doctor.client.readRecord(viaV1, 'research');
  assert.equal((await fhirRead(viaFhir, 'research')).status, 200);
  assert.equal((await fhirRead(viaFhir)).status, 200);
  const reasonsFor = async (record: string) =>
    (await patient.client.accessLog(patient.id)).filter((e) => e.record === record && e.accessor === doctor.id).map((e) => e.reason);
  await waitFor(async () => ((await reasonsFor(viaFhir)).length === 3 ? true : undefined), 'the FHIR reads on chain');
  assert.deepEqual((await reasonsFor(viaV1)).sort(), ['OK', 'PURPOSE_MISMATCH']);
  assert.deepEqual((await reasonsFor(viaFhir)).sort(), ['OK', 'OK', 'PURPOSE_MISMATCH']);

  // Revoked: refused on both; then in a break-glass window, served on both and tagged emergency.
  await patient.client.revoke(toDoctor.grantId);
  await patient.client.revoke(toOrg.grantId);
  await assert.rejects(doctor.client.readRecord(viaV1), hasCode('ACCESS_DENIED', 403));
  assert.equal((await fhirRead(viaFhir)).status, 403);
  await openEmergency(doctor.client, { patient: patient.id, reason: 'one gate', durationMs: 10 * 60_000 });
  assert.deepEqual((await doctor.client.readRecord(viaV1)).resource, allergy('read through /v1'));
  const served = await fhirRead(viaFhir);
  assert.equal(served.status, 200);
  assert.equal(((await served.json()) as { code: { text: string } }).code.text, 'read through FHIR');
  const emergency = await waitFor(async () => {
    const events = (await patient.client.accessLogPage(patient.id)).emergency.filter((e) => e.decision === 'allowed');
    return events.length === 2 ? events : undefined;
  }, 'both emergency reads in the emergency section');
  assert.deepEqual(emergency.map((e) => e.record).sort(), [viaV1, viaFhir].sort());
  assert.ok(emergency.every((e) => e.accessor === doctor.id && e.emergency));
});
