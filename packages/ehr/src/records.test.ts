// Records, consent and access events as pure rules: who may write, grant, revoke, erase
// and read, decided from state and block time.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { generateEncryptionKeyPair, generateSigningKeyPair, idFromPublicKey, toHex } from '@medledger/crypto';
import { type Genesis, type SignedTx, signTx } from '@medledger/ledger';
import { EhrApp, initChain } from './app.js';
import { MemoryCommittedState } from './committed.js';
import { decideRead, getRecord } from './policy.js';
import { requiredRecipients } from './recipients.js';
import type { StateReader } from './state.js';

const CHAIN = 'records-test';
const T0 = 1_700_000_000_000;

function actor() {
  const signing = generateSigningKeyPair();
  const encryption = generateEncryptionKeyPair();
  let nonce = 0;
  return {
    signing,
    encryption,
    id: idFromPublicKey(signing.publicKey),
    tx: (kind: string, body: Record<string, unknown>): SignedTx =>
      signTx({ v: 1, chain: CHAIN, kind, signer: signing.publicKey, nonce: nonce++, body }, signing.privateKey),
  };
}

function setup() {
  const org = actor();
  const validator = actor();
  const genesis: Genesis = {
    chainId: CHAIN,
    genesisTime: T0,
    validators: [{ name: 'v0', publicKey: validator.signing.publicKey, encryptionKey: validator.encryption.publicKey, power: 1 }],
    organizations: [
      { name: 'General Hospital', kind: 'hospital', adminKey: org.signing.publicKey, adminEncryptionKey: org.encryption.publicKey },
    ],
    params: { maxBlockTxs: 1000, maxBlockBytes: 1 << 20, maxClockDriftMs: 10_000 },
  };
  const state = new MemoryCommittedState();
  state.apply(initChain(genesis));
  const app = new EhrApp(CHAIN, state);
  let height = 0;
  /** Apply one block of `txs` at `time`; returns each tx's result code. */
  const block = (txs: SignedTx[], time = T0 + 1000 * (height + 1)): string[] => {
    height += 1;
    const exec = app.finalizeBlock({ height, time, txs });
    state.apply(exec);
    app.commit();
    return exec.results.map((r) => r.code);
  };
  return { org, validator, state, block };
}

const hash = () => toHex(randomBytes(32));
const rid = () => toHex(randomBytes(16));

function anchorBody(patient: string, author: string, extra: Record<string, unknown> = {}) {
  const envelopes = [
    { to: patient, hash: hash() },
    { to: 'emergency', hash: hash() },
  ];
  if (author !== patient) envelopes.push({ to: author, hash: hash() });
  return {
    record: rid(),
    patient,
    resourceType: 'Observation',
    category: 'vital-signs',
    contentHash: hash(),
    size: 300,
    envelopes,
    ...extra,
  };
}

function world() {
  const w = setup();
  const patient = actor();
  const emergency = generateEncryptionKeyPair();
  const clinician = actor();
  const other = actor();
  const codes = w.block([
    patient.tx('identity.register', { role: 'patient', encryptionKey: patient.encryption.publicKey, emergencyKey: emergency.publicKey }),
    w.org.tx('staff.register', {
      publicKey: clinician.signing.publicKey,
      encryptionKey: clinician.encryption.publicKey,
      role: 'clinician',
      name: 'Dr Grey',
    }),
    w.org.tx('staff.register', { publicKey: other.signing.publicKey, encryptionKey: other.encryption.publicKey, role: 'clinician' }),
  ]);
  assert.deepEqual(codes, ['ok', 'ok', 'ok']);
  return { ...w, patient, clinician, other };
}

test('a clinician without a grant can neither write nor read a patient record', () => {
  const w = world();
  assert.deepEqual(w.block([w.clinician.tx('record.anchor', anchorBody(w.patient.id, w.clinician.id))]), ['UNAUTHORIZED']);
  const body = anchorBody(w.patient.id, w.patient.id);
  assert.deepEqual(w.block([w.patient.tx('record.anchor', body)]), ['ok']);
  const clinician = { ...getIdentityOf(w.state, w.clinician.id) };
  const d = decideRead(w.state, clinician, body.record, undefined, T0 + 10_000);
  assert.equal(d.allowed, false);
  assert.equal(!d.allowed && d.reason, 'NO_GRANT');
  const own = decideRead(w.state, getIdentityOf(w.state, w.patient.id), body.record, undefined, T0 + 10_000);
  assert.equal(own.allowed, true);
});

function getIdentityOf(state: StateReader, id: string) {
  return JSON.parse(state.getState(`identity/${id}`) as string);
}

test('an anchor must seal the key to the patient, the author and the emergency key', () => {
  const w = world();
  const body = anchorBody(w.patient.id, w.patient.id);
  body.envelopes = body.envelopes.filter((e) => e.to !== 'emergency');
  assert.deepEqual(w.block([w.patient.tx('record.anchor', body)]), ['RECIPIENT_MISSING']);
  assert.equal(getRecord(w.state, body.record), undefined);
});

test('an anchor sealing the key to an arbitrary registered identity is refused', () => {
  const w = world();
  const body = anchorBody(w.patient.id, w.patient.id);
  body.envelopes.push({ to: w.other.id, hash: hash() });
  assert.deepEqual(w.block([w.patient.tx('record.anchor', body)]), ['RECIPIENT_NOT_ALLOWED']);
  assert.equal(getRecord(w.state, body.record), undefined);
  // Nor may an existing record's key be shared with them afterwards.
  const ok = anchorBody(w.patient.id, w.patient.id);
  assert.deepEqual(w.block([w.patient.tx('record.anchor', ok)]), ['ok']);
  const share = { envelopes: [{ record: ok.record, to: w.other.id, hash: hash() }] };
  assert.deepEqual(w.block([w.patient.tx('record.share', share)]), ['RECIPIENT_NOT_ALLOWED']);
});

test('an anchor leaving out an accepted delegate or a covering grantee is refused; an expired grantee is not required', () => {
  const w = world();
  const guardian = actor();
  assert.deepEqual(w.block([guardian.tx('identity.register', { role: 'patient', encryptionKey: guardian.encryption.publicKey })]), ['ok']);
  assert.deepEqual(w.block([w.patient.tx('delegate.set', { delegate: guardian.id })]), ['ok']);
  // Pending: not a recipient, neither required nor allowed.
  const pendingExtra = anchorBody(w.patient.id, w.patient.id);
  pendingExtra.envelopes.push({ to: guardian.id, hash: hash() });
  assert.deepEqual(w.block([w.patient.tx('record.anchor', pendingExtra)]), ['RECIPIENT_NOT_ALLOWED']);
  assert.deepEqual(w.block([w.patient.tx('record.anchor', anchorBody(w.patient.id, w.patient.id))]), ['ok']);
  assert.deepEqual(w.block([guardian.tx('delegate.accept', { patient: w.patient.id })]), ['ok']);
  assert.deepEqual(w.block([w.patient.tx('record.anchor', anchorBody(w.patient.id, w.patient.id))]), ['RECIPIENT_MISSING']);
  const withGuardian = anchorBody(w.patient.id, w.patient.id);
  withGuardian.envelopes.push({ to: guardian.id, hash: hash() });
  assert.deepEqual(w.block([w.patient.tx('record.anchor', withGuardian)]), ['ok']);

  const expiresAt = T0 + 60_000;
  const grant = {
    patient: w.patient.id,
    grantee: w.clinician.id,
    scope: { categories: ['vital-signs'] },
    access: 'read',
    purpose: 'treatment',
    expiresAt,
  };
  assert.deepEqual(w.block([w.patient.tx('consent.grant', grant)]), ['ok']);
  const missingGrantee = anchorBody(w.patient.id, w.patient.id);
  missingGrantee.envelopes.push({ to: guardian.id, hash: hash() });
  assert.deepEqual(w.block([w.patient.tx('record.anchor', missingGrantee)]), ['RECIPIENT_MISSING']);
  // A record outside the grant's scope needs no envelope for the grantee, and may not have one.
  const outOfScope = { ...anchorBody(w.patient.id, w.patient.id), category: 'problems', resourceType: 'Condition' };
  outOfScope.envelopes.push({ to: guardian.id, hash: hash() });
  assert.deepEqual(w.block([w.patient.tx('record.anchor', outOfScope)]), ['ok']);
  const full = anchorBody(w.patient.id, w.patient.id);
  full.envelopes.push({ to: guardian.id, hash: hash() }, { to: w.clinician.id, hash: hash() });
  assert.deepEqual(w.block([w.patient.tx('record.anchor', full)]), ['ok']);
  // After the grant expires by block time the grantee is neither required nor allowed.
  assert.deepEqual(w.block([w.patient.tx('record.anchor', { ...full, record: rid() })], expiresAt + 1), ['RECIPIENT_NOT_ALLOWED']);
  // Fresh objects: every hash belongs to one record (objects.ts), so withGuardian's cannot be reused.
  const afterExpiry = anchorBody(w.patient.id, w.patient.id);
  afterExpiry.envelopes.push({ to: guardian.id, hash: hash() });
  assert.deepEqual(w.block([w.patient.tx('record.anchor', afterExpiry)], expiresAt + 2), ['ok']);
});

test('record.share allows exactly the recipients a new record of the same kind must have (one rule)', () => {
  const w = world();
  const guardian = actor();
  const pending = actor();
  assert.deepEqual(
    w.block([
      guardian.tx('identity.register', { role: 'patient', encryptionKey: guardian.encryption.publicKey }),
      pending.tx('identity.register', { role: 'patient', encryptionKey: pending.encryption.publicKey }),
    ]),
    ['ok', 'ok'],
  );
  assert.deepEqual(
    w.block([
      w.patient.tx('delegate.set', { delegate: guardian.id }),
      w.patient.tx('delegate.set', { delegate: pending.id }),
      guardian.tx('delegate.accept', { patient: w.patient.id }),
    ]),
    ['ok', 'ok', 'ok'],
  );
  const grant = {
    patient: w.patient.id,
    grantee: w.clinician.id,
    scope: { categories: ['vital-signs'] },
    access: 'read',
    purpose: 'treatment',
  };
  assert.deepEqual(w.block([w.patient.tx('consent.grant', grant)]), ['ok']);
  const body = anchorBody(w.patient.id, w.patient.id);
  body.envelopes.push({ to: guardian.id, hash: hash() }, { to: w.clinician.id, hash: hash() });
  assert.deepEqual(w.block([w.patient.tx('record.anchor', body)]), ['ok']);
  const patient = getIdentityOf(w.state, w.patient.id);
  const required = requiredRecipients(
    w.state,
    patient,
    { id: body.record, category: 'vital-signs', resourceType: 'Observation' },
    T0 + 99_000,
  );
  assert.deepEqual(
    required.map((r) => r.why),
    ['patient', 'emergency', 'delegate', 'grantee'],
  );
  for (const to of [w.patient.id, 'emergency', guardian.id, w.clinician.id, pending.id, w.other.id]) {
    const expected = required.some((r) => r.to === to) ? 'ok' : 'RECIPIENT_NOT_ALLOWED';
    assert.deepEqual(w.block([w.patient.tx('record.share', { envelopes: [{ record: body.record, to, hash: hash() }] })]), [expected], to);
  }
});

test('low-order X25519 keys are refused at registration, staff registration, rotation and as the emergency key', async () => {
  const { generateSigningKeyPair: newSigning, signEd25519 } = await import('@medledger/crypto');
  const { rotateProofBytes } = await import('./staff.js');
  const w = world();
  const LOW = 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'; // p − 1, order 4 on the twist
  const zero = '00'.repeat(32);
  const p1 = actor();
  assert.deepEqual(w.block([p1.tx('identity.register', { role: 'patient', encryptionKey: zero })]), ['WEAK_KEY']);
  const p2 = actor();
  assert.deepEqual(w.block([p2.tx('identity.register', { role: 'patient', encryptionKey: p2.encryption.publicKey, emergencyKey: LOW })]), [
    'WEAK_KEY',
  ]);
  const staff = newSigning();
  assert.deepEqual(w.block([w.org.tx('staff.register', { publicKey: staff.publicKey, encryptionKey: LOW, role: 'clinician' })]), [
    'WEAK_KEY',
  ]);
  const next = newSigning();
  const proof = signEd25519(next.privateKey, rotateProofBytes(CHAIN, w.patient.id, next.publicKey));
  assert.deepEqual(w.block([w.patient.tx('identity.rotate', { newPublicKey: next.publicKey, proof, encryptionKey: LOW })]), ['WEAK_KEY']);
  assert.equal(getIdentityOf(w.state, w.patient.id).encryptionKey, w.patient.encryption.publicKey);
});

test('owner or grantee fields are refused where a kind does not accept them', () => {
  const w = world();
  assert.deepEqual(w.block([w.patient.tx('record.anchor', anchorBody(w.patient.id, w.patient.id, { owner: w.clinician.id }))]), [
    'INVALID_BODY',
  ]);
  assert.deepEqual(w.block([w.patient.tx('consent.revoke', { grant: rid(), grantee: w.clinician.id })]), ['INVALID_BODY']);
});

test('a grant covers its scope until it expires by block time or is revoked at the next height', () => {
  const w = world();
  const vital = anchorBody(w.patient.id, w.patient.id);
  const lab = anchorBody(w.patient.id, w.patient.id, { category: 'laboratory' });
  assert.deepEqual(w.block([w.patient.tx('record.anchor', vital), w.patient.tx('record.anchor', lab)]), ['ok', 'ok']);
  const expiresAt = T0 + 60_000;
  const grantTx = w.patient.tx('consent.grant', {
    patient: w.patient.id,
    grantee: w.clinician.id,
    scope: { categories: ['vital-signs'] },
    access: 'read',
    purpose: 'treatment',
    expiresAt,
    envelopes: [{ record: vital.record, hash: hash() }],
  });
  assert.deepEqual(w.block([grantTx]), ['ok']);
  const clinician = getIdentityOf(w.state, w.clinician.id);
  const now = T0 + 20_000;
  assert.equal(decideRead(w.state, clinician, vital.record, 'treatment', now).allowed, true);
  const lab1 = decideRead(w.state, clinician, lab.record, undefined, now);
  assert.equal(!lab1.allowed && lab1.reason, 'OUT_OF_SCOPE');
  const research = decideRead(w.state, clinician, vital.record, 'research', now);
  assert.equal(!research.allowed && research.reason, 'PURPOSE_MISMATCH');
  const otherDoc = decideRead(w.state, getIdentityOf(w.state, w.other.id), vital.record, undefined, now);
  assert.equal(!otherDoc.allowed && otherDoc.reason, 'NO_GRANT');
  const late = decideRead(w.state, clinician, vital.record, undefined, expiresAt);
  assert.equal(!late.allowed && late.reason, 'EXPIRED');
  // Read-only grant: writing is still refused.
  assert.deepEqual(w.block([w.clinician.tx('record.anchor', anchorBody(w.patient.id, w.clinician.id))]), ['UNAUTHORIZED']);
  // Only the patient (or a delegate) revokes.
  const grantId = (JSON.parse(w.state.getState(`grants/${w.patient.id}/${w.clinician.id}`) as string) as string[])[0] as string;
  assert.deepEqual(w.block([w.clinician.tx('consent.revoke', { grant: grantId })]), ['UNAUTHORIZED']);
  assert.deepEqual(w.block([w.patient.tx('consent.revoke', { grant: grantId })]), ['ok']);
  const revoked = decideRead(w.state, clinician, vital.record, undefined, now);
  assert.equal(!revoked.allowed && revoked.reason, 'REVOKED');
  assert.deepEqual(w.block([w.patient.tx('consent.revoke', { grant: grantId })]), ['GRANT_INACTIVE']);
});

test('a read-write grant lets a clinician write within scope only; a revoked clinician does nothing', () => {
  const w = world();
  const grant = {
    patient: w.patient.id,
    grantee: w.clinician.id,
    scope: { categories: ['vital-signs'] },
    access: 'read-write',
    purpose: 'treatment',
  };
  assert.deepEqual(w.block([w.patient.tx('consent.grant', grant)]), ['ok']);
  assert.deepEqual(w.block([w.clinician.tx('record.anchor', anchorBody(w.patient.id, w.clinician.id))]), ['ok']);
  assert.deepEqual(w.block([w.clinician.tx('record.anchor', anchorBody(w.patient.id, w.clinician.id, { category: 'laboratory' }))]), [
    'UNAUTHORIZED',
  ]);
  assert.deepEqual(w.block([w.other.tx('staff.revoke', { id: w.clinician.id })]), ['UNAUTHORIZED']);
  assert.deepEqual(w.block([w.org.tx('staff.revoke', { id: w.clinician.id })]), ['ok']);
  assert.deepEqual(w.block([w.clinician.tx('record.anchor', anchorBody(w.patient.id, w.clinician.id))]), ['REVOKED']);
});

test('a read-write grant to an organization lets its staff write only within their role’s categories; auditors write nothing', () => {
  const w = world();
  const auditor = actor();
  const device = actor();
  assert.deepEqual(
    w.block([
      w.org.tx('staff.register', { publicKey: auditor.signing.publicKey, encryptionKey: auditor.encryption.publicKey, role: 'auditor' }),
      w.org.tx('staff.register', { publicKey: device.signing.publicKey, encryptionKey: device.encryption.publicKey, role: 'device' }),
    ]),
    ['ok', 'ok'],
  );
  const grant = {
    patient: w.patient.id,
    grantee: w.org.id,
    scope: { categories: ['vital-signs', 'laboratory'] },
    access: 'read-write',
    purpose: 'treatment',
  };
  assert.deepEqual(w.block([w.patient.tx('consent.grant', grant)]), ['ok']);
  const byStaff = (author: string, extra: Record<string, unknown> = {}) => {
    const body = anchorBody(w.patient.id, author, extra);
    body.envelopes.push({ to: w.org.id, hash: hash() });
    return body;
  };
  const own = byStaff(w.patient.id);
  assert.deepEqual(w.block([w.patient.tx('record.anchor', own)]), ['ok']);
  // An auditor reads no chart through the hospital's grant, so it may not write one or replace one either.
  assert.deepEqual(w.block([auditor.tx('record.anchor', byStaff(auditor.id))]), ['UNAUTHORIZED']);
  assert.deepEqual(w.block([auditor.tx('record.anchor', byStaff(auditor.id, { supersedes: own.record }))]), ['UNAUTHORIZED']);
  assert.equal(getRecord(w.state, own.record)?.supersededBy, null);
  // A device writes vital signs under a treatment grant, not laboratory results; a clinician writes both.
  assert.deepEqual(w.block([device.tx('record.anchor', byStaff(device.id))]), ['ok']);
  assert.deepEqual(w.block([device.tx('record.anchor', byStaff(device.id, { category: 'laboratory' }))]), ['UNAUTHORIZED']);
  assert.deepEqual(w.block([w.clinician.tx('record.anchor', byStaff(w.clinician.id, { category: 'laboratory' }))]), ['ok']);
  assert.deepEqual(w.block([w.clinician.tx('record.anchor', byStaff(w.clinician.id, { supersedes: own.record }))]), ['ok']);
  // The purpose is not narrowed for writes: a clinician files the claim under the hospital's payment grant.
  const billing = {
    patient: w.patient.id,
    grantee: w.org.id,
    scope: { categories: ['billing'] },
    access: 'read-write',
    purpose: 'payment',
  };
  assert.deepEqual(w.block([w.patient.tx('consent.grant', billing)]), ['ok']);
  assert.deepEqual(w.block([w.clinician.tx('record.anchor', byStaff(w.clinician.id, { category: 'billing', resourceType: 'Claim' }))]), [
    'ok',
  ]);
  assert.deepEqual(w.block([auditor.tx('record.anchor', byStaff(auditor.id, { category: 'billing', resourceType: 'Claim' }))]), [
    'UNAUTHORIZED',
  ]);
});

test('a researcher authors no chart entry under its organization’s read-write grant, whatever the purpose; a grant to them personally still counts', () => {
  const w = world();
  const researcher = actor();
  assert.deepEqual(
    w.block([
      w.org.tx('staff.register', {
        publicKey: researcher.signing.publicKey,
        encryptionKey: researcher.encryption.publicKey,
        role: 'researcher',
      }),
    ]),
    ['ok'],
  );
  const byStaff = (author: string, extra: Record<string, unknown> = {}) => {
    const body = anchorBody(w.patient.id, author, extra);
    body.envelopes.push({ to: w.org.id, hash: hash() });
    return body;
  };
  const own = byStaff(w.patient.id);
  for (const purpose of ['treatment', 'research']) {
    const grant = {
      patient: w.patient.id,
      grantee: w.org.id,
      scope: { categories: ['vital-signs', 'laboratory'] },
      access: 'read-write',
      purpose,
    };
    assert.deepEqual(w.block([w.patient.tx('consent.grant', grant)]), ['ok']);
    if (purpose === 'treatment') assert.deepEqual(w.block([w.patient.tx('record.anchor', own)]), ['ok']);
    // Research reads clinical data; it does not put entries in a patient's chart or replace them.
    assert.deepEqual(w.block([researcher.tx('record.anchor', byStaff(researcher.id))]), ['UNAUTHORIZED'], purpose);
    assert.deepEqual(
      w.block([researcher.tx('record.anchor', byStaff(researcher.id, { category: 'laboratory' }))]),
      ['UNAUTHORIZED'],
      purpose,
    );
    assert.deepEqual(
      w.block([researcher.tx('record.anchor', byStaff(researcher.id, { supersedes: own.record }))]),
      ['UNAUTHORIZED'],
      purpose,
    );
  }
  assert.equal(getRecord(w.state, own.record)?.supersededBy, null);
  // The clinician of the same organization writes under the same grant.
  assert.deepEqual(w.block([w.clinician.tx('record.anchor', byStaff(w.clinician.id))]), ['ok']);
  // A read-write grant the patient made to the researcher personally is the patient's own choice.
  const personal = {
    patient: w.patient.id,
    grantee: researcher.id,
    scope: { categories: ['vital-signs'] },
    access: 'read-write',
    purpose: 'research',
  };
  assert.deepEqual(w.block([w.patient.tx('consent.grant', personal)]), ['ok']);
  assert.deepEqual(w.block([researcher.tx('record.anchor', byStaff(researcher.id))]), ['ok']);
});

test('a delegate manages consent and reads; the patient alone names delegates', () => {
  const w = world();
  const guardian = actor();
  assert.deepEqual(w.block([guardian.tx('identity.register', { role: 'patient', encryptionKey: guardian.encryption.publicKey })]), ['ok']);
  const body = anchorBody(w.patient.id, w.patient.id);
  assert.deepEqual(w.block([w.patient.tx('record.anchor', body)]), ['ok']);
  assert.deepEqual(w.block([w.clinician.tx('delegate.set', { delegate: guardian.id })]), ['UNAUTHORIZED']);
  // Envelopes no longer travel with the invitation: the delegate has not accepted yet.
  assert.deepEqual(w.block([w.patient.tx('delegate.set', { delegate: guardian.id, envelopes: [{ record: body.record, hash: hash() }] })]), [
    'INVALID_BODY',
  ]);
  assert.deepEqual(w.block([w.patient.tx('delegate.set', { delegate: guardian.id })]), ['ok']);
  assert.deepEqual(w.block([w.patient.tx('delegate.set', { delegate: guardian.id })]), ['DELEGATE_PENDING']);
  const grant = { patient: w.patient.id, grantee: w.clinician.id, scope: { records: [body.record] }, access: 'read', purpose: 'treatment' };
  // A delegate without acceptance can neither act nor read, nor be sealed a key.
  assert.deepEqual(w.block([guardian.tx('consent.grant', grant)]), ['UNAUTHORIZED']);
  assert.deepEqual(w.block([guardian.tx('record.anchor', anchorBody(w.patient.id, guardian.id))]), ['UNAUTHORIZED']);
  const pendingRead = decideRead(w.state, getIdentityOf(w.state, guardian.id), body.record, undefined, T0 + 99_000);
  assert.equal(!pendingRead.allowed && pendingRead.reason, 'NO_GRANT');
  const share = { envelopes: [{ record: body.record, to: guardian.id, hash: hash() }] };
  assert.deepEqual(w.block([w.patient.tx('record.share', share)]), ['RECIPIENT_NOT_ALLOWED']);
  // Only the invited delegate accepts.
  assert.deepEqual(w.block([w.other.tx('delegate.accept', { patient: w.patient.id })]), ['NOT_FOUND']);
  assert.deepEqual(w.block([guardian.tx('delegate.accept', { patient: w.patient.id })]), ['ok']);
  assert.deepEqual(w.block([guardian.tx('delegate.accept', { patient: w.patient.id })]), ['DELEGATE_EXISTS']);
  // Accepted: the patient shares existing keys with them, and they read and act.
  const noKeyYet = decideRead(w.state, getIdentityOf(w.state, guardian.id), body.record, undefined, T0 + 99_000);
  assert.equal(!noKeyYet.allowed && noKeyYet.reason, 'NO_ENVELOPE');
  assert.deepEqual(w.block([w.patient.tx('record.share', share)]), ['ok']);
  assert.equal(decideRead(w.state, getIdentityOf(w.state, guardian.id), body.record, undefined, T0 + 99_000).allowed, true);
  assert.deepEqual(w.block([guardian.tx('consent.grant', grant)]), ['ok']);
  assert.deepEqual(w.block([guardian.tx('delegate.remove', { patient: w.patient.id, delegate: guardian.id })]), ['ok']);
  assert.deepEqual(w.block([guardian.tx('consent.grant', grant)]), ['UNAUTHORIZED']);
});

test('erasure keeps the anchor, marked erased, and refuses further reads and shares', () => {
  const w = world();
  const body = anchorBody(w.patient.id, w.patient.id);
  assert.deepEqual(w.block([w.patient.tx('record.anchor', body)]), ['ok']);
  assert.deepEqual(w.block([w.clinician.tx('record.erase', { record: body.record })]), ['UNAUTHORIZED']);
  assert.deepEqual(w.block([w.patient.tx('record.erase', { record: body.record })]), ['ok']);
  const meta = getRecord(w.state, body.record);
  assert.ok(meta?.erased);
  assert.equal(meta?.contentHash, body.contentHash);
  const d = decideRead(w.state, getIdentityOf(w.state, w.patient.id), body.record, undefined, T0 + 99_000);
  assert.equal(!d.allowed && d.reason, 'ERASED');
  assert.deepEqual(w.block([w.patient.tx('record.erase', { record: body.record })]), ['RECORD_ERASED']);
});

test('access events come only from validators and a resubmitted event is recorded once', () => {
  const w = world();
  const event = {
    id: 'e1',
    record: rid(),
    patient: w.patient.id,
    accessor: w.clinician.id,
    purpose: 'treatment',
    decision: 'denied',
    reason: 'NO_GRANT',
    emergency: false,
    at: T0,
  };
  assert.deepEqual(w.block([w.clinician.tx('access.event', { events: [event] })]), ['UNAUTHORIZED']);
  assert.deepEqual(w.block([w.validator.tx('access.event', { events: [event] }), w.validator.tx('access.event', { events: [event] })]), [
    'ok',
    'ok',
  ]);
  const keys = [...Array(20).keys()].flatMap((h) => {
    const k = `access/${w.patient.id}/${String(h).padStart(12, '0')}/${w.validator.id}-e1`;
    return w.state.getState(k) === undefined ? [] : [k];
  });
  assert.equal(keys.length, 1);
});

test('a flood of denials folds into one event per accessor, record, reason and hour; an emergency read stays on its own', () => {
  const w = world();
  const record = rid();
  let n = 0;
  const denial = (extra: Record<string, unknown> = {}) => ({
    id: `d${n++}`,
    record,
    patient: w.patient.id,
    accessor: w.clinician.id,
    purpose: null,
    decision: 'denied',
    reason: 'NO_GRANT',
    emergency: false,
    at: T0,
    ...extra,
  });
  const logAt = (height: number, id: string) => `access/${w.patient.id}/${String(height).padStart(12, '0')}/${w.validator.id}-${id}`;
  const read = (k: string) => JSON.parse(w.state.getState(k) as string);
  // Block 2: 300 single denials and one merged report of 700; block 3: 500 more in the same hour.
  const first = Array.from({ length: 300 }, () => denial());
  const tx2 = [w.validator.tx('access.event', { events: [...first.slice(0, 200), denial({ count: 700 }), ...first.slice(200)] })];
  assert.deepEqual(w.block(tx2), ['ok']);
  assert.deepEqual(w.block([w.validator.tx('access.event', { events: Array.from({ length: 500 }, () => denial()) })]), ['ok']);
  const folded = read(logAt(2, 'd0'));
  assert.equal(folded.count, 1500);
  assert.deepEqual(folded.last.height, 3);
  assert.equal(w.state.getState(logAt(2, 'd1')), undefined, 'later denials leave no event of their own');
  // A denial of another record, an allowed read and an emergency read are events of their own.
  const emergency = denial({ decision: 'allowed', reason: 'OK', emergency: true, id: 'em' });
  const other = denial({ record: rid(), id: 'other' });
  const why = denial({ reason: 'PURPOSE_MISMATCH', id: 'why' });
  assert.deepEqual(w.block([w.validator.tx('access.event', { events: [other, emergency, why] })]), ['ok']);
  assert.equal(read(logAt(4, 'other')).count, 1);
  assert.equal(read(logAt(4, 'why')).count, 1, 'another reason is an event of its own');
  assert.equal(read(logAt(4, 'em')).count, 1);
  assert.equal(read(`accessemg/${w.patient.id}/${String(4).padStart(12, '0')}/${w.validator.id}-em`).emergency, true);
  // The next hour of block time starts a new event.
  assert.deepEqual(w.block([w.validator.tx('access.event', { events: [denial({ id: 'late' })] })], T0 + 3_600_000), ['ok']);
  assert.equal(read(logAt(5, 'late')).count, 1);
  // Only a denial that is not an emergency read may stand for more than one read.
  const bad = [denial({ count: 2, decision: 'allowed', reason: 'OK' }), denial({ count: 2, emergency: true }), denial({ count: 0 })];
  for (const e of bad) assert.deepEqual(w.block([w.validator.tx('access.event', { events: [e] })]), ['INVALID_BODY']);
});

test('key rotation needs the new key’s proof, and the old key stops working', () => {
  const w = world();
  const next = generateSigningKeyPair();
  const bad = { newPublicKey: next.publicKey, proof: '00'.repeat(64) };
  assert.deepEqual(w.block([w.patient.tx('identity.rotate', bad)]), ['BAD_SIGNATURE']);
});
