// `medledger start`, the main job: four validator processes, stopped cleanly on Ctrl-C
// (SIGINT), continuing the same chain when started again.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TrustedGenesis } from '@medledger/client';
import { freePortRange, get, TEST_PASSPHRASE, waitFor } from '@medledger/node/testing';
import { runLoad } from './load.js';
import { BIN } from './testing/cli.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-start-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function startNetwork(base: number): Promise<{ child: ChildProcess; urls: string[]; output: () => string }> {
  const child = spawn(process.execPath, [BIN, 'start', '--data', dir, '--base-port', String(base), '--no-demo'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += String(c);
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += String(c);
  });
  const started = waitFor(() => (out.includes('press Ctrl-C') ? true : undefined), 'the network to start', 60_000).catch((err: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${err.message}; its output:\n${out.slice(-2_000)}`);
  });
  return started.then(() => ({
    child,
    urls: [...out.matchAll(/validator-\d: (http:\/\/\S+)/g)].map((m) => m[1] as string),
    output: () => out,
  }));
}

function interrupt(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });
}

test('start runs four validators, stops them on Ctrl-C, and continues the chain when started again', async () => {
  const base = await freePortRange(8);
  const first = await startNetwork(base);
  assert.match(first.output(), /created a new 4-validator network/);
  assert.equal(first.urls.length, 4);
  // Where the genesis is, and its hash, for clients to trust (docs/cli.md "Trusted genesis").
  const genesisFile = join(dir, 'genesis.json');
  const hash = TrustedGenesis.fromDocument(JSON.parse(readFileSync(genesisFile, 'utf8'))).hash;
  assert.ok(first.output().includes(`genesis: ${genesisFile}  (SHA-256 ${hash})`), first.output());
  assert.ok(first.output().includes(`MEDLEDGER_GENESIS=${genesisFile}`));
  const load = await runLoad({ url: first.urls[1] as string, count: 40, concurrency: 4, timeoutMs: 60_000 });
  assert.equal(load.committed, 40);
  const tip = (await get(`${first.urls[0]}/v1/status`)).json.height as number;
  assert.equal(await interrupt(first.child), 0);
  assert.match(first.output(), /stopped/);
  await assert.rejects(fetch(`${first.urls[0]}/v1/status`), 'the nodes are gone');

  const second = await startNetwork(base);
  try {
    assert.match(second.output(), /continuing the network/);
    assert.ok(second.output().includes(`genesis: ${genesisFile}`), 'a restart says where the genesis is too');
    const statuses = await Promise.all(second.urls.map(async (u) => (await get(`${u}/v1/status`)).json));
    for (const s of statuses) assert.ok(s.height >= tip, 'the chain continues where it stopped');
    const again = await runLoad({ url: second.urls[3] as string, count: 10, concurrency: 2, timeoutMs: 60_000 });
    assert.equal(again.committed, 10);
  } finally {
    assert.equal(await interrupt(second.child), 0);
  }
});
