// Key envelopes (DESIGN §7): a secret sealed to a recipient's X25519 public key with an
// ephemeral key, HKDF-SHA256 (RFC 5869) and AES-256-GCM; plus the AEAD helpers records use.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { fromHex, toHex } from './bytes.js';
import {
  AES_KEY_BYTES,
  type AeadBox,
  ENVELOPE_ALG,
  type Envelope,
  envelopeInfo,
  envelopeSalt,
  GCM_IV_BYTES,
  GCM_TAG_BYTES,
  hasGcmShape,
  MAX_ENVELOPE_PLAINTEXT_BYTES,
  validateEnvelope,
} from './envelope-format.js';
import { CryptoError } from './errors.js';
import { encryptionPublicKeyFromPrivate, generateEncryptionKeyPair, x25519SharedSecret } from './x25519.js';

export { type AeadBox, ENVELOPE_ALG, type Envelope, KEY_ENVELOPE_BYTES, validateEnvelope } from './envelope-format.js';

const decryptFailed = (cause?: unknown) =>
  new CryptoError('DECRYPT_FAILED', 'decryption failed: wrong key or tampered data', cause === undefined ? undefined : { cause });

function checkAesKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== AES_KEY_BYTES) throw new CryptoError('BAD_KEY', 'AES-256-GCM key must be 32 bytes');
}

/** A fresh random 256-bit data key from the OS CSPRNG, for one record body. Does not throw. */
export function generateDataKey(): Uint8Array {
  return new Uint8Array(randomBytes(AES_KEY_BYTES));
}

/**
 * AES-256-GCM encrypt (NIST SP 800-38D) under a fresh random 96-bit IV, with a 128-bit tag.
 * Random IVs are safe for up to 2^32 messages per key; record keys encrypt one body each.
 * Throws CryptoError('BAD_KEY') unless `key` is 32 bytes.
 */
export function aeadEncrypt(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array = new Uint8Array()): AeadBox {
  checkAesKey(key);
  const iv = new Uint8Array(randomBytes(GCM_IV_BYTES));
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, ct: new Uint8Array(ct), tag: new Uint8Array(cipher.getAuthTag()) };
}

/**
 * AES-256-GCM decrypt (NIST SP 800-38D). Throws CryptoError('BAD_KEY') unless `key` is 32
 * bytes, and CryptoError('DECRYPT_FAILED') on a wrong key, wrong AAD, or any change to the
 * box — including an IV or tag of another length: Node would otherwise accept a tag cut to
 * 4 bytes, which makes forgeries 2^96 times easier.
 */
export function aeadDecrypt(key: Uint8Array, box: AeadBox, aad: Uint8Array = new Uint8Array()): Uint8Array {
  checkAesKey(key);
  if (!hasGcmShape(box)) throw decryptFailed();
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, box.iv, { authTagLength: GCM_TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(box.tag);
    return new Uint8Array(Buffer.concat([decipher.update(box.ct), decipher.final()]));
  } catch {
    throw decryptFailed();
  }
}

// HKDF-SHA256 (RFC 5869) from the X25519 secret. Both public keys go in the salt so the key
// is bound to this exact pair (an attacker cannot re-target the envelope to another key).
function envelopeKey(sharedSecret: Uint8Array, epk: Uint8Array, recipient: Uint8Array, context?: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', sharedSecret, envelopeSalt(epk, recipient), envelopeInfo(context), AES_KEY_BYTES));
}

/**
 * Seal `plaintext` (a data key or another small secret, at most 1 MiB) to an X25519 public
 * key: ephemeral X25519 (RFC 7748) → HKDF-SHA256 (RFC 5869, info 'medledger/envelope/v1' ‖
 * `context`) → AES-256-GCM with `aad`. The same `aad` and `context` must be given to open it.
 * Throws CryptoError('BAD_KEY') for a malformed or low-order recipient key, and
 * CryptoError('BAD_ENVELOPE') for an oversized plaintext.
 */
export function sealToPublicKey(
  recipientPublicKey: string,
  plaintext: Uint8Array,
  aad: Uint8Array = new Uint8Array(),
  context?: Uint8Array,
): Envelope {
  if (plaintext.length > MAX_ENVELOPE_PLAINTEXT_BYTES) throw new CryptoError('BAD_ENVELOPE', 'envelope plaintext must be at most 1 MiB');
  const eph = generateEncryptionKeyPair();
  const shared = x25519SharedSecret(eph.privateKey, recipientPublicKey);
  const box = aeadEncrypt(envelopeKey(shared, fromHex(eph.publicKey), fromHex(recipientPublicKey), context), plaintext, aad);
  return { v: 1, alg: ENVELOPE_ALG, epk: eph.publicKey, iv: toHex(box.iv), ct: toHex(box.ct), tag: toHex(box.tag) };
}

/**
 * Open an envelope made by `sealToPublicKey` on either entry, with the recipient's X25519
 * private key. Throws CryptoError('BAD_KEY') for a malformed private key, and
 * CryptoError('DECRYPT_FAILED') for everything else that stops it opening: a wrong key, a
 * wrong `aad` or `context`, any change to the envelope, or a malformed envelope (then
 * `cause` holds the BAD_ENVELOPE error naming the field).
 */
export function openEnvelope(
  recipientPrivateKey: string,
  envelope: unknown,
  aad: Uint8Array = new Uint8Array(),
  context?: Uint8Array,
): Uint8Array {
  const recipientPublicKey = fromHex(encryptionPublicKeyFromPrivate(recipientPrivateKey));
  let env: Envelope;
  try {
    env = validateEnvelope(envelope);
  } catch (err) {
    throw decryptFailed(err);
  }
  let key: Uint8Array;
  try {
    key = envelopeKey(x25519SharedSecret(recipientPrivateKey, env.epk), fromHex(env.epk), recipientPublicKey, context);
  } catch {
    throw decryptFailed(); // a low-order ephemeral key: tampering
  }
  return aeadDecrypt(key, { iv: fromHex(env.iv), ct: fromHex(env.ct), tag: fromHex(env.tag) }, aad);
}
