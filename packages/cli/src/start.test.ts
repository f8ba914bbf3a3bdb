// `medledger start`, the main job: four validator processes, stopped cleanly on Ctrl-C
// (SIGINT), continuing the same chain when started again.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { get, TEST_PASSPHRASE, waitFor } from '@medledger/node/testing';
import { runLoad } from './load.js';
import { BIN } from './testing/cli.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-start-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A base port with the next 7 ports free a moment ago. It is picked below Linux's
 * ephemeral range (32768–60999): the other test files running alongside open many
 * outgoing connections, and any of them could take a port in that range between this
 * check and the validators binding it (seen once as a network that never started).
 */
async function freeBase(): Promise<number> {
  for (;;) {
    const base = 20_000 + 2 * Math.floor(Math.random() * 6_000);
    const { createServer } = await import('node:net');
    const ok = await Promise.all(
      Array.from(
        { length: 8 },
        (_, i) =>
          new Promise<boolean>((resolve) => {
            const srv = createServer();
            srv.once('error', () => resolve(false));
            srv.listen(base + i, '127.0.0.1', () => srv.close(() => resolve(true)));
          }),
      ),
    );
    if (ok.every(Boolean)) return base;
  }
}

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
  const base = await freeBase();
  const first = await startNetwork(base);
  assert.match(first.output(), /created a new 4-validator network/);
  assert.equal(first.urls.length, 4);
  const load = await runLoad({ url: first.urls[1] as string, count: 40, concurrency: 4, timeoutMs: 60_000 });
  assert.equal(load.committed, 40);
  const tip = (await get(`${first.urls[0]}/v1/status`)).json.height as number;
  assert.equal(await interrupt(first.child), 0);
  assert.match(first.output(), /stopped/);
  await assert.rejects(fetch(`${first.urls[0]}/v1/status`), 'the nodes are gone');

  const second = await startNetwork(base);
  try {
    assert.match(second.output(), /continuing the network/);
    const statuses = await Promise.all(second.urls.map(async (u) => (await get(`${u}/v1/status`)).json));
    for (const s of statuses) assert.ok(s.height >= tip, 'the chain continues where it stopped');
    const again = await runLoad({ url: second.urls[3] as string, count: 10, concurrency: 2, timeoutMs: 60_000 });
    assert.equal(again.committed, 10);
  } finally {
    assert.equal(await interrupt(second.child), 0);
  }
});
