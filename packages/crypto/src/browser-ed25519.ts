// Ed25519 (RFC 8032) for the browser entry with @noble/curves. Signing is deterministic, so
// signatures are byte-identical to the Node entry. Verification follows the rule OpenSSL
// (the Node entry) applies, so a light client and the validators accept exactly the same
// signatures; noble's own verify is cofactored and decides some edge cases differently.
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesEqual, concatBytes, fromHex, randomBytes, toHex } from './browser-bytes.js';

/** A raw Ed25519 key pair: 32-byte seed and 32-byte public key, as lowercase hex. */
export interface SigningKeyPair {
  /** 32-byte private seed (RFC 8032 §5.1.5), hex. Secret. */
  privateKey: string;
  /** 32-byte public key, hex. */
  publicKey: string;
}

const { Point } = ed25519;
const L = Point.Fn.ORDER;

/** Generate a fresh Ed25519 key pair (RFC 8032 §5.1.5) from WebCrypto getRandomValues. */
export function generateSigningKeyPair(): SigningKeyPair {
  const seed = randomBytes(32);
  return { privateKey: toHex(seed), publicKey: toHex(ed25519.getPublicKey(seed)) };
}

/** Derive the public key of a 32-byte seed (hex), RFC 8032 §5.1.5. Throws TypeError on a malformed seed. */
export function publicKeyFromPrivate(privateKeyHex: string): string {
  return toHex(ed25519.getPublicKey(fromHex(privateKeyHex, 'Ed25519 private key', 32)));
}

/**
 * Sign `message` (RFC 8032 §5.1.6, pure Ed25519). Returns the 64-byte signature as hex,
 * byte-identical to the Node entry. Throws TypeError on a malformed seed.
 */
export function signEd25519(privateKeyHex: string, message: Uint8Array): string {
  return toHex(ed25519.sign(message, fromHex(privateKeyHex, 'Ed25519 private key', 32)));
}

/**
 * Verify an Ed25519 signature (RFC 8032 §5.1.7) exactly as OpenSSL 3 does: S must be below
 * the group order L; A is decoded leniently like ref10; k = SHA-512(R ‖ A ‖ M) over the raw
 * bytes; and the cofactorless [S]B − [k]A must encode to R byte for byte, which rejects a
 * non-canonical R. Returns false (never throws) for any malformed input.
 */
export function verifyEd25519(publicKeyHex: string, message: Uint8Array, signatureHex: string): boolean {
  try {
    const sig = fromHex(signatureHex, 'signature', 64);
    const pub = fromHex(publicKeyHex, 'public key', 32);
    const r = sig.subarray(0, 32);
    const s = bytesToNumberLE(sig.subarray(32));
    if (s >= L) return false;
    const A = Point.fromBytes(pub, true);
    const k = bytesToNumberLE(sha512(concatBytes(r, pub, message))) % L;
    const check = Point.BASE.multiplyUnsafe(s).subtract(A.multiplyUnsafe(k));
    return bytesEqual(check.toBytes(), r);
  } catch {
    return false;
  }
}
