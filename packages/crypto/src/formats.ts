// Wire formats shared by the Node and browser entries: envelopes and keystore files.
// Pure TypeScript (no node: imports) so both entries produce byte-identical results.
import { CryptoError } from './errors.js';

const HEX_RE = /^(?:[0-9a-f]{2})*$/;
const isHexOf = (s: unknown, bytes: number): s is string => typeof s === 'string' && HEX_RE.test(s) && s.length === bytes * 2;

export const ENVELOPE_ALG = 'X25519-HKDF-SHA256-A256GCM';
export const ENVELOPE_INFO = 'medledger/envelope/v1';

/** AES-256-GCM sizes used everywhere here: 256-bit key, 96-bit IV, 128-bit tag (SP 800-38D). */
export const AES_KEY_BYTES = 32;
export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;

/** AES-256-GCM output: 12-byte IV, ciphertext (as long as the plaintext) and 16-byte tag. */
export interface AeadBox {
  iv: Uint8Array;
  ct: Uint8Array;
  tag: Uint8Array;
}

/**
 * HKDF info for an envelope key: the fixed label, then the caller's context bytes. The label
 * has a fixed length, so distinct contexts always give distinct info strings.
 */
export function envelopeInfo(context: Uint8Array = new Uint8Array()): Uint8Array {
  const label = new TextEncoder().encode(ENVELOPE_INFO);
  const info = new Uint8Array(label.length + context.length);
  info.set(label);
  info.set(context, label.length);
  return info;
}

/** HKDF salt for an envelope key: ephemeral public key ‖ recipient public key (64 bytes). */
export function envelopeSalt(epk: Uint8Array, recipientPublicKey: Uint8Array): Uint8Array {
  const salt = new Uint8Array(64);
  salt.set(epk);
  salt.set(recipientPublicKey, 32);
  return salt;
}

/** True when `box` has the IV and tag sizes this package writes; anything else is refused. */
export function hasGcmShape(box: AeadBox): boolean {
  return box.iv?.length === GCM_IV_BYTES && box.tag?.length === GCM_TAG_BYTES && box.ct instanceof Uint8Array;
}

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

/** Envelope ciphertexts wrap keys and small secrets; anything larger is refused unread. */
export const MAX_ENVELOPE_PLAINTEXT_BYTES = 1024 * 1024;

/**
 * Check that untrusted input (an HTTP body, a vault object) is a version-1 envelope and
 * return a copy holding only its fields. Throws CryptoError('BAD_ENVELOPE') whose message
 * names the first bad field. Checks shape only: whether it opens is `openEnvelope`'s job.
 */
export function validateEnvelope(x: unknown): Envelope {
  const e = x as Envelope;
  if (typeof e !== 'object' || e === null) throw new CryptoError('BAD_ENVELOPE', 'envelope must be an object');
  if (e.v !== 1) throw new CryptoError('BAD_ENVELOPE', 'envelope.v must be 1');
  if (e.alg !== ENVELOPE_ALG) throw new CryptoError('BAD_ENVELOPE', `envelope.alg must be ${ENVELOPE_ALG}`);
  if (!isHexOf(e.epk, 32)) throw new CryptoError('BAD_ENVELOPE', 'envelope.epk must be 32-byte hex');
  if (!isHexOf(e.iv, 12)) throw new CryptoError('BAD_ENVELOPE', 'envelope.iv must be 12-byte hex');
  if (typeof e.ct !== 'string' || e.ct.length > 2 * MAX_ENVELOPE_PLAINTEXT_BYTES || !HEX_RE.test(e.ct))
    throw new CryptoError('BAD_ENVELOPE', `envelope.ct must be hex of at most ${MAX_ENVELOPE_PLAINTEXT_BYTES} bytes`);
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

/** Default scrypt cost: 2^15 with r = 8 takes 32 MiB and about 0.1 s on a laptop. */
export const DEFAULT_SCRYPT_N = 2 ** 15;
const MIN_SCRYPT_N = 2 ** 10;
const MAX_SCRYPT_N = 2 ** 20;

const isScryptN = (n: unknown): n is number =>
  typeof n === 'number' && Number.isSafeInteger(n) && n >= MIN_SCRYPT_N && n <= MAX_SCRYPT_N && (n & (n - 1)) === 0;

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
  if (!isScryptN(k.N)) bad('keystore kdf.N must be a power of two from 2^10 to 2^20');
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

/**
 * Parse the decrypted secret and check it belongs to the file's public keys. Throws
 * CryptoError('KEYSTORE_FORMAT'): reaching here means the passphrase was right, so a
 * mismatch is a file written wrongly, not an attack (the AEAD already stopped those).
 */
export function openedKeystore(
  f: KeystoreFile,
  plaintext: Uint8Array,
  derive: { signingPublic(priv: string): string; encryptionPublic(priv: string): string; id(pub: string): string },
): { signing: { privateKey: string; publicKey: string }; encryption: { privateKey: string; publicKey: string } } {
  let s: Partial<KeystoreSecret> | null;
  try {
    s = JSON.parse(new TextDecoder().decode(plaintext)) as Partial<KeystoreSecret> | null;
  } catch {
    s = null;
  }
  if (s === null || typeof s !== 'object' || !isHexOf(s.signing, 32) || !isHexOf(s.encryption, 32)) {
    throw new CryptoError('KEYSTORE_FORMAT', 'keystore secret is malformed');
  }
  const keys = {
    signing: { privateKey: s.signing, publicKey: derive.signingPublic(s.signing) },
    encryption: { privateKey: s.encryption, publicKey: derive.encryptionPublic(s.encryption) },
  };
  if (keys.signing.publicKey !== f.publicKey || keys.encryption.publicKey !== f.encryptionKey || derive.id(f.publicKey) !== f.id) {
    throw new CryptoError('KEYSTORE_FORMAT', 'keystore public keys or id do not match its private keys');
  }
  return keys;
}

/** The public, authenticated part of a keystore file. */
export type KeystoreHeader = Pick<KeystoreFile, 'version' | 'id' | 'publicKey' | 'encryptionKey' | 'label' | 'kdf'>;

interface PublicKeys {
  signing: { publicKey: string; privateKey: string };
  encryption: { publicKey: string; privateKey: string };
}

/**
 * Header and secret bytes for a new keystore. Both entries call this, so their files
 * are alike field for field. Throws CryptoError('KEYSTORE_FORMAT') for an empty passphrase
 * or a scrypt N that `validateKeystore` would refuse, since that file could never be read.
 */
export function newKeystoreParts(
  keys: PublicKeys,
  id: string,
  passphrase: string,
  saltHex: string,
  opts: { scryptN?: number; label?: string },
) {
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw new CryptoError('KEYSTORE_FORMAT', 'passphrase must not be empty');
  const N = opts.scryptN ?? DEFAULT_SCRYPT_N;
  if (!isScryptN(N)) throw new CryptoError('KEYSTORE_FORMAT', 'scryptN must be a power of two from 2^10 to 2^20');
  if (opts.label !== undefined && typeof opts.label !== 'string') throw new CryptoError('KEYSTORE_FORMAT', 'label must be a string');
  const header: KeystoreHeader = {
    version: 1,
    id,
    publicKey: keys.signing.publicKey,
    encryptionKey: keys.encryption.publicKey,
    ...(opts.label === undefined ? {} : { label: opts.label }),
    kdf: { name: 'scrypt', N, r: 8, p: 1, salt: saltHex },
  };
  const secret = new TextEncoder().encode(JSON.stringify({ signing: keys.signing.privateKey, encryption: keys.encryption.privateKey }));
  return { header, secret, aad: keystoreAad(header) };
}

/** The finished keystore file from its header and the hex AES-GCM output. */
export function assembleKeystore(header: KeystoreHeader, box: { iv: string; ct: string; tag: string }): KeystoreFile {
  return { format: 'medledger-keystore', ...header, cipher: { name: 'aes-256-gcm', iv: box.iv }, ciphertext: box.ct, tag: box.tag };
}
