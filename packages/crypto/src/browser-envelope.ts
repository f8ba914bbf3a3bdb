// X25519 keys, AES-256-GCM and key envelopes for the browser entry, with @noble/curves,
// @noble/hashes and @noble/ciphers. Pure JS rather than WebCrypto: `crypto.subtle` exists
// only in secure contexts, and a node's web UI may be opened over plain http on a LAN.
// Same wire format as envelope.ts (envelope-format.ts), so each entry opens the other's.
import { gcm } from '@noble/ciphers/aes.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromHex, randomBytes, toHex } from './browser-bytes.js';
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

/** A raw X25519 key pair, lowercase hex. */
export interface EncryptionKeyPair {
  /** 32-byte private scalar (RFC 7748 §5, clamped when used), hex. Secret. */
  privateKey: string;
  /** 32-byte public u-coordinate, hex. */
  publicKey: string;
}

const decryptFailed = (cause?: unknown) =>
  new CryptoError('DECRYPT_FAILED', 'decryption failed: wrong key or tampered data', cause === undefined ? undefined : { cause });

function rawKey(hex: string, what: string): Uint8Array {
  try {
    return fromHex(hex, what, 32);
  } catch (err) {
    throw new CryptoError('BAD_KEY', (err as Error).message);
  }
}

function checkAesKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== AES_KEY_BYTES) throw new CryptoError('BAD_KEY', 'AES-256-GCM key must be 32 bytes');
}

/** Generate a fresh X25519 key pair (RFC 7748) from WebCrypto getRandomValues. */
export function generateEncryptionKeyPair(): EncryptionKeyPair {
  const priv = randomBytes(32);
  return { privateKey: toHex(priv), publicKey: toHex(x25519.getPublicKey(priv)) };
}

/**
 * The public key of an X25519 private key: X25519(k, 9), RFC 7748 §6.1. Throws
 * CryptoError('BAD_KEY') unless the private key is 32 bytes of lowercase hex.
 */
export function encryptionPublicKeyFromPrivate(privateKeyHex: string): string {
  return toHex(x25519.getPublicKey(rawKey(privateKeyHex, 'X25519 private key')));
}

// X25519 (RFC 7748 §6.1); noble refuses the all-zero result of a low-order public key.
function sharedSecret(privateKey: Uint8Array, publicKeyHex: string): Uint8Array {
  const publicKey = rawKey(publicKeyHex, 'X25519 public key');
  try {
    return x25519.getSharedSecret(privateKey, publicKey);
  } catch {
    throw new CryptoError('BAD_KEY', 'X25519 public key is of low order');
  }
}

/** A fresh random 256-bit data key, for one record body. Throws Error without WebCrypto. */
export function generateDataKey(): Uint8Array {
  return randomBytes(AES_KEY_BYTES);
}

/**
 * AES-256-GCM encrypt (NIST SP 800-38D) under a fresh random 96-bit IV, with a 128-bit tag.
 * Throws CryptoError('BAD_KEY') unless `key` is 32 bytes.
 */
export function aeadEncrypt(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array = new Uint8Array()): AeadBox {
  checkAesKey(key);
  const iv = randomBytes(GCM_IV_BYTES);
  const sealed = gcm(key, iv, aad).encrypt(plaintext);
  const split = sealed.length - GCM_TAG_BYTES;
  return { iv, ct: sealed.slice(0, split), tag: sealed.slice(split) };
}

/**
 * AES-256-GCM decrypt (NIST SP 800-38D). Throws CryptoError('BAD_KEY') unless `key` is 32
 * bytes, and CryptoError('DECRYPT_FAILED') on a wrong key, wrong AAD, or any change to the
 * box, including an IV or tag of another length.
 */
export function aeadDecrypt(key: Uint8Array, box: AeadBox, aad: Uint8Array = new Uint8Array()): Uint8Array {
  checkAesKey(key);
  if (!hasGcmShape(box)) throw decryptFailed();
  const sealed = new Uint8Array(box.ct.length + GCM_TAG_BYTES);
  sealed.set(box.ct);
  sealed.set(box.tag, box.ct.length);
  try {
    return gcm(key, box.iv, aad).decrypt(sealed);
  } catch {
    throw decryptFailed();
  }
}

// HKDF-SHA256 (RFC 5869); see envelope-format.ts for why both public keys are the salt.
function envelopeKey(shared: Uint8Array, epk: Uint8Array, recipient: Uint8Array, context?: Uint8Array): Uint8Array {
  return hkdf(sha256, shared, envelopeSalt(epk, recipient), envelopeInfo(context), AES_KEY_BYTES);
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
  const ephemeral = randomBytes(32);
  const epk = x25519.getPublicKey(ephemeral);
  const shared = sharedSecret(ephemeral, recipientPublicKey);
  const box = aeadEncrypt(envelopeKey(shared, epk, fromHex(recipientPublicKey), context), plaintext, aad);
  return { v: 1, alg: ENVELOPE_ALG, epk: toHex(epk), iv: toHex(box.iv), ct: toHex(box.ct), tag: toHex(box.tag) };
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
  const priv = rawKey(recipientPrivateKey, 'X25519 private key');
  const recipientPublicKey = x25519.getPublicKey(priv);
  let env: Envelope;
  try {
    env = validateEnvelope(envelope);
  } catch (err) {
    throw decryptFailed(err);
  }
  let key: Uint8Array;
  try {
    key = envelopeKey(sharedSecret(priv, env.epk), fromHex(env.epk), recipientPublicKey, context);
  } catch {
    throw decryptFailed(); // a low-order ephemeral key: tampering
  }
  return aeadDecrypt(key, { iv: fromHex(env.iv), ct: fromHex(env.ct), tag: fromHex(env.tag) }, aad);
}
