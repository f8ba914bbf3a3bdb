// X25519 (RFC 7748) key pairs through node:crypto, as raw 32-byte hex.
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { fromHex, toHex } from './bytes.js';

/** A raw X25519 key pair, lowercase hex. */
export interface EncryptionKeyPair {
  /** 32-byte private scalar, hex. Secret. */
  privateKey: string;
  /** 32-byte public u-coordinate, hex. */
  publicKey: string;
}

const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

export function x25519PrivateKeyObject(privateKeyHex: string): KeyObject {
  return createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, fromHex(privateKeyHex, 'X25519 private key', 32)]),
    format: 'der',
    type: 'pkcs8',
  });
}

export function x25519PublicKeyObject(publicKeyHex: string): KeyObject {
  return createPublicKey({
    key: Buffer.concat([SPKI_PREFIX, fromHex(publicKeyHex, 'X25519 public key', 32)]),
    format: 'der',
    type: 'spki',
  });
}

/** Generate a fresh X25519 key pair from the OS CSPRNG. */
export function generateEncryptionKeyPair(): EncryptionKeyPair {
  const jwk = generateKeyPairSync('x25519').privateKey.export({ format: 'jwk' });
  return { privateKey: toHex(Buffer.from(jwk.d as string, 'base64url')), publicKey: toHex(Buffer.from(jwk.x as string, 'base64url')) };
}

/** Public key of an X25519 private key (hex). Throws TypeError on malformed input. */
export function encryptionPublicKeyFromPrivate(privateKeyHex: string): string {
  const pub = createPublicKey(x25519PrivateKeyObject(privateKeyHex)).export({ format: 'der', type: 'spki' });
  return toHex(pub.subarray(SPKI_PREFIX.length));
}

/** X25519 shared secret (RFC 7748 §6.1). Throws if the result is all zeros (low-order point). */
export function x25519SharedSecret(privateKeyHex: string, publicKeyHex: string): Uint8Array {
  const secret = diffieHellman({ privateKey: x25519PrivateKeyObject(privateKeyHex), publicKey: x25519PublicKeyObject(publicKeyHex) });
  if (secret.every((b) => b === 0)) throw new TypeError('X25519 shared secret is zero (low-order public key)');
  return new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength);
}
