// Run the real `medledger` binary as a child process, as an operator would.
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/medledger.js', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `medledger ...args` to completion. */
export function runCli(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number; input?: string } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    // Verified heights go to a file of this test process, not the user's ~/.medledger.
    const env = { MEDLEDGER_HEIGHTS: join(tmpdir(), `medledger-test-heights-${process.pid}.json`), ...process.env, ...opts.env };
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += String(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += String(c);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`medledger ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 120_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}
