// Ed25519 (RFC 8032) signing and verification through node:crypto, with key objects cached.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import sodium from 'sodium-native';
import { fromHex, toHex } from './bytes.js';

/** A raw Ed25519 key pair: 32-byte seed and 32-byte public key, as lowercase hex. */
export interface SigningKeyPair {
  /** 32-byte private seed (RFC 8032 §5.1.5), hex. Secret. */
  privateKey: string;
  /** 32-byte public key, hex. */
  publicKey: string;
}

// DER prefixes for raw 32-byte keys (RFC 8410): SPKI for public keys, PKCS#8 for seeds.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

// Re-importing a public key on every verify roughly halves throughput, so imported
// KeyObjects are cached. The cache is bounded; when full it is cleared wholesale,
// which is cheap and keeps the hot validator keys warm again within one block.
const MAX_CACHED_KEYS = 50_000;
const publicKeyCache = new Map<string, KeyObject>();
const privateKeyCache = new Map<string, KeyObject>();

function publicKeyObject(publicKeyHex: string): KeyObject {
  let key = publicKeyCache.get(publicKeyHex);
  if (key === undefined) {
    const raw = fromHex(publicKeyHex, 'Ed25519 public key', 32);
    // JWK import is about ten times cheaper than DER here, and a node meets many keys once.
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
    if (publicKeyCache.size >= MAX_CACHED_KEYS) publicKeyCache.clear();
    publicKeyCache.set(publicKeyHex, key);
  }
  return key;
}

function privateKeyObject(privateKeyHex: string): KeyObject {
  let key = privateKeyCache.get(privateKeyHex);
  if (key === undefined) {
    const raw = fromHex(privateKeyHex, 'Ed25519 private key', 32);
    key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
    if (privateKeyCache.size >= 1024) privateKeyCache.clear();
    privateKeyCache.set(privateKeyHex, key);
  }
  return key;
}

/** Generate a fresh Ed25519 key pair (RFC 8032 §5.1.5) from the OS CSPRNG. Does not throw. */
export function generateSigningKeyPair(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  // DER, not JWK: on Node 20, exporting a freshly generated key as JWK can deadlock when a
  // garbage collection runs inside the export (seen here as a hung load generator).
  const pair = {
    privateKey: toHex(privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length)),
    publicKey: toHex(publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length)),
  };
  // Keep the key objects: importing a key costs more than signing with it.
  if (privateKeyCache.size >= 1024) privateKeyCache.clear();
  privateKeyCache.set(pair.privateKey, privateKey);
  if (publicKeyCache.size >= MAX_CACHED_KEYS) publicKeyCache.clear();
  publicKeyCache.set(pair.publicKey, publicKey);
  return pair;
}

/** Derive the public key of a 32-byte seed (hex), RFC 8032 §5.1.5. Throws TypeError on a malformed seed. */
export function publicKeyFromPrivate(privateKeyHex: string): string {
  const pub = createPublicKey(privateKeyObject(privateKeyHex)).export({ format: 'der', type: 'spki' });
  return toHex(pub.subarray(SPKI_PREFIX.length));
}

/**
 * Sign `message` (RFC 8032 §5.1.6, pure Ed25519). Returns the 64-byte signature as hex;
 * deterministic, so byte-identical to the browser entry. Throws TypeError on a malformed seed.
 */
export function signEd25519(privateKeyHex: string, message: Uint8Array): string {
  return toHex(sign(null, message, privateKeyObject(privateKeyHex)));
}

/**
 * Verify an Ed25519 signature (RFC 8032 §5.1.7, as OpenSSL does it: S < L, cofactorless
 * equation, R compared byte for byte). Returns false (never throws) for a malformed key or
 * signature, so callers can treat every failure as "bad signature".
 *
 * Every validator verifies every transaction, so this is the chain's largest single cost.
 * libsodium verifies in about half OpenSSL's time on this machine, with no key import, so it
 * is tried first. It accepts only a subset of what OpenSSL accepts (it also refuses
 * small-order and non-canonical keys and small-order R, and its equation is the same
 * cofactorless one), so its "yes" for a canonical R is OpenSSL's "yes"; anything it refuses
 * is decided by OpenSSL. The verdict is therefore exactly OpenSSL's (and the browser entry's),
 * which ed25519-edge.test.ts checks on the speccheck cases and on mutated signatures; a
 * forged signature costs both checks.
 */
export function verifyEd25519(publicKeyHex: string, message: Uint8Array, signatureHex: string): boolean {
  if (typeof signatureHex !== 'string' || signatureHex.length !== 128) return false;
  try {
    const sig = fromHex(signatureHex, 'signature', 64);
    if (fastAccepts(publicKeyHex, message, sig)) return true;
    return verify(null, message, publicKeyObject(publicKeyHex), sig);
  } catch {
    return false;
  }
}

/** libsodium's verdict, when it can only be OpenSSL's too: true means OpenSSL accepts. */
function fastAccepts(publicKeyHex: string, message: Uint8Array, sig: Uint8Array): boolean {
  if (!canonicalR(sig)) return false;
  // The same parse as OpenSSL's path (lowercase hex, 32 bytes); it throws on anything else.
  const pub = fromHex(publicKeyHex, 'Ed25519 public key', 32);
  return sodium.crypto_sign_verify_detached(
    Buffer.from(sig.buffer, sig.byteOffset, 64),
    Buffer.from(message.buffer, message.byteOffset, message.byteLength),
    Buffer.from(pub.buffer, pub.byteOffset, 32),
  );
}

/** p = 2^255 − 19, little-endian: R's y coordinate (its low 255 bits) is canonical iff below it. */
function canonicalR(sig: Uint8Array): boolean {
  // y >= p only when bytes 1..30 are 0xff, byte 31 (sign bit masked) is 0x7f and byte 0 >= 0xed.
  if (((sig[31] as number) & 0x7f) !== 0x7f) return true;
  for (let i = 30; i >= 1; i--) if (sig[i] !== 0xff) return true;
  return (sig[0] as number) < 0xed;
}
