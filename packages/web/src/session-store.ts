// Keeping a signed-in session across a page reload (issue 17 item 3, docs/web.md "Reloading
// the page"). The unlocked keys are stored for this tab only (sessionStorage), encrypted
// with AES-256-GCM under a WebCrypto key that is created non-extractable and kept in
// IndexedDB: a copy of the browser's storage (a backup, a disk image, another program
// reading the profile) holds only ciphertext and a key handle no script can export.
// Closing the tab forgets the session; signing out or idling deletes both halves.
import type { KeyBundle } from '@medledger/crypto';

const BLOB = 'medledger.session';
const LAST_ACTIVE = 'medledger.lastActive';
const RETURN_TO = 'medledger.returnTo';
const DB = 'medledger-session';
const STORE = 'wrap';

/** What a reload needs to sign in again without the passphrase. */
export interface StoredSession {
  keys: KeyBundle;
  label: string;
  /** The genesis fingerprint this session trusts (docs/web.md "Which network you trust"). */
  genesisHash: string;
}

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function withStore<T>(mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const req = op(db.transaction(STORE, mode).objectStore(STORE));
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  } finally {
    db.close();
  }
}

const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
const unb64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

/** Encrypt and keep the session for this tab: a fresh non-extractable key each sign-in. */
export async function saveSession(session: StoredSession): Promise<void> {
  await clearSession();
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  // One key per tab's session, so signing in in another tab does not strand this one.
  const kid = b64(crypto.getRandomValues(new Uint8Array(16)));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plain = new TextEncoder().encode(JSON.stringify(session));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, plain));
  plain.fill(0);
  await withStore('readwrite', (s) => s.put(key, kid));
  sessionStorage.setItem(BLOB, JSON.stringify({ kid, iv: b64(iv), ct: b64(ct) }));
  touchSession();
}

/**
 * The session kept for this tab, or undefined: none, idle longer than `idleMs`, or its key
 * is gone (then the blob is useless and is deleted). Never throws.
 */
export async function loadSession(idleMs: number, now = Date.now()): Promise<StoredSession | undefined> {
  const raw = sessionStorage.getItem(BLOB);
  if (raw === null) return undefined;
  const last = Number(sessionStorage.getItem(LAST_ACTIVE));
  if (!Number.isFinite(last) || now - last > idleMs) {
    await clearSession();
    return undefined;
  }
  try {
    const { kid, iv, ct } = JSON.parse(raw) as { kid: string; iv: string; ct: string };
    const key = await withStore<CryptoKey | undefined>('readonly', (s) => s.get(kid) as IDBRequest<CryptoKey | undefined>);
    if (key === undefined) throw new Error('no session key');
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: unb64(iv) }, key, unb64(ct));
    return JSON.parse(new TextDecoder().decode(plain)) as StoredSession;
  } catch {
    await clearSession();
    return undefined;
  }
}

/** Is there a session to restore in this tab (without opening it)? */
export function hasStoredSession(): boolean {
  return sessionStorage.getItem(BLOB) !== null;
}

/** Record activity, so a reload after the idle period does not restore the session. */
export function touchSession(now = Date.now()): void {
  if (sessionStorage.getItem(BLOB) !== null) sessionStorage.setItem(LAST_ACTIVE, String(now));
}

/** Forget the stored session: the blob and its key. Never throws. */
export async function clearSession(): Promise<void> {
  const raw = sessionStorage.getItem(BLOB);
  sessionStorage.removeItem(BLOB);
  sessionStorage.removeItem(LAST_ACTIVE);
  let kid: unknown;
  try {
    kid = raw === null ? undefined : (JSON.parse(raw) as { kid?: unknown }).kid;
  } catch {
    kid = undefined;
  }
  if (typeof kid === 'string') await withStore('readwrite', (s) => s.delete(kid)).catch(() => undefined);
}

/** Remember the page someone asked for before signing in, to go there afterwards. */
export function rememberReturnTo(path: string): void {
  sessionStorage.setItem(RETURN_TO, path);
}

/** The page asked for before signing in (once), or undefined. */
export function takeReturnTo(): string | undefined {
  const p = sessionStorage.getItem(RETURN_TO);
  sessionStorage.removeItem(RETURN_TO);
  return p?.startsWith('/') && !p.startsWith('//') ? p : undefined;
}
