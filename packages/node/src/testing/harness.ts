// Test helpers: a throwaway node home on loopback with free ports, and signed-tx builders.
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, utimesSync } from 'node:fs';
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
  config?: Record<string, unknown>,
): Promise<TestNode> {
  const loaded = loadHome(home, TEST_PASSPHRASE);
  if (config !== undefined) Object.assign(loaded.config, config);
  loaded.config.api.port = 0;
  loaded.config.p2p.port = 0;
  loaded.config.consensus.blockIntervalMs = blockIntervalMs;
  // No empty blocks, so tests that count heights see only the blocks they caused.
  loaded.config.consensus.heartbeatMs = 0;
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
      return startFrom(dir, home, blockIntervalMs, mempool, config);
    },
    cleanup: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Start a single-validator node in a fresh temp home, API on a free loopback port. */
export async function startSoloNode(
  opts: {
    blockIntervalMs?: number;
    mempool?: { maxTxs: number; maxBytes: number };
    /** Extra config.json entries (e.g. `fhir`), merged over the defaults. */
    config?: Record<string, unknown>;
    /** Founding organizations (default: one hospital); the first one's key is the home's `org.key`. */
    organizations?: Array<{ name: string; kind: string }>;
  } = {},
): Promise<TestNode> {
  const dir = mkdtempSync(join(tmpdir(), 'medledger-test-'));
  const { homes } = initNetwork({
    validators: 1,
    out: dir,
    chainId: 'test-chain',
    passphrase: TEST_PASSPHRASE,
    ...(opts.organizations === undefined ? {} : { organizations: opts.organizations }),
  });
  return startFrom(dir, homes[0] as string, opts.blockIntervalMs ?? 20, opts.mempool, opts.config);
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
const PORT_CLAIMS = join(tmpdir(), 'medledger-test-ports');
const CLAIM_TTL_MS = 15 * 60_000;

/**
 * Claim `port` for this process across every test process on the machine (parallel test
 * files, other checkouts): an exclusive file per port, taken over only once it is stale.
 * A node that is stopped and restarted keeps its port claimed, so no other test takes it
 * in between.
 */
function claimPort(port: number): boolean {
  mkdirSync(PORT_CLAIMS, { recursive: true });
  const file = join(PORT_CLAIMS, String(port));
  try {
    closeSync(openSync(file, 'wx'));
    return true;
  } catch {
    try {
      if (Date.now() - statSync(file).mtimeMs < CLAIM_TTL_MS) return false;
      utimesSync(file, new Date(), new Date());
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * The range test ports are drawn from: 20000–31999, or `MEDLEDGER_TEST_PORTS=FROM-TO` (e.g.
 * `32000-32099`) to keep a run inside a range of its own on a shared machine.
 */
function testPortRange(): { from: number; size: number } {
  const spec = process.env.MEDLEDGER_TEST_PORTS;
  if (spec === undefined || spec === '') return { from: 20_000, size: 12_000 };
  const m = /^(\d{4,5})-(\d{4,5})$/.exec(spec);
  const from = Number(m?.[1]);
  const to = Number(m?.[2]);
  if (m === null || from < 1024 || to > 65_535 || to < from)
    throw new Error(`MEDLEDGER_TEST_PORTS must be FROM-TO (e.g. 32000-32099), not ${JSON.stringify(spec)}`);
  return { from, size: to - from + 1 };
}

/**
 * A TCP port that was free a moment ago on 127.0.0.1, chosen at random from 20000–31999 (or
 * MEDLEDGER_TEST_PORTS, see testPortRange) and
 * claimed for this process (see claimPort). That range lies below Linux's ephemeral range
 * (32768–60999), so outgoing connections cannot take the port between this check and the
 * node's listen, which is what happened with port 0 (an ephemeral port) on a busy machine.
 */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const range = testPortRange();
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = range.from + Math.floor(Math.random() * range.size);
    if (handedOut.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free && claimPort(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port found in ${range.from}-${range.from + range.size - 1} after 500 tries`);
}

/** A base port with the next `n - 1` ports free and claimed, as freePort does for one. */
export async function freePortRange(n: number): Promise<number> {
  const { createServer } = await import('node:net');
  const isFree = (port: number) =>
    new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
  const range = testPortRange();
  for (let attempt = 0; attempt < 500; attempt++) {
    const base = range.from + 2 * Math.floor(Math.random() * ((range.size - n) / 2));
    const ports = Array.from({ length: n }, (_, i) => base + i);
    if (ports.some((p) => handedOut.has(p))) continue;
    if (!(await Promise.all(ports.map(isFree))).every(Boolean)) continue;
    if (!ports.every((p) => claimPort(p))) continue;
    for (const p of ports) handedOut.add(p);
    return base;
  }
  throw new Error(`no ${n} consecutive free ports found in ${range.from}-${range.from + range.size - 1} after 500 tries`);
}

/** Free API and p2p ports for `n` nodes. */
export async function freePorts(n: number): Promise<Array<{ api: number; p2p: number }>> {
  const out: Array<{ api: number; p2p: number }> = [];
  for (let i = 0; i < n; i++) out.push({ api: await freePort(), p2p: await freePort() });
  return out;
}
