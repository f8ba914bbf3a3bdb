// Proven state over real HTTP (docs/api.md "Proven state"): every answer checks out from the
// genesis file alone (commit → app hash → state proof), a patient's recipient set is
// provable, metadata goes only to those allowed to see it, and a tampered answer is refused.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MedLedgerClient, TrustedGenesis } from '@medledger/client';
import { verifyCommit } from '@medledger/client/light';
import { generateKeyBundle } from '@medledger/crypto';
import type { Genesis } from '@medledger/ledger';
import { checkAppHash, type ProvenStateAnswer, StateProofError, verifyStateProof } from '@medledger/ledger/state-proof';
import { get, post, startSoloNode, TEST_PASSPHRASE, type TestNode } from '@medledger/node/testing';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

let net: TestNode;
let genesis: Genesis;
before(async () => {
  net = await startSoloNode();
  genesis = JSON.parse(readFileSync(join(net.dir, 'node0', 'genesis.json'), 'utf8'));
});
after(async () => {
  await net.cleanup();
});

/** The client's whole check, trusting only `genesis`; returns the proven values by key. */
function verifyAnswer(answer: ProvenStateAnswer): Map<string, string | null> {
  verifyCommit(genesis, answer.header, answer.commit);
  assert.equal(answer.header.height, answer.height);
  checkAppHash(answer.header.appHash, answer.stateRoot, answer.resultsRoot);
  for (const e of answer.entries) verifyStateProof(answer.stateRoot, e.key, e.value, e.proof);
  return new Map(answer.entries.map((e) => [e.key, e.value]));
}

const json = (v: string | null | undefined) => (v === null || v === undefined ? undefined : JSON.parse(v));

test('public keys are proven to anyone: the validator set with its encryption keys, identities, absent keys', async () => {
  const patient = new MedLedgerClient({ url: net.url, keys: generateKeyBundle(), genesis: TrustedGenesis.fromDocument(genesis) });
  const { id } = await patient.registerPatient();
  const missing = `identity/${'ab'.repeat(20)}`;
  const res = await post(`${net.url}/v1/state/proofs`, { keys: ['meta/validators', 'meta/emergency', `identity/${id}`, missing] });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const values = verifyAnswer(res.json);
  assert.deepEqual(
    json(values.get('meta/validators')).validators.map((v: { publicKey: string; encryptionKey: string }) => [v.publicKey, v.encryptionKey]),
    genesis.validators.map((v) => [v.publicKey, v.encryptionKey]),
  );
  assert.equal(json(values.get(`identity/${id}`)).encryptionKey, patient.keys.encryption.publicKey);
  assert.equal(values.get(missing), null, 'an unregistered id is proven absent');

  const single = await get(`${net.url}/v1/state/proof?key=meta/chain`);
  assert.equal(single.status, 200);
  assert.equal(json(verifyAnswer(single.json).get('meta/chain')).chainId, genesis.chainId);
});

test("a patient's recipient set is provable key by key, and matches what the recipients route says", async () => {
  const patient = new MedLedgerClient({ url: net.url, keys: generateKeyBundle(), genesis: TrustedGenesis.fromDocument(genesis) });
  const clinician = new MedLedgerClient({ url: net.url, keys: generateKeyBundle(), genesis: TrustedGenesis.fromDocument(genesis) });
  const delegate = new MedLedgerClient({ url: net.url, keys: generateKeyBundle(), genesis: TrustedGenesis.fromDocument(genesis) });
  const { id: patientId } = await patient.registerPatient();
  const { id: clinicianId } = await clinician.registerPatient();
  const { id: delegateId } = await delegate.registerPatient();
  const { recordId } = await patient.writeRecord({
    patient: patientId,
    resource: { resourceType: 'Observation', status: 'final', code: { text: 'Heart rate' } },
    category: 'vital-signs',
  });
  const { grantId } = await patient.grant({
    grantee: clinicianId,
    categories: ['vital-signs'],
    access: 'read-write',
    purpose: 'treatment',
  });
  await patient.setDelegate(delegateId);
  await delegate.acceptDelegation(patientId);

  const keys = [
    `identity/${patientId}`,
    `granteelist/${patientId}`,
    `grants/${patientId}/${clinicianId}`,
    `grant/${grantId}`,
    `delegatelist/${patientId}`,
    `delegate/${patientId}/${delegateId}`,
    `record/${recordId}`,
  ];
  const answer = (await clinician.post('/v1/state/proofs', { keys }, { auth: true })) as ProvenStateAnswer;
  assert.deepEqual(
    answer.entries.map((e) => e.key),
    keys,
    'entries come in the order asked',
  );
  const values = verifyAnswer(answer);
  assert.deepEqual(json(values.get(`granteelist/${patientId}`)), [clinicianId]);
  assert.deepEqual(json(values.get(`grants/${patientId}/${clinicianId}`)), [grantId]);
  assert.equal(json(values.get(`grant/${grantId}`)).revoked, null);
  assert.deepEqual(json(values.get(`delegatelist/${patientId}`)), [delegateId]);
  const record = json(values.get(`record/${recordId}`));
  assert.equal(record.patient, patientId);
  assert.ok(record.envelopes[patientId] !== undefined && record.envelopes.emergency !== undefined);

  const identity = json(values.get(`identity/${patientId}`));
  const expected = new Set([patientId, 'emergency', delegateId, clinicianId]);
  const said = (await clinician.recipients(patientId, 'vital-signs', 'Observation')).map((r) => r.to);
  assert.deepEqual(new Set(said), expected, 'the proven set is the set the node computes');
  assert.ok(typeof identity.emergencyKey === 'string', "the patient's emergency key is in the proven identity");

  // The access log: the clinician's read is logged; the patient proves the entry.
  await clinician.readRecord(recordId, 'treatment');
  let log = await patient.accessLog(patientId);
  for (let i = 0; i < 100 && !log.some((e) => e.accessor === clinicianId); i++) {
    await new Promise((r) => setTimeout(r, 100));
    log = await patient.accessLog(patientId);
  }
  const event = log.find((e) => e.accessor === clinicianId) as unknown as { height: number; id: string; node: string };
  assert.ok(event !== undefined);
  const logKey = `access/${patientId}/${String(event.height).padStart(12, '0')}/${event.node}-${event.id}`;
  const proven = verifyAnswer(
    (await patient.get(`/v1/state/proof?key=${encodeURIComponent(logKey)}`, { auth: true })) as ProvenStateAnswer,
  );
  assert.equal(json(proven.get(logKey)).accessor, clinicianId);
  await assert.rejects(
    clinician.get(`/v1/state/proof?key=${encodeURIComponent(logKey)}`, { auth: true }),
    (e: { code?: string }) => e.code === 'ACCESS_DENIED',
    "the access log is the patient's and their delegates'",
  );
});

test('metadata proofs go only to those allowed to see it; unknown families and oversize batches are refused', async () => {
  const patient = new MedLedgerClient({ url: net.url, keys: generateKeyBundle(), genesis: TrustedGenesis.fromDocument(genesis) });
  const stranger = new MedLedgerClient({ url: net.url, keys: generateKeyBundle(), genesis: TrustedGenesis.fromDocument(genesis) });
  const { id: patientId } = await patient.registerPatient();
  await stranger.registerPatient();

  const anonymous = await get(`${net.url}/v1/state/proof?key=granteelist/${patientId}`);
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.json.error.code, 'UNAUTHENTICATED');
  await assert.rejects(
    stranger.get(`/v1/state/proof?key=granteelist/${patientId}`, { auth: true }),
    (e: { code?: string; status?: number }) => e.code === 'ACCESS_DENIED' && e.status === 403,
  );
  await assert.rejects(
    stranger.post('/v1/state/proofs', { keys: ['meta/validators', `delegatelist/${patientId}`] }, { auth: true }),
    (e: { code?: string }) => e.code === 'ACCESS_DENIED',
    'one refused key refuses the whole batch',
  );
  const own = (await patient.get(`/v1/state/proof?key=granteelist/${patientId}`, { auth: true })) as ProvenStateAnswer;
  assert.equal(verifyAnswer(own).get(`granteelist/${patientId}`), null, 'no grants yet: proven absent');

  const local = await get(`${net.url}/v1/state/proof?key=node/tip`);
  assert.equal(local.status, 403);
  assert.equal(local.json.error.code, 'KEY_NOT_SERVED');
  const tooMany = await post(`${net.url}/v1/state/proofs`, { keys: Array.from({ length: 257 }, (_, i) => `identity/${i}`) });
  assert.equal(tooMany.status, 400);
  assert.equal(tooMany.json.error.code, 'INVALID_BODY');
  const badKey = await get(`${net.url}/v1/state/proof?key=${encodeURIComponent('identity/\u00e9')}`);
  assert.equal(badKey.status, 400);
});

test("a record's proof follows the grant, as the records list does: not after revocation, and without an envelope yet", async () => {
  const patient = new MedLedgerClient({ url: net.url, keys: generateKeyBundle(), genesis: TrustedGenesis.fromDocument(genesis) });
  const former = new MedLedgerClient({ url: net.url, keys: generateKeyBundle(), genesis: TrustedGenesis.fromDocument(genesis) });
  const later = new MedLedgerClient({ url: net.url, keys: generateKeyBundle(), genesis: TrustedGenesis.fromDocument(genesis) });
  const { id: patientId } = await patient.registerPatient();
  const { id: formerId } = await former.registerPatient();
  const { id: laterId } = await later.registerPatient();
  const { recordId } = await patient.writeRecord({
    patient: patientId,
    resource: { resourceType: 'Observation', status: 'final', code: { text: 'Heart rate' } },
    category: 'vital-signs',
  });
  const { grantId } = await patient.grant({ grantee: formerId, categories: ['vital-signs'], access: 'read', purpose: 'treatment' });
  const key = `record/${recordId}`;
  const before = verifyAnswer((await former.get(`/v1/state/proof?key=${key}`, { auth: true })) as ProvenStateAnswer);
  assert.ok(json(before.get(key)).envelopes[formerId] !== undefined, 'the grantee proves the record its grant covers');

  // Revoked: the record still carries the former grantee's envelope, but its metadata (who
  // else it is shared with from now on, erasure) is no longer theirs to see.
  await patient.revoke(grantId);
  await patient.grant({ grantee: laterId, categories: ['vital-signs'], access: 'read', purpose: 'treatment' });
  // ...and costs no scan of the patient's records, so its time says nothing of how many there are.
  const store = net.node.chain.store;
  const scan = store.scanState.bind(store);
  let scanned = 0;
  store.scanState = (prefix, opts) => {
    if (prefix.includes(patientId)) scanned++;
    return scan(prefix, opts);
  };
  try {
    assert.deepEqual(await former.listRecords(patientId), [], 'the records list shows a former grantee nothing');
  } finally {
    store.scanState = scan;
  }
  assert.equal(scanned, 0, "a caller with no active grant and no window is not walked through the patient's records");
  await assert.rejects(
    former.get(`/v1/state/proof?key=${key}`, { auth: true }),
    (e: { code?: string }) => e.code === 'ACCESS_DENIED',
    "a former grantee does not learn the record's later recipients",
  );

  // A grant made without sharing the existing records covers them: the list shows them, and each is proven.
  const fresh = new MedLedgerClient({ url: net.url, keys: generateKeyBundle(), genesis: TrustedGenesis.fromDocument(genesis) });
  const { id: freshId } = await fresh.registerPatient();
  await patient.grant({ grantee: freshId, categories: ['vital-signs'], access: 'read', purpose: 'treatment', shareExisting: false });
  const listed = await fresh.listRecords(patientId);
  assert.deepEqual(
    listed.map((r) => r.record),
    [recordId],
  );
  assert.equal(typeof listed[0]?.provenAt, 'number');
});

test('a tampered answer is refused with the code of the check that failed', async () => {
  const patient = new MedLedgerClient({ url: net.url, keys: generateKeyBundle(), genesis: TrustedGenesis.fromDocument(genesis) });
  const { id } = await patient.registerPatient();
  const answer = (await get(`${net.url}/v1/state/proof?key=identity/${id}`)).json as ProvenStateAnswer;
  verifyAnswer(answer);
  const entry = answer.entries[0] as ProvenStateAnswer['entries'][number];
  const forged = JSON.stringify({ ...JSON.parse(entry.value as string), encryptionKey: 'ee'.repeat(32) });
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as StateProofError | { code: string }).code;
    }
    return 'accepted';
  };
  assert.equal(
    code(() => verifyAnswer({ ...answer, entries: [{ ...entry, value: forged }] })),
    'PROOF_INVALID',
    'a substituted key',
  );
  assert.equal(
    code(() => verifyAnswer({ ...answer, entries: [{ ...entry, value: null }] })),
    'PROOF_INVALID',
    'a hidden identity',
  );
  assert.equal(
    code(() => verifyAnswer({ ...answer, stateRoot: 'ab'.repeat(32) })),
    'APP_HASH_MISMATCH',
    'another state root',
  );
  assert.equal(
    code(() => verifyAnswer({ ...answer, header: { ...answer.header, appHash: 'cd'.repeat(32) } })),
    'BAD_COMMIT',
    'a header the validators did not sign',
  );
  assert.ok(new StateProofError('VALUE_MISMATCH', 'x') instanceof Error);
});
