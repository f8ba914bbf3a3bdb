// Online backups of a node's SQLite database (docs/deploy.md "Backups"). A running node holds
// its database under an exclusive lock, so the snapshot is taken by the connection that holds
// it, with SQLite's online backup API (better-sqlite3 `backup`): a consistent copy while the
// node keeps committing blocks. The home's other files are then stored in two extra tables of
// the copy, so one file holds everything a restore needs.
import { chmodSync, existsSync, renameSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';

/** The backup format, so a restore refuses files it does not understand. */
export const BACKUP_FORMAT = 'medledger-backup/v1';

/** A file of the node home kept in a backup: its path relative to the home, mode and bytes. */
export interface BackupFile {
  path: string;
  mode: number;
  data: Uint8Array;
}

const FILES_TABLE = 'medledger_backup_files';
const META_TABLE = 'medledger_backup_meta';

/**
 * Write a consistent snapshot (made by `snapshot`, e.g. SqliteStore.snapshotTo) plus `files`
 * and `meta` to `out` (mode 0600), through `out.partial` and a rename, so a half-written backup
 * never has the final name. Throws on I/O errors.
 */
export async function writeBackup(
  snapshot: (dest: string) => Promise<void>,
  out: string,
  files: readonly BackupFile[],
  meta: Record<string, string>,
): Promise<void> {
  const partial = `${out}.partial`;
  rmSync(partial, { force: true });
  await snapshot(partial);
  // Keys and records' ciphertexts: the backup is as private as the home.
  chmodSync(partial, 0o600);
  const copy = new Database(partial);
  try {
    // The copy is one self-contained file: no WAL beside it.
    copy.pragma('journal_mode = DELETE');
    copy.exec(`CREATE TABLE ${FILES_TABLE} (path TEXT PRIMARY KEY, mode INTEGER NOT NULL, data BLOB NOT NULL) WITHOUT ROWID;
      CREATE TABLE ${META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`);
    const putFile = copy.prepare(`INSERT INTO ${FILES_TABLE} (path, mode, data) VALUES (?, ?, ?)`);
    const putMeta = copy.prepare(`INSERT INTO ${META_TABLE} (key, value) VALUES (?, ?)`);
    copy.transaction(() => {
      for (const f of files) putFile.run(f.path, f.mode, Buffer.from(f.data));
      for (const [k, v] of Object.entries({ ...meta, format: BACKUP_FORMAT })) putMeta.run(k, v);
    })();
  } finally {
    copy.close();
  }
  renameSync(partial, out);
}

/** True when another connection holds `dbPath` locked: a node is running on it. */
export function databaseInUse(dbPath: string): boolean {
  if (!existsSync(dbPath)) return false;
  let db: Database.Database | undefined;
  try {
    db = new Database(dbPath, { readonly: true, fileMustExist: true, timeout: 0 });
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return false;
  } catch (err) {
    const code = (err as { code?: string }).code;
    return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
  } finally {
    db?.close();
  }
}

/** The files and meta of a backup. Throws an Error when `path` is not a MedLedger backup. */
export function readBackup(path: string): { meta: Record<string, string>; files: BackupFile[] } {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new Error(`${path} cannot be opened as a backup: ${(err as Error).message}`);
  }
  try {
    let metaRows: Array<{ key: string; value: string }>;
    try {
      metaRows = db.prepare(`SELECT key, value FROM ${META_TABLE}`).all() as typeof metaRows;
    } catch {
      throw new Error(`${path} is not a MedLedger backup`);
    }
    const meta = Object.fromEntries(metaRows.map((r) => [r.key, r.value]));
    if (meta.format !== BACKUP_FORMAT) throw new Error(`${path} is a backup of format '${meta.format}', not ${BACKUP_FORMAT}`);
    const files = (
      db.prepare(`SELECT path, mode, data FROM ${FILES_TABLE} ORDER BY path`).all() as Array<{ path: string; mode: number; data: Buffer }>
    ).map((r) => ({ path: r.path, mode: r.mode, data: new Uint8Array(r.data) }));
    return { meta, files };
  } finally {
    db.close();
  }
}

/**
 * Restore the database of backup `path` to `dbPath` (which must not exist): copied through the
 * backup API, the backup's own tables dropped and the file vacuumed (secure_delete: nothing of
 * them stays), then renamed into place. Throws on I/O errors.
 */
export async function restoreDatabase(path: string, dbPath: string): Promise<void> {
  if (existsSync(dbPath)) throw new Error(`${dbPath} exists; move it aside first`);
  const partial = `${dbPath}.partial`;
  rmSync(partial, { force: true });
  const source = new Database(path, { readonly: true, fileMustExist: true });
  try {
    await source.backup(partial);
  } finally {
    source.close();
  }
  chmodSync(partial, 0o600);
  const db = new Database(partial);
  try {
    db.exec(`DROP TABLE ${FILES_TABLE}; DROP TABLE ${META_TABLE};`);
    db.exec('VACUUM');
  } finally {
    db.close();
  }
  renameSync(partial, dbPath);
}
