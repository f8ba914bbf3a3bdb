// Wire formats shared by the Node and browser entries: envelopes and keystore files.
// Pure TypeScript (no node: imports) so both entries produce byte-identical results.
import { CryptoError } from './errors.js';

const HEX_RE = /^(?:[0-9a-f]{2})*$/;
const isHexOf = (s: unknown, bytes: number): s is string => typeof s === 'string' && HEX_RE.test(s) && s.length === bytes * 2;

export const ENVELOPE_ALG = 'X25519-HKDF-SHA256-A256GCM';
export const ENVELOPE_INFO = 'medledger/envelope/v1';

/**
 * A secret sealed to one recipient's X25519 key: ephemeral public key, AES-GCM IV,
 * ciphertext and tag, all hex.
 */
export interface Envelope {
  v: 1;
  alg: typeof ENVELOPE_ALG;
  epk: string;
  iv: string;
  ct: string;
  tag: string;
}

/** Check untrusted input is an envelope; throws CryptoError('BAD_ENVELOPE') naming the field. */
export function validateEnvelope(x: unknown): Envelope {
  const e = x as Envelope;
  if (typeof e !== 'object' || e === null) throw new CryptoError('BAD_ENVELOPE', 'envelope must be an object');
  if (e.v !== 1) throw new CryptoError('BAD_ENVELOPE', 'envelope.v must be 1');
  if (e.alg !== ENVELOPE_ALG) throw new CryptoError('BAD_ENVELOPE', `envelope.alg must be ${ENVELOPE_ALG}`);
  if (!isHexOf(e.epk, 32)) throw new CryptoError('BAD_ENVELOPE', 'envelope.epk must be 32-byte hex');
  if (!isHexOf(e.iv, 12)) throw new CryptoError('BAD_ENVELOPE', 'envelope.iv must be 12-byte hex');
  if (typeof e.ct !== 'string' || !HEX_RE.test(e.ct) || e.ct.length > 2 * 1024 * 1024)
    throw new CryptoError('BAD_ENVELOPE', 'envelope.ct must be hex');
  if (!isHexOf(e.tag, 16)) throw new CryptoError('BAD_ENVELOPE', 'envelope.tag must be 16-byte hex');
  return { v: 1, alg: ENVELOPE_ALG, epk: e.epk, iv: e.iv, ct: e.ct, tag: e.tag };
}

/** A passphrase-protected key file (scrypt + AES-256-GCM), format version 1. */
export interface KeystoreFile {
  format: 'medledger-keystore';
  version: 1;
  /** Participant id derived from the signing public key. */
  id: string;
  publicKey: string;
  encryptionKey: string;
  label?: string;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  cipher: { name: 'aes-256-gcm'; iv: string };
  ciphertext: string;
  tag: string;
}

export const DEFAULT_SCRYPT_N = 2 ** 15;

/** Check a keystore file's shape; throws CryptoError('KEYSTORE_FORMAT'). */
export function validateKeystore(x: unknown): KeystoreFile {
  const f = x as KeystoreFile;
  const bad = (m: string): never => {
    throw new CryptoError('KEYSTORE_FORMAT', m);
  };
  if (typeof f !== 'object' || f === null) bad('keystore must be a JSON object');
  if (f.format !== 'medledger-keystore') bad('not a MedLedger keystore file');
  if (f.version !== 1) bad(`keystore version ${String(f.version)} is not supported (this software reads version 1)`);
  if (!isHexOf(f.id, 20) || !isHexOf(f.publicKey, 32) || !isHexOf(f.encryptionKey, 32)) bad('keystore public fields are malformed');
  if (f.label !== undefined && typeof f.label !== 'string') bad('keystore label must be a string');
  const k = f.kdf;
  if (typeof k !== 'object' || k === null || k.name !== 'scrypt') bad('keystore kdf must be scrypt');
  if (!Number.isSafeInteger(k.N) || k.N < 2 ** 10 || k.N > 2 ** 20 || (k.N & (k.N - 1)) !== 0)
    bad('keystore kdf.N must be a power of two from 2^10 to 2^20');
  if (k.r !== 8 || k.p !== 1 || !isHexOf(k.salt, 16)) bad('keystore kdf parameters are malformed');
  if (typeof f.cipher !== 'object' || f.cipher === null || f.cipher.name !== 'aes-256-gcm' || !isHexOf(f.cipher.iv, 12))
    bad('keystore cipher must be aes-256-gcm');
  if (typeof f.ciphertext !== 'string' || !HEX_RE.test(f.ciphertext) || !isHexOf(f.tag, 16)) bad('keystore ciphertext is malformed');
  return f;
}

/** Additional authenticated data: the public fields, so editing any of them is detected. */
export function keystoreAad(f: Pick<KeystoreFile, 'version' | 'id' | 'publicKey' | 'encryptionKey' | 'label' | 'kdf'>): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify([
      'medledger-keystore',
      f.version,
      f.id,
      f.publicKey,
      f.encryptionKey,
      f.label ?? null,
      f.kdf.N,
      f.kdf.r,
      f.kdf.p,
      f.kdf.salt,
    ]),
  );
}

/** The secret part of a keystore, as encrypted. */
export interface KeystoreSecret {
  signing: string;
  encryption: string;
}

export function parseKeystoreSecret(json: string): KeystoreSecret {
  const s = JSON.parse(json) as KeystoreSecret;
  if (!isHexOf(s.signing, 32) || !isHexOf(s.encryption, 32)) throw new CryptoError('KEYSTORE_FORMAT', 'keystore secret is malformed');
  return s;
}

/** The public, authenticated part of a keystore file. */
export type KeystoreHeader = Pick<KeystoreFile, 'version' | 'id' | 'publicKey' | 'encryptionKey' | 'label' | 'kdf'>;

interface PublicKeys {
  signing: { publicKey: string; privateKey: string };
  encryption: { publicKey: string; privateKey: string };
}

/**
 * Header and secret bytes for a new keystore. Both entries call this, so their files
 * are alike field for field. Throws CryptoError('KEYSTORE_FORMAT') for an empty passphrase.
 */
export function newKeystoreParts(
  keys: PublicKeys,
  id: string,
  passphrase: string,
  saltHex: string,
  opts: { scryptN?: number; label?: string },
) {
  if (passphrase.length === 0) throw new CryptoError('KEYSTORE_FORMAT', 'passphrase must not be empty');
  const header: KeystoreHeader = {
    version: 1,
    id,
    publicKey: keys.signing.publicKey,
    encryptionKey: keys.encryption.publicKey,
    ...(opts.label === undefined ? {} : { label: opts.label }),
    kdf: { name: 'scrypt', N: opts.scryptN ?? DEFAULT_SCRYPT_N, r: 8, p: 1, salt: saltHex },
  };
  const secret = new TextEncoder().encode(JSON.stringify({ signing: keys.signing.privateKey, encryption: keys.encryption.privateKey }));
  return { header, secret, aad: keystoreAad(header) };
}

/** The finished keystore file from its header and the hex AES-GCM output. */
export function assembleKeystore(header: KeystoreHeader, box: { iv: string; ct: string; tag: string }): KeystoreFile {
  return { format: 'medledger-keystore', ...header, cipher: { name: 'aes-256-gcm', iv: box.iv }, ciphertext: box.ct, tag: box.tag };
}
