// The passphrase keystore file format (version 1), shared by the Node and browser entries so
// a file written by one opens on the other. No Node built-ins; each entry supplies scrypt,
// AES-GCM and key derivation.
import { isHex, utf8 } from './browser-bytes.js';
import { CryptoError } from './errors.js';

/** A passphrase-protected key file (scrypt RFC 7914 + AES-256-GCM), format version 1. */
export interface KeystoreFile {
  format: 'medledger-keystore';
  version: 1;
  /** Participant id: first 20 bytes of SHA-256 of `publicKey` (DESIGN §3), hex. */
  id: string;
  /** Ed25519 signing public key, hex. */
  publicKey: string;
  /** X25519 encryption public key, hex. */
  encryptionKey: string;
  /** Free text for people, e.g. whose key this is. Authenticated, not secret. */
  label?: string;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  cipher: { name: 'aes-256-gcm'; iv: string };
  /** AES-256-GCM ciphertext of the private keys, hex. */
  ciphertext: string;
  tag: string;
}

/** Default scrypt cost: 2^15 with r = 8 takes 32 MiB and about 0.1 s on a laptop. */
export const DEFAULT_SCRYPT_N = 2 ** 15;

// Below 2^10 a passphrase is too cheap to guess; above 2^20 (1 GiB) a file could exhaust memory.
const isScryptN = (n: unknown): n is number =>
  typeof n === 'number' && Number.isSafeInteger(n) && n >= 2 ** 10 && n <= 2 ** 20 && (n & (n - 1)) === 0;

/**
 * Check that untrusted input is a version-1 keystore file and return it typed. Throws
 * CryptoError('KEYSTORE_FORMAT') whose message names the first bad field.
 */
export function validateKeystore(x: unknown): KeystoreFile {
  const bad = (m: string): never => {
    throw new CryptoError('KEYSTORE_FORMAT', m);
  };
  if (typeof x !== 'object' || x === null || Array.isArray(x)) bad('keystore must be a JSON object');
  const f = x as KeystoreFile;
  if (f.format !== 'medledger-keystore') bad('keystore.format must be "medledger-keystore"');
  if (f.version !== 1) bad(`keystore.version ${String(f.version)} is not supported (this software reads version 1)`);
  if (!isHex(f.id, 20)) bad('keystore.id must be 20-byte lowercase hex');
  if (!isHex(f.publicKey, 32)) bad('keystore.publicKey must be 32-byte lowercase hex');
  if (!isHex(f.encryptionKey, 32)) bad('keystore.encryptionKey must be 32-byte lowercase hex');
  if (f.label !== undefined && typeof f.label !== 'string') bad('keystore.label must be a string');
  const k = f.kdf;
  if (typeof k !== 'object' || k === null || k.name !== 'scrypt') bad('keystore.kdf.name must be "scrypt"');
  if (!isScryptN(k.N)) bad('keystore.kdf.N must be a power of two from 2^10 to 2^20');
  if (k.r !== 8 || k.p !== 1) bad('keystore.kdf.r must be 8 and keystore.kdf.p must be 1');
  if (!isHex(k.salt, 16)) bad('keystore.kdf.salt must be 16-byte lowercase hex');
  const c = f.cipher;
  if (typeof c !== 'object' || c === null || c.name !== 'aes-256-gcm') bad('keystore.cipher.name must be "aes-256-gcm"');
  if (!isHex(c.iv, 12)) bad('keystore.cipher.iv must be 12-byte lowercase hex');
  if (typeof f.ciphertext !== 'string' || !isHex(f.ciphertext)) bad('keystore.ciphertext must be lowercase hex');
  if (!isHex(f.tag, 16)) bad('keystore.tag must be 16-byte lowercase hex');
  return f;
}

/** The public, authenticated part of a keystore file. */
export type KeystoreHeader = Pick<KeystoreFile, 'version' | 'id' | 'publicKey' | 'encryptionKey' | 'label' | 'kdf'>;

/**
 * AES-GCM additional data: every public field, so editing any of them (to pass off another
 * key or weaken the KDF) makes decryption fail. JSON of an array is the same on both entries.
 */
export function keystoreAad(f: KeystoreHeader): Uint8Array {
  const { version, id, publicKey, encryptionKey, label, kdf } = f;
  return utf8(JSON.stringify(['medledger-keystore', version, id, publicKey, encryptionKey, label ?? null, kdf.N, kdf.r, kdf.p, kdf.salt]));
}

interface KeyPairs {
  signing: { privateKey: string; publicKey: string };
  encryption: { privateKey: string; publicKey: string };
}

/** The entry's own derivations: Ed25519 and X25519 public keys, and the participant id. */
export interface KeyDerivation {
  signingPublic(privateKeyHex: string): string;
  encryptionPublic(privateKeyHex: string): string;
  id(publicKeyHex: string): string;
}

/**
 * Header, secret bytes and AAD for a new keystore. Both entries call this, so their files
 * are alike field for field. Throws CryptoError('KEYSTORE_FORMAT') for an empty passphrase
 * or options `validateKeystore` would refuse (that file could never be read), and
 * CryptoError('BAD_KEY') when a key pair's halves do not match.
 */
export function newKeystoreParts(
  keys: KeyPairs,
  passphrase: string,
  saltHex: string,
  opts: { scryptN?: number; label?: string },
  derive: KeyDerivation,
): { header: KeystoreHeader; secret: Uint8Array; aad: Uint8Array } {
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw new CryptoError('KEYSTORE_FORMAT', 'passphrase must not be empty');
  const N = opts.scryptN ?? DEFAULT_SCRYPT_N;
  if (!isScryptN(N)) throw new CryptoError('KEYSTORE_FORMAT', 'scryptN must be a power of two from 2^10 to 2^20');
  if (opts.label !== undefined && typeof opts.label !== 'string') throw new CryptoError('KEYSTORE_FORMAT', 'label must be a string');
  for (const [name, pair, publicOf] of [
    ['signing', keys.signing, derive.signingPublic],
    ['encryption', keys.encryption, derive.encryptionPublic],
  ] as const) {
    if (!isHex(pair?.privateKey, 32) || !isHex(pair.publicKey, 32) || publicOf(pair.privateKey) !== pair.publicKey) {
      throw new CryptoError('BAD_KEY', `keys.${name} is not a matching 32-byte key pair`);
    }
  }
  const header: KeystoreHeader = {
    version: 1,
    id: derive.id(keys.signing.publicKey),
    publicKey: keys.signing.publicKey,
    encryptionKey: keys.encryption.publicKey,
    ...(opts.label === undefined ? {} : { label: opts.label }),
    kdf: { name: 'scrypt', N, r: 8, p: 1, salt: saltHex },
  };
  const secret = utf8(JSON.stringify({ signing: keys.signing.privateKey, encryption: keys.encryption.privateKey }));
  return { header, secret, aad: keystoreAad(header) };
}

/** The finished keystore file from its header and the hex AES-GCM output. */
export function assembleKeystore(header: KeystoreHeader, box: { iv: string; ct: string; tag: string }): KeystoreFile {
  return { format: 'medledger-keystore', ...header, cipher: { name: 'aes-256-gcm', iv: box.iv }, ciphertext: box.ct, tag: box.tag };
}

function parseSecret(plaintext: Uint8Array): { signing?: unknown; encryption?: unknown } | undefined {
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(plaintext));
    return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The key pairs from a decrypted secret, checked against the file's public fields. Throws
 * CryptoError('KEYSTORE_FORMAT'): the AEAD already authenticated the file, so a mismatch
 * here means it was written wrongly, not edited.
 */
export function openedKeystore(f: KeystoreFile, plaintext: Uint8Array, derive: KeyDerivation): KeyPairs {
  const s = parseSecret(plaintext);
  if (s === undefined || !isHex(s.signing, 32) || !isHex(s.encryption, 32)) {
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
