// The browser-safe entry (`@medledger/crypto/browser`): the same keys, signatures,
// envelopes and keystore files as the Node entry, built on @noble/* and WebCrypto, with
// no node: imports. Ed25519 is deterministic, so signatures are byte-identical.
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { CryptoError } from './errors.js';
import {
  assembleKeystore,
  ENVELOPE_ALG,
  ENVELOPE_INFO,
  type Envelope,
  type KeystoreFile,
  keystoreAad,
  newKeystoreParts,
  parseKeystoreSecret,
  validateEnvelope,
  validateKeystore,
} from './formats.js';

export { CryptoError } from './errors.js';
export { type Envelope, type KeystoreFile, validateEnvelope, validateKeystore } from './formats.js';

const HEX_RE = /^(?:[0-9a-f]{2})*$/;

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Decode lowercase hex; throws TypeError naming `what`. */
export function fromHex(hex: string, what = 'hex', expectedBytes?: number): Uint8Array {
  if (typeof hex !== 'string' || !HEX_RE.test(hex)) throw new TypeError(`${what} must be lowercase hex`);
  if (expectedBytes !== undefined && hex.length !== expectedBytes * 2) throw new TypeError(`${what} must be ${expectedBytes} bytes`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const random = (n: number): Uint8Array => globalThis.crypto.getRandomValues(new Uint8Array(n));

export function sha256Hex(...parts: Uint8Array[]): string {
  return toHex(sha256(concat(...parts)));
}

/** Participant id: first 20 bytes of SHA-256 of the Ed25519 public key, hex (DESIGN §3). */
export function idFromPublicKey(publicKeyHex: string): string {
  return sha256Hex(fromHex(publicKeyHex, 'public key', 32)).slice(0, 40);
}

export interface SigningKeyPair {
  privateKey: string;
  publicKey: string;
}
export interface EncryptionKeyPair {
  privateKey: string;
  publicKey: string;
}
export interface KeyBundle {
  signing: SigningKeyPair;
  encryption: EncryptionKeyPair;
}

export function publicKeyFromPrivate(privateKeyHex: string): string {
  return toHex(ed25519.getPublicKey(fromHex(privateKeyHex, 'Ed25519 private key', 32)));
}

export function generateSigningKeyPair(): SigningKeyPair {
  const seed = random(32);
  return { privateKey: toHex(seed), publicKey: toHex(ed25519.getPublicKey(seed)) };
}

export function generateEncryptionKeyPair(): EncryptionKeyPair {
  const priv = random(32);
  return { privateKey: toHex(priv), publicKey: toHex(x25519.getPublicKey(priv)) };
}

export function generateKeyBundle(): KeyBundle {
  return { signing: generateSigningKeyPair(), encryption: generateEncryptionKeyPair() };
}

/** RFC 8032 Ed25519 signature, hex. */
export function signEd25519(privateKeyHex: string, message: Uint8Array): string {
  return toHex(ed25519.sign(message, fromHex(privateKeyHex, 'Ed25519 private key', 32)));
}

/** Verify an Ed25519 signature; false (never throws) on any malformed input. */
export function verifyEd25519(publicKeyHex: string, message: Uint8Array, signatureHex: string): boolean {
  try {
    return ed25519.verify(fromHex(signatureHex, 'signature', 64), message, fromHex(publicKeyHex, 'public key', 32));
  } catch {
    return false;
  }
}

async function aesKey(raw: Uint8Array) {
  return globalThis.crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

/** AES-256-GCM with a random IV; returns iv, ct and tag separately like the Node entry. */
export async function aeadEncrypt(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array = new Uint8Array()) {
  if (key.length !== 32) throw new CryptoError('BAD_KEY', 'AES-256-GCM key must be 32 bytes');
  const iv = random(12);
  const out = new Uint8Array(
    await globalThis.crypto.subtle.encrypt({ name: 'AES-GCM', iv: iv, additionalData: aad, tagLength: 128 }, await aesKey(key), plaintext),
  );
  return { iv, ct: out.slice(0, out.length - 16), tag: out.slice(out.length - 16) };
}

/** AES-256-GCM decrypt; throws CryptoError('DECRYPT_FAILED'). */
export async function aeadDecrypt(
  key: Uint8Array,
  box: { iv: Uint8Array; ct: Uint8Array; tag: Uint8Array },
  aad: Uint8Array = new Uint8Array(),
): Promise<Uint8Array> {
  try {
    const plain = await globalThis.crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: box.iv, additionalData: aad, tagLength: 128 },
      await aesKey(key),
      concat(box.ct, box.tag),
    );
    return new Uint8Array(plain);
  } catch {
    throw new CryptoError('DECRYPT_FAILED', 'decryption failed: wrong key or tampered data');
  }
}

export function generateDataKey(): Uint8Array {
  return random(32);
}

function wrapKey(shared: Uint8Array, epk: string, recipient: string): Uint8Array {
  if (shared.every((b) => b === 0)) throw new CryptoError('DECRYPT_FAILED', 'low-order public key');
  return hkdf(sha256, shared, concat(fromHex(epk), fromHex(recipient)), utf8(ENVELOPE_INFO), 32);
}

/** Seal a secret to an X25519 public key (same format as the Node entry). */
export async function sealToPublicKey(
  recipientPublicKey: string,
  plaintext: Uint8Array,
  aad: Uint8Array = new Uint8Array(),
): Promise<Envelope> {
  const eph = generateEncryptionKeyPair();
  const shared = x25519.getSharedSecret(fromHex(eph.privateKey), fromHex(recipientPublicKey, 'X25519 public key', 32));
  const box = await aeadEncrypt(wrapKey(shared, eph.publicKey, recipientPublicKey), plaintext, aad);
  return { v: 1, alg: ENVELOPE_ALG, epk: eph.publicKey, iv: toHex(box.iv), ct: toHex(box.ct), tag: toHex(box.tag) };
}

/** Open an envelope; throws CryptoError('DECRYPT_FAILED') or ('BAD_ENVELOPE'). */
export async function openEnvelope(
  recipientPrivateKey: string,
  envelope: unknown,
  aad: Uint8Array = new Uint8Array(),
): Promise<Uint8Array> {
  const env = validateEnvelope(envelope);
  let key: Uint8Array;
  try {
    const priv = fromHex(recipientPrivateKey, 'X25519 private key', 32);
    key = wrapKey(x25519.getSharedSecret(priv, fromHex(env.epk)), env.epk, toHex(x25519.getPublicKey(priv)));
  } catch {
    throw new CryptoError('DECRYPT_FAILED', 'decryption failed: wrong key or tampered data');
  }
  return aeadDecrypt(key, { iv: fromHex(env.iv), ct: fromHex(env.ct), tag: fromHex(env.tag) }, aad);
}

async function deriveKey(passphrase: string, kdf: KeystoreFile['kdf']): Promise<Uint8Array> {
  return scryptAsync(utf8(passphrase.normalize('NFKC')), fromHex(kdf.salt), { N: kdf.N, r: kdf.r, p: kdf.p, dkLen: 32 });
}

/** Encrypt a key bundle into a keystore file readable by the Node entry too. */
export async function encryptKeystore(
  keys: KeyBundle,
  passphrase: string,
  opts: { scryptN?: number; label?: string } = {},
): Promise<KeystoreFile> {
  const { header, secret, aad } = newKeystoreParts(keys, idFromPublicKey(keys.signing.publicKey), passphrase, toHex(random(16)), opts);
  const box = await aeadEncrypt(await deriveKey(passphrase, header.kdf), secret, aad);
  return assembleKeystore(header, { iv: toHex(box.iv), ct: toHex(box.ct), tag: toHex(box.tag) });
}

/** Decrypt a keystore file; throws CryptoError('BAD_PASSPHRASE') or ('KEYSTORE_FORMAT'). */
export async function decryptKeystore(file: unknown, passphrase: string): Promise<KeyBundle> {
  const f = validateKeystore(file);
  let plain: Uint8Array;
  try {
    plain = await aeadDecrypt(
      await deriveKey(passphrase, f.kdf),
      { iv: fromHex(f.cipher.iv), ct: fromHex(f.ciphertext), tag: fromHex(f.tag) },
      keystoreAad(f),
    );
  } catch {
    throw new CryptoError('BAD_PASSPHRASE', 'wrong passphrase, or the keystore file was altered');
  }
  const secret = parseKeystoreSecret(new TextDecoder().decode(plain));
  const keys: KeyBundle = {
    signing: { privateKey: secret.signing, publicKey: publicKeyFromPrivate(secret.signing) },
    encryption: { privateKey: secret.encryption, publicKey: toHex(x25519.getPublicKey(fromHex(secret.encryption))) },
  };
  if (keys.signing.publicKey !== f.publicKey || keys.encryption.publicKey !== f.encryptionKey) {
    throw new CryptoError('KEYSTORE_FORMAT', 'keystore public keys do not match its private keys');
  }
  return keys;
}
