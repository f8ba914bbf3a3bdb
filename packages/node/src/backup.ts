// Backup and restore of a node home (docs/deploy.md "Backups"): `backupHome` takes a consistent
// online snapshot of the chain database (blocks, state, vault objects, signer state) with the
// home's other files (config, genesis, keystores, TLS files, custody keystores) in one file;
// `restoreHome` writes them back and refuses to do so under a running node.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize, relative, sep } from 'node:path';
import { concatBytes, utf8 } from '@medledger/crypto';
import { canonicalBytes } from '@medledger/ledger';
import {
  type BackupFile,
  databaseInUse,
  type NodeStore,
  openSqliteStore,
  readBackup,
  restoreDatabase,
  writeBackup,
} from '@medledger/storage';
import { HOME_DIR_MODE, HOME_FILES } from './home.js';
import { LOCK_FILE, runningNodeOf } from './home-lock.js';
import { SIGNER_HOLD_KEY, SIGNER_LAST_KEY, signedPositionAfter } from './signer-guard.js';

/** A refusal of backup or restore with a stable code (the CLI maps it to an exit code). */
export class BackupError extends Error {
  constructor(
    readonly code: 'NOT_A_HOME' | 'BACKUP_INVALID' | 'NODE_RUNNING' | 'TARGET_EXISTS',
    message: string,
  ) {
    super(message);
    this.name = 'BackupError';
  }
}

/** Files of a home outside its database, relative paths; the lock and half-written files are not kept. */
function homeFiles(homeDir: string): BackupFile[] {
  const data = join(homeDir, dirname(HOME_FILES.db));
  const out: BackupFile[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      // The database is snapshotted apart; data directories a restore moved aside are old chains, not this home.
      if (path === data || (dir === homeDir && name.startsWith(`${basename(data)}.replaced-`))) continue;
      const st = statSync(path);
      if (st.isDirectory()) walk(path);
      else if (st.isFile() && name !== LOCK_FILE && !name.endsWith('.partial'))
        out.push({ path: relative(homeDir, path).split(sep).join('/'), mode: st.mode & 0o777, data: readFileSync(path) });
    }
  };
  walk(homeDir);
  return out;
}

/** Domain of the operator's signed request that a running node back itself up. */
export const ADMIN_BACKUP_DOMAIN = 'medledger/admin-backup/v1\n';

/** Bytes the node key signs to ask its running node for a backup: the domain, then JCS {chain, node, out, time}. */
export function adminBackupBytes(chain: string, node: string, out: string, time: number): Uint8Array {
  return concatBytes(utf8(ADMIN_BACKUP_DOMAIN), canonicalBytes({ chain, node, out, time }));
}

/** What a backup reports: the chain and height of the snapshot, the home files kept, and the file size. */
export interface BackupResult {
  chainId: string;
  height: number;
  files: number;
  bytes: number;
}

/**
 * Write a backup of the home at `homeDir` whose database is open as `store` (the running
 * node's own store, or a read-only one of a stopped node) to `out`. Throws BackupError
 * NOT_A_HOME, or TARGET_EXISTS when `out` exists (a backup is never overwritten).
 */
export async function snapshotHome(homeDir: string, store: NodeStore, out: string): Promise<BackupResult> {
  if (!existsSync(join(homeDir, HOME_FILES.genesis)))
    throw new BackupError('NOT_A_HOME', `${homeDir} is not a node home (no ${HOME_FILES.genesis})`);
  if (!isAbsolute(out)) throw new BackupError('BACKUP_INVALID', `the backup path must be absolute (got ${out})`);
  if (existsSync(out)) throw new BackupError('TARGET_EXISTS', `${out} exists; choose a new file for the backup`);
  const snapshot = store.snapshotTo?.bind(store);
  if (snapshot === undefined) throw new BackupError('NOT_A_HOME', 'this node keeps its chain in memory: there is nothing to back up');
  const chainId = String((JSON.parse(readFileSync(join(homeDir, HOME_FILES.genesis), 'utf8')) as { chainId?: unknown }).chainId);
  const files = homeFiles(homeDir);
  await writeBackup(snapshot, out, files, { chainId });
  const copy = openSqliteStore(out, { readonly: true });
  let height: number;
  try {
    height = copy.tipHeight();
  } finally {
    copy.close();
  }
  return { chainId, height, files: files.length, bytes: statSync(out).size };
}

/**
 * Back up a stopped node's home (its database opened read-only here). A running node holds its
 * database locked: back it up through its API instead (the CLI does, `medledger backup`).
 * Throws BackupError (NOT_A_HOME, TARGET_EXISTS, NODE_RUNNING).
 */
export async function backupStoppedHome(homeDir: string, out: string): Promise<BackupResult> {
  const dbPath = join(homeDir, HOME_FILES.db);
  if (!existsSync(dbPath))
    throw new BackupError('NOT_A_HOME', `${homeDir} has no chain database (${HOME_FILES.db}); has its node ever run?`);
  if (databaseInUse(dbPath)) throw new BackupError('NODE_RUNNING', `${dbPath} is locked by a running node`);
  const store = openSqliteStore(dbPath, { readonly: true });
  try {
    return await snapshotHome(homeDir, store, out);
  } finally {
    store.close();
  }
}

/** Is something answering on the API address a home's config names? (A node started without a lock.) */
async function apiAnswers(homeDir: string): Promise<string | undefined> {
  try {
    const config = JSON.parse(readFileSync(join(homeDir, HOME_FILES.config), 'utf8')) as {
      api?: { host?: string; port?: number };
      tls?: unknown;
    };
    const port = config.api?.port;
    if (typeof port !== 'number' || port <= 0) return undefined;
    const host = config.api?.host ?? '127.0.0.1';
    const url = `${config.tls === undefined ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${port}/healthz`;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      return res.ok ? url : undefined;
    } catch (err) {
      // A certificate this process does not trust (init's self-signed one) still means a
      // server finished a TLS handshake there: only "nobody there" lets a restore go ahead.
      const code = (err as { cause?: { code?: unknown } }).cause?.code;
      return typeof code === 'string' && !NOBODY_THERE.has(code) ? url : undefined;
    }
  } catch {
    return undefined;
  }
}

/** Connection errors that mean no server listens at an address. */
const NOBODY_THERE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/**
 * The backup's signer state is older than the votes the lost copy may have signed: keep the
 * replaced database's position when it is later. (What the lost copy signed elsewhere is
 * covered by the signing hold, signer-guard.ts.)
 */
function keepLaterSignerState(store: NodeStore, movedAside: string | undefined): void {
  if (movedAside !== undefined) {
    const old = openSqliteStore(join(movedAside, basename(HOME_FILES.db)), { readonly: true });
    try {
      const before = old.getMeta(SIGNER_LAST_KEY);
      const restored = store.getMeta(SIGNER_LAST_KEY);
      if (before !== undefined && (restored === undefined || signedPositionAfter(before, restored))) store.setMeta(SIGNER_LAST_KEY, before);
    } finally {
      old.close();
    }
  }
}

/**
 * Restore backup `backup` into `homeDir`. Refuses (BackupError NODE_RUNNING) while a node runs
 * on that home: its lock names a live process, or its configured API answers. Refuses
 * TARGET_EXISTS when the home already has a database, unless `overwrite`, which moves the old
 * data directory aside (`data.replaced-<ms>`) instead of deleting it. BACKUP_INVALID for a file
 * that is not a backup or names a path outside the home.
 */
export async function restoreHome(
  backup: string,
  homeDir: string,
  opts: { overwrite?: boolean; now?: () => number; signingHold?: boolean } = {},
): Promise<{ chainId: string; height: number; files: number; movedAside?: string; signingHeld: boolean }> {
  const running = runningNodeOf(homeDir);
  if (running !== undefined)
    throw new BackupError(
      'NODE_RUNNING',
      `a node is running on ${homeDir} (process ${running.pid}, API ${running.api}); stop it before restoring`,
    );
  if (databaseInUse(join(homeDir, HOME_FILES.db)))
    throw new BackupError('NODE_RUNNING', `${join(homeDir, HOME_FILES.db)} is locked by a running node; stop it before restoring`);
  const answering = await apiAnswers(homeDir);
  if (answering !== undefined)
    throw new BackupError('NODE_RUNNING', `a node answers at ${answering}, the API address of ${homeDir}; stop it before restoring`);
  let contents: ReturnType<typeof readBackup>;
  try {
    contents = readBackup(backup);
  } catch (err) {
    throw new BackupError('BACKUP_INVALID', (err as Error).message);
  }
  for (const f of contents.files) {
    const n = normalize(f.path);
    if (f.path.startsWith('/') || n.startsWith('..') || n.split(sep).includes('..') || n === '.')
      throw new BackupError('BACKUP_INVALID', `the backup names a file outside the home (${f.path}); nothing was restored`);
  }
  const dataDir = join(homeDir, dirname(HOME_FILES.db));
  let movedAside: string | undefined;
  if (existsSync(join(homeDir, HOME_FILES.db))) {
    if (opts.overwrite !== true)
      throw new BackupError('TARGET_EXISTS', `${homeDir} already has a chain database; pass --overwrite to move it aside and restore`);
    movedAside = `${dataDir}.replaced-${(opts.now ?? Date.now)()}`;
    renameSync(dataDir, movedAside);
  }
  mkdirSync(dataDir, { recursive: true, mode: HOME_DIR_MODE });
  for (const f of contents.files) {
    const path = join(homeDir, f.path);
    mkdirSync(dirname(path), { recursive: true, mode: HOME_DIR_MODE });
    // Never more open than the home allows: no group write, nothing for others.
    writeFileSync(path, f.data, { mode: f.mode & 0o750 });
  }
  await restoreDatabase(backup, join(homeDir, HOME_FILES.db));
  const store = openSqliteStore(join(homeDir, HOME_FILES.db));
  let height: number;
  try {
    height = store.tipHeight();
    keepLaterSignerState(store, movedAside);
    if (opts.signingHold !== false) store.setMeta(SIGNER_HOLD_KEY, String((opts.now ?? Date.now)()));
  } finally {
    store.close();
  }
  return {
    chainId: contents.meta.chainId ?? '',
    height,
    files: contents.files.length,
    ...(movedAside === undefined ? {} : { movedAside }),
    signingHeld: opts.signingHold !== false,
  };
}
