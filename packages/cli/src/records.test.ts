// Records end to end over real HTTP: a patient writes an encrypted record, reads it back,
// grants another identity access, which reads it until revoked; every read is in the log.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type ClientError, MedLedgerClient, staffRegisterBody, TrustedGenesis } from '@medledger/client';
import { generateKeyBundle, idFromPublicKey } from '@medledger/crypto';
import { readOrgKey } from '@medledger/node';
import { startSoloNode, TEST_PASSPHRASE, type TestNode, waitFor } from '@medledger/node/testing';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

/** The genesis the SDK clients of this file trust: the test network's own. */
const trusted = () => TrustedGenesis.fromDocument(net.node.chain.genesis);

const CANARY = 'CANARY-7f3a-plaintext-must-never-reach-a-node';
let net: TestNode;

before(async () => {
  net = await startSoloNode();
});
after(async () => {
  await net.cleanup();
});

const observation = {
  resourceType: 'Observation',
  status: 'final',
  code: { text: 'Body weight' },
  valueQuantity: { value: 72.5, unit: 'kg' },
  note: [{ text: CANARY }],
};

test('write, read, grant, revoke: only the allowed reads succeed and every read is logged', async () => {
  const patient = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: generateKeyBundle() });
  const reader = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: generateKeyBundle() });
  const { id: patientId } = await patient.registerPatient();
  const { id: readerId } = await reader.registerPatient();

  const { recordId } = await patient.writeRecord({ patient: patientId, resource: observation, category: 'vital-signs' });
  const own = await patient.readRecord(recordId);
  assert.deepEqual(own.resource, observation);

  await assert.rejects(reader.readRecord(recordId), (e: ClientError) => e.code === 'ACCESS_DENIED' && e.status === 403);

  const { grantId } = await reader
    .myGrants()
    .then(() => patient.grant({ grantee: readerId, categories: ['vital-signs'], purpose: 'treatment' }));
  const shared = await reader.readRecord(recordId, 'treatment');
  assert.deepEqual(shared.resource, observation);
  await assert.rejects(reader.readRecord(recordId, 'research'), (e: ClientError) => e.code === 'ACCESS_DENIED');

  await patient.revoke(grantId);
  await assert.rejects(reader.readRecord(recordId, 'treatment'), (e: ClientError) => e.code === 'ACCESS_DENIED');

  // The denied and allowed reads all reach the chain and the patient's log.
  const deadline = Date.now() + 15_000;
  let log = await patient.accessLog(patientId);
  while (log.filter((e) => e.accessor === readerId).length < 4 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    log = await patient.accessLog(patientId);
  }
  const byReader = log.filter((e) => e.accessor === readerId).map((e) => `${e.decision}:${e.reason}`);
  assert.deepEqual(byReader.sort(), ['allowed:OK', 'denied:NO_GRANT', 'denied:PURPOSE_MISMATCH', 'denied:REVOKED'].sort());

  // Erasure: the patient erases, reads answer 410.
  await patient.erase(recordId);
  await assert.rejects(patient.readRecord(recordId), (e: ClientError) => e.code === 'RECORD_ERASED' && e.status === 410);
});

test('reads without a session, or with a forged sign-in, are refused', async () => {
  const res = await fetch(`${net.url}/v1/records/${'ab'.repeat(16)}`);
  assert.equal(res.status, 401);
  const challenge = (await (
    await fetch(`${net.url}/v1/auth/challenge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ publicKey: generateKeyBundle().signing.publicKey }),
    })
  ).json()) as { challenge: string };
  const forged = await fetch(`${net.url}/v1/auth/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ publicKey: generateKeyBundle().signing.publicKey, challenge: challenge.challenge, signature: '00'.repeat(64) }),
  });
  assert.equal(forged.status, 401);
});

test('an organization registers a clinician, who reads only what the patient granted; no plaintext reaches the node', async () => {
  const home = join(net.dir, 'node0');
  const org = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: readOrgKey(home) });
  const clinicianKeys = generateKeyBundle();
  const clinician = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: clinicianKeys });
  await org.submitAndWait(
    'staff.register',
    staffRegisterBody({
      publicKey: clinicianKeys.signing.publicKey,
      encryptionKey: clinicianKeys.encryption.publicKey,
      role: 'clinician',
      name: 'Dr Meredith Grey',
    }),
  );
  const clinicianId = idFromPublicKey(clinicianKeys.signing.publicKey);
  const patient = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: generateKeyBundle() });
  const { id: patientId } = await patient.registerPatient();
  const vital = await patient.writeRecord({ patient: patientId, resource: observation, category: 'vital-signs' });
  const lab = await patient.writeRecord({
    patient: patientId,
    resource: { resourceType: 'Observation', status: 'final', code: { text: 'Glucose' }, note: [{ text: CANARY }] },
    category: 'laboratory',
  });
  await assert.rejects(clinician.readRecord(vital.recordId), (e: ClientError) => e.code === 'ACCESS_DENIED');
  await patient.grant({ grantee: clinicianId, categories: ['vital-signs'], purpose: 'treatment' });
  assert.deepEqual((await clinician.readRecord(vital.recordId)).resource, observation);
  await assert.rejects(clinician.readRecord(lab.recordId), (e: ClientError) => e.code === 'ACCESS_DENIED');
  // A clinician's list shows only what the grant covers.
  const listed = await clinician.listRecords(patientId);
  assert.deepEqual(
    listed.map((r) => r.record),
    [vital.recordId],
  );
  // The plaintext canary is in no file of the node's database (blocks, state, vault, WAL).
  const data = join(home, 'data');
  for (const name of readdirSync(data)) {
    assert.equal(readFileSync(join(data, name)).includes(CANARY), false, `${name} holds plaintext`);
  }
});

test('attacks over HTTP: a replayed consent, a forged signature and smuggled owner fields are refused', async () => {
  const patient = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: generateKeyBundle() });
  const other = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: generateKeyBundle() });
  const { id: patientId } = await patient.registerPatient();
  const { id: otherId } = await other.registerPatient();
  const grantBody = {
    patient: patientId,
    grantee: otherId,
    scope: { categories: ['vital-signs'] },
    access: 'read' as const,
    purpose: 'treatment' as const,
  };
  const sent = await patient.submit('consent.grant', grantBody);
  await patient.waitForTx(sent.hash);
  const post = (tx: unknown) =>
    fetch(`${net.url}/v1/txs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(tx) }).then(
      async (r) => ({ status: r.status, code: ((await r.json()) as { error?: { code: string } }).error?.code }),
    );
  // The same signed grant again: its nonce is spent, even though the grant was revocable state.
  assert.deepEqual(await post(sent.tx), { status: 409, code: 'NONCE_REUSED' });
  // A grant whose grantee was changed after signing: the signature no longer verifies.
  assert.deepEqual(await post({ ...sent.tx, nonce: sent.tx.nonce + 1, body: { ...grantBody, grantee: patientId } }), {
    status: 400,
    code: 'BAD_SIGNATURE',
  });
  // The grantee tries to make itself owner of a record by adding a field the kind does not accept.
  await assert.rejects(
    other.submit('consent.revoke', { grant: 'ab'.repeat(16), owner: otherId } as never),
    (e: ClientError) => e.code === 'INVALID_BODY' && e.status === 400,
  );
  // And the grantee cannot revoke, widen or erase on the patient's behalf.
  const grants = await patient.grants(patientId);
  await assert.rejects(
    other.submit('consent.revoke', { grant: grants[0]?.id as string }),
    (e: ClientError) => e.code === 'UNAUTHORIZED' && e.status === 403,
  );
  await assert.rejects(
    other.submit('consent.grant', { ...grantBody, grantee: otherId, access: 'read-write' }),
    (e: ClientError) => e.code === 'UNAUTHORIZED',
  );
});

test('on an idle chain an expired grant is refused although no block has been made since it expired', async () => {
  const patient = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: generateKeyBundle() });
  const reader = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: generateKeyBundle() });
  const { id: patientId } = await patient.registerPatient();
  const { id: readerId } = await reader.registerPatient();
  const { recordId } = await patient.writeRecord({ patient: patientId, resource: observation, category: 'vital-signs' });
  const expiresAt = Date.now() + 1_500;
  await patient.grant({ grantee: readerId, categories: ['vital-signs'], purpose: 'treatment', expiresAt });
  assert.deepEqual((await reader.readRecord(recordId, 'treatment')).resource, observation);
  // Wait out the grant with no transaction in between; this test node makes no empty blocks.
  await new Promise((r) => setTimeout(r, expiresAt - Date.now() + 100));
  const status = (await (await fetch(`${net.url}/v1/status`)).json()) as { lastBlockTime: number };
  assert.ok(status.lastBlockTime < expiresAt, 'the latest block is older than the expiry');
  await assert.rejects(reader.readRecord(recordId, 'treatment'), (e: ClientError) => e.code === 'ACCESS_DENIED');
});

test('a clinician with no grant learns nothing by reading ids or listing: unknown and refused look the same', async () => {
  const patient = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: generateKeyBundle() });
  const snoop = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: generateKeyBundle() });
  const { id: patientId } = await patient.registerPatient();
  const { id: snoopId } = await snoop.registerPatient();
  const { recordId } = await patient.writeRecord({ patient: patientId, resource: observation, category: 'vital-signs' });
  const token = (await snoop.signIn()).token;
  const ask = async (id: string) => {
    const res = await fetch(`${net.url}/v1/records/${id}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: await res.json() };
  };
  const existing = await ask(recordId);
  const madeUp = await ask('5a'.repeat(16));
  assert.equal(existing.status, 403);
  assert.deepEqual(existing, madeUp, 'a refused read of a real record answers exactly like an unknown id');
  assert.deepEqual(await snoop.listRecords(patientId), [], 'the list shows nothing without a grant');
  // The attempt on the real record is on the patient's log.
  await waitFor(async () => {
    const log = await patient.accessLog(patientId);
    return log.some((e) => e.accessor === snoopId && e.decision === 'denied' && e.reason === 'NO_GRANT') ? true : undefined;
  }, 'the snoop in the access log');
});

test('a record shared with an organization: its admin reads it; a staff device is told the organization holds the key', async () => {
  const home = join(net.dir, 'node0');
  const orgKeys = readOrgKey(home);
  const org = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: orgKeys });
  const staffKeys = generateKeyBundle();
  await org.submitAndWait(
    'staff.register',
    staffRegisterBody({ publicKey: staffKeys.signing.publicKey, encryptionKey: staffKeys.encryption.publicKey, role: 'clinician' }),
  );
  const staffId = idFromPublicKey(staffKeys.signing.publicKey);
  const patient = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: generateKeyBundle() });
  const { id: patientId } = await patient.registerPatient();
  const { recordId } = await patient.writeRecord({ patient: patientId, resource: observation, category: 'vital-signs' });
  await patient.grant({ grantee: org.id, categories: ['vital-signs'], purpose: 'treatment' });

  assert.deepEqual((await org.readRecord(recordId, 'treatment')).resource, observation);
  const staff = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: staffKeys });
  await assert.rejects(
    staff.readRecord(recordId, 'treatment'),
    (e: ClientError) => e.code === 'ORGANIZATION_KEY' && e.status === 409 && /organization/.test(e.message),
  );
  await waitFor(async () => {
    const log = await patient.accessLog(patientId);
    return log.some((e) => e.accessor === staffId && e.decision === 'denied' && e.reason === 'ORGANIZATION_KEY') ? true : undefined;
  }, "the staff member's attempt in the access log");
  // Shared with the staff member directly as well: their own envelope is served.
  await patient.grant({ grantee: staffId, categories: ['vital-signs'], purpose: 'treatment' });
  assert.deepEqual((await staff.readRecord(recordId, 'treatment')).resource, observation);
});

test('a record larger than the API body limit (1 MiB) is written and read; an object over the vault limit is 413', async () => {
  const patient = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: generateKeyBundle() });
  const { id: patientId } = await patient.registerPatient();
  const big = {
    resourceType: 'DocumentReference',
    status: 'current',
    content: [{ attachment: { contentType: 'text/plain', data: Buffer.alloc(2 * 1024 * 1024, 7).toString('base64') } }],
  };
  const { recordId } = await patient.writeRecord({ patient: patientId, resource: big, category: 'documents' });
  assert.deepEqual((await patient.readRecord(recordId)).resource, big);
  const token = (await patient.signIn()).token;
  const tooBig = new Uint8Array(4 * 1024 * 1024 + 1);
  const res = await fetch(`${net.url}/v1/vault/${createHash('sha256').update(tooBig).digest('hex')}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body: tooBig,
  });
  assert.equal(res.status, 413);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'BODY_TOO_LARGE');
});
