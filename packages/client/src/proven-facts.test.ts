// The client's proven reads against an in-memory node whose answers are proven the real way
// (a state tree, a header, a commit by its one validator): the state keys agree with the
// chain's, honest answers verify, and each kind of tampering is refused by the check it breaks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateKeyBundle, type KeyBundle } from '@medledger/crypto';
import { emergencyKeys, keys } from '@medledger/ehr';
import { genesisHash } from '@medledger/ledger';
import { accessLogKeys } from './access-log.js';
import { MedLedgerClient } from './api.js';
import { ClientError } from './errors.js';
import { provenEmergencyWindows, provenIdentity, provenRecipients, stateKeys } from './proven-facts.js';
import { recordListKeys } from './record-list.js';
import { FakeGatekeeper } from './testing/fake-gatekeeper.js';
import { TrustedGenesis } from './trust.js';
import { VerifiedReader } from './verified-reader.js';

const clientOn = (fake: FakeGatekeeper, keys: KeyBundle = generateKeyBundle(), minHeight?: number) =>
  new MedLedgerClient({ url: 'http://node.test', keys, fetch: fake.fetch, pollIntervalMs: 1, genesis: fake.trusted, minHeight });
// biome-ignore lint/suspicious/noExplicitAny: a tampered answer may be changed anywhere
type Any = any;

const hasCode = (code: string) => (err: unknown) => err instanceof ClientError && err.code === code && err.message.includes(code);

/** A reader over the fake whose answers pass through `tamper` first. */
function tamperedReader(fake: FakeGatekeeper, client: MedLedgerClient, tamper: (answer: Any) => void, minHeight = 0) {
  return new VerifiedReader(
    fake.trusted,
    {
      post: async (path, body) => {
        const answer = structuredClone(await client.post(path, body, { auth: true })) as Any;
        tamper(answer);
        return answer;
      },
    },
    { minHeight },
  );
}

test('the state keys the client proves are the chain’s (ehr state.ts and emergency.ts)', () => {
  const [p, g, r] = ['aa'.repeat(20), 'bb'.repeat(20), 'cc'.repeat(16)];
  assert.equal(stateKeys.identity(p), keys.identity(p));
  assert.equal(stateKeys.delegate(p, g), keys.delegate(p, g));
  assert.equal(stateKeys.grantsOf(p, g), keys.grantsOf(p, g));
  assert.equal(stateKeys.grant(r), keys.grant(r));
  assert.equal(stateKeys.record(r), keys.record(r));
  assert.equal(stateKeys.acceptedDelegates(p), keys.acceptedDelegates(p));
  assert.equal(stateKeys.grantees(p), keys.grantees(p));
  assert.equal(stateKeys.accessEvent(p, 7, 'n-1'), keys.accessEvent(p, 7, 'n-1'));
  assert.equal(recordListKeys.entry(p, 3), keys.recordIndex(p, 3));
  assert.equal(recordListKeys.count(p), keys.recordCount(p));
  for (const log of ['all', 'emergency'] as const) {
    assert.equal(accessLogKeys.entry(log, p, 12), keys.accessIndex(log, p, 12));
    assert.equal(accessLogKeys.count(log, p), keys.accessCount(log, p));
  }
  assert.equal(stateKeys.emergencyWindow(r), emergencyKeys.window(r));
  assert.equal(stateKeys.validatorSetLatest(), keys.govValsetLatest());
});

describe('TrustedGenesis', () => {
  test('its hash is the ledger’s genesis hash; a pinned hash fetches and checks the document', async () => {
    const fake = new FakeGatekeeper();
    assert.equal(fake.trusted.hash, genesisHash(fake.genesis));
    const pinned = await TrustedGenesis.fromHash(fake.trusted.hash.toUpperCase(), { get: async () => fake.genesis });
    assert.equal(pinned.chainId, fake.chainId);
    await assert.rejects(
      TrustedGenesis.fromHash(fake.trusted.hash, { get: async () => ({ ...fake.genesis, genesisTime: 1 }) }),
      hasCode('GENESIS_MISMATCH'),
    );
    assert.throws(
      () => TrustedGenesis.fromDocument({ chainId: 'x', validators: [] }),
      (e: ClientError) => e.code === 'MALFORMED_GENESIS',
    );
  });
});

describe('VerifiedReader', () => {
  test('an honest answer verifies and carries its height; a delegate and a grantee are proven recipients', async () => {
    const fake = new FakeGatekeeper();
    const patient = clientOn(fake);
    await patient.registerPatient();
    const delegate = generateKeyBundle();
    const delegateId = fake.addIdentity(delegate.signing.publicKey, delegate.encryption.publicKey);
    const doctorId = fake.addIdentity(generateKeyBundle().signing.publicKey, generateKeyBundle().encryption.publicKey);
    await patient.setDelegate(delegateId);
    const invited = await provenRecipients(patient.verified('test'), patient.id, { category: 'vital-signs', resourceType: 'Observation' });
    assert.ok(!invited.value.some((r) => r.to === delegateId), 'an invitation alone does not make a recipient');
    await clientOn(fake, delegate).acceptDelegation(patient.id);
    await patient.grant({ grantee: doctorId, categories: ['vital-signs'], purpose: 'treatment' });
    const reader = patient.verified('test');
    const proven = await provenRecipients(reader, patient.id, { category: 'vital-signs', resourceType: 'Observation' });
    assert.deepEqual(proven.value.map((r) => r.why).sort(), ['delegate', 'emergency', 'grantee', 'patient']);
    const labs = await provenRecipients(reader, patient.id, { category: 'laboratory', resourceType: 'Observation' });
    assert.deepEqual(labs.value.map((r) => r.why).sort(), ['delegate', 'emergency', 'patient'], 'the grant does not cover labs');
    assert.ok(proven.height >= 1 && reader.highestHeight >= proven.height);
    const me = await provenIdentity(reader, patient.id);
    assert.equal(me.value.encryptionKey, patient.keys.encryption.publicKey);
  });

  test('each tampering is refused by the check it breaks', async () => {
    const fake = new FakeGatekeeper();
    const patient = clientOn(fake);
    await patient.registerPatient();
    const key = [stateKeys.identity(patient.id)];
    const cases: Array<[string, (a: Any) => void]> = [
      ['UNTRUSTED_COMMIT', (a) => (a.commit.signatures = [])],
      ['HEADER_MISMATCH', (a) => (a.header.txRoot = 'ff'.repeat(32))],
      ['HEADER_MISMATCH', (a) => (a.height += 1)],
      ['APP_HASH_MISMATCH', (a) => (a.resultsRoot = 'ff'.repeat(32))],
      ['STATE_PROOF_INVALID', (a) => (a.entries[0].value = a.entries[0].value.replace(patient.keys.encryption.publicKey, 'ee'.repeat(32)))],
      ['STATE_PROOF_INVALID', (a) => (a.entries = [])],
      ['STATE_PROOF_INVALID', (a) => a.entries.push({ ...a.entries[0], key: 'identity/other' })],
      ['GENESIS_MISMATCH', (a) => (a.header.chainId = 'other-chain')],
    ];
    for (const [code, tamper] of cases) {
      await assert.rejects(tamperedReader(fake, patient, tamper).read(key), hasCode(code), `${code}: ${tamper}`);
    }
    const honest = await tamperedReader(fake, patient, () => {}).read(key);
    await assert.rejects(tamperedReader(fake, patient, () => {}, honest.height + 1).read(key), hasCode('STALE_HEIGHT'));
  });

  test('a client pinned to a height verified earlier refuses an older answer (STALE_HEIGHT)', async () => {
    const fake = new FakeGatekeeper();
    const patient = clientOn(fake);
    await patient.registerPatient();
    const again = clientOn(fake, patient.keys, 10_000);
    await assert.rejects(provenIdentity(again.verified('test'), patient.id), hasCode('STALE_HEIGHT'));
    assert.equal(again.verifiedHeight, 10_000);
  });
});

test('a record list shows only the committed anchor: an author, size, time or supersession the node makes up is refused', async () => {
  const fake = new FakeGatekeeper();
  const keys = generateKeyBundle();
  const observation = { resourceType: 'Observation', status: 'final', code: { text: 'Heart rate' } };
  await clientOn(fake, keys).registerPatient();
  const writer = clientOn(fake, keys);
  const { recordId } = await writer.writeRecord({ patient: writer.id, resource: observation, category: 'vital-signs' });
  const listingWith = (change: (r: Any) => void) => {
    const lying: typeof fetch = async (input, init) => {
      const res = await fake.fetch(input, init);
      if (!String(input).includes(`/v1/patients/${writer.id}/records`)) return res;
      const answer = (await res.json()) as Any;
      for (const r of answer.records) change(r);
      return new Response(JSON.stringify(answer), { status: res.status, headers: { 'content-type': 'application/json' } });
    };
    return new MedLedgerClient({ url: 'http://node.test', keys, fetch: lying, pollIntervalMs: 1, genesis: fake.trusted });
  };
  const honest = await listingWith(() => {}).listRecords(writer.id);
  assert.deepEqual(
    honest.map((r) => r.record),
    [recordId],
  );
  const someone = 'ab'.repeat(20);
  const lies: Array<[string, (r: Any) => void]> = [
    ['author', (r) => (r.author = someone)],
    ['size', (r) => (r.size += 1)],
    ['anchoredAt', (r) => (r.anchoredAt = { height: 1, time: 1 })],
    ['supersededBy', (r) => (r.supersededBy = 'cd'.repeat(16))],
  ];
  for (const [field, lie] of lies)
    await assert.rejects(listingWith(lie).listRecords(writer.id), hasCode('FACT_NOT_PROVEN'), `a made-up ${field} is refused`);
  // A field the node leaves out is shown as committed, not as the node's silence.
  const [quiet] = await listingWith((r) => delete r.size).listRecords(writer.id);
  assert.equal(quiet?.size, honest[0]?.size);
});

test('an emergency window is open or ended by its proven expiry at the proven block time, not by the node’s word', async () => {
  const fake = new FakeGatekeeper();
  const patient = clientOn(fake);
  await patient.registerPatient();
  const window = (id: string, expiresAt: number, extra: Record<string, unknown> = {}) => ({
    id,
    patient: patient.id,
    clinician: 'c1'.repeat(20),
    org: 'o1'.repeat(20),
    reason: { sealed: 'x' },
    durationMs: 3_600_000,
    openedAt: { height: 1, time: 0 },
    expiresAt,
    emergencyKey: 'ee'.repeat(32),
    threshold: 1,
    commitments: [{ validator: 'v1'.repeat(20), x: 1, commitment: 'aa'.repeat(32) }],
    ...extra,
  });
  const open = window('11'.repeat(16), Date.now() + 3_600_000);
  const ended = window('22'.repeat(16), 1_000, { closedEarly: { height: 1, time: 1_000, by: patient.id } });
  fake.extraState.set(stateKeys.emergencyWindow(open.id), JSON.stringify(open));
  fake.extraState.set(stateKeys.emergencyWindow(ended.id), JSON.stringify(ended));
  const reader = patient.verified('test');
  // The node shows the open window as ended (so the patient would not close it) and the ended one as open.
  const [a, b] = await provenEmergencyWindows(reader, [
    { ...open, active: false, status: 'closed' },
    { ...ended, active: true, status: 'ready' },
  ]);
  assert.equal(a?.active, true);
  assert.equal(a?.status, 'pending');
  assert.equal(b?.active, false);
  assert.equal(b?.status, 'closed');
  // Who ended a window early is the committed fact too.
  await assert.rejects(
    provenEmergencyWindows(reader, [{ ...ended, closedEarly: { height: 1, time: 1_000, by: open.clinician } }]),
    hasCode('FACT_NOT_PROVEN'),
  );
  await assert.rejects(
    provenEmergencyWindows(reader, [{ ...open, closedEarly: { height: 1, time: 1, by: patient.id } }]),
    hasCode('FACT_NOT_PROVEN'),
  );
});

test('a grant or record list of one patient may not carry another patient’s real grant or record', async () => {
  const fake = new FakeGatekeeper();
  const aKeys = generateKeyBundle();
  const a = clientOn(fake, aKeys);
  const b = clientOn(fake);
  await a.registerPatient();
  await b.registerPatient();
  const doctorId = fake.addIdentity(generateKeyBundle().signing.publicKey, generateKeyBundle().encryption.publicKey);
  await b.grant({ grantee: doctorId, categories: ['vital-signs'], purpose: 'treatment' });
  const observation = { resourceType: 'Observation', status: 'final', code: { text: 'Heart rate' } };
  await b.writeRecord({ patient: b.id, resource: observation, category: 'vital-signs' });
  // A node that answers a's lists with b's entries (each genuinely on chain).
  const lying: typeof fetch = async (input, init) => {
    const url = String(input);
    if (!url.includes(`/v1/patients/${a.id}/`)) return fake.fetch(input, init);
    const res = await fake.fetch(url.replace(a.id, b.id), init);
    return new Response(await res.text(), { status: res.status, headers: { 'content-type': 'application/json' } });
  };
  const asA = new MedLedgerClient({ url: 'http://node.test', keys: aKeys, fetch: lying, pollIntervalMs: 1, genesis: fake.trusted });
  await assert.rejects(asA.grants(a.id), hasCode('FACT_NOT_PROVEN'));
  await assert.rejects(asA.grantsPage(a.id, { all: true }), hasCode('FACT_NOT_PROVEN'));
  const doctor = clientOn(fake);
  await assert.rejects(
    new MedLedgerClient({ url: 'http://node.test', keys: doctor.keys, fetch: lying, pollIntervalMs: 1, genesis: fake.trusted }).recordsPage(
      a.id,
    ),
    hasCode('FACT_NOT_PROVEN'),
  );
  assert.equal((await a.grants(a.id)).length, 0);
});
