// Emergency access as pure rules: the threshold, who may split, grant the privilege, open a
// window and post shares, and which reads a window allows, decided from state and block time.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { generateEncryptionKeyPair, sealToPublicKey, toHex } from '@medledger/crypto';
import { txHash } from '@medledger/ledger';
import { decideEmergencyRead, emergencyThreshold, getWindow } from './emergency.js';
import { getIdentity } from './identity.js';
import { testActor, testChain, testGenesis } from './testing/world.js';

const CHAIN = 'emergency-test';
const T0 = 1_700_000_000_000;

const actor = () => testActor(CHAIN);

function setup(opts: { withParams?: boolean; maxDurationMs?: number; orgKinds?: string[] } = {}) {
  const orgs = [actor(), actor()];
  const validators = [actor(), actor(), actor(), actor()];
  const genesis = testGenesis(
    CHAIN,
    T0,
    orgs,
    validators,
    opts.maxDurationMs === undefined ? {} : { emergencyMaxDurationMs: opts.maxDurationMs },
  );
  opts.orgKinds?.forEach((kind, i) => {
    (genesis.organizations[i] as { kind: string }).kind = kind;
  });
  const { state, block, now } = testChain(genesis, { emergency: opts.withParams !== false });
  const envelope = (to = validators[0]) => sealToPublicKey((to as ReturnType<typeof actor>).encryption.publicKey, randomBytes(32));
  const splitBody = (key = generateEncryptionKeyPair().publicKey) => ({
    emergencyKey: key,
    threshold: 3,
    shares: validators.map((v, i) => ({ validator: v.id, x: i + 1, commitment: toHex(randomBytes(32)), sealed: envelope(v) })),
  });
  const patient = actor();
  const emergencyKey = generateEncryptionKeyPair().publicKey;
  const clinician = actor();
  const org = orgs[0] as ReturnType<typeof actor>;
  assert.deepEqual(
    block([
      patient.tx('identity.register', { role: 'patient', encryptionKey: patient.encryption.publicKey, emergencyKey }),
      org.tx('staff.register', {
        publicKey: clinician.signing.publicKey,
        encryptionKey: clinician.encryption.publicKey,
        role: 'clinician',
      }),
    ]),
    ['ok', 'ok'],
  );
  // A reason as the client seals it (the chain checks its shape and recipients, not its text).
  const sealedKey = (to: ReturnType<typeof actor>) => ({ to: to.id, sealed: envelope(to) });
  const reason = (keys = [sealedKey(patient), sealedKey(clinician), sealedKey(org)], ct = toHex(randomBytes(40))) => ({
    iv: toHex(randomBytes(12)),
    ct,
    tag: toHex(randomBytes(16)),
    keys,
  });
  return { orgs, org, validators, state, block, splitBody, patient, emergencyKey, clinician, envelope, sealedKey, reason, now };
}

test('the threshold is the least number of validators that is more than 2/3 of them', () => {
  for (let n = 1; n <= 100; n++) {
    const k = emergencyThreshold(n);
    assert.ok(3 * k > 2 * n, `${k} of ${n} is more than 2/3`);
    assert.ok(3 * (k - 1) <= 2 * n, `${k - 1} of ${n} is not`);
  }
  assert.deepEqual([1, 2, 3, 4, 7].map(emergencyThreshold), [1, 2, 3, 3, 5]);
});

test('a split must give one share to each validator in genesis order, with the network threshold', () => {
  const w = setup();
  const good = w.splitBody(w.emergencyKey);
  assert.deepEqual(w.block([w.patient.tx('emergency.split', { ...good, threshold: 2 })]), ['INVALID_BODY']);
  assert.deepEqual(w.block([w.patient.tx('emergency.split', { ...good, shares: good.shares.slice(1) })]), ['RECIPIENT_MISSING']);
  // A split naming a non-validator (a lying node substituting itself) is refused.
  const stranger = { ...good, shares: good.shares.map((s, i) => (i === 0 ? { ...s, validator: w.clinician.id } : s)) };
  assert.deepEqual(w.block([w.patient.tx('emergency.split', stranger)]), ['RECIPIENT_NOT_ALLOWED']);
  assert.deepEqual(w.block([w.patient.tx('emergency.split', { ...good, shares: [...good.shares].reverse() })]), ['INVALID_BODY']);
  const bad = { ...good, shares: good.shares.map((s, i) => (i === 0 ? { ...s, sealed: { v: 1 } } : s)) };
  assert.deepEqual(w.block([w.patient.tx('emergency.split', bad)]), ['INVALID_BODY']);
  // A "share" carrying more than one share's bytes would park arbitrary data in state.
  const v0 = w.validators[0] as ReturnType<typeof actor>;
  const bloated = {
    ...good,
    shares: good.shares.map((s, i) => (i === 0 ? { ...s, sealed: sealToPublicKey(v0.encryption.publicKey, randomBytes(4096)) } : s)),
  };
  assert.deepEqual(w.block([w.patient.tx('emergency.split', bloated)]), ['INVALID_BODY']);
  assert.deepEqual(w.block([w.clinician.tx('emergency.split', good)]), ['UNAUTHORIZED']);
  assert.deepEqual(w.block([w.patient.tx('emergency.split', good)]), ['ok']);
});

test('a chain without emergency parameters refuses emergency transactions', () => {
  const w = setup({ withParams: false });
  assert.deepEqual(w.block([w.patient.tx('emergency.split', w.splitBody(w.emergencyKey))]), ['INVALID_BODY']);
});

test('only the clinician’s own organization grants and revokes the privilege; only a privileged clinician opens a window', () => {
  const w = setup({ maxDurationMs: 60_000 });
  w.block([w.patient.tx('emergency.split', w.splitBody(w.emergencyKey))]);
  const open = (extra: Record<string, unknown> = {}) =>
    w.clinician.tx('emergency.access', { patient: w.patient.id, reason: w.reason(), durationMs: 30_000, ...extra });
  assert.deepEqual(w.block([open()]), ['UNAUTHORIZED']);
  assert.deepEqual(
    w.block([(w.orgs[1] as ReturnType<typeof actor>).tx('emergency.privilege', { clinician: w.clinician.id, grant: true })]),
    ['UNAUTHORIZED'],
  );
  assert.deepEqual(w.block([w.org.tx('emergency.privilege', { clinician: w.patient.id, grant: true })]), ['UNAUTHORIZED']);
  assert.deepEqual(w.block([w.org.tx('emergency.privilege', { clinician: w.clinician.id, grant: false })]), ['NOT_FOUND']);
  assert.deepEqual(w.block([w.org.tx('emergency.privilege', { clinician: w.clinician.id, grant: true })]), ['ok']);
  // The genesis cap (60 s here) bounds the duration.
  assert.deepEqual(w.block([open({ durationMs: 60_001 })]), ['INVALID_BODY']);
  assert.deepEqual(w.block([open({ durationMs: 999 })]), ['INVALID_BODY']);
  // The reason is ciphertext: required (non-empty), bounded, and sealed to the patient and the
  // organization; plain text, or a key for someone else, is refused.
  assert.deepEqual(w.block([open({ reason: 'collapsed' })]), ['INVALID_BODY']);
  assert.deepEqual(w.block([open({ reason: w.reason(undefined, '') })]), ['INVALID_BODY']);
  assert.deepEqual(w.block([open({ reason: w.reason(undefined, 'ab'.repeat(2001)) })]), ['INVALID_BODY']);
  assert.deepEqual(w.block([open({ reason: w.reason([w.sealedKey(w.patient), w.sealedKey(w.clinician)]) })]), ['INVALID_BODY']);
  assert.deepEqual(w.block([open({ reason: w.reason([w.sealedKey(w.org), w.sealedKey(w.clinician)]) })]), ['INVALID_BODY']);
  const stranger = w.orgs[1] as ReturnType<typeof actor>;
  assert.deepEqual(w.block([open({ reason: w.reason([w.sealedKey(w.patient), w.sealedKey(w.org), w.sealedKey(stranger)]) })]), [
    'INVALID_BODY',
  ]);
  assert.deepEqual(w.block([open({ reason: { ...w.reason(), note: 'x' } })]), ['INVALID_BODY']);
  assert.deepEqual(w.block([open({ extra: 1 })]), ['INVALID_BODY']);
  assert.deepEqual(w.block([open()]), ['ok']);
  assert.deepEqual(w.block([w.org.tx('emergency.privilege', { clinician: w.clinician.id, grant: false })]), ['ok']);
  assert.deepEqual(w.block([open()]), ['UNAUTHORIZED']);
});

test('a patient without a registered split cannot be opened; a rotation is refused while a window is open', () => {
  const w = setup();
  w.block([w.org.tx('emergency.privilege', { clinician: w.clinician.id, grant: true })]);
  const open = () => w.clinician.tx('emergency.access', { patient: w.patient.id, reason: w.reason(), durationMs: 30_000 });
  assert.deepEqual(w.block([open()]), ['NO_EMERGENCY_KEY']);
  w.block([w.patient.tx('emergency.split', w.splitBody(w.emergencyKey))]);
  assert.deepEqual(w.block([open()]), ['ok']);
  assert.deepEqual(w.block([w.patient.tx('emergency.split', w.splitBody())]), ['WINDOW_ACTIVE']);
  w.block([], w.now() + 30_000);
  const rotated = w.splitBody();
  assert.deepEqual(w.block([w.patient.tx('emergency.split', rotated)]), ['ok']);
  assert.equal(getIdentity(w.state, w.patient.id)?.emergencyKey, rotated.emergencyKey);
});

test('shares: only a validator of the split, once, with its own x, while the window is open', () => {
  const w = setup();
  w.block([
    w.patient.tx('emergency.split', w.splitBody(w.emergencyKey)),
    w.org.tx('emergency.privilege', { clinician: w.clinician.id, grant: true }),
  ]);
  const opening = w.clinician.tx('emergency.access', { patient: w.patient.id, reason: w.reason(), durationMs: 10_000 });
  assert.deepEqual(w.block([opening]), ['ok']);
  const window = txHash(opening).slice(0, 32);
  assert.equal(getWindow(w.state, window)?.expiresAt, w.now() + 10_000);
  const [v0, v1, v2] = w.validators as [ReturnType<typeof actor>, ReturnType<typeof actor>, ReturnType<typeof actor>];
  const share = (v: ReturnType<typeof actor>, x: number, id = window) => v.tx('emergency.share', { window: id, x, sealed: w.envelope(v) });
  assert.deepEqual(w.block([w.clinician.tx('emergency.share', { window, x: 1, sealed: w.envelope() })]), ['UNAUTHORIZED']);
  assert.deepEqual(w.block([share(v0, 2)]), ['UNAUTHORIZED']);
  assert.deepEqual(w.block([share(v0, 1, 'ab'.repeat(16))]), ['NOT_FOUND']);
  assert.deepEqual(w.block([share(v0, 1), share(v0, 1)]), ['ok', 'SHARE_POSTED']);
  // At exactly expiresAt the window is closed: block time, never a wall clock.
  const expiresAt = getWindow(w.state, window)?.expiresAt as number;
  assert.deepEqual(w.block([share(v1, 2)], expiresAt - 1), ['ok']);
  assert.deepEqual(w.block([share(v2, 3)], expiresAt), ['WINDOW_CLOSED']);
});

test('an emergency read is allowed only to the window’s clinician, inside the window, while privileged', () => {
  const w = setup();
  w.block([
    w.patient.tx('emergency.split', w.splitBody(w.emergencyKey)),
    w.org.tx('emergency.privilege', { clinician: w.clinician.id, grant: true }),
  ]);
  const record = toHex(randomBytes(16));
  const h = () => toHex(randomBytes(32));
  const anchor = w.patient.tx('record.anchor', {
    record,
    patient: w.patient.id,
    resourceType: 'Observation',
    category: 'vital-signs',
    contentHash: h(),
    size: 10,
    envelopes: [
      { to: w.patient.id, hash: h() },
      { to: 'emergency', hash: h() },
    ],
  });
  assert.deepEqual(
    w.block([anchor, w.clinician.tx('emergency.access', { patient: w.patient.id, reason: w.reason(), durationMs: 5_000 })]),
    ['ok', 'ok'],
  );
  const clinician = getIdentity(w.state, w.clinician.id);
  const read = (at: number, who = clinician) => decideEmergencyRead(w.state, who, record, at);
  const inside = read(w.now());
  assert.ok(inside?.allowed);
  assert.equal(inside.envelopeFor, 'emergency');
  assert.equal(read(w.now() + 5_000), undefined, 'expired');
  assert.equal(read(w.now(), getIdentity(w.state, (w.orgs[0] as ReturnType<typeof actor>).id)), undefined, 'not the window’s clinician');
  // An erased record stays erased, even in an emergency.
  w.block([w.patient.tx('record.erase', { record })]);
  assert.deepEqual(read(w.now()), { allowed: false, record: read(w.now())?.record, reason: 'ERASED', purpose: 'treatment' });
});

test('ending a window early: the patient or the window’s clinician ends it at once; a stranger cannot, and no share lands after', () => {
  const w = setup();
  w.block([w.patient.tx('emergency.split', w.splitBody(w.emergencyKey))]);
  w.block([w.org.tx('emergency.privilege', { clinician: w.clinician.id, grant: true })]);
  const opening = w.clinician.tx('emergency.access', { patient: w.patient.id, reason: w.reason(), durationMs: 600_000 });
  assert.deepEqual(w.block([opening]), ['ok']);
  const window = txHash(opening).slice(0, 32);
  const stranger = w.orgs[1] as ReturnType<typeof actor>;
  assert.deepEqual(w.block([stranger.tx('emergency.close', { window })]), ['UNAUTHORIZED']);
  assert.deepEqual(w.block([w.patient.tx('emergency.close', { window: 'ab'.repeat(16) })]), ['NOT_FOUND']);
  assert.deepEqual(w.block([w.patient.tx('emergency.close', { window, extra: 1 })]), ['INVALID_BODY']);
  assert.deepEqual(w.block([w.patient.tx('emergency.close', { window })]), ['ok']);
  const closed = getWindow(w.state, window) as ReturnType<typeof getWindow> & { closedEarly?: { by: string; time: number } };
  assert.equal(closed?.expiresAt, w.now(), 'the window ends at the closing block’s time, long before the 10 minutes asked');
  assert.equal(closed?.closedEarly?.by, w.patient.id);
  // Ended everywhere: no validator may post a share for it, and it cannot be ended twice.
  const v0 = w.validators[0] as ReturnType<typeof actor>;
  assert.deepEqual(w.block([v0.tx('emergency.share', { window, x: 1, sealed: w.envelope(v0) })]), ['WINDOW_CLOSED']);
  assert.deepEqual(w.block([w.patient.tx('emergency.close', { window })]), ['WINDOW_CLOSED']);
  // A new window may be opened afterwards, and its clinician may end it too.
  const again = w.clinician.tx('emergency.access', { patient: w.patient.id, reason: w.reason(), durationMs: 600_000 });
  assert.deepEqual(w.block([again]), ['ok']);
  assert.deepEqual(w.block([w.clinician.tx('emergency.close', { window: txHash(again).slice(0, 32) })]), ['ok']);
  // An accepted delegate may end one; an invited one who has not accepted may not.
  const carer = actor();
  assert.deepEqual(
    w.block([
      carer.tx('identity.register', { role: 'patient', encryptionKey: carer.encryption.publicKey }),
      w.patient.tx('delegate.set', { delegate: carer.id }),
    ]),
    ['ok', 'ok'],
  );
  const third = w.clinician.tx('emergency.access', { patient: w.patient.id, reason: w.reason(), durationMs: 600_000 });
  assert.deepEqual(w.block([third]), ['ok']);
  const thirdId = txHash(third).slice(0, 32);
  assert.deepEqual(w.block([carer.tx('emergency.close', { window: thirdId })]), ['UNAUTHORIZED']);
  assert.deepEqual(w.block([carer.tx('delegate.accept', { patient: w.patient.id })]), ['ok']);
  assert.deepEqual(w.block([carer.tx('emergency.close', { window: thirdId })]), ['ok']);
});

test('only a care organization (hospital, clinic, lab) grants the emergency privilege: not an insurer, a manufacturer or a regulator', () => {
  for (const kind of ['insurer', 'manufacturer', 'distributor', 'regulator', 'pharmacy']) {
    const w = setup({ orgKinds: [kind] });
    // Any organization registers clinician staff, but break-glass into every patient's records is for care providers.
    assert.deepEqual(w.block([w.org.tx('emergency.privilege', { clinician: w.clinician.id, grant: true })]), ['UNAUTHORIZED'], kind);
    assert.deepEqual(w.block([w.patient.tx('emergency.split', w.splitBody(w.emergencyKey))]), ['ok']);
    assert.deepEqual(w.block([w.clinician.tx('emergency.access', { patient: w.patient.id, reason: w.reason(), durationMs: 30_000 })]), [
      'UNAUTHORIZED',
    ]);
  }
  for (const kind of ['hospital', 'clinic', 'lab']) {
    const w = setup({ orgKinds: [kind] });
    assert.deepEqual(w.block([w.org.tx('emergency.privilege', { clinician: w.clinician.id, grant: true })]), ['ok'], kind);
  }
});
