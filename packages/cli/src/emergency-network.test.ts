// Emergency ("break-glass") access on a real 4-validator network on loopback: the patient's
// emergency key is split 3-of-4 among the validators; a privileged clinician opens a window
// with a reason, the validators post their shares, the clinician rebuilds the key and reads,
// every read is tagged and shown to the patient and the privacy officer. Also: a validator
// posting a wrong share, too few validators (one down, one not posting), every refusal,
// expiry by block time, and rotation.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  awaitEmergencyKey,
  type ClientError,
  emergencyWindow,
  listEmergency,
  MedLedgerClient,
  openDataKey,
  openEmergency,
  recoverEmergencyKey,
  rotateEmergencyKey,
  sealEmergencyReason,
  setEmergencyPrivilege,
  staffRegisterBody,
  TrustedGenesis,
  windowIdOf,
} from '@medledger/client';
import { generateKeyBundle, idFromPublicKey, type KeyBundle, sealToPublicKey, utf8 } from '@medledger/crypto';
import { postedShareAad } from '@medledger/ehr';
import { signTx } from '@medledger/ledger';
import { initNetwork, loadHome, MedLedgerNode, readOrgKey, verifyStoredChain } from '@medledger/node';
import { freePorts, TEST_PASSPHRASE, waitFor } from '@medledger/node/testing';
import { openSqliteStore } from '@medledger/storage';

// Node homes' keystores are encrypted; this file's nodes and CLI runs use the test passphrase.
process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-emergency-net-'));
/** The genesis the SDK clients of this file trust: the test network's own file. */
const trusted = () => TrustedGenesis.fromDocument(JSON.parse(readFileSync(join(dir, 'genesis.json'), 'utf8')));
let homes: string[] = [];
const nodes: Array<MedLedgerNode | undefined> = [];
let url = '';

// Validator 3 runs with share-posting disabled: the tests post for it (a wrong share) or not at all.
async function startNode(i: number): Promise<MedLedgerNode> {
  const loaded = loadHome(homes[i] as string);
  loaded.config.consensus.blockIntervalMs = 50;
  if (i === 3) loaded.config.emergency = { postShares: false };
  const node = new MedLedgerNode(loaded, { logger: () => {} });
  await node.start();
  nodes[i] = node;
  return node;
}

before(async () => {
  ({ homes } = initNetwork({ validators: 4, out: dir, chainId: 'emergency-net', ports: await freePorts(4) }));
  for (let i = 0; i < 4; i++) await startNode(i);
  url = (nodes[0] as MedLedgerNode).url;
});
after(async () => {
  for (const node of nodes) await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const resource = (text: string) => ({ resourceType: 'AllergyIntolerance', code: { text }, criticality: 'high' });
const hasCode = (code: string, status?: number) => (e: ClientError) => e.code === code && (status === undefined || e.status === status);
const node0 = () => nodes[0] as MedLedgerNode;

async function staff(
  role: 'clinician' | 'privacy-officer',
  name: string,
): Promise<{ client: MedLedgerClient; id: string; keys: KeyBundle }> {
  const org = new MedLedgerClient({ genesis: trusted(), url, keys: readOrgKey(homes[0] as string) });
  const keys = generateKeyBundle();
  await org.submitAndWait(
    'staff.register',
    staffRegisterBody({ publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role, name }),
  );
  return { client: new MedLedgerClient({ genesis: trusted(), url, keys }), id: idFromPublicKey(keys.signing.publicKey), keys };
}

async function privileged(name: string) {
  const c = await staff('clinician', name);
  await setEmergencyPrivilege(new MedLedgerClient({ genesis: trusted(), url, keys: readOrgKey(homes[0] as string) }), c.id);
  return c;
}

async function patientWithRecords(n: number) {
  const client = new MedLedgerClient({ genesis: trusted(), url, keys: generateKeyBundle() });
  const { id } = await client.registerPatient();
  const records: string[] = [];
  for (let i = 0; i < n; i++)
    records.push((await client.writeRecord({ patient: id, resource: resource(`allergy ${i}`), category: 'allergies' })).recordId);
  return { client, id, records };
}

// A reason sealed as the client seals it (to the patient, the clinician and organization 0),
// for tests that submit `emergency.access` themselves; `to` overrides the recipients.
async function sealedReason(doctor: MedLedgerClient, patient: string, text: string, to?: Array<{ id: string; encryptionKey: string }>) {
  const org = readOrgKey(homes[0] as string);
  const recipients = to ?? [
    { id: patient, encryptionKey: (await doctor.identity(patient)).encryptionKey },
    { id: doctor.id, encryptionKey: doctor.keys.encryption.publicKey },
    { id: idFromPublicKey(org.signing.publicKey), encryptionKey: org.encryption.publicKey },
  ];
  return sealEmergencyReason(text, { patient, clinician: doctor.id }, recipients);
}

// A transaction signed by validator 3's node key, as a byzantine operator could send.
async function postAsValidator3(body: Record<string, unknown>) {
  const key = loadHome(homes[3] as string).key;
  const account = (await (await fetch(`${url}/v1/accounts/${key.signing.publicKey}`)).json()) as { nextNonce: number };
  const tx = signTx(
    { v: 1, chain: 'emergency-net', kind: 'emergency.share', signer: key.signing.publicKey, nonce: account.nextNonce, body },
    key.signing.privateKey,
  );
  const res = await fetch(`${url}/v1/txs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(tx) });
  return { status: res.status, json: (await res.json()) as { hash?: string; error?: { code: string } } };
}

// Block time only moves with blocks: commit throwaway registrations until it passes `time`.
async function advanceBlockTimePast(time: number) {
  while (node0().chain.tipTime <= time) {
    await new MedLedgerClient({ genesis: trusted(), url, keys: generateKeyBundle() }).registerPatient();
  }
}

test('full flow: a privileged clinician opens a window, the validators post shares, the clinician reads; all of it is shown', async () => {
  const { client: patient, id: patientId, records } = await patientWithRecords(2);
  const officer = await staff('privacy-officer', 'Privacy Officer');
  const doctor = await privileged('Dr Emergency');
  await assert.rejects(doctor.client.readRecord(records[0] as string), hasCode('ACCESS_DENIED', 403));

  const opened = await openEmergency(doctor.client, {
    patient: patientId,
    reason: 'unconscious in the emergency department, allergies unknown',
    durationMs: 10 * 60_000,
  });
  assert.equal(opened.window.threshold, 3, 'more than 2/3 of 4 validators');
  assert.equal(opened.window.emergencyKey, (await patient.identity(patientId)).emergencyKey);

  // A byzantine validator 3 posts a share that is not its own: the commitment on chain exposes it.
  const bogus = sealToPublicKey(
    doctor.keys.encryption.publicKey,
    randomBytes(32),
    utf8(postedShareAad(opened.windowId, idFromPublicKey(loadHome(homes[3] as string).key.signing.publicKey), doctor.id)),
  );
  const posted = await postAsValidator3({ window: opened.windowId, x: 4, sealed: bogus });
  assert.equal(posted.status, 202);
  const all = await waitFor(async () => {
    const w = await emergencyWindow(doctor.client, opened.windowId);
    return w.sharesPosted === 4 ? w : undefined;
  }, 'all four shares to be posted');
  const checked = recoverEmergencyKey(all, doctor.keys.encryption.privateKey);
  assert.ok(checked !== undefined);
  assert.deepEqual(checked.badShares, [idFromPublicKey(loadHome(homes[3] as string).key.signing.publicKey)]);
  assert.equal(checked.privateKey, opened.privateKey);
  // With the wrong share among only three, the key cannot be rebuilt — and is not silently wrong.
  const three = { ...all, shares: (all.shares ?? []).slice(1) };
  assert.equal(recoverEmergencyKey(three, doctor.keys.encryption.privateKey), undefined);

  // Inside the window the clinician lists and reads every record, tagged as emergency access.
  assert.deepEqual((await doctor.client.listRecords(patientId)).map((r) => r.record).sort(), [...records].sort());
  for (const [i, id] of records.entries()) assert.deepEqual((await doctor.client.readRecord(id)).resource, resource(`allergy ${i}`));

  // The patient sees who, why, for how long, every emergency read, and a prompt to rotate.
  const seen = await waitFor(async () => {
    const listing = await listEmergency(patient);
    const w = listing.windows[0];
    return listing.as === 'patient' && (w?.accesses?.length ?? 0) >= 2 ? listing : undefined;
  }, 'the emergency reads to reach the patient');
  assert.equal(seen.as, 'patient');
  const notice = seen.windows[0];
  assert.ok(notice !== undefined);
  assert.equal(notice.clinician, doctor.id);
  assert.equal(notice.reason, 'unconscious in the emergency department, allergies unknown');
  // On chain the reason is ciphertext: even a consortium member reading the full block sees no text.
  const member = new MedLedgerClient({ genesis: trusted(), url, keys: loadHome(homes[1] as string).key });
  const block = (await member.get(`/v1/blocks/${opened.window.openedAt.height}`, { auth: true })) as { bodies: string };
  assert.equal(block.bodies, 'full');
  assert.equal(JSON.stringify(block).includes('unconscious'), false, 'the reason is readable in the block');
  assert.equal(JSON.stringify(await patient.get(`/v1/patients/${patientId}/emergency`, { auth: true })).includes('unconscious'), false);
  // The organization (its admin) opens it too.
  const orgReview = await listEmergency(new MedLedgerClient({ genesis: trusted(), url, keys: readOrgKey(homes[0] as string) }));
  assert.equal(orgReview.windows.find((w) => w.id === opened.windowId)?.reason, notice.reason);
  assert.equal(notice.expiresAt - notice.openedAt.time, 10 * 60_000);
  assert.equal(notice.status, 'ready');
  assert.equal(notice.shares, undefined, 'the shares go to the clinician only');
  assert.deepEqual((notice.accesses ?? []).map((e) => e.record).sort(), [...records].sort());
  assert.ok((notice.accesses ?? []).every((e) => e.emergency === true && e.decision === 'allowed'));
  assert.equal(seen.as === 'patient' && seen.rotationRecommended, true);
  const log = await patient.accessLog(patientId);
  assert.ok(log.filter((e) => e.accessor === doctor.id && e.decision === 'allowed').every((e) => e.emergency === true));

  // The organization's privacy officer reviews its staff's emergency access.
  const review = await listEmergency(officer.client);
  assert.equal(review.as, 'organization');
  const reviewed = review.windows.find((w) => w.id === opened.windowId);
  assert.equal(reviewed?.reason, notice.reason);
  assert.equal(reviewed?.accesses?.length, notice.accesses?.length);
  // Another organization's privacy officer does not.
  const otherOrg = new MedLedgerClient({ genesis: trusted(), url, keys: readOrgKey(homes[1] as string) });
  await assert.rejects(otherOrg.get(`/v1/emergency/windows/${opened.windowId}`, { auth: true }), hasCode('ACCESS_DENIED', 403));
  // Who a reason is sealed to is for the organization's own staff: the officer is listed, others refused.
  const org0 = opened.window.org;
  const reviewers = (await doctor.client.get(`/v1/orgs/${org0}/reviewers`, { auth: true })) as { privacyOfficers: Array<{ id: string }> };
  assert.ok(reviewers.privacyOfficers.some((o) => o.id === officer.id));
  await assert.rejects(otherOrg.get(`/v1/orgs/${org0}/reviewers`, { auth: true }), hasCode('ACCESS_DENIED', 403));
  await assert.rejects(patient.get(`/v1/orgs/${org0}/reviewers`, { auth: true }), hasCode('ACCESS_DENIED', 403));
});

test('with one validator down and one not posting, the key cannot be rebuilt and the request stays pending; the returning validator completes it', async () => {
  const { id: patientId, records } = await patientWithRecords(1);
  const doctor = await privileged('Dr Pending');
  await (nodes[2] as MedLedgerNode).stop();
  nodes[2] = undefined;
  try {
    const done = await doctor.client.submitAndWait('emergency.access', {
      patient: patientId,
      reason: await sealedReason(doctor.client, patientId, 'cardiac arrest'),
      durationMs: 10 * 60_000,
    });
    const windowId = windowIdOf(done.tx);
    await assert.rejects(awaitEmergencyKey(doctor.client, windowId, { timeoutMs: 2_000 }), hasCode('EMERGENCY_PENDING'));
    const w = await emergencyWindow(doctor.client, windowId);
    assert.equal(w.status, 'pending');
    assert.equal(w.sharesPosted, 2);
    assert.equal(recoverEmergencyKey(w, doctor.keys.encryption.privateKey), undefined);
    await assert.rejects(doctor.client.readRecord(records[0] as string), hasCode('EMERGENCY_PENDING'));
    // Validator 2 comes back, catches up, and posts its share for the window opened while it was down.
    await startNode(2);
    const recovered = await awaitEmergencyKey(doctor.client, windowId, { timeoutMs: 60_000 });
    assert.equal(recovered.window.sharesPosted, 3);
    assert.deepEqual((await doctor.client.readRecord(records[0] as string)).resource, resource('allergy 0'));
  } finally {
    if (nodes[2] === undefined) await startNode(2);
  }
});

test('refused: no privilege, no reason, too long, unknown patient, a second window while one is active, a revoked privilege', async () => {
  const { id: patientId } = await patientWithRecords(0);
  const plain = await staff('clinician', 'Dr Nobody');
  // Sealed as the client would, to `body.patient` in place of the real patient for the
  // unknown-patient refusals (the chain checks who a reason names, not what it decrypts to).
  const open = async (c: MedLedgerClient, body: Partial<{ patient: string; reason: unknown; durationMs: number }>) => {
    const sealed = await sealedReason(c, patientId, 'trauma bay');
    const to = body.patient ?? patientId;
    const keys = sealed.keys
      .map((k) => (k.to === patientId ? { ...k, to } : k))
      .filter((k, i, all) => all.findIndex((x) => x.to === k.to) === i);
    const reason = { ...sealed, keys };
    return c.submitAndWait('emergency.access', { patient: patientId, reason, durationMs: 60_000, ...body } as never);
  };
  await assert.rejects(open(plain.client, {}), hasCode('UNAUTHORIZED', 403));
  const doctor = await privileged('Dr Careful');
  // No reason: the client refuses to seal one, and the chain refuses an empty ciphertext or plain text.
  await assert.rejects(
    openEmergency(doctor.client, { patient: patientId, reason: '   ', durationMs: 60_000 }),
    hasCode('INVALID_ARGUMENT'),
  );
  const good = await sealedReason(doctor.client, patientId, 'trauma bay');
  await assert.rejects(open(doctor.client, { reason: { ...good, ct: '' } }), hasCode('INVALID_BODY', 400));
  await assert.rejects(open(doctor.client, { reason: { ...good, ct: 'ab'.repeat(2001) } }), hasCode('INVALID_BODY', 400));
  await assert.rejects(open(doctor.client, { reason: 'trauma bay' }), hasCode('INVALID_BODY', 400));
  // Sealed without the organization, or to an outsider: refused, so the reviewers can always read it.
  const orgKeys = readOrgKey(homes[0] as string);
  const orgId = idFromPublicKey(orgKeys.signing.publicKey);
  await assert.rejects(
    open(doctor.client, { reason: { ...good, keys: good.keys.filter((k) => k.to !== orgId) } }),
    hasCode('INVALID_BODY', 400),
  );
  const outsider = generateKeyBundle();
  const outsiderClient = new MedLedgerClient({ genesis: trusted(), url, keys: outsider });
  await outsiderClient.registerPatient();
  const leaky = await sealedReason(doctor.client, patientId, 'trauma bay', [
    { id: patientId, encryptionKey: (await doctor.client.identity(patientId)).encryptionKey },
    { id: orgId, encryptionKey: orgKeys.encryption.publicKey },
    { id: outsiderClient.id, encryptionKey: outsider.encryption.publicKey },
  ]);
  await assert.rejects(open(doctor.client, { reason: leaky }), hasCode('INVALID_BODY', 400));
  await assert.rejects(open(doctor.client, { durationMs: 4 * 60 * 60_000 + 1 }), hasCode('INVALID_BODY', 400));
  await assert.rejects(open(doctor.client, { patient: 'ab'.repeat(20) }), hasCode('NOT_FOUND', 404));
  await assert.rejects(open(doctor.client, { patient: doctor.id }), hasCode('NOT_FOUND', 404));
  await open(doctor.client, {});
  const colleague = await privileged('Dr Second');
  await assert.rejects(open(colleague.client, {}), hasCode('WINDOW_ACTIVE', 409));
  await assert.rejects(open(doctor.client, {}), hasCode('WINDOW_ACTIVE', 409));
  // Revoking the privilege stops new windows and ends reads through the open one at once.
  const org = new MedLedgerClient({ genesis: trusted(), url, keys: readOrgKey(homes[0] as string) });
  const other = await patientWithRecords(1);
  const w = await openEmergency(colleague.client, { patient: other.id, reason: 'stroke', durationMs: 60_000 });
  assert.deepEqual((await colleague.client.readRecord(other.records[0] as string)).resource, resource('allergy 0'));
  await setEmergencyPrivilege(org, colleague.id, true);
  await assert.rejects(colleague.client.readRecord(other.records[0] as string), hasCode('ACCESS_DENIED', 403));
  await assert.rejects(open(colleague.client, { patient: (await patientWithRecords(0)).id }), hasCode('UNAUTHORIZED', 403));
  assert.equal((await emergencyWindow(colleague.client, w.windowId)).active, true, 'the window stays on the record');
  // Another organization cannot grant the privilege to this organization's clinician.
  const foreign = new MedLedgerClient({ genesis: trusted(), url, keys: readOrgKey(homes[1] as string) });
  await assert.rejects(setEmergencyPrivilege(foreign, plain.id), hasCode('UNAUTHORIZED', 403));
});

test('a window closes by block time: reads are refused and late shares are refused', async () => {
  const { id: patientId, records } = await patientWithRecords(1);
  const doctor = await privileged('Dr Brief');
  const opened = await openEmergency(doctor.client, { patient: patientId, reason: 'anaphylaxis', durationMs: 2_000 });
  await advanceBlockTimePast(opened.window.expiresAt);
  await assert.rejects(doctor.client.readRecord(records[0] as string), hasCode('ACCESS_DENIED', 403));
  assert.deepEqual(await doctor.client.listRecords(patientId), []);
  const closed = await emergencyWindow(doctor.client, opened.windowId);
  assert.equal(closed.active, false);
  assert.equal(closed.status, 'closed');
  // Validator 3 never posted; after the window its share is refused.
  const late = await postAsValidator3({
    window: opened.windowId,
    x: 4,
    sealed: sealToPublicKey(doctor.keys.encryption.publicKey, randomBytes(32)),
  });
  assert.equal(late.json.error?.code, 'WINDOW_CLOSED');
  // A new window may be opened once the old one closed.
  await openEmergency(doctor.client, { patient: patientId, reason: 'anaphylaxis, again', durationMs: 60_000 });
});

test('rotation: a new key split again, old envelopes deleted everywhere; the old key opens no new record', async () => {
  const { client: patient, id: patientId, records } = await patientWithRecords(2);
  const doctor = await privileged('Dr Rotate');
  const first = await openEmergency(doctor.client, { patient: patientId, reason: 'sepsis', durationMs: 2_000 });
  await advanceBlockTimePast(first.window.expiresAt);
  const before = await patient.listRecords(patientId);
  const oldEnvelopes = before.map((r) => (r.envelopes as Record<string, string>).emergency as string);

  const rotated = await rotateEmergencyKey(patient, (o) => patient.putObject(o));
  assert.equal(rotated.rewrapped, 2);
  assert.notEqual(rotated.emergencyKey, first.window.emergencyKey);
  const listing = await listEmergency(patient);
  assert.equal(listing.as === 'patient' && listing.rotationRecommended, false);
  assert.equal(listing.as === 'patient' && listing.emergencyKey, rotated.emergencyKey);

  const height = node0().chain.height;
  for (const node of nodes)
    await waitFor(() => ((node as MedLedgerNode).chain.height >= height ? true : undefined), 'every node to commit');
  await waitFor(
    () => (nodes.every((n) => oldEnvelopes.every((h) => !(n as MedLedgerNode).chain.store.hasVaultObject(h))) ? true : undefined),
    'every node to delete the old emergency envelopes',
  );

  // A record written after rotation: the old key does not open its emergency envelope.
  const fresh = await patient.writeRecord({ patient: patientId, resource: resource('new allergy'), category: 'allergies' });
  const meta = (await patient.listRecords(patientId)).find((r) => r.record === fresh.recordId);
  assert.ok(meta !== undefined);
  const envelopeHash = (meta.envelopes as Record<string, string>).emergency as string;
  const envelope = JSON.parse(Buffer.from(node0().chain.store.getVaultObject(envelopeHash) as Uint8Array).toString('utf8'));
  assert.throws(() => openDataKey(envelope, fresh.recordId, 'emergency', first.privateKey), /decryption failed/);

  // A new window rebuilds the new key, which opens the old records (rewrapped) and the new one.
  const second = await openEmergency(doctor.client, { patient: patientId, reason: 'sepsis, readmitted', durationMs: 60_000 });
  assert.notEqual(second.privateKey, first.privateKey);
  for (const id of [...records, fresh.recordId]) assert.ok((await doctor.client.readRecord(id)).resource);
  // Rotation is refused while a window is open.
  await assert.rejects(
    rotateEmergencyKey(patient, (o) => patient.putObject(o)),
    hasCode('WINDOW_ACTIVE', 409),
  );
});

test('every read by the window’s clinician on that patient is tagged emergency, also one a grant allowed', async () => {
  const { client: patient, id: patientId, records } = await patientWithRecords(2);
  const doctor = await privileged('Dr Granted');
  await patient.grant({ grantee: doctor.id, records: [records[0] as string], purpose: 'treatment' });
  await openEmergency(doctor.client, { patient: patientId, reason: 'trauma, consent scope too narrow', durationMs: 10 * 60_000 });
  for (const id of records) assert.ok((await doctor.client.readRecord(id)).resource);
  const events = await waitFor(async () => {
    const log = (await patient.accessLog(patientId)).filter((e) => e.accessor === doctor.id);
    return log.length >= 2 ? log : undefined;
  }, 'both reads to be logged');
  assert.deepEqual(events.map((e) => [e.record, e.emergency]).sort(), records.map((id) => [id, true]).sort());
});

test('a validator’s chain with all of the above re-verifies offline from genesis, replaying every emergency rule', async () => {
  const stopped = nodes[1] as MedLedgerNode;
  const { genesis, dbPath } = stopped.home;
  await stopped.stop();
  nodes[1] = undefined;
  const store = openSqliteStore(dbPath, { readonly: true });
  try {
    const result = verifyStoredChain(genesis, store);
    assert.equal(result.ok, true, JSON.stringify(result));
  } finally {
    store.close();
  }
});
