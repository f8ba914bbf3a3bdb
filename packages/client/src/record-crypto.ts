// Record encryption and data-key envelopes exactly as docs/records.md "Records" steps 1–2:
// pure functions of their inputs (plus the CSPRNG), shared by every writer and reader.
import {
  aeadDecrypt,
  aeadEncrypt,
  CryptoError,
  concatBytes,
  type Envelope,
  generateDataKey,
  isHex,
  openEnvelope,
  sealToPublicKey,
  sha256Hex,
  toHex,
  utf8,
} from '@medledger/crypto';
import { canonicalBytes } from './canonical.js';
import { ClientError } from './errors.js';

/**
 * AAD prefix of a record body (docs/records.md step 1), followed by
 * `recordId + "\n" + patient + "\n" + category + "\n" + resourceType`: the labels the
 * chain files the record under are bound to its ciphertext, so a record filed under other
 * labels than it was written with does not decrypt (RECORD_MISLABELED).
 */
export const RECORD_AAD_PREFIX = 'medledger/record/v2\n';
/** AAD prefix of a data-key envelope (step 2), followed by `recordId + "\n" + recipient`. */
export const RECORD_KEY_AAD_PREFIX = 'medledger/record-key/v1\n';
/** The recipient label of the envelope sealed to the patient's emergency key. */
export const EMERGENCY_RECIPIENT = 'emergency';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A record id: 16 random bytes from the CSPRNG as 32 lowercase hex chars. Does not throw. */
export function newRecordId(): string {
  return toHex(globalThis.crypto.getRandomValues(new Uint8Array(16)));
}

function checkRecordId(recordId: string): string {
  if (!isHex(recordId, 16)) throw new ClientError('INVALID_ARGUMENT', 'recordId must be 16 bytes of lowercase hex');
  return recordId;
}

/** What a record is filed under on chain, and bound into its ciphertext's AAD. */
export interface RecordLabels {
  /** The record id (16 bytes hex). */
  record: string;
  /** The patient's identity id (20 bytes hex). */
  patient: string;
  /** The record category (`vital-signs`, `billing`, …). */
  category: string;
  /** The FHIR resource type (`Observation`, …). */
  resourceType: string;
}

const LABEL_RE = { patient: /^[0-9a-f]{40}$/, category: /^[a-z][a-z0-9-]{0,39}$/, resourceType: /^[A-Z][A-Za-z]{1,63}$/ };

/**
 * The AAD of a record body: the prefix, then id, patient, category and resource type, one
 * per line (none may hold a newline: each is checked against the ledger's own pattern).
 * Throws ClientError('INVALID_ARGUMENT') naming the malformed label.
 */
export function recordAad(labels: RecordLabels): Uint8Array {
  checkRecordId(labels?.record);
  for (const field of ['patient', 'category', 'resourceType'] as const) {
    if (typeof labels[field] !== 'string' || !LABEL_RE[field].test(labels[field]))
      throw new ClientError('INVALID_ARGUMENT', `record ${field} is malformed`);
  }
  return utf8(`${RECORD_AAD_PREFIX}${labels.record}\n${labels.patient}\n${labels.category}\n${labels.resourceType}`);
}

function recordKeyAad(recordId: string, recipient: string): Uint8Array {
  if (typeof recipient !== 'string' || recipient.length === 0 || recipient.includes('\n')) {
    throw new ClientError('INVALID_ARGUMENT', "recipient must be an identity id or 'emergency'");
  }
  return utf8(`${RECORD_KEY_AAD_PREFIX}${checkRecordId(recordId)}\n${recipient}`);
}

/** A record body sealed for the vault: its data key, the object bytes and their SHA-256. */
export interface EncryptedRecord {
  /** The fresh 256-bit AES key. Secret: it only ever leaves the client inside envelopes. */
  dataKey: Uint8Array;
  /** The vault object: iv (12) ‖ ciphertext ‖ tag (16). */
  object: Uint8Array;
  /** Hex SHA-256 of `object`, the record's on-chain `contentHash`. */
  contentHash: string;
}

/**
 * Encrypt a FHIR resource (docs/records.md step 1): RFC 8785 canonical JSON, AES-256-GCM
 * under a fresh data key with the AAD of its labels (`recordAad`). Canonical JSON makes the
 * plaintext independent of key order. Throws ClientError('INVALID_ARGUMENT') for malformed
 * labels, or a resource whose `resourceType` is not `labels.resourceType`, and
 * LedgerError('NOT_CANONICAL') for a resource JSON cannot carry.
 */
export function encryptRecord(resource: object, labels: RecordLabels): EncryptedRecord {
  const aad = recordAad(labels);
  if ((resource as { resourceType?: unknown }).resourceType !== labels.resourceType)
    throw new ClientError('INVALID_ARGUMENT', `the resource is not a ${labels.resourceType}`);
  const plaintext = canonicalBytes(resource);
  const dataKey = generateDataKey();
  const box = aeadEncrypt(dataKey, plaintext, aad);
  const object = concatBytes(box.iv, box.ct, box.tag);
  return { dataKey, object, contentHash: sha256Hex(object) };
}

/**
 * Decrypt a vault object made by `encryptRecord` and parse the resource. Throws
 * CryptoError('DECRYPT_FAILED') for a wrong key, other labels than it was written with, a
 * truncated object or any changed byte; ClientError('INVALID_ARGUMENT') for malformed
 * labels; and ClientError('MALFORMED_RESPONSE') if an authentic plaintext is not a JSON object.
 */
export function decryptRecord(object: Uint8Array, dataKey: Uint8Array, labels: RecordLabels): object {
  const aad = recordAad(labels);
  const recordId = labels.record;
  if (!(object instanceof Uint8Array) || object.length < IV_BYTES + TAG_BYTES) {
    throw new CryptoError('DECRYPT_FAILED', 'decryption failed: wrong key or tampered data');
  }
  const box = {
    iv: object.subarray(0, IV_BYTES),
    ct: object.subarray(IV_BYTES, object.length - TAG_BYTES),
    tag: object.subarray(object.length - TAG_BYTES),
  };
  const plaintext = aeadDecrypt(dataKey, box, aad);
  let resource: unknown;
  try {
    resource = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext));
  } catch {
    throw new ClientError('MALFORMED_RESPONSE', `record ${recordId} decrypted but is not JSON`);
  }
  if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
    throw new ClientError('MALFORMED_RESPONSE', `record ${recordId} decrypted but is not a JSON object`);
  }
  return resource;
}

/**
 * Open a record as a reader (SDK, CLI, FHIR endpoint, web app) after it has checked the
 * object against the anchored contentHash and opened its own envelope: `dataKey` is then the
 * writer's key for this record, so a failure to decrypt under the anchored `labels` means the
 * record was written under other labels (for example clinical content filed as `billing`).
 * Throws ClientError('RECORD_MISLABELED') for that, and for a resource of another type than
 * the anchored one; otherwise as `decryptRecord`.
 */
export function openRecord(object: Uint8Array, dataKey: Uint8Array, labels: RecordLabels): object {
  let resource: object;
  try {
    resource = decryptRecord(object, dataKey, labels);
  } catch (err) {
    if (err instanceof CryptoError && err.code === 'DECRYPT_FAILED')
      throw new ClientError(
        'RECORD_MISLABELED',
        `record ${labels.record} does not decrypt under its anchored patient, category (${labels.category}) and type (${labels.resourceType}): its writer filed it under other labels`,
      );
    throw err;
  }
  if ((resource as { resourceType?: unknown }).resourceType !== labels.resourceType)
    throw new ClientError(
      'RECORD_MISLABELED',
      `record ${labels.record} is anchored as a ${labels.resourceType} but holds another resource type`,
    );
  return resource;
}

/** A data key sealed to one recipient: the envelope, its vault object (JCS bytes) and hash. */
export interface SealedDataKey {
  envelope: Envelope;
  /** RFC 8785 canonical JSON bytes of `envelope`: what goes in the vault. */
  object: Uint8Array;
  /** Hex SHA-256 of `object`: what goes on chain. */
  hash: string;
}

/**
 * Seal a record's data key to a recipient (docs/records.md step 2): crypto
 * `sealToPublicKey` with AAD `"medledger/record-key/v1\n" + recordId + "\n" + recipient`,
 * so an envelope cannot be moved to another record or relabelled for another recipient.
 * `recipient` is an identity id or 'emergency'. Throws ClientError('INVALID_ARGUMENT') for
 * a malformed record id or label, and CryptoError('BAD_KEY') for a bad encryption key.
 */
export function sealDataKey(dataKey: Uint8Array, recordId: string, recipient: string, recipientEncryptionKey: string): SealedDataKey {
  const envelope = sealToPublicKey(recipientEncryptionKey, dataKey, recordKeyAad(recordId, recipient));
  const object = canonicalBytes(envelope);
  return { envelope, object, hash: sha256Hex(object) };
}

/**
 * Open a data-key envelope with the recipient's X25519 private key. `recipient` must be the
 * label it was sealed for. Throws CryptoError('DECRYPT_FAILED') for a wrong key, record id
 * or label, a malformed or altered envelope, or a plaintext that is not a 32-byte key;
 * CryptoError('BAD_KEY') for a malformed private key.
 */
export function openDataKey(envelope: unknown, recordId: string, recipient: string, encryptionPrivateKey: string): Uint8Array {
  const dataKey = openEnvelope(encryptionPrivateKey, envelope, recordKeyAad(recordId, recipient));
  if (dataKey.length !== 32) throw new CryptoError('DECRYPT_FAILED', 'envelope does not hold a 256-bit data key');
  return dataKey;
}
