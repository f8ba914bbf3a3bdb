// Record encryption and data-key envelopes: round trips, every-byte tamper, and the AAD
// bindings (record id, recipient label) that stop envelopes being moved or relabelled.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CryptoError, generateEncryptionKeyPair, KEY_ENVELOPE_BYTES, sha256Hex, toHex } from '@medledger/crypto';
import { canonicalBytes } from '@medledger/ledger';
import fc from 'fast-check';
import {
  decryptRecord,
  encryptRecord,
  newRecordId,
  openDataKey,
  openRecord,
  type RecordLabels,
  recordAad,
  sealDataKey,
} from './record-crypto.js';

const decryptFailed = (err: unknown) => err instanceof CryptoError && err.code === 'DECRYPT_FAILED';
const observation = {
  resourceType: 'Observation',
  status: 'final',
  code: { text: 'Heart rate' },
  valueQuantity: { value: 72, unit: '/min' },
};
const PATIENT = 'ab'.repeat(20);
/** The labels an Observation of PATIENT is filed under (a record id, the category vital-signs). */
const L = (record: string, resourceType = 'Observation', category = 'vital-signs'): RecordLabels => ({
  record,
  patient: PATIENT,
  category,
  resourceType,
});

describe('record bodies (AES-256-GCM, AAD medledger/record/v2 with the anchored labels)', () => {
  test('record ids are 16 random bytes of lowercase hex', () => {
    const a = newRecordId();
    assert.match(a, /^[0-9a-f]{32}$/);
    assert.notEqual(a, newRecordId());
  });

  test('a record decrypts to the resource it was encrypted from (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.boolean())), (extra) => {
        const resource = { ...extra, resourceType: 'Observation' };
        const id = newRecordId();
        const enc = encryptRecord(resource, L(id));
        assert.equal(enc.dataKey.length, 32);
        assert.equal(enc.object.length, 12 + canonicalBytes(resource).length + 16);
        assert.equal(enc.contentHash, sha256Hex(enc.object));
        assert.deepEqual(decryptRecord(enc.object, enc.dataKey, L(id)), JSON.parse(JSON.stringify(resource)));
      }),
      { numRuns: 50 },
    );
  });

  test('changing any byte of the vault object makes decryption fail', () => {
    const id = newRecordId();
    const enc = encryptRecord(observation, L(id));
    for (let i = 0; i < enc.object.length; i++) {
      const tampered = enc.object.slice();
      tampered[i] = (tampered[i] as number) ^ 0x01;
      assert.throws(() => decryptRecord(tampered, enc.dataKey, L(id)), decryptFailed, `byte ${i}`);
    }
    assert.throws(() => decryptRecord(enc.object.subarray(0, enc.object.length - 1), enc.dataKey, L(id)), decryptFailed);
    assert.throws(() => decryptRecord(enc.object.subarray(0, 27), enc.dataKey, L(id)), decryptFailed);
  });

  test('a record body moved under another record id does not decrypt', () => {
    const enc = encryptRecord(observation, L(newRecordId()));
    assert.throws(() => decryptRecord(enc.object, enc.dataKey, L(newRecordId())), decryptFailed);
  });

  test('the wrong data key does not decrypt', () => {
    const id = newRecordId();
    const enc = encryptRecord(observation, L(id));
    assert.throws(() => decryptRecord(enc.object, encryptRecord(observation, L(id)).dataKey, L(id)), decryptFailed);
  });

  test('canonical JSON: key order does not change the plaintext', () => {
    const id = newRecordId();
    const a = { resourceType: 'Patient', name: [{ family: 'Doe', given: ['Jo'] }], gender: 'other' };
    const b = { gender: 'other', name: [{ given: ['Jo'], family: 'Doe' }], resourceType: 'Patient' };
    const enc = encryptRecord(b, L(id, 'Patient', 'demographics'));
    assert.equal(enc.object.length, 12 + canonicalBytes(a).length + 16);
    assert.deepEqual(canonicalBytes(decryptRecord(enc.object, enc.dataKey, L(id, 'Patient', 'demographics'))), canonicalBytes(a));
  });

  test('the AAD binds id, patient, category and resource type, one per line (vector)', () => {
    const id = '00112233445566778899aabbccddeeff';
    assert.equal(new TextDecoder().decode(recordAad(L(id))), `medledger/record/v2\n${id}\n${PATIENT}\nvital-signs\nObservation`);
    for (const bad of [{ category: 'billing\nx' }, { resourceType: 'Observation\n' }, { patient: 'zz' }]) {
      assert.throws(() => recordAad({ ...L(id), ...bad }), { name: 'ClientError', code: 'INVALID_ARGUMENT' });
    }
  });

  test('a record filed under another category, type, patient or id is detected as mislabeled by its reader', () => {
    const id = newRecordId();
    const enc = encryptRecord(observation, L(id));
    assert.deepEqual(openRecord(enc.object, enc.dataKey, L(id)), observation);
    for (const labels of [
      L(id, 'Observation', 'billing'),
      L(id, 'Claim', 'billing'),
      { ...L(id), patient: 'cd'.repeat(20) },
      L(newRecordId()),
    ]) {
      assert.throws(() => openRecord(enc.object, enc.dataKey, labels), { name: 'ClientError', code: 'RECORD_MISLABELED' });
    }
    // Bound labels that do not match the content's type are refused when writing, and caught when reading.
    assert.throws(() => encryptRecord(observation, L(id, 'Claim', 'billing')), { name: 'ClientError', code: 'INVALID_ARGUMENT' });
  });

  test('a malformed record id is refused before encrypting', () => {
    assert.throws(() => encryptRecord(observation, L('not-hex')), { name: 'ClientError', code: 'INVALID_ARGUMENT' });
  });
});

describe('data-key envelopes (AAD medledger/record-key/v1)', () => {
  const recipient = generateEncryptionKeyPair();

  test('a sealed data key opens for its recipient, and its hash covers its JCS bytes', () => {
    const id = newRecordId();
    const { dataKey } = encryptRecord(observation, L(id));
    const sealed = sealDataKey(dataKey, id, PATIENT, recipient.publicKey);
    assert.deepEqual(sealed.object, canonicalBytes(sealed.envelope));
    assert.equal(sealed.hash, sha256Hex(sealed.object));
    assert.equal(toHex(openDataKey(sealed.envelope, id, PATIENT, recipient.privateKey)), toHex(dataKey));
    assert.equal(
      toHex(openDataKey(JSON.parse(new TextDecoder().decode(sealed.object)), id, PATIENT, recipient.privateKey)),
      toHex(dataKey),
    );
  });

  test('every key envelope object is exactly KEY_ENVELOPE_BYTES long, the size nodes accept', () => {
    for (let i = 0; i < 20; i++) {
      const id = newRecordId();
      const sealed = sealDataKey(
        encryptRecord(observation, L(id)).dataKey,
        id,
        i % 2 === 0 ? PATIENT : 'emergency',
        generateEncryptionKeyPair().publicKey,
      );
      assert.equal(sealed.object.length, KEY_ENVELOPE_BYTES);
    }
  });

  test('an envelope opened under another record id fails', () => {
    const id = newRecordId();
    const sealed = sealDataKey(encryptRecord(observation, L(id)).dataKey, id, PATIENT, recipient.publicKey);
    assert.throws(() => openDataKey(sealed.envelope, newRecordId(), PATIENT, recipient.privateKey), decryptFailed);
  });

  test('an envelope relabelled for another recipient fails', () => {
    const id = newRecordId();
    const sealed = sealDataKey(encryptRecord(observation, L(id)).dataKey, id, PATIENT, recipient.publicKey);
    assert.throws(() => openDataKey(sealed.envelope, id, 'emergency', recipient.privateKey), decryptFailed);
    assert.throws(() => openDataKey(sealed.envelope, id, 'cd'.repeat(20), recipient.privateKey), decryptFailed);
  });

  test('an envelope does not open with another private key', () => {
    const id = newRecordId();
    const sealed = sealDataKey(encryptRecord(observation, L(id)).dataKey, id, 'emergency', recipient.publicKey);
    assert.throws(() => openDataKey(sealed.envelope, id, 'emergency', generateEncryptionKeyPair().privateKey), decryptFailed);
  });

  test('changing any field of an envelope makes it fail', () => {
    const id = newRecordId();
    const sealed = sealDataKey(encryptRecord(observation, L(id)).dataKey, id, PATIENT, recipient.publicKey);
    for (const field of ['epk', 'iv', 'ct', 'tag'] as const) {
      const hex = sealed.envelope[field];
      const flipped = (hex[0] === '0' ? '1' : '0') + hex.slice(1);
      assert.throws(() => openDataKey({ ...sealed.envelope, [field]: flipped }, id, PATIENT, recipient.privateKey), decryptFailed, field);
    }
    assert.throws(() => openDataKey({ v: 1 }, id, PATIENT, recipient.privateKey), decryptFailed);
  });

  test('a recipient label with a newline is refused (it would forge another AAD)', () => {
    const id = newRecordId();
    assert.throws(() => sealDataKey(new Uint8Array(32), id, `${PATIENT}\nx`, recipient.publicKey), { code: 'INVALID_ARGUMENT' });
  });
});
