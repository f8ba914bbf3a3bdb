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

// The address book: per account, kept encrypted in `medledger.names.<accountId>` under an
// AES-256-GCM key derived (HKDF-SHA-256) from the account's secret encryption key, so only
// that account, signed in, can read it. While signed in it is held in memory (`localName` is
// synchronous for rendering); signing out forgets it. Names are never sent anywhere.
const NAMES_INFO = 'medledger/web/names/v1';
const namesKeyOf = (accountId: string) => `${NAMES_KEY}.${accountId}`;

interface OpenBook {
  accountId: string;
  key: CryptoKey;
  names: Map<string, string>;
  /** Writes run one after another, so an older snapshot never lands after a newer one. */
  saving: Promise<void>; // never rejects
}
let book: OpenBook | undefined;
/** Counts opens and closes, so an open that finishes after a sign-out is dropped. */
let opened = 0;

const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
const unb64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const hexBytes = (hex: string) => Uint8Array.from(hex.match(/../g) ?? [], (h) => Number.parseInt(h, 16));

async function bookKey(keys: KeyBundle, accountId: string): Promise<CryptoKey> {
  const secret = hexBytes(keys.encryption.privateKey);
  try {
    const ikm = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveKey']);
    return await crypto.subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-256', salt: new TextEncoder().encode(accountId), info: new TextEncoder().encode(NAMES_INFO) },
      ikm,
      { name: 'AES-GCM', length: 256 },
      false,
      ['encrypt', 'decrypt'],
    );
  } finally {
    secret.fill(0);
  }
}

/** Only names that clean to something, under string keys (anything else is dropped). */
function cleanEntries(stored: unknown): Array<[string, string]> {
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) return [];
  const out: Array<[string, string]> = [];
  for (const [id, name] of Object.entries(stored)) {
    if (typeof name !== 'string') continue;
    const clean = cleanLocalName(name);
    if (clean !== '') out.push([id, clean]);
  }
  return out;
}

/** The stored book, decrypted: undefined if there is none, 'unreadable' if it does not open. */
async function readBook(key: CryptoKey, accountId: string): Promise<Array<[string, string]> | undefined | 'unreadable'> {
  const raw = localStorage.getItem(namesKeyOf(accountId));
  if (raw === null) return undefined;
  try {
    const { v, iv, ct } = JSON.parse(raw) as { v?: unknown; iv?: unknown; ct?: unknown };
    if (v !== 1 || typeof iv !== 'string' || typeof ct !== 'string') return 'unreadable';
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: unb64(iv) }, key, unb64(ct));
    return cleanEntries(JSON.parse(new TextDecoder().decode(plain)));
  } catch {
    return 'unreadable';
  }
}

async function writeBook(key: CryptoKey, accountId: string, names: Map<string, string>): Promise<void> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plain = new TextEncoder().encode(JSON.stringify(Object.fromEntries(names)));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, plain));
  localStorage.setItem(namesKeyOf(accountId), JSON.stringify({ v: 1, iv: b64(iv), ct: b64(ct) }));
}

/**
 * Open the address book of the account `accountId` (whose keys these are), forgetting any other
 * one held. A stored book that does not open (damaged, or not this account's) reads as empty
 * and is left as it is until a name is saved. Names an older version kept in plain text
 * (`medledger.names`, shared by the browser's accounts) are moved into this account's book and
 * the plain copy deleted: after the upgrade they belong to the first account signed in here.
 * Never throws; without WebCrypto the book stays closed (no names shown, none saved).
 */
export async function openNameBook(keys: KeyBundle, accountId: string): Promise<void> {
  const generation = ++opened;
  book = undefined;
  let open: OpenBook;
  let stored: Awaited<ReturnType<typeof readBook>>;
  try {
    const key = await bookKey(keys, accountId);
    stored = await readBook(key, accountId);
    open = { accountId, key, names: new Map(stored === 'unreadable' ? [] : (stored ?? [])), saving: Promise.resolve() };
  } catch {
    return;
  }
  const legacy = localStorage.getItem(NAMES_KEY);
  if (legacy !== null && stored !== 'unreadable') {
    let entries: Array<[string, string]> = [];
    try {
      entries = cleanEntries(JSON.parse(legacy));
    } catch {
      entries = []; // not JSON: nothing in it to keep
    }
    for (const [id, name] of entries) open.names.set(id, name);
    try {
      await writeBook(open.key, accountId, open.names);
      localStorage.removeItem(NAMES_KEY);
    } catch {
      // Not saved (e.g. storage full): shown this session, moved on a later sign-in.
    }
  }
  if (generation === opened) book = open;
}

/** Forget the open address book (sign-out). The stored, encrypted copy stays. */
export function closeNameBook(): void {
  opened++;
  book = undefined;
  noteSaveProblem(false);
}

/** The local name for a sharing code, if the signed-in user gave one. Never sent anywhere. */
export function localName(id: string): string | undefined {
  return book?.names.get(id);
}

/**
 * Name a sharing code for the signed-in account (an empty name forgets it). Shown at once;
 * resolves true once it is saved, encrypted, on this device. Never rejects: when it could not
 * be saved (storage full, no WebCrypto, nobody signed in) it resolves false and
 * `nameSaveProblem` says so until a later save works or the user signs out; the name is
 * then kept in memory until sign-out.
 */
export function setLocalName(id: string, name: string): Promise<boolean> {
  const open = book;
  if (open === undefined) {
    noteSaveProblem(true);
    return Promise.resolve(false);
  }
  const clean = cleanLocalName(name);
  if (clean === '') open.names.delete(id);
  else open.names.set(id, clean);
  const snapshot = new Map(open.names);
  const saved = open.saving
    .then(() => writeBook(open.key, open.accountId, snapshot))
    .then(
      () => true,
      () => false,
    );
  open.saving = saved.then(() => undefined);
  return saved.then((ok) => {
    if (book === open) noteSaveProblem(!ok);
    return ok;
  });
}

let saveFailed = false;
const listeners = new Set<() => void>();
function noteSaveProblem(failed: boolean): void {
  if (failed === saveFailed) return;
  saveFailed = failed;
  for (const l of listeners) l();
}

/** Did the last name saved fail to be stored on this device? For useSyncExternalStore. */
export const nameSaveProblem = {
  get: (): boolean => saveFailed,
  subscribe: (listener: () => void): (() => void) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

/** How long without activity before signing out; `medledger.idleMinutes` in localStorage overrides. */
export function idleTimeoutMs(): number {
  const raw = Number(localStorage.getItem('medledger.idleMinutes'));
  return (Number.isFinite(raw) && raw > 0 ? raw : 10) * 60_000;
}
