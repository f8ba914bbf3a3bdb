// The running-node marker of a home (docs/deploy.md "Backups"): a node writes `node.lock` with its
// process id and API address when it starts and removes it when it stops, so `medledger restore`
// can refuse to write under a running node. A lock whose process is gone (a crash) is stale.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'node.lock';

export interface NodeLock {
  pid: number;
  api: string;
  startedAt: number;
}

/** Mark `homeDir` as served by this process. */
export function writeNodeLock(homeDir: string, lock: NodeLock): void {
  writeFileSync(join(homeDir, LOCK_FILE), `${JSON.stringify(lock)}\n`, { mode: 0o600 });
}

/** Remove this process's mark (another process's lock is left alone). */
export function removeNodeLock(homeDir: string): void {
  const lock = readLock(homeDir);
  if (lock !== undefined && lock.pid === process.pid) rmSync(join(homeDir, LOCK_FILE), { force: true });
}

function readLock(homeDir: string): NodeLock | undefined {
  const path = join(homeDir, LOCK_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const lock = JSON.parse(readFileSync(path, 'utf8')) as NodeLock;
    return Number.isSafeInteger(lock.pid) && lock.pid > 0 ? lock : undefined;
  } catch {
    return undefined;
  }
}

/** True while process `pid` exists (signal 0 checks without signalling; EPERM means it exists under another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock of a node running on `homeDir` now, or undefined (no lock, or a stale one left by a crash). */
export function runningNodeOf(homeDir: string): NodeLock | undefined {
  const lock = readLock(homeDir);
  return lock !== undefined && alive(lock.pid) ? lock : undefined;
}
