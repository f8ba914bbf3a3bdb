// The sealed emergency reason: every recipient opens it, nobody else does, and a reason
// moved to another window (another patient or clinician) or altered does not open.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateEncryptionKeyPair } from '@medledger/crypto/browser';
import { openEmergencyReason, sealEmergencyReason } from './emergency-reason.js';
import { ClientError } from './errors.js';

const who = (id: string) => ({ id, keys: generateEncryptionKeyPair() });
const patient = who('aa'.repeat(20));
const clinician = who('bb'.repeat(20));
const org = who('cc'.repeat(20));
const outsider = who('dd'.repeat(20));
const w = { patient: patient.id, clinician: clinician.id };
const recipients = [patient, clinician, org].map((p) => ({ id: p.id, encryptionKey: p.keys.publicKey }));

test('the patient, the clinician and the organization open the reason; an outsider does not', () => {
  const reason = sealEmergencyReason('  unconscious, allergies unknown — ünïcode ok ', w, recipients);
  assert.equal(reason.keys.length, 3);
  assert.equal(JSON.stringify(reason).includes('unconscious'), false);
  for (const p of [patient, clinician, org])
    assert.equal(openEmergencyReason({ ...w, reason }, p.id, p.keys.privateKey), 'unconscious, allergies unknown — ünïcode ok');
  assert.equal(openEmergencyReason({ ...w, reason }, outsider.id, outsider.keys.privateKey), undefined);
  assert.equal(openEmergencyReason({ ...w, reason }, patient.id, outsider.keys.privateKey), undefined);
});

test('a reason moved to another patient’s window, or altered, does not open', () => {
  const reason = sealEmergencyReason('collapsed', w, recipients);
  assert.equal(openEmergencyReason({ ...w, patient: outsider.id, reason }, patient.id, patient.keys.privateKey), undefined);
  const flipped = { ...reason, ct: (reason.ct[0] === 'a' ? 'b' : 'a') + reason.ct.slice(1) };
  assert.equal(openEmergencyReason({ ...w, reason: flipped }, patient.id, patient.keys.privateKey), undefined);
  assert.equal(openEmergencyReason({ ...w, reason: 'collapsed' }, patient.id, patient.keys.privateKey), undefined);
});

test('an empty, blank, over-long or multi-line reason is refused before anything is sealed', () => {
  for (const bad of ['', '   ', 'x'.repeat(501), 'line one\nline two'])
    assert.throws(
      () => sealEmergencyReason(bad, w, recipients),
      (e: unknown) => e instanceof ClientError && e.code === 'INVALID_ARGUMENT',
    );
  assert.ok(sealEmergencyReason('x'.repeat(500), w, recipients).ct.length === 1000);
});
