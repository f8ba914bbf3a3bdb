// Run a shell flow of README.md exactly as written, against a demo network started with
// `medledger start --data <dir>/.medledger`: the README's own text is read, so a README that
// drifts from the commands fails the test. Only the node URL is replaced (the test's demo
// runs on a free port), and `npx medledger` runs this checkout's binary.
import { spawn } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, type CliRun } from './cli.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** The first line of README.md starting with `lead` (the quick start's `export` line). Throws if there is none. */
export function readmeLine(lead: string): string {
  const line = readFileSync(join(ROOT, 'README.md'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith(lead));
  if (line === undefined) throw new Error(`README.md has no line starting with ${JSON.stringify(lead)}`);
  return line;
}

/** The ```sh block of README.md that follows the first line starting with `lead`. Throws if there is none. */
export function readmeShellBlock(lead: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = readme.split('\n').findIndex((line) => line.startsWith(lead));
  if (at < 0) throw new Error(`README.md has no line starting with ${JSON.stringify(lead)}`);
  const rest = readme.split('\n').slice(at).join('\n');
  const block = /```sh\n([\s\S]*?)```/.exec(rest);
  if (block === null) throw new Error(`README.md has no sh block after ${JSON.stringify(lead)}`);
  return block[1] as string;
}

/**
 * Run `script` with bash (`set -euo pipefail`: any failing command fails the run) in `cwd`,
 * where `.medledger` is the demo's data directory, with the README's default URL replaced by
 * `url`. The files the README names under docs/ are copied in beside it.
 */
export function runReadmeFlow(opts: { cwd: string; url: string; script: string; timeoutMs?: number }): Promise<CliRun> {
  cpSync(join(ROOT, 'docs', 'examples'), join(opts.cwd, 'docs', 'examples'), { recursive: true });
  const shim = `npx() { if [ "$1" = medledger ]; then shift; node ${JSON.stringify(BIN)} "$@"; else command npx "$@"; fi; }`;
  const script = ['set -euo pipefail', shim, 'set -x', opts.script.replaceAll('http://127.0.0.1:26650', opts.url)].join('\n');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MEDLEDGER_') && v !== undefined) env[k] = v;
  // Verified heights go beside the flow, not to the user's ~/.medledger.
  env.MEDLEDGER_HEIGHTS = join(opts.cwd, 'heights.json');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
      reject(new Error(`the README flow timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 300_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
