// Accounts saved in this browser: each is the passphrase-encrypted keystore file (the same
// format as the CLI's and the recovery file), so nothing here opens without the passphrase.
// Also the local address book: names a user gave to sharing codes, kept only on this device.
import type { KeyBundle } from '@medledger/crypto';
import { decryptKeystore, encryptKeystore, type KeystoreFile, validateKeystore } from '@medledger/crypto/browser';

const ACCOUNTS_KEY = 'medledger.accounts';
const NAMES_KEY = 'medledger.names';

/** An account remembered on this device. */
export interface SavedAccount {
  id: string;
  /** What the user called it, e.g. "Sam". */
  label: string;
  keystore: KeystoreFile;
  /**
   * The network the user confirmed when the account was made here (or first signed in on this
   * device): its chain id and genesis fingerprint. A node presenting another one is refused.
   */
  chain?: { chainId: string; hash: string };
}

function readJson<T>(key: string, fallback: T): T {
  try {
    const raw = localStorage.getItem(key);
    return raw === null ? fallback : (JSON.parse(raw) as T);
  } catch {
    return fallback;
  }
}

/** Accounts saved here, skipping any entry that is not a valid keystore. */
export function savedAccounts(): SavedAccount[] {
  return readJson<SavedAccount[]>(ACCOUNTS_KEY, []).filter((a) => {
    try {
      validateKeystore(a.keystore);
      return typeof a.id === 'string' && typeof a.label === 'string';
    } catch {
      return false;
    }
  });
}

export function saveAccount(account: SavedAccount): void {
  const others = savedAccounts().filter((a) => a.id !== account.id);
  localStorage.setItem(ACCOUNTS_KEY, JSON.stringify([...others, account]));
}

export function forgetAccount(id: string): void {
  localStorage.setItem(ACCOUNTS_KEY, JSON.stringify(savedAccounts().filter((a) => a.id !== id)));
}

/** Encrypt keys under a passphrase into a keystore file. Rejects with CryptoError. */
export function lockKeys(keys: KeyBundle, passphrase: string, label: string): Promise<KeystoreFile> {
  return encryptKeystore(keys, passphrase, { label });
}

/** Open a keystore file (saved or uploaded). Rejects with CryptoError('BAD_PASSPHRASE' | 'KEYSTORE_FORMAT'). */
export function unlockKeys(file: unknown, passphrase: string): Promise<KeyBundle> {
  return decryptKeystore(file, passphrase);
}

/** Offer `data` as a file download named `name`. */
export function downloadJson(name: string, data: unknown): void {
  const blob = new Blob([`${JSON.stringify(data, null, 2)}\n`], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The longest name kept for a sharing code (longer ones are cut). */
export const LOCAL_NAME_MAX = 60;

/**
 * A name as it is kept: plain text on one line (control characters and runs of spaces become
 * one space), trimmed, at most LOCAL_NAME_MAX characters. React escapes it where it is shown.
 */
export function cleanLocalName(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  const oneLine = name.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\s]+/g, ' ').trim();
  return [...oneLine].slice(0, LOCAL_NAME_MAX).join('').trim();
}

/** The address book as stored (anything else there, e.g. edited by hand, reads as empty). */
function nameBook(): Record<string, unknown> {
  const book = readJson<unknown>(NAMES_KEY, {});
  return typeof book === 'object' && book !== null && !Array.isArray(book) ? (book as Record<string, unknown>) : {};
}

/** The local name for a sharing code, if this user gave one. Never sent anywhere. */
export function localName(id: string): string | undefined {
  const book = nameBook();
  const name = Object.hasOwn(book, id) ? book[id] : undefined;
  if (typeof name !== 'string') return undefined;
  const clean = cleanLocalName(name);
  return clean === '' ? undefined : clean;
}

/** Name a sharing code on this device (an empty name forgets it). */
export function setLocalName(id: string, name: string): void {
  const names = nameBook();
  const clean = cleanLocalName(name);
  if (clean === '') delete names[id];
  else names[id] = clean;
  localStorage.setItem(NAMES_KEY, JSON.stringify(names));
}

/** How long without activity before signing out; `medledger.idleMinutes` in localStorage overrides. */
export function idleTimeoutMs(): number {
  const raw = Number(localStorage.getItem('medledger.idleMinutes'));
  return (Number.isFinite(raw) && raw > 0 ? raw : 10) * 60_000;
}
