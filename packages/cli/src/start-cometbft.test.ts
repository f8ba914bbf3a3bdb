// `medledger start --engine cometbft` (what `npm start -- --engine cometbft` runs): four
// `node --engine cometbft` processes, each the MedLedger API over the application plus its own
// CometBFT process, serving transactions; Ctrl-C stops every node and every CometBFT.
// Needs scripts/install-cometbft.sh; without the binary this fails naming it (never skipped).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cometBftBinary } from '@medledger/node';
import { freePortRange, get, TEST_PASSPHRASE, waitFor } from '@medledger/node/testing';
import { runLoad } from './load.js';
import { BIN } from './testing/cli.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-start-comet-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Processes whose command line names this test's data directory (the nodes and their CometBFTs). */
function processesOf(data: string): string[] {
  return readdirSync('/proc').flatMap((pid) => {
    if (!/^\d+$/.test(pid)) return [];
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      return cmd.includes(data) && !cmd.includes(' start --engine') ? [cmd] : [];
    } catch {
      return [];
    }
  });
}

test('start --engine cometbft runs four API nodes on CometBFT, takes transactions, and stops every process on Ctrl-C', async () => {
  cometBftBinary(); // fails naming scripts/install-cometbft.sh when missing
  const base = await freePortRange(20);
  const data = join(dir, 'net');
  const child: ChildProcess = spawn(
    process.execPath,
    [BIN, 'start', '--data', data, '--base-port', String(base), '--no-demo', '--engine', 'cometbft'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += String(c);
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += String(c);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitFor(() => (out.includes('press Ctrl-C') ? true : undefined), 'the network to start', 120_000).catch((err: Error) => {
      throw new Error(`${err.message}; its output:\n${out.slice(-2_000)}`);
    });
    assert.match(out, /created a new 4-validator network on CometBFT/);
    const urls = [...out.matchAll(/validator-\d: (http:\/\/\S+)/g)].map((m) => m[1] as string);
    assert.equal(urls.length, 4);
    for (const url of urls) assert.equal((await get(`${url}/v1/status`)).json.engine, 'cometbft');
    assert.equal(processesOf(data).filter((c) => c.includes('cometbft start')).length, 4, 'one CometBFT per node');
    const load = await runLoad({ url: urls[2] as string, count: 20, concurrency: 4, timeoutMs: 90_000 });
    assert.equal(load.committed, 20);
  } finally {
    child.kill('SIGINT');
  }
  assert.equal(await exited, 0);
  assert.match(out, /stopped/);
  await waitFor(() => (processesOf(data).length === 0 ? true : undefined), 'every node and CometBFT process to exit', 30_000);
});
