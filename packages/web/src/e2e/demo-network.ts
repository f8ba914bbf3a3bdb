// The `npm start` demo for browser tests: the real `medledger start` seeds its network into
// `dir`, and the test reads the sign-in sheet (`demo/demo.json`) it writes.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePortRange, waitFor } from '@medledger/node/testing';
import { REPO } from './browser.js';

export const BIN = join(REPO, 'packages', 'cli', 'bin', 'medledger.js');

/** The fields of the demo's sign-in sheet the browser tests read. */
export interface DemoSheet {
  passphrase: string;
  url: string;
  users: Array<{ name: string; role: string; id: string; keyFile: string }>;
  medicines: {
    /** Main Street Pharmacy's organization id. */
    pharmacy: string;
    scan: string;
    prescription: { id: string; patient: string };
    products: Array<{ gtin: string; rxnorm: string; name: string; lot: string; expiry: string }>;
  };
}

export interface RunningDemo {
  sheet: DemoSheet;
  /** The environment `medledger start` ran with (no MEDLEDGER_PASSPHRASE: demo keystores use the sheet's). */
  env: NodeJS.ProcessEnv;
  /** A sign-in sheet user's keystore file, by the start of their name. */
  keyOf(name: string): string;
  /** Ctrl-C the demo; resolves with its exit code. */
  stop(): Promise<number | null>;
}

function interrupt(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });
}

/** Start `medledger start` in `dir` on free ports and wait until the demo is seeded. */
export async function startDemo(dir: string): Promise<RunningDemo> {
  const env = { ...process.env };
  delete env.MEDLEDGER_PASSPHRASE;
  const child = spawn(process.execPath, [BIN, 'start', '--data', dir, '--base-port', String(await freePortRange(8))], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += String(c);
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += String(c);
  });
  try {
    await waitFor(() => (out.includes('press Ctrl-C') ? true : undefined), 'the demo to be seeded', 480_000);
  } catch (err) {
    await interrupt(child);
    throw new Error(`${(err as Error).message}; output:\n${out.slice(-3_000)}`);
  }
  const sheet = JSON.parse(readFileSync(join(dir, 'demo', 'demo.json'), 'utf8')) as DemoSheet;
  return {
    sheet,
    env,
    keyOf(name) {
      const user = sheet.users.find((u) => u.name.startsWith(name));
      assert.ok(user, `${name} is on the demo sign-in sheet`);
      return user.keyFile;
    },
    stop: () => interrupt(child),
  };
}
