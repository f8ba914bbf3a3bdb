// Test helpers: a throwaway node home on loopback with free ports, and signed-tx builders.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '@medledger/crypto';
import { type SignedTx, signTx } from '@medledger/ledger';
import { initNetwork, loadHome } from '../home.js';
import { MedLedgerNode } from '../node.js';

/**
 * The passphrase test node homes are encrypted with. Tests that init homes or start node
 * processes set `process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE` (child processes inherit it).
 */
export const TEST_PASSPHRASE = 'medledger test passphrase';

export interface TestNode {
  node: MedLedgerNode;
  url: string;
  dir: string;
  /** Stop the node, keeping its files (for restart tests). */
  stop(): Promise<void>;
  /** Start a fresh node process-equivalent on the same home. */
  restart(): Promise<TestNode>;
  /** Stop and delete everything. */
  cleanup(): Promise<void>;
}

async function startFrom(
  dir: string,
  home: string,
  blockIntervalMs: number,
  mempool?: { maxTxs: number; maxBytes: number },
): Promise<TestNode> {
  const loaded = loadHome(home, TEST_PASSPHRASE);
  loaded.config.api.port = 0;
  loaded.config.p2p.port = 0;
  loaded.config.consensus.blockIntervalMs = blockIntervalMs;
  if (mempool !== undefined) loaded.config.mempool = mempool;
  const node = new MedLedgerNode(loaded, { logger: () => {} });
  const url = await node.start();
  let stopped = false;
  const stop = async () => {
    if (!stopped) {
      stopped = true;
      await node.stop();
    }
  };
  return {
    node,
    url,
    dir,
    stop,
    restart: async () => {
      await stop();
      return startFrom(dir, home, blockIntervalMs, mempool);
    },
    cleanup: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Start a single-validator node in a fresh temp home, API on a free loopback port. */
export async function startSoloNode(
  opts: { blockIntervalMs?: number; mempool?: { maxTxs: number; maxBytes: number } } = {},
): Promise<TestNode> {
  const dir = mkdtempSync(join(tmpdir(), 'medledger-test-'));
  const { homes } = initNetwork({ validators: 1, out: dir, chainId: 'test-chain', passphrase: TEST_PASSPHRASE });
  return startFrom(dir, homes[0] as string, opts.blockIntervalMs ?? 20, opts.mempool);
}

/** A fresh signer with helpers to sign its next transactions. */
export function newSigner(chainId = 'test-chain') {
  const signing = generateSigningKeyPair();
  const encryption = generateEncryptionKeyPair();
  return {
    signing,
    encryption,
    sign(kind: string, body: Record<string, unknown>, nonce: number, chain = chainId): SignedTx {
      return signTx({ v: 1, chain, kind, signer: signing.publicKey, nonce, body }, signing.privateKey);
    },
    register(nonce = 0): SignedTx {
      return this.sign('identity.register', { role: 'patient', encryptionKey: encryption.publicKey }, nonce);
    },
  };
}

/** POST JSON (or a raw string body) and return status plus parsed JSON. */
// biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the API answered
export async function post(url: string, body: unknown, raw = false): Promise<{ status: number; json: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: raw ? (body as string) : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the API answered
export async function get(url: string): Promise<{ status: number; json: any }> {
  const res = await fetch(url);
  return { status: res.status, json: await res.json() };
}

/** Poll `check` until it returns a value other than undefined, or fail after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const handedOut = new Set<number>();

/**
 * A TCP port that was free a moment ago on 127.0.0.1, chosen at random from 20000–31999.
 * That range lies below Linux's ephemeral range (32768–60999), so the outgoing connections
 * of tests running in parallel cannot take the port between this check and the node's
 * listen, which is what happened with port 0 (an ephemeral port) on a busy CI machine.
 */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free port found in 20000-31999 after 200 tries');
}

/** Free API and p2p ports for `n` nodes. */
export async function freePorts(n: number): Promise<Array<{ api: number; p2p: number }>> {
  const out: Array<{ api: number; p2p: number }> = [];
  for (let i = 0; i < n; i++) out.push({ api: await freePort(), p2p: await freePort() });
  return out;
}
