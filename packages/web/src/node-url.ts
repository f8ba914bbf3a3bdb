// Which node the app talks to (docs/web.md "Using a copy you trust"). Served by a node, the
// app talks to that node only: the node marks the page it serves with
// <meta name="medledger-node">. Opened as a copy the user trusts (a file, or any static
// host), the app has no node of its own: the user types one, and this device remembers it.

const STORAGE_KEY = 'medledger.nodeUrl';

/** Vite's dev server proxies /v1 to a node, so a page it serves counts as served by a node. */
const devServer = (import.meta as { env?: { DEV?: boolean } }).env?.DEV === true;

/** Whether a MedLedger node served this page (else: a copy opened from a file or another host). */
export const servedByNode: boolean =
  devServer || (typeof document !== 'undefined' && document.querySelector('meta[name="medledger-node"]') !== null);

/** The node chosen on this device for a copy of the app, if any. */
export function chosenNodeUrl(): string | undefined {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    return saved === null || saved === '' ? undefined : saved;
  } catch {
    return undefined; // storage switched off: the user is asked each time
  }
}

/**
 * The node this app talks to: the serving node, or the one chosen for this copy; undefined
 * when a copy has no node chosen yet (the app then asks for one before anything else).
 */
export function currentNodeUrl(): string | undefined {
  return servedByNode ? location.origin : chosenNodeUrl();
}

const NOT_AN_ADDRESS = 'That is not a web address. Type it like https://node.example.org or http://127.0.0.1:26650.';

/**
 * A node address as typed, checked and in its one stored form: an http(s) URL without
 * user name, password, query or fragment, and without a trailing slash. Throws Error with a
 * message to show the user.
 */
export function normalizeNodeUrl(raw: string): string {
  const typed = raw.trim();
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(typed) ? typed : `http://${typed}`);
  } catch {
    throw new Error(NOT_AN_ADDRESS);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('The address must start with https:// or http://.');
  // Browsers differ on odd hosts (Chromium keeps spaces, escaped): allow only names and IPs.
  if (!/^[a-z0-9.-]+$|^\[[0-9a-f:.]+\]$/i.test(url.hostname)) throw new Error(NOT_AN_ADDRESS);
  if (url.username !== '' || url.password !== '') throw new Error('The address must not contain a user name or password.');
  if (url.search !== '' || url.hash !== '') throw new Error('The address must not contain ? or #.');
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/** Remember the node for this copy of the app (on this device). */
export function rememberNodeUrl(url: string): void {
  localStorage.setItem(STORAGE_KEY, normalizeNodeUrl(url));
}
