// Key envelopes (DESIGN §7): a secret sealed to a recipient's X25519 public key with an
// ephemeral key, HKDF-SHA256 (RFC 5869) and AES-256-GCM; plus the AEAD helpers records use.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { concatBytes, fromHex, toHex, utf8 } from './bytes.js';
import { CryptoError } from './errors.js';
import { ENVELOPE_ALG, ENVELOPE_INFO, type Envelope, validateEnvelope } from './formats.js';
import { encryptionPublicKeyFromPrivate, generateEncryptionKeyPair, x25519SharedSecret } from './x25519.js';

export { ENVELOPE_ALG, type Envelope, validateEnvelope } from './formats.js';

/** AES-256-GCM output: 12-byte IV, ciphertext and 16-byte tag. */
export interface AeadBox {
  iv: Uint8Array;
  ct: Uint8Array;
  tag: Uint8Array;
}

/** A fresh random 256-bit data key. */
export function generateDataKey(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

/** AES-256-GCM encrypt with a random 96-bit IV (NIST SP 800-38D). */
export function aeadEncrypt(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array = new Uint8Array()): AeadBox {
  if (key.length !== 32) throw new CryptoError('BAD_KEY', 'AES-256-GCM key must be 32 bytes');
  const iv = new Uint8Array(randomBytes(12));
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, ct: new Uint8Array(ct), tag: new Uint8Array(cipher.getAuthTag()) };
}

/** AES-256-GCM decrypt. Throws CryptoError('DECRYPT_FAILED') on any tampering or wrong key. */
export function aeadDecrypt(key: Uint8Array, box: AeadBox, aad: Uint8Array = new Uint8Array()): Uint8Array {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, box.iv);
    decipher.setAAD(aad);
    decipher.setAuthTag(box.tag);
    return new Uint8Array(Buffer.concat([decipher.update(box.ct), decipher.final()]));
  } catch {
    throw new CryptoError('DECRYPT_FAILED', 'decryption failed: wrong key or tampered data');
  }
}

function wrapKey(sharedSecret: Uint8Array, epk: string, recipient: string): Uint8Array {
  const salt = concatBytes(fromHex(epk), fromHex(recipient));
  return new Uint8Array(hkdfSync('sha256', sharedSecret, salt, utf8(ENVELOPE_INFO), 32));
}

/**
 * Seal `plaintext` to `recipientPublicKey` (X25519, hex). `aad` (e.g. the record id) must
 * be given again to open it. Throws TypeError for a malformed key.
 */
export function sealToPublicKey(recipientPublicKey: string, plaintext: Uint8Array, aad: Uint8Array = new Uint8Array()): Envelope {
  const eph = generateEncryptionKeyPair();
  const key = wrapKey(x25519SharedSecret(eph.privateKey, recipientPublicKey), eph.publicKey, recipientPublicKey);
  const box = aeadEncrypt(key, plaintext, aad);
  return { v: 1, alg: ENVELOPE_ALG, epk: eph.publicKey, iv: toHex(box.iv), ct: toHex(box.ct), tag: toHex(box.tag) };
}

/**
 * Open an envelope with the recipient's X25519 private key. Throws CryptoError
 * ('DECRYPT_FAILED') on a wrong key or any change to the envelope or the AAD, and
 * CryptoError('BAD_ENVELOPE') when it is malformed.
 */
export function openEnvelope(recipientPrivateKey: string, envelope: unknown, aad: Uint8Array = new Uint8Array()): Uint8Array {
  const env = validateEnvelope(envelope);
  let key: Uint8Array;
  try {
    key = wrapKey(x25519SharedSecret(recipientPrivateKey, env.epk), env.epk, encryptionPublicKeyFromPrivate(recipientPrivateKey));
  } catch {
    throw new CryptoError('DECRYPT_FAILED', 'decryption failed: wrong key or tampered data');
  }
  return aeadDecrypt(key, { iv: fromHex(env.iv), ct: fromHex(env.ct), tag: fromHex(env.tag) }, aad);
}
