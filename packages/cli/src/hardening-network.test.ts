// Issue 12 items 7, 8, 11 and issue 11 item 4, attacked over real HTTP against a real node:
// low-order encryption keys, delegates who never accepted, records filed under another
// category than they were written as, envelopes to strangers or missing recipients, and an
// emergency split that names a non-validator. Each is refused with its stable code.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  buildEmergencySplit,
  type ClientError,
  EMERGENCY_RECIPIENT,
  emergencyNetwork,
  encryptRecord,
  identityRotateBody,
  MedLedgerClient,
  newRecordId,
  sealDataKey,
  staffRegisterBody,
  TrustedGenesis,
} from '@medledger/client';
import {
  decryptKeystore,
  encryptKeystore,
  generateEncryptionKeyPair,
  generateKeyBundle,
  generateSigningKeyPair,
  idFromPublicKey,
} from '@medledger/crypto';
import { readOrgKey } from '@medledger/node';
import { startSoloNode, TEST_PASSPHRASE, type TestNode } from '@medledger/node/testing';
import { type CliRun, runCli } from './testing/cli.js';

/** `medledger …` trusting this test network's genesis file (MEDLEDGER_GENESIS), as a user would. */
const runCliTrusting = (args: string[]) => runCli(args, { env: { MEDLEDGER_GENESIS: join(net.dir, 'genesis.json') } });

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

/** The genesis the SDK clients and CLI runs of this file trust: the test network's own. */
const trusted = () => TrustedGenesis.fromDocument(net.node.chain.genesis);

let net: TestNode;
let work: string;
let org: MedLedgerClient;

before(async () => {
  net = await startSoloNode();
  work = mkdtempSync(join(tmpdir(), 'medledger-hardening-'));
  org = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: readOrgKey(join(net.dir, 'node0')) });
});
after(async () => {
  await net.cleanup();
  rmSync(work, { recursive: true, force: true });
});

const observation = { resourceType: 'Observation', status: 'final', code: { text: 'HIV viral load' }, valueQuantity: { value: 40 } };
const rejects = (code: string, status?: number) => (e: ClientError) =>
  e.code === code && (status === undefined || e.status === status) ? true : assert.fail(`expected ${code}, got ${e.code}: ${e.message}`);
const json = (run: CliRun) => {
  assert.equal(run.code, 0, `exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  // biome-ignore lint/suspicious/noExplicitAny: the JSON output is checked field by field
  return JSON.parse(run.stdout) as Record<string, any>;
};

async function newPatient(): Promise<MedLedgerClient> {
  const client = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: generateKeyBundle() });
  await client.registerPatient();
  return client;
}

async function newClinician(): Promise<MedLedgerClient> {
  const keys = generateKeyBundle();
  await org.submitAndWait(
    'staff.register',
    staffRegisterBody({ publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role: 'clinician' }),
  );
  return new MedLedgerClient({ genesis: trusted(), url: net.url, keys });
}

// X25519 points of low order (libsodium's blocklist): the all-zero key and p − 1.
const LOW_ORDER = ['00'.repeat(32), `ec${'ff'.repeat(30)}7f`];

test('low-order X25519 key registration is refused at identity.register, staff.register, identity.rotate and as the emergency key', async () => {
  for (const low of LOW_ORDER) {
    const asEncryption = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: generateKeyBundle() });
    await assert.rejects(asEncryption.submit('identity.register', { role: 'patient', encryptionKey: low }), rejects('WEAK_KEY', 400));
    const asEmergency = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: generateKeyBundle() });
    await assert.rejects(
      asEmergency.submit('identity.register', { role: 'patient', encryptionKey: asEmergency.keys.encryption.publicKey, emergencyKey: low }),
      rejects('WEAK_KEY', 400),
    );
    const staff = generateSigningKeyPair();
    await assert.rejects(
      org.submit('staff.register', { publicKey: staff.publicKey, encryptionKey: low, role: 'clinician' }),
      rejects('WEAK_KEY', 400),
    );
    const patient = await newPatient();
    const chain = (await patient.status()).chainId;
    const rotate = identityRotateBody({ chain, id: patient.id, newSigning: generateSigningKeyPair(), encryptionKey: low });
    await assert.rejects(patient.submit('identity.rotate', rotate), rejects('WEAK_KEY', 400));
    // A later emergency-key rotation to a low-order key is refused too.
    const split = buildEmergencySplit(patient.id, generateEncryptionKeyPair(), await emergencyNetwork(patient));
    await assert.rejects(patient.submit('emergency.split', { ...split, emergencyKey: low }), rejects('WEAK_KEY', 400));
    // The patient's writes keep working: nothing low-order was ever stored.
    await patient.writeRecord({ patient: patient.id, resource: observation, category: 'laboratory' });
  }
});

test('a delegate without acceptance can neither act nor read; once accepted (CLI delegate accept) they can', async () => {
  const patient = await newPatient();
  const { recordId } = await patient.writeRecord({ patient: patient.id, resource: observation, category: 'laboratory' });
  // The delegate has a CLI keystore.
  const keyFile = join(work, 'delegate.key');
  json(await runCliTrusting(['patient', 'register', '--key', keyFile, '--url', net.url, '--json']));
  const delegate = new MedLedgerClient({
    genesis: trusted(),
    url: net.url,
    keys: decryptKeystore(JSON.parse(readFileSync(keyFile, 'utf8')), TEST_PASSPHRASE),
  });
  const stranger = await newPatient();

  await patient.setDelegate(delegate.id);
  await assert.rejects(patient.setDelegate(delegate.id), rejects('DELEGATE_PENDING', 409));
  // Pending: listed as pending for the patient and the invited delegate, hidden from anyone else.
  assert.deepEqual(
    (await patient.delegates(patient.id)).map((d) => [d.delegate, d.status]),
    [[delegate.id, 'pending']],
  );
  assert.deepEqual(
    (await delegate.myDelegations()).map((d) => [d.patient, d.status]),
    [[patient.id, 'pending']],
  );
  assert.deepEqual(
    (await delegate.delegates(patient.id)).map((d) => d.status),
    ['pending'],
  );
  await assert.rejects(stranger.delegates(patient.id), rejects('ACCESS_DENIED', 403));
  // The listing pages with a cursor: a second invitation, one per page.
  const second = await newPatient();
  await patient.setDelegate(second.id);
  const first = (await patient.get(`/v1/patients/${patient.id}/delegates?limit=1`, { auth: true })) as {
    delegates: Array<{ delegate: string }>;
    next: string | null;
  };
  assert.equal(first.delegates.length, 1);
  assert.ok(first.next !== null);
  const rest = (await patient.get(`/v1/patients/${patient.id}/delegates?limit=1&cursor=${first.next}`, { auth: true })) as typeof first;
  assert.deepEqual([...first.delegates, ...rest.delegates].map((d) => d.delegate).sort(), [delegate.id, second.id].sort());
  assert.equal(rest.next, null);
  await second.removeDelegate(patient.id, second.id);

  // Pending: cannot act, cannot read, cannot be sealed a key.
  await assert.rejects(delegate.readRecord(recordId), rejects('ACCESS_DENIED', 403));
  await assert.rejects(delegate.grants(patient.id), rejects('ACCESS_DENIED', 403));
  assert.deepEqual(await delegate.listRecords(patient.id), []);
  await assert.rejects(
    delegate.submit('consent.grant', {
      patient: patient.id,
      grantee: stranger.id,
      scope: { categories: ['laboratory'] },
      access: 'read',
      purpose: 'treatment',
    }),
    rejects('UNAUTHORIZED', 403),
  );
  await assert.rejects(delegate.submit('record.erase', { record: recordId }), rejects('UNAUTHORIZED', 403));
  await assert.rejects(
    patient.submit('record.share', { envelopes: [{ record: recordId, to: delegate.id, hash: 'ab'.repeat(32) }] }),
    rejects('RECIPIENT_NOT_ALLOWED', 403),
  );
  const whilePending = await patient.writeRecord({ patient: patient.id, resource: observation, category: 'laboratory' });

  // Only the invited delegate can accept: a stranger's accept names no invitation.
  await assert.rejects(stranger.acceptDelegation(patient.id), rejects('NOT_FOUND', 404));
  const accepted = json(
    await runCliTrusting(['delegate', 'accept', '--key', keyFile, '--patient', patient.id, '--url', net.url, '--json']),
  );
  assert.equal(accepted.status, 'accepted');
  assert.equal(accepted.delegate, delegate.id);
  const listed = json(await runCliTrusting(['delegate', 'list', '--key', keyFile, '--url', net.url, '--json']));
  assert.deepEqual(
    listed.delegating.map((d: { patient: string; status: string }) => [d.patient, d.status]),
    [[patient.id, 'accepted']],
  );

  // Accepted: the patient shares the existing records, and the delegate reads and acts.
  await assert.rejects(delegate.readRecord(recordId), rejects('NO_ENVELOPE', 409));
  assert.equal((await patient.shareWithDelegate(delegate.id)).shared, 2);
  assert.deepEqual((await delegate.readRecord(recordId)).resource, observation);
  assert.deepEqual((await delegate.readRecord(whilePending.recordId)).resource, observation);
  await delegate.grant({ patient: patient.id, grantee: stranger.id, categories: ['laboratory'], purpose: 'treatment' });
  assert.deepEqual((await stranger.readRecord(recordId, 'treatment')).resource, observation);
  // A new record now names the delegate: the ledger requires it, and the node says so.
  const later = await patient.writeRecord({ patient: patient.id, resource: observation, category: 'laboratory' });
  assert.deepEqual((await delegate.readRecord(later.recordId)).resource, observation);
});

test('a record filed under another category than it was written as is detected by its reader (SDK and CLI)', async () => {
  const patient = await newPatient();
  const insurerKeys = generateKeyBundle();
  const insurer = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: insurerKeys });
  await insurer.registerPatient();
  await patient.grant({ grantee: insurer.id, categories: ['billing'], purpose: 'payment' });
  // A dishonest writer encrypts clinical content as laboratory, then anchors it as billing,
  // sealed to exactly the recipients a billing record must have (so the ledger accepts it).
  const record = newRecordId();
  const sealed = encryptRecord(observation, { record, patient: patient.id, category: 'laboratory', resourceType: 'Observation' });
  const recipients = await patient.recipients(patient.id, 'billing', 'Observation');
  assert.ok(recipients.some((r) => r.to === insurer.id));
  const envelopes = recipients.map((r) => ({ to: r.to, ...sealDataKey(sealed.dataKey, record, r.to, r.encryptionKey) }));
  await patient.putObject(sealed.object);
  for (const e of envelopes) await patient.putObject(e.object);
  await patient.submitAndWait('record.anchor', {
    record,
    patient: patient.id,
    resourceType: 'Observation',
    category: 'billing',
    contentHash: sealed.contentHash,
    size: sealed.object.length,
    envelopes: envelopes.map((e) => ({ to: e.to, hash: e.hash })),
  });
  await assert.rejects(insurer.readRecord(record, 'payment'), rejects('RECORD_MISLABELED'));
  await assert.rejects(patient.readRecord(record), rejects('RECORD_MISLABELED'));
  // The CLI reader says so too, with a non-zero exit and the stable code.
  const keyFile = join(work, 'insurer.key');
  writeFileSync(keyFile, JSON.stringify(encryptKeystore(insurerKeys, TEST_PASSPHRASE)));
  const got = await runCliTrusting(['record', 'get', '--id', record, '--key', keyFile, '--purpose', 'payment', '--url', net.url, '--json']);
  assert.notEqual(got.code, 0);
  assert.equal(JSON.parse(got.stdout).error.code, 'RECORD_MISLABELED');
  // An honestly labelled record reads as ever.
  const honest = await patient.writeRecord({ patient: patient.id, resource: observation, category: 'laboratory' });
  assert.deepEqual((await patient.readRecord(honest.recordId)).resource, observation);
});

// Build an anchor body for `patient` with envelopes to `labels` (objects uploaded first).
async function anchorTo(writer: MedLedgerClient, patient: string, labels: Array<{ to: string; encryptionKey: string }>) {
  const record = newRecordId();
  const sealed = encryptRecord(observation, { record, patient, category: 'laboratory', resourceType: 'Observation' });
  await writer.putObject(sealed.object);
  const envelopes = [];
  for (const l of labels) {
    const e = sealDataKey(sealed.dataKey, record, l.to, l.encryptionKey);
    await writer.putObject(e.object);
    envelopes.push({ to: l.to, hash: e.hash });
  }
  return {
    record,
    patient,
    resourceType: 'Observation',
    category: 'laboratory',
    contentHash: sealed.contentHash,
    size: sealed.object.length,
    envelopes,
  };
}

test('an anchor with an envelope to an arbitrary registered identity is refused (RECIPIENT_NOT_ALLOWED)', async () => {
  const patient = await newPatient();
  const attacker = await newPatient();
  const required = await patient.recipients(patient.id, 'laboratory', 'Observation');
  const body = await anchorTo(patient, patient.id, [...required, { to: attacker.id, encryptionKey: attacker.keys.encryption.publicKey }]);
  await assert.rejects(patient.submit('record.anchor', body), rejects('RECIPIENT_NOT_ALLOWED', 403));
  const exact = await anchorTo(patient, patient.id, required);
  await patient.submitAndWait('record.anchor', exact);
  // Nor can an existing record's key be handed to them later.
  await assert.rejects(
    patient.submit('record.share', { envelopes: [{ record: exact.record, to: attacker.id, hash: exact.envelopes[0]?.hash as string }] }),
    rejects('RECIPIENT_NOT_ALLOWED', 403),
  );
  await assert.rejects(attacker.readRecord(exact.record), rejects('ACCESS_DENIED', 403));
});

test('an anchor missing a required recipient is refused (RECIPIENT_MISSING): the patient, the emergency key, a covering grantee', async () => {
  const patient = await newPatient();
  const clinician = await newClinician();
  await patient.grant({ grantee: clinician.id, categories: ['laboratory'], purpose: 'treatment' });
  const required = await patient.recipients(patient.id, 'laboratory', 'Observation');
  assert.deepEqual(required.map((r) => r.why).sort(), ['emergency', 'grantee', 'patient']);
  for (const left of [clinician.id, EMERGENCY_RECIPIENT, patient.id]) {
    const body = await anchorTo(
      patient,
      patient.id,
      required.filter((r) => r.to !== left),
    );
    await assert.rejects(patient.submit('record.anchor', body), rejects('RECIPIENT_MISSING', 409), left);
  }
  // The SDK's own writes agree with the rule.
  const { recordId } = await patient.writeRecord({ patient: patient.id, resource: observation, category: 'laboratory' });
  assert.deepEqual((await clinician.readRecord(recordId, 'treatment')).resource, observation);
});

test('an emergency split naming a non-validator is refused (RECIPIENT_NOT_ALLOWED); leaving a validator out is RECIPIENT_MISSING', async () => {
  const patient = await newPatient();
  const network = await emergencyNetwork(patient);
  const split = buildEmergencySplit(patient.id, generateEncryptionKeyPair(), network);
  const impostor = idFromPublicKey(generateSigningKeyPair().publicKey);
  const named = { ...split, shares: split.shares.map((s, i) => (i === 0 ? { ...s, validator: impostor } : s)) };
  await assert.rejects(patient.submit('emergency.split', named), rejects('RECIPIENT_NOT_ALLOWED', 403));
  await assert.rejects(patient.submit('emergency.split', { ...split, shares: [] }), rejects('RECIPIENT_MISSING', 409));
  await patient.submitAndWait('emergency.split', split);
});
