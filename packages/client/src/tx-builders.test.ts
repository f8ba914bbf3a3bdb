// Transaction bodies: the exact shapes of docs/records.md, omitted optionals, the rotation
// proof, signing and the grant id.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateSigningKeyPair, utf8, verifyEd25519 } from '@medledger/crypto';
import { canonicalJson, txHash, verifyTxSignature } from '@medledger/ledger';
import {
  buildTx,
  consentGrantBody,
  consentRevokeBody,
  delegateAcceptBody,
  delegateRemoveBody,
  delegateSetBody,
  grantIdOf,
  identityRegisterBody,
  identityRotateBody,
  type Purpose,
  recordAnchorBody,
  recordEraseBody,
  recordShareBody,
  rotateProofBytes,
  staffRegisterBody,
  staffRevokeBody,
} from './tx-builders.js';

const KEY = '11'.repeat(32);
const HASH = '22'.repeat(32);
const PATIENT = 'aa'.repeat(20);
const OTHER = 'bb'.repeat(20);
const RECORD = 'cc'.repeat(16);
const invalid = { name: 'ClientError', code: 'INVALID_ARGUMENT' };

describe('identity bodies', () => {
  test('identity.register carries only role, encryptionKey and an optional emergencyKey', () => {
    assert.deepEqual(identityRegisterBody({ encryptionKey: KEY }), { role: 'patient', encryptionKey: KEY });
    assert.deepEqual(identityRegisterBody({ encryptionKey: KEY, emergencyKey: HASH }), {
      role: 'patient',
      encryptionKey: KEY,
      emergencyKey: HASH,
    });
    assert.throws(() => identityRegisterBody({ encryptionKey: 'xyz' }), invalid);
  });

  test('staff.register and staff.revoke', () => {
    assert.deepEqual(staffRegisterBody({ publicKey: KEY, encryptionKey: HASH, role: 'clinician' }), {
      publicKey: KEY,
      encryptionKey: HASH,
      role: 'clinician',
    });
    assert.equal(staffRegisterBody({ publicKey: KEY, encryptionKey: HASH, role: 'device', name: 'pump 7' }).name, 'pump 7');
    assert.deepEqual(staffRevokeBody(OTHER), { id: OTHER });
    assert.throws(() => staffRevokeBody(KEY), invalid);
  });

  test('identity.rotate proof is the new key signing "medledger/rotate/v1\\n" ‖ JCS {chain, id, newPublicKey}', () => {
    const next = generateSigningKeyPair();
    const body = identityRotateBody({ chain: 'test-chain', id: PATIENT, newSigning: next });
    assert.deepEqual(Object.keys(body), ['newPublicKey', 'proof']);
    assert.equal(body.newPublicKey, next.publicKey);
    const expected = utf8(`medledger/rotate/v1\n{"chain":"test-chain","id":"${PATIENT}","newPublicKey":"${next.publicKey}"}`);
    assert.deepEqual(rotateProofBytes('test-chain', PATIENT, next.publicKey), expected);
    assert.ok(verifyEd25519(next.publicKey, expected, body.proof));
    assert.ok(!verifyEd25519(next.publicKey, rotateProofBytes('other-chain', PATIENT, next.publicKey), body.proof));
    assert.equal(identityRotateBody({ chain: 'c', id: PATIENT, newSigning: next, encryptionKey: KEY }).encryptionKey, KEY);
  });
});

describe('record bodies', () => {
  const anchor = {
    record: RECORD,
    patient: PATIENT,
    resourceType: 'Observation',
    category: 'vital-signs',
    contentHash: HASH,
    size: 120,
    envelopes: [
      { to: PATIENT, hash: HASH },
      { to: 'emergency', hash: KEY },
    ],
  };

  test('record.anchor keeps the doc fields and drops an undefined supersedes', () => {
    const body = recordAnchorBody({ ...anchor, supersedes: undefined });
    assert.equal(canonicalJson(body), canonicalJson(anchor));
    assert.equal(recordAnchorBody({ ...anchor, supersedes: 'dd'.repeat(16) }).supersedes, 'dd'.repeat(16));
  });

  test('record.anchor refuses repeated recipients, bad categories and type names', () => {
    assert.throws(() => recordAnchorBody({ ...anchor, envelopes: [anchor.envelopes[0]!, anchor.envelopes[0]!] }), invalid);
    assert.throws(() => recordAnchorBody({ ...anchor, category: 'Vitals' }), invalid);
    assert.throws(() => recordAnchorBody({ ...anchor, resourceType: 'observation' }), invalid);
    assert.throws(() => recordAnchorBody({ ...anchor, size: -1 }), invalid);
  });

  test('record.share, record.erase', () => {
    assert.deepEqual(recordShareBody([{ record: RECORD, to: OTHER, hash: HASH }]), {
      envelopes: [{ record: RECORD, to: OTHER, hash: HASH }],
    });
    const tooMany = Array.from({ length: 501 }, () => ({ record: RECORD, to: OTHER, hash: HASH }));
    assert.throws(() => recordShareBody(tooMany), invalid);
    assert.deepEqual(recordEraseBody(RECORD), { record: RECORD });
  });
});

describe('consent bodies', () => {
  test('consent.grant defaults access to read and drops empty scope lists', () => {
    const body = consentGrantBody({ patient: PATIENT, grantee: OTHER, scope: { categories: ['labs'], records: [] }, purpose: 'treatment' });
    assert.deepEqual(body, { patient: PATIENT, grantee: OTHER, scope: { categories: ['labs'] }, access: 'read', purpose: 'treatment' });
  });

  test('consent.grant with expiry and envelopes', () => {
    const body = consentGrantBody({
      patient: PATIENT,
      grantee: OTHER,
      scope: { records: [RECORD] },
      access: 'read-write',
      purpose: 'research',
      expiresAt: 1_700_000_000_000,
      envelopes: [{ record: RECORD, hash: HASH }],
    });
    assert.equal(body.expiresAt, 1_700_000_000_000);
    assert.deepEqual(body.envelopes, [{ record: RECORD, hash: HASH }]);
  });

  test('consent.grant refuses an empty scope and an unknown purpose', () => {
    assert.throws(() => consentGrantBody({ patient: PATIENT, grantee: OTHER, scope: {}, purpose: 'treatment' }), invalid);
    assert.throws(
      () => consentGrantBody({ patient: PATIENT, grantee: OTHER, scope: { categories: ['x'] }, purpose: 'marketing' as Purpose }),
      invalid,
    );
  });

  test('consent.revoke, delegate.set, delegate.accept, delegate.remove', () => {
    assert.deepEqual(consentRevokeBody(RECORD), { grant: RECORD });
    assert.deepEqual(delegateSetBody(OTHER), { delegate: OTHER });
    assert.deepEqual(delegateAcceptBody(PATIENT), { patient: PATIENT });
    assert.throws(() => delegateAcceptBody('nope'), { name: 'ClientError', code: 'INVALID_ARGUMENT' });
    assert.deepEqual(delegateRemoveBody(PATIENT, OTHER), { patient: PATIENT, delegate: OTHER });
  });
});

describe('signing', () => {
  test('buildTx signs the version-1 envelope and grantIdOf is the first 32 hex of its hash', () => {
    const signing = generateSigningKeyPair();
    const tx = buildTx({
      chain: 'test-chain',
      kind: 'consent.grant',
      signing,
      nonce: 3,
      body: consentGrantBody({ patient: PATIENT, grantee: OTHER, scope: { categories: ['labs'] }, purpose: 'treatment' }),
    });
    assert.equal(tx.v, 1);
    assert.equal(tx.signer, signing.publicKey);
    assert.equal(tx.nonce, 3);
    assert.ok(verifyTxSignature(tx));
    assert.equal(grantIdOf(tx), txHash(tx).slice(0, 32));
    assert.match(grantIdOf(tx), /^[0-9a-f]{32}$/);
  });
});
