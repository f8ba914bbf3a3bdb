// The crash tests' child process: a script run under tsx that SIGKILLs itself partway
// through a commit, after printing one line (what it committed before) to stdout.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Run `script` with `args` until it kills itself; asserts it did, mid-commit, and returns its one line of output. */
export function runUntilKilled(script: string, args: readonly string[]): string {
  const child = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(child.signal, 'SIGKILL', `the child was killed mid-commit (status ${child.status}, stderr ${child.stderr})`);
  const lines = child.stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'the commit never returned');
  return lines[0] as string;
}
