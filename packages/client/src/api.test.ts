// MedLedgerClient against an in-memory gatekeeper: sessions, nonces, transaction waits,
// errors, and the record write / read / share flows of docs/records.md.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateKeyBundle, type KeyBundle, toHex } from '@medledger/crypto';
import { MedLedgerClient } from './api.js';
import { ClientError } from './errors.js';
import { openDataKey } from './record-crypto.js';
import { FakeGatekeeper } from './testing/fake-gatekeeper.js';

const URL_BASE = 'http://node.test';
const observation = { resourceType: 'Observation', status: 'final', code: { text: 'HbA1c' }, valueQuantity: { value: 6.1, unit: '%' } };
const note = { resourceType: 'DocumentReference', status: 'current', description: 'discharge letter' };

function clientOn(fake: FakeGatekeeper, keys: KeyBundle = generateKeyBundle()) {
  return new MedLedgerClient({ url: `${URL_BASE}/`, keys, fetch: fake.fetch, pollIntervalMs: 1, genesis: fake.trusted });
}

async function patientOn(fake: FakeGatekeeper) {
  const client = clientOn(fake);
  const { emergencyKey } = await client.registerPatient();
  return { client, emergencyKey };
}

function clinicianOn(fake: FakeGatekeeper) {
  const keys = generateKeyBundle();
  fake.addIdentity(keys.signing.publicKey, keys.encryption.publicKey);
  return clientOn(fake, keys);
}

const hasCode = (code: string, status?: number) => (err: unknown) =>
  err instanceof ClientError && err.code === code && (status === undefined || err.status === status);

describe('HTTP errors', () => {
  test('an API refusal becomes a ClientError with its code, message and status', async () => {
    const client = clientOn(new FakeGatekeeper());
    await assert.rejects(client.identity('00'.repeat(20)), hasCode('IDENTITY_NOT_FOUND', 404));
  });

  test('an error status without the API body is HTTP_ERROR; no answer at all is NETWORK', async () => {
    const html = new MedLedgerClient({
      url: URL_BASE,
      keys: generateKeyBundle(),
      fetch: async () => new Response('<h1>bad gateway</h1>', { status: 502 }),
    });
    await assert.rejects(html.status(), hasCode('HTTP_ERROR', 502));
    const down = new MedLedgerClient({
      url: URL_BASE,
      keys: generateKeyBundle(),
      fetch: async () => {
        throw new TypeError('fetch failed');
      },
    });
    await assert.rejects(down.status(), hasCode('NETWORK', 0));
  });
});

describe('sessions', () => {
  test('signIn signs the challenge for this chain and node, and authenticated calls use the token', async () => {
    const fake = new FakeGatekeeper();
    const { client } = await patientOn(fake);
    const session = await client.signIn();
    assert.equal(typeof session.token, 'string');
    assert.deepEqual(await client.listRecords(client.id), []);
  });

  test('an expired session is renewed once, then the call succeeds', async () => {
    const fake = new FakeGatekeeper();
    const { client } = await patientOn(fake);
    await client.listRecords(client.id);
    fake.expireSessions();
    fake.requests.length = 0;
    assert.deepEqual(await client.listRecords(client.id), []);
    assert.deepEqual(fake.requests, [
      `GET /v1/patients/${client.id}/records`,
      'GET /v1/status',
      'POST /v1/auth/challenge',
      'POST /v1/auth/session',
      `GET /v1/patients/${client.id}/records`,
      // The patient's own list, even empty, is proven complete: its count is proven.
      'POST /v1/state/proofs',
    ]);
  });

  test('signOut ends the session on the node: the old token is refused, and the next call signs in again', async () => {
    const fake = new FakeGatekeeper();
    const { client } = await patientOn(fake);
    const { token } = await client.signIn();
    await client.signOut();
    assert.ok(fake.requests.includes('DELETE /v1/auth/session'));
    // A copy of the token no longer works.
    const res = await fake.fetch(`${URL_BASE}/v1/patients/${client.id}/records`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 401);
    fake.requests.length = 0;
    assert.deepEqual(await client.listRecords(client.id), []);
    assert.ok(fake.requests.includes('POST /v1/auth/session'), 'a later call opens a new session');
  });

  test('signOut without a session sends nothing; a node that cannot be reached is not an error', async () => {
    const fake = new FakeGatekeeper();
    const { client } = await patientOn(fake);
    fake.requests.length = 0;
    await client.signOut();
    assert.deepEqual(fake.requests, []);
    let up = true;
    const flaky = new MedLedgerClient({
      url: URL_BASE,
      keys: client.keys,
      pollIntervalMs: 1,
      fetch: async (input, init) => {
        if (!up) throw new TypeError('fetch failed');
        return fake.fetch(input, init);
      },
    });
    await flaky.signIn();
    up = false;
    await flaky.signOut();
  });

  test('concurrent calls without a session share one sign-in', async () => {
    const fake = new FakeGatekeeper();
    const { client } = await patientOn(fake);
    await Promise.all([client.listRecords(client.id), client.grants(client.id), client.myGrants()]);
    assert.equal(fake.requests.filter((r) => r === 'POST /v1/auth/session').length, 1);
  });
});

describe('nonces and transaction waits', () => {
  test('the nonce is fetched once, then counted locally', async () => {
    const fake = new FakeGatekeeper();
    const { client } = await patientOn(fake);
    await client.submitAndWait('consent.revoke', { grant: 'aa'.repeat(16) });
    await client.submitAndWait('consent.revoke', { grant: 'bb'.repeat(16) });
    assert.equal(fake.requests.filter((r) => r.startsWith('GET /v1/accounts/')).length, 1);
    // identity.register and emergency.split, then the two revokes.
    assert.equal(fake.nonces.get(client.keys.signing.publicKey), 4);
  });

  test('NONCE_REUSED from another client sharing the key is retried once with a fresh nonce', async () => {
    const fake = new FakeGatekeeper();
    const { client } = await patientOn(fake);
    fake.bumpNonce(client.keys.signing.publicKey);
    const done = await client.submitAndWait('consent.revoke', { grant: 'aa'.repeat(16) });
    assert.equal(done.tx.nonce, 3);
    assert.equal(fake.requests.filter((r) => r === 'POST /v1/txs').length, 4);
  });

  test('NONCE_GAP after a refused submission is retried with the node nonce', async () => {
    const fake = new FakeGatekeeper();
    const { client } = await patientOn(fake);
    // Another client with this key lags behind: the node's count goes back.
    fake.nonces.set(client.keys.signing.publicKey, 0);
    const done = await client.submitAndWait('consent.revoke', { grant: 'aa'.repeat(16) });
    assert.equal(done.tx.nonce, 0);
  });

  test('a refusal other than a nonce error is not retried, and the next submit recounts from the node', async () => {
    const fake = new FakeGatekeeper();
    const { client } = await patientOn(fake);
    fake.refuseNext = { status: 403, code: 'UNAUTHORIZED', message: 'not yours to revoke' };
    await assert.rejects(client.submit('consent.revoke', { grant: 'aa'.repeat(16) }), hasCode('UNAUTHORIZED', 403));
    assert.equal(fake.requests.filter((r) => r === 'POST /v1/txs').length, 3);
    const done = await client.submitAndWait('consent.revoke', { grant: 'aa'.repeat(16) });
    assert.equal(done.tx.nonce, 2);
  });

  test('waitForTx polls while pending and returns the block position and proof', async () => {
    const fake = new FakeGatekeeper();
    const { client } = await patientOn(fake);
    fake.pendingPolls = 3;
    const done = await client.submitAndWait('consent.revoke', { grant: 'aa'.repeat(16) });
    assert.equal(done.index, 0);
    assert.equal(done.proof.treeSize, 1);
    assert.ok(done.height > 0);
  });

  test('a rejected transaction throws its result code and reason', async () => {
    const fake = new FakeGatekeeper();
    const { client } = await patientOn(fake);
    fake.rejectNext = { code: 'UNAUTHORIZED', log: 'only the patient or a delegate may revoke' };
    await assert.rejects(client.submitAndWait('consent.revoke', { grant: 'aa'.repeat(16) }), (err: unknown) => {
      return hasCode('UNAUTHORIZED', 0)(err) && (err as Error).message === 'only the patient or a delegate may revoke';
    });
  });

  test('waitForTx gives up with TX_TIMEOUT on the injected clock', async () => {
    const fake = new FakeGatekeeper();
    let clock = 0;
    const client = new MedLedgerClient({
      url: URL_BASE,
      keys: generateKeyBundle(),
      fetch: fake.fetch,
      now: () => clock,
      sleep: async (ms) => {
        clock += ms;
      },
    });
    const { hash } = await client.submit('identity.register', { role: 'patient', encryptionKey: client.keys.encryption.publicKey });
    fake.pendingPolls = Number.POSITIVE_INFINITY;
    await assert.rejects(client.waitForTx(hash, 1000), hasCode('TX_TIMEOUT'));
    assert.ok(clock >= 1000);
  });
});

describe('records', () => {
  test('a patient writes a record and reads it back; envelopes cover patient and emergency', async () => {
    const fake = new FakeGatekeeper();
    const { client, emergencyKey } = await patientOn(fake);
    const { recordId, height } = await client.writeRecord({ patient: client.id, resource: observation, category: 'labs' });
    assert.ok(height > 0);
    const { meta, resource } = await client.readRecord(recordId, 'patient-request');
    assert.deepEqual(resource, observation);
    assert.equal(meta.resourceType, 'Observation');
    const stored = fake.records.get(recordId)!;
    assert.deepEqual([...stored.envelopes.keys()].sort(), [client.id, 'emergency'].sort());
    const emergencyEnvelope = JSON.parse(new TextDecoder().decode(fake.vault.get(stored.envelopes.get('emergency')!)));
    assert.equal(openDataKey(emergencyEnvelope, recordId, 'emergency', emergencyKey.privateKey).length, 32);
    assert.deepEqual(fake.reads.at(-1), { accessor: client.id, record: recordId, purpose: 'patient-request' });
  });

  test('a clinician author always seals the key to itself too', async () => {
    const fake = new FakeGatekeeper();
    const { client: patient } = await patientOn(fake);
    const clinician = clinicianOn(fake);
    const { recordId } = await clinician.writeRecord({ patient: patient.id, resource: note, category: 'notes' });
    assert.deepEqual([...fake.records.get(recordId)!.envelopes.keys()].sort(), [patient.id, clinician.id, 'emergency'].sort());
    assert.deepEqual((await clinician.readRecord(recordId, 'treatment')).resource, note);
    assert.deepEqual((await patient.readRecord(recordId)).resource, note);
  });

  test('a ciphertext whose hash differs from contentHash is refused before decrypting', async () => {
    const fake = new FakeGatekeeper();
    const { client } = await patientOn(fake);
    const { recordId } = await client.writeRecord({ patient: client.id, resource: observation, category: 'labs' });
    const hash = fake.records.get(recordId)!.meta.contentHash;
    const object = fake.vault.get(hash)!;
    object[object.length - 1] = (object[object.length - 1] as number) ^ 1;
    // An envelope that would not open either: a decrypt attempt would throw DECRYPT_FAILED instead.
    const envHash = fake.records.get(recordId)!.envelopes.get(client.id)!;
    fake.vault.set(envHash, new TextEncoder().encode('{"v":1}'));
    await assert.rejects(client.readRecord(recordId), hasCode('CONTENT_HASH_MISMATCH'));
  });

  test('a node that omits envelopeFor still serves readable records (label = own id)', async () => {
    const fake = new FakeGatekeeper();
    const { client } = await patientOn(fake);
    const { recordId } = await client.writeRecord({ patient: client.id, resource: observation, category: 'labs' });
    fake.omitEnvelopeFor = true;
    assert.deepEqual((await client.readRecord(recordId)).resource, observation);
  });

  test('an erased record reads as RECORD_ERASED (410)', async () => {
    const fake = new FakeGatekeeper();
    const { client } = await patientOn(fake);
    const { recordId } = await client.writeRecord({ patient: client.id, resource: observation, category: 'labs' });
    await client.erase(recordId);
    await assert.rejects(client.readRecord(recordId), hasCode('RECORD_ERASED', 410));
  });

  test('a resource without resourceType is refused before anything is sent', async () => {
    const fake = new FakeGatekeeper();
    const { client } = await patientOn(fake);
    fake.requests.length = 0;
    await assert.rejects(
      client.writeRecord({ patient: client.id, resource: { id: 'x' } as never, category: 'labs' }),
      hasCode('INVALID_ARGUMENT'),
    );
    assert.deepEqual(fake.requests, []);
  });
});

describe('sharing', () => {
  test('a grant wraps the keys of covered existing records for the grantee, who can then read them', async () => {
    const fake = new FakeGatekeeper();
    const { client: patient } = await patientOn(fake);
    const lab1 = await patient.writeRecord({ patient: patient.id, resource: observation, category: 'labs' });
    const lab2 = await patient.writeRecord({ patient: patient.id, resource: { ...observation, status: 'amended' }, category: 'labs' });
    const letter = await patient.writeRecord({ patient: patient.id, resource: note, category: 'notes' });
    const clinician = clinicianOn(fake);
    const { grantId, txHash, shareTxHashes } = await patient.grant({ grantee: clinician.id, categories: ['labs'], purpose: 'treatment' });
    assert.equal(grantId, txHash.slice(0, 32));
    assert.deepEqual(shareTxHashes, []);
    const grantTx = fake.txs.get(txHash)!.tx.body as { envelopes: Array<{ record: string }>; access: string };
    assert.deepEqual(grantTx.envelopes.map((e) => e.record).sort(), [lab1.recordId, lab2.recordId].sort());
    assert.equal(grantTx.access, 'read');
    assert.ok(fake.reads.filter((r) => r.accessor === patient.id).every((r) => r.purpose === 'patient-request'));
    assert.deepEqual((await clinician.readRecord(lab1.recordId, 'treatment')).resource, observation);
    await assert.rejects(clinician.readRecord(letter.recordId, 'treatment'), hasCode('ACCESS_DENIED', 403));
    assert.deepEqual(
      (await clinician.myGrants()).map((g) => g.id),
      [grantId],
    );
    await patient.revoke(grantId);
    assert.deepEqual(await patient.grants(patient.id), []);
  });

  test('shareExisting: false sends a grant with no envelopes and reads nothing', async () => {
    const fake = new FakeGatekeeper();
    const { client: patient } = await patientOn(fake);
    await patient.writeRecord({ patient: patient.id, resource: observation, category: 'labs' });
    const clinician = clinicianOn(fake);
    const reads = fake.reads.length;
    const { txHash } = await patient.grant({
      grantee: clinician.id,
      resourceTypes: ['Observation'],
      purpose: 'research',
      shareExisting: false,
    });
    assert.equal((fake.txs.get(txHash)!.tx.body as { envelopes?: unknown }).envelopes, undefined);
    assert.equal(fake.reads.length, reads);
  });

  test('more than 500 covered records: the first 500 ride in the grant, the rest in record.share', async () => {
    const fake = new FakeGatekeeper();
    const { client: patient } = await patientOn(fake);
    for (let i = 0; i < 502; i++)
      await patient.writeRecord({ patient: patient.id, resource: { ...observation, id: String(i) }, category: 'labs' });
    const clinician = clinicianOn(fake);
    const { txHash, shareTxHashes } = await patient.grant({ grantee: clinician.id, categories: ['labs'], purpose: 'treatment' });
    assert.equal((fake.txs.get(txHash)!.tx.body as { envelopes: unknown[] }).envelopes.length, 500);
    assert.equal(shareTxHashes.length, 1);
    const share = fake.txs.get(shareTxHashes[0]!)!.tx;
    assert.equal(share.kind, 'record.share');
    assert.deepEqual(
      (share.body as { envelopes: Array<{ to: string }> }).envelopes.map((e) => e.to),
      [clinician.id, clinician.id],
    );
  });

  test('a delegate gets the keys of existing records once they accept, and can read them', async () => {
    const fake = new FakeGatekeeper();
    const { client: patient } = await patientOn(fake);
    const { recordId } = await patient.writeRecord({ patient: patient.id, resource: observation, category: 'labs' });
    const { client: delegate } = await patientOn(fake);
    await patient.setDelegate(delegate.id);
    // Pending: not a recipient, nothing sealed to them.
    const pending = await patient.writeRecord({ patient: patient.id, resource: note, category: 'notes' });
    assert.equal(fake.records.get(pending.recordId)!.envelopes.has(delegate.id), false);
    await delegate.acceptDelegation(patient.id);
    const { shared, shareTxHashes } = await patient.shareWithDelegate(delegate.id);
    assert.equal(shared, 2);
    assert.equal(fake.txs.get(shareTxHashes[0]!)!.tx.kind, 'record.share');
    assert.deepEqual((await delegate.readRecord(recordId, 'patient-request')).resource, observation);
    // Nothing left to share a second time.
    assert.equal((await patient.shareWithDelegate(delegate.id)).shared, 0);
    // Records written after the delegation name the delegate as a recipient.
    const later = await patient.writeRecord({ patient: patient.id, resource: note, category: 'notes' });
    assert.ok(fake.records.get(later.recordId)!.envelopes.has(delegate.id));
    await patient.removeDelegate(patient.id, delegate.id);
  });

  test('data keys handed to the vault are never the plaintext key', async () => {
    const fake = new FakeGatekeeper();
    const { client } = await patientOn(fake);
    const { recordId } = await client.writeRecord({ patient: client.id, resource: observation, category: 'labs' });
    const envelope = JSON.parse(new TextDecoder().decode(fake.vault.get(fake.records.get(recordId)!.envelopes.get(client.id)!)));
    const key = toHex(openDataKey(envelope, recordId, client.id, client.keys.encryption.privateKey));
    for (const object of fake.vault.values()) assert.ok(!toHex(object).includes(key));
  });
});

describe('grants a delegate made', () => {
  test('grantsMadeBy lists the active grants the delegate made, not the patient’s, by the proven grantedBy', async () => {
    const fake = new FakeGatekeeper();
    const { client: patient } = await patientOn(fake);
    const { client: delegate } = await patientOn(fake);
    await patient.setDelegate(delegate.id);
    await delegate.acceptDelegation(patient.id);
    const doctor = clinicianOn(fake);
    const stranger = clinicianOn(fake);
    const own = await patient.grant({ grantee: doctor.id, categories: ['labs'], purpose: 'treatment' });
    const theirs = await delegate.grant({
      patient: patient.id,
      grantee: stranger.id,
      categories: ['notes'],
      purpose: 'treatment',
      shareExisting: false,
    });
    const revokedLater = await delegate.grant({
      patient: patient.id,
      grantee: doctor.id,
      categories: ['vital-signs'],
      purpose: 'treatment',
      shareExisting: false,
    });
    await patient.revoke(revokedLater.grantId);

    const made = await patient.grantsMadeBy(patient.id, delegate.id);
    assert.deepEqual(
      made.map((g) => [g.id, g.grantee, g.grantedBy]),
      [[theirs.grantId, stranger.id, delegate.id]],
    );
    assert.deepEqual(
      (await patient.grantsMadeBy(patient.id, patient.id)).map((g) => g.id),
      [own.grantId],
    );

    // A node that says the patient made every grant is not believed: grantedBy is the proven one.
    const lying = new MedLedgerClient({
      url: URL_BASE,
      keys: patient.keys,
      pollIntervalMs: 1,
      genesis: fake.trusted,
      fetch: async (input, init) => {
        const res = await fake.fetch(input, init);
        if (!String(input).includes('/grants')) return res;
        const text = (await res.text()).replaceAll(`"grantedBy":"${delegate.id}"`, `"grantedBy":"${patient.id}"`);
        return new Response(text, { status: res.status, headers: { 'content-type': 'application/json' } });
      },
    });
    assert.deepEqual(
      (await lying.grantsMadeBy(patient.id, delegate.id)).map((g) => g.id),
      [theirs.grantId],
    );
  });
});
