// Keystore files for SDK users (DESIGN §3): the same passphrase-encrypted files the CLI
// writes and the web UI opens as recovery files, from the browser-safe crypto entry.
import { decryptKeystore, encryptKeystore, type KeyBundle, type KeystoreFile, validateKeystore } from '@medledger/crypto/browser';

export type { KeyBundle, KeystoreFile };

/**
 * Open a keystore file (parsed JSON or its text) with its passphrase. Rejects with
 * CryptoError `KEYSTORE_FORMAT` (not a keystore) or `BAD_PASSPHRASE` (wrong passphrase or
 * an altered file).
 */
export async function openKeystore(file: unknown, passphrase: string): Promise<KeyBundle> {
  return decryptKeystore(typeof file === 'string' ? JSON.parse(file) : file, passphrase);
}

/** Encrypt keys into a keystore file (scrypt N = 2^15 unless given). Rejects with CryptoError. */
export async function createKeystore(
  keys: KeyBundle,
  passphrase: string,
  opts: { label?: string; scryptN?: number } = {},
): Promise<KeystoreFile> {
  return encryptKeystore(keys, passphrase, opts);
}

/** The public part of a keystore file — id and keys, no passphrase needed. Throws CryptoError('KEYSTORE_FORMAT'). */
export function keystoreIdentity(file: unknown): { id: string; publicKey: string; encryptionKey: string; label?: string } {
  const f = validateKeystore(typeof file === 'string' ? JSON.parse(file) : file);
  return { id: f.id, publicKey: f.publicKey, encryptionKey: f.encryptionKey, ...(f.label === undefined ? {} : { label: f.label }) };
}
