// What every participant command shares: keystore files, the client, output as text or
// --json, and turning SDK errors into the documented exit codes.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ClientError, httpProofSource, MedLedgerClient, TrustedGenesis } from '@medledger/client';
import { decryptKeystore, encryptKeystore, type KeyBundle, type KeystoreFile, validateKeystore } from '@medledger/crypto';
import { CliError, EXIT } from './exit-codes.js';
import { getPassphrase } from './passphrase.js';

/** Read a JSON file given on the command line. Throws CliError(EXIT.usage) naming the file. */
export function readJsonArg(path: string, what: string): unknown {
  if (!existsSync(path)) throw new CliError(`${what} ${path} does not exist`, EXIT.usage, 'FILE_NOT_FOUND');
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new CliError(`${what} ${path} is not valid JSON`, EXIT.usage, 'INVALID_FILE');
  }
}

/** The public part of a keystore file (no passphrase needed). Throws CliError(EXIT.usage). */
export function readKeystorePublic(path: string): KeystoreFile {
  try {
    return validateKeystore(readJsonArg(path, 'keystore'));
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`${path} is not a keystore file: ${(err as Error).message}`, EXIT.usage, 'INVALID_FILE');
  }
}

/** Open a keystore file with the passphrase (MEDLEDGER_PASSPHRASE or prompt). Throws CliError. */
export async function loadKeys(path: string): Promise<KeyBundle> {
  const file = readKeystorePublic(path);
  const passphrase = await getPassphrase(`passphrase for ${path}: `);
  try {
    return decryptKeystore(file, passphrase);
  } catch {
    throw new CliError(`the passphrase does not open ${path} (or the file was altered)`, EXIT.passphrase, 'BAD_PASSPHRASE');
  }
}

/** Encrypt `keys` into a new keystore file (mode 0600); refuses to overwrite. Throws CliError. */
export async function writeKeys(path: string, keys: KeyBundle, label?: string): Promise<KeystoreFile> {
  if (existsSync(path)) throw new CliError(`${path} already exists; choose another file`, EXIT.usage, 'FILE_EXISTS');
  const file = encryptKeystore(
    keys,
    await getPassphrase(`passphrase for the new keystore ${path}: `, { confirm: true }),
    label === undefined ? {} : { label },
  );
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return file;
}

/** Help text of the `--genesis` option every command that reads or writes takes. */
export const GENESIS_HELP =
  'the genesis you trust: its file, or its SHA-256 hash (fetched from the node and checked) (default: $MEDLEDGER_GENESIS)';

/** `--genesis`'s default: MEDLEDGER_GENESIS when set and not empty. */
export const genesisDefault = (): string | undefined =>
  (process.env.MEDLEDGER_GENESIS ?? '') === '' ? undefined : process.env.MEDLEDGER_GENESIS;

/**
 * The trusted genesis from `--genesis` (or MEDLEDGER_GENESIS): a 64-hex hash is pinned and the
 * document fetched from `url` and checked; anything else is a genesis file. Undefined when
 * neither is given (commands that encrypt or show facts then refuse with NO_TRUSTED_GENESIS).
 * Throws CliError(EXIT.usage) for a missing or malformed file, ClientError GENESIS_MISMATCH
 * when the node's genesis is not the pinned hash.
 */
export async function genesisArg(opts: { genesis?: string; url: string }): Promise<TrustedGenesis | undefined> {
  const raw = opts.genesis ?? genesisDefault();
  if (raw === undefined || raw === '') return undefined;
  if (/^[0-9a-fA-F]{64}$/.test(raw)) return TrustedGenesis.fromHash(raw, httpProofSource(opts.url));
  const document = readJsonArg(raw, 'genesis file');
  try {
    return TrustedGenesis.fromDocument(document);
  } catch (err) {
    throw new CliError(`${raw}: ${(err as Error).message}`, EXIT.usage, 'INVALID_FILE');
  }
}

/**
 * Where the CLI keeps the highest height it verified per chain (genesis hash → height), so a
 * node that answers a later command from an older height is refused (STALE_HEIGHT) even
 * across runs: MEDLEDGER_HEIGHTS, else ~/.medledger/verified-heights.json.
 */
export function heightsFile(): string {
  const fromEnv = process.env.MEDLEDGER_HEIGHTS ?? '';
  return fromEnv !== '' ? fromEnv : join(homedir(), '.medledger', 'verified-heights.json');
}

function readHeights(): Record<string, number> {
  try {
    const parsed = JSON.parse(readFileSync(heightsFile(), 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, number>) : {};
  } catch {
    return {};
  }
}

function saveHeight(genesisHash: string, height: number): void {
  const heights = readHeights();
  if ((heights[genesisHash] ?? 0) >= height) return;
  heights[genesisHash] = height;
  try {
    mkdirSync(dirname(heightsFile()), { recursive: true });
    writeFileSync(heightsFile(), `${JSON.stringify(heights, null, 2)}\n`);
  } catch {
    // Not being able to remember a height only weakens the next run's check; this run verified.
  }
}

/**
 * A client of the node at `url` acting with `keys`, pinned to `genesis` when given; it starts
 * from the highest height verified on this machine for that chain and remembers new ones.
 */
export function clientFor(url: string, keys: KeyBundle, genesis?: TrustedGenesis): MedLedgerClient {
  if (genesis === undefined) return new MedLedgerClient({ url, keys });
  const minHeight = readHeights()[genesis.hash];
  return new MedLedgerClient({
    url,
    keys,
    genesis,
    minHeight: typeof minHeight === 'number' && Number.isSafeInteger(minHeight) ? minHeight : 0,
    onHeight: (h) => saveHeight(genesis.hash, h),
  });
}

/** Print a command's result: one JSON document with --json, else the human lines. */
export function output(opts: { json?: boolean }, data: unknown, human: () => string | string[]): void {
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(data)}\n`);
    return;
  }
  const text = human();
  process.stdout.write(`${Array.isArray(text) ? text.join('\n') : text}\n`);
}

const DENIED = new Set(['ACCESS_DENIED', 'UNAUTHORIZED', 'UNAUTHENTICATED', 'SESSION_EXPIRED', 'NO_ENVELOPE', 'ORGANIZATION_KEY']);
const NOT_FOUND = new Set(['RECORD_ERASED', 'IDENTITY_NOT_FOUND', 'TX_NOT_FOUND', 'BLOCK_NOT_FOUND', 'NOT_FOUND', 'RECORD_NOT_FOUND']);

/** The exit code for an error (docs/cli.md "Exit codes"). */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  if (typeof (err as { exitCode?: unknown }).exitCode === 'number') return (err as { exitCode: number }).exitCode;
  if (err instanceof ClientError) {
    if (err.code === 'NETWORK') return EXIT.network;
    if (DENIED.has(err.code) || err.status === 401 || err.status === 403) return EXIT.denied;
    if (NOT_FOUND.has(err.code) || err.status === 404 || err.status === 410) return EXIT.notFound;
    if (err.code === 'INVALID_ARGUMENT' || err.code === 'NO_TRUSTED_GENESIS') return EXIT.usage;
  }
  return EXIT.failed;
}

/** The stable code of an error for --json output. */
export function errorCodeOf(err: unknown): string {
  if (err instanceof CliError || err instanceof ClientError) return err.code;
  return 'FAILED';
}

/** Parse a duration such as `90s`, `15m`, `12h`, `30d`, `2w` into ms. Throws CliError(EXIT.usage). */
export function parseDuration(raw: string): number {
  const m = /^([1-9][0-9]{0,6})(s|m|h|d|w)$/.exec(raw);
  if (m === null) throw new CliError(`--expires must look like 90s, 15m, 12h, 30d or 2w (got '${raw}')`, EXIT.usage, 'INVALID_ARGUMENT');
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit;
}

/** Check an id argument is lowercase hex of `bytes` bytes. Throws CliError(EXIT.usage). */
export function hexArg(raw: string, what: string, bytes: number): string {
  if (!new RegExp(`^[0-9a-f]{${bytes * 2}}$`).test(raw))
    throw new CliError(`${what} must be ${bytes * 2} lowercase hex characters`, EXIT.usage, 'INVALID_ARGUMENT');
  return raw;
}

/** Collect a repeatable option's values. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const SDK_USAGE_CODES = new Set(['INVALID_BODY', 'INVALID_ARGUMENT', 'INVALID_PARAM']);

/**
 * Run an SDK call for a command: its refusals keep the chain's stable code in the message
 * and map to exit codes (a malformed request is usage, exit 2). Throws CliError.
 */
export async function runSdk<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (err) {
    if (err instanceof ClientError)
      throw new CliError(`${err.code}: ${err.message}`, SDK_USAGE_CODES.has(err.code) ? EXIT.usage : exitCodeFor(err), err.code);
    throw err;
  }
}
