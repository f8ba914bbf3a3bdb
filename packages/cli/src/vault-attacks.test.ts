// Vault ownership and quotas (docs/records.md "Vault ownership and quotas"), attacked on a real
// node over HTTP: each test is one way to erase, pin or flood someone's objects, refused.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  type ClientError,
  encryptRecord,
  MedLedgerClient,
  newRecordId,
  type RecordMeta,
  recordAnchorBody,
  sealDataKey,
} from '@medledger/client';
import { generateKeyBundle, sha256Hex, toHex } from '@medledger/crypto';
import { startSoloNode, TEST_PASSPHRASE, type TestNode, waitFor } from '@medledger/node/testing';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

let net: TestNode;
before(async () => {
  net = await startSoloNode();
});
after(async () => {
  await net.cleanup();
});

const MiB = 1024 * 1024;
const note = { resourceType: 'Observation', status: 'final', code: { text: 'Body weight' }, valueQuantity: { value: 72.5, unit: 'kg' } };

async function newPatient(): Promise<{ client: MedLedgerClient; id: string }> {
  const client = new MedLedgerClient({ url: net.url, keys: generateKeyBundle() });
  const { id } = await client.registerPatient();
  return { client, id };
}

function refusedWith(code: string, status: number) {
  return (e: ClientError) => {
    assert.equal(`${e.code} ${e.status}`, `${code} ${status}`, e.message);
    return true;
  };
}

/**
 * A correctly sealed record of `patient` written by `author`, not yet anchored: the anchor
 * body and every object, so a test can upload some, swap some, and then submit.
 */
async function sealedRecord(author: MedLedgerClient, patient: string) {
  const recordId = newRecordId();
  const sealed = encryptRecord(note, { record: recordId, patient, category: 'vital-signs', resourceType: 'Observation' });
  const recipients = await author.recipients(patient, 'vital-signs', 'Observation');
  const byLabel = new Map(recipients.map((r) => [r.to, r.encryptionKey]));
  byLabel.set(author.id, author.keys.encryption.publicKey);
  const envelopes = [...byLabel].map(([to, key]) => ({ to, ...sealDataKey(sealed.dataKey, recordId, to, key) }));
  const body = recordAnchorBody({
    record: recordId,
    patient,
    resourceType: 'Observation',
    category: 'vital-signs',
    contentHash: sealed.contentHash,
    size: sealed.object.length,
    envelopes: envelopes.map((e) => ({ to: e.to, hash: e.hash })),
  });
  const uploadAll = () => Promise.all([sealed.object, ...envelopes.map((e) => e.object)].map((o) => author.putObject(o)));
  return { recordId, body, content: sealed.object, envelopes, uploadAll };
}

async function recordOf(
  client: MedLedgerClient,
  patient: string,
  recordId: string,
): Promise<RecordMeta & { envelopes: Record<string, string> }> {
  const found = (await client.listRecords(patient)).find((r) => r.record === recordId);
  assert.ok(found, `record ${recordId} is listed`);
  return found as RecordMeta & { envelopes: Record<string, string> };
}

test('erase-victim-by-anchoring-their-hashes: an anchor naming a victim’s ciphertext or envelope is refused, and the victim still reads', async () => {
  const victim = await newPatient();
  const attacker = await newPatient();
  const { recordId } = await victim.client.writeRecord({ patient: victim.id, resource: note, category: 'vital-signs' });
  // Every hash is public in /v1/blocks; the attacker copies them into an anchor of its own.
  const target = await recordOf(victim.client, victim.id, recordId);

  const ownContent = await sealedRecord(attacker.client, attacker.id);
  await ownContent.uploadAll();
  await assert.rejects(
    attacker.client.submit('record.anchor', { ...ownContent.body, contentHash: target.contentHash, size: target.size }),
    refusedWith('OBJECT_IN_USE', 409),
  );
  const stolenEnvelope = await sealedRecord(attacker.client, attacker.id);
  await stolenEnvelope.uploadAll();
  const envelopes = stolenEnvelope.body.envelopes.map((e) =>
    e.to === attacker.id ? { ...e, hash: target.envelopes[victim.id] as string } : e,
  );
  await assert.rejects(attacker.client.submit('record.anchor', { ...stolenEnvelope.body, envelopes }), refusedWith('OBJECT_IN_USE', 409));

  // With nothing of the victim's in its own records, the attacker's erasures touch only its own.
  const { recordId: own } = await attacker.client.writeRecord({ patient: attacker.id, resource: note, category: 'vital-signs' });
  await attacker.client.erase(own);
  assert.deepEqual((await victim.client.readRecord(recordId)).resource, note);
});

test('emergency-rewrap-adopts-a-victim-object: a rewrap naming another record’s object as the new envelope is refused', async () => {
  const victim = await newPatient();
  const attacker = await newPatient();
  const { recordId: victimRecord } = await victim.client.writeRecord({ patient: victim.id, resource: note, category: 'vital-signs' });
  const target = await recordOf(victim.client, victim.id, victimRecord);
  const { recordId } = await attacker.client.writeRecord({ patient: attacker.id, resource: note, category: 'vital-signs' });
  const mine = await recordOf(attacker.client, attacker.id, recordId);
  for (const stolen of [target.contentHash, target.envelopes.emergency as string]) {
    await assert.rejects(
      attacker.client.submit('emergency.rewrap', {
        envelopes: [{ record: recordId, old: mine.envelopes.emergency as string, hash: stolen }],
      }),
      refusedWith('OBJECT_IN_USE', 409),
    );
  }
  assert.deepEqual((await victim.client.readRecord(victimRecord)).resource, note);
});

test('share-pinning: one record and recipient twice in a share is refused, and a replaced envelope is deleted from the vault', async () => {
  const patient = await newPatient();
  const reader = await newPatient();
  const { recordId } = await patient.client.writeRecord({ patient: patient.id, resource: note, category: 'vital-signs' });
  const store = net.node.chain.store;

  // The reader is a grantee, so sealing the record's key to it is allowed at all.
  await patient.client.grant({ grantee: reader.id, categories: ['vital-signs'], purpose: 'treatment' });
  const first = (await recordOf(patient.client, patient.id, recordId)).envelopes[reader.id] as string;
  assert.equal(store.vaultObjectStatus(first), 'anchored');

  // Many envelopes for one (record, recipient) pair once marked every one anchored but kept
  // only the last: the others could never be erased.
  const pinned: string[] = [];
  for (let i = 0; i < 3; i++) pinned.push(await patient.client.putObject(randomBytes(64)));
  await assert.rejects(
    patient.client.submit('record.share', { envelopes: pinned.map((hash) => ({ record: recordId, to: reader.id, hash })) }),
    refusedWith('INVALID_BODY', 400),
  );
  for (const hash of pinned) assert.equal(store.vaultObjectStatus(hash), 'unanchored', 'refused objects stay unanchored and expire');

  // A second grant re-wraps the key for the same reader: the old envelope goes, everywhere.
  await patient.client.grant({ grantee: reader.id, categories: ['vital-signs'], purpose: 'treatment' });
  const second = (await recordOf(patient.client, patient.id, recordId)).envelopes[reader.id] as string;
  assert.notEqual(second, first);
  await waitFor(() => (store.vaultObjectStatus(first) === undefined ? true : undefined), 'the replaced envelope to be deleted');
  assert.equal(store.vaultObjectStatus(second), 'anchored');
  assert.deepEqual((await reader.client.readRecord(recordId, 'treatment')).resource, note);

  // Erasure deletes every object the record owns: its ciphertext and each current envelope.
  const meta = await recordOf(patient.client, patient.id, recordId);
  await patient.client.erase(recordId);
  for (const hash of [meta.contentHash, ...Object.values(meta.envelopes)])
    await waitFor(() => (store.vaultObjectStatus(hash) === undefined ? true : undefined), 'the erased record’s objects to be deleted');
});

test('upload-flood-12x4MiB: one identity’s pending uploads stop at its quota; another identity is unaffected', async () => {
  const flooder = await newPatient();
  const results: string[] = [];
  for (let i = 0; i < 12; i++) {
    try {
      await flooder.client.putObject(randomBytes(4 * MiB));
      results.push('stored');
    } catch (err) {
      results.push(`${(err as ClientError).code} ${(err as ClientError).status}`);
    }
  }
  // 32 MiB pending per identity by default: eight objects of 4 MiB, then refusals.
  assert.deepEqual(results, [...Array(8).fill('stored'), ...Array(4).fill('QUOTA_EXCEEDED 429')]);
  const bystander = await newPatient();
  await bystander.client.writeRecord({ patient: bystander.id, resource: note, category: 'vital-signs' });
});

test('anchor-with-lying-size: the declared size must be the ciphertext’s', async () => {
  const patient = await newPatient();
  const record = await sealedRecord(patient.client, patient.id);
  await record.uploadAll();
  await assert.rejects(patient.client.submit('record.anchor', { ...record.body, size: 1 }), refusedWith('SIZE_MISMATCH', 400));
  await assert.rejects(
    patient.client.submit('record.anchor', { ...record.body, size: record.content.length + 1 }),
    refusedWith('SIZE_MISMATCH', 400),
  );
  await patient.client.submitAndWait('record.anchor', record.body);
});

test('envelope-of-4MiB: an object named as a key envelope must be a key envelope', async () => {
  const patient = await newPatient();
  const record = await sealedRecord(patient.client, patient.id);
  await record.uploadAll();
  const huge = await patient.client.putObject(randomBytes(4 * MiB));
  const swap = (hash: string) => record.body.envelopes.map((e) => (e.to === patient.id ? { ...e, hash } : e));
  await assert.rejects(
    patient.client.submit('record.anchor', { ...record.body, envelopes: swap(huge) }),
    refusedWith('ENVELOPE_TOO_LARGE', 413),
  );
  // Small, but not an envelope: refused too.
  const junk = await patient.client.putObject(randomBytes(100));
  await assert.rejects(
    patient.client.submit('record.anchor', { ...record.body, envelopes: swap(junk) }),
    refusedWith('NOT_AN_ENVELOPE', 400),
  );
  // And after the record exists, a share cannot attach one either.
  await patient.client.submitAndWait('record.anchor', record.body);
  const reader = await newPatient();
  await patient.client.grant({ grantee: reader.id, categories: ['vital-signs'], purpose: 'treatment' });
  const hugeToo = await patient.client.putObject(randomBytes(4 * MiB));
  await assert.rejects(
    patient.client.submit('record.share', { envelopes: [{ record: record.recordId, to: reader.id, hash: hugeToo }] }),
    refusedWith('ENVELOPE_TOO_LARGE', 413),
  );
});

test('anchor-of-objects-not-held: an anchor naming objects this node does not hold is refused', async () => {
  const patient = await newPatient();
  const record = await sealedRecord(patient.client, patient.id);
  // Nothing uploaded at all.
  await assert.rejects(patient.client.submit('record.anchor', record.body), refusedWith('OBJECT_NOT_HELD', 409));
  // The ciphertext but not the envelopes.
  await patient.client.putObject(record.content);
  await assert.rejects(patient.client.submit('record.anchor', record.body), refusedWith('OBJECT_NOT_HELD', 409));
  // Made-up hashes.
  const made = { ...record.body, contentHash: toHex(randomBytes(32)) };
  await assert.rejects(patient.client.submit('record.anchor', made), refusedWith('OBJECT_NOT_HELD', 409));
});

test('anchor-someone-elses-pending-upload: objects uploaded by one identity cannot be anchored by another first', async () => {
  const victim = await newPatient();
  const attacker = await newPatient();
  const record = await sealedRecord(victim.client, victim.id);
  await record.uploadAll();
  // The attacker learns the hashes (say, from the victim's anchor in flight) and races it,
  // as its own record with its own envelopes but the victim's pending ciphertext.
  const own = await sealedRecord(attacker.client, attacker.id);
  await own.uploadAll();
  await assert.rejects(
    attacker.client.submit('record.anchor', { ...own.body, contentHash: record.body.contentHash, size: record.body.size }),
    refusedWith('OBJECT_NOT_OWNED', 403),
  );
  // Uploading the same bytes again does not make them the attacker's.
  await attacker.client.putObject(record.content);
  assert.equal(sha256Hex(record.content), record.body.contentHash);
  await assert.rejects(
    attacker.client.submit('record.anchor', { ...own.body, contentHash: record.body.contentHash, size: record.body.size }),
    refusedWith('OBJECT_NOT_OWNED', 403),
  );
  await victim.client.submitAndWait('record.anchor', record.body);
  assert.deepEqual((await victim.client.readRecord(record.recordId)).resource, note);
});
