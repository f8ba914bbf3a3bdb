// X25519 (RFC 7748) key pairs and Diffie-Hellman through node:crypto, keys as raw 32-byte hex.
// The browser entry computes the same values with @noble/curves.
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { fromHex, toHex } from './bytes.js';
import { CryptoError } from './errors.js';

/** A raw X25519 key pair, lowercase hex. */
export interface EncryptionKeyPair {
  /** 32-byte private scalar (RFC 7748 §5, clamped when used), hex. Secret. */
  privateKey: string;
  /** 32-byte public u-coordinate, hex. */
  publicKey: string;
}

// DER prefixes for raw 32-byte X25519 keys (RFC 8410): SPKI for public, PKCS#8 for private.
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

function rawKey(hex: string, what: string): Uint8Array {
  try {
    return fromHex(hex, what, 32);
  } catch (err) {
    throw new CryptoError('BAD_KEY', (err as Error).message);
  }
}

function privateKeyObject(privateKeyHex: string): KeyObject {
  const der = Buffer.concat([PKCS8_PREFIX, rawKey(privateKeyHex, 'X25519 private key')]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

function publicKeyObject(publicKeyHex: string): KeyObject {
  const der = Buffer.concat([SPKI_PREFIX, rawKey(publicKeyHex, 'X25519 public key')]);
  return createPublicKey({ key: der, format: 'der', type: 'spki' });
}

/** Generate a fresh X25519 key pair (RFC 7748) from the OS CSPRNG. Does not throw. */
export function generateEncryptionKeyPair(): EncryptionKeyPair {
  // DER, not JWK: see generateSigningKeyPair (a JWK export can deadlock with GC on Node 20).
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return {
    privateKey: toHex(privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length)),
    publicKey: toHex(publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length)),
  };
}

/**
 * The public key of an X25519 private key: X25519(k, 9), RFC 7748 §6.1. Throws
 * CryptoError('BAD_KEY') unless the private key is 32 bytes of lowercase hex.
 */
export function encryptionPublicKeyFromPrivate(privateKeyHex: string): string {
  const pub = createPublicKey(privateKeyObject(privateKeyHex)).export({ format: 'der', type: 'spki' });
  return toHex(pub.subarray(SPKI_PREFIX.length));
}

/**
 * The X25519 shared secret of a private and a public key (RFC 7748 §6.1). Throws
 * CryptoError('BAD_KEY') for malformed keys or a low-order public key, whose all-zero
 * result would let anyone who picks that key predict the secret (RFC 7748 §6.1 check).
 */
export function x25519SharedSecret(privateKeyHex: string, publicKeyHex: string): Uint8Array {
  const privateKey = privateKeyObject(privateKeyHex);
  const publicKey = publicKeyObject(publicKeyHex);
  let secret: Buffer;
  try {
    secret = diffieHellman({ privateKey, publicKey });
  } catch {
    // OpenSSL itself refuses to derive the all-zero secret.
    throw new CryptoError('BAD_KEY', 'X25519 public key is of low order');
  }
  if (secret.every((b) => b === 0)) throw new CryptoError('BAD_KEY', 'X25519 public key is of low order');
  return new Uint8Array(secret);
}
