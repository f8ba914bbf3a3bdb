// `medledger bench-join` (docs/deploy.md "Joining"): how long a new node takes to catch up
// with a chain of many transactions, by block sync from genesis and by state sync. It builds
// the chain on loopback (validator processes loaded with registrations through the batch
// API, taking snapshots), then starts one fresh joining node of each kind and times it from
// process start until it reaches the height the chain had when it started.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOME_FILES, initJoinHome, initNetwork, passphraseFromEnv } from '@medledger/node';
import { requestJson } from './http.js';
import { runLoad } from './load.js';
import { type RunningNode, startNodeProcess, stopNodes } from './network.js';

export interface JoinBenchOptions {
  txs: number;
  validators: number;
  /** Snapshot every this many blocks on the validators. */
  snapshotInterval: number;
  outDir: string;
  basePort: number;
}

export interface CatchUpFigures {
  /** Height the chain had when the joining node started, which it had to reach. */
  targetHeight: number;
  /** From spawning the node process until its API answered at `targetHeight`, seconds. */
  seconds: number;
  /** State sync only: height of the snapshot installed. */
  snapshotHeight?: number;
  /** State sync only: keys in the snapshot. */
  snapshotKeys?: number;
  /** State sync only: fetching, checking and installing the snapshot, seconds (from the node's log). */
  snapshotSeconds?: number;
}

export interface JoinBenchResult {
  txs: number;
  validators: number;
  height: number;
  buildSeconds: number;
  /** Size of a validator's database after the build, bytes. */
  dbBytes: number;
  blockSync: CatchUpFigures;
  stateSync: CatchUpFigures;
}

const status = (url: string) => requestJson<{ height: number }>(`${url}/v1/status`);

async function waitHeight(url: string, height: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await status(url)).height >= height) return;
    } catch {}
    if (Date.now() > deadline) throw new Error(`no height ${height} at ${url} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** Build the chain, then time a block-sync joiner and a state-sync joiner. Stops every process it started. */
export async function runJoinBench(opts: JoinBenchOptions, log: (line: string) => void): Promise<JoinBenchResult> {
  const dir = join(opts.outDir, `join-bench-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const passphrase = passphraseFromEnv();
  const n = opts.validators;
  const ports = Array.from({ length: n + 2 }, (_, i) => ({ api: opts.basePort + 2 * i, p2p: opts.basePort + 2 * i + 1 }));
  const { homes, genesis } = initNetwork({ validators: n, out: dir, chainId: 'join-bench', ports: ports.slice(0, n), passphrase });
  const joiners = ['block-sync', 'state-sync'].map((name, i) =>
    initJoinHome({
      genesis,
      out: join(dir, name),
      name,
      peers: [{ who: 'validator-0', url: `ws://127.0.0.1:${ports[0]?.p2p}` }],
      apiPort: ports[n + i]?.api as number,
      p2pPort: ports[n + i]?.p2p as number,
      stateSync: name === 'state-sync',
      passphrase,
    }),
  );
  // validator-0 lets both joining nodes in; every validator snapshots; heartbeats keep blocks
  // coming so a snapshot lands near the tip.
  homes.forEach((home, i) => {
    const path = join(home, HOME_FILES.config);
    const config = JSON.parse(readFileSync(path, 'utf8'));
    config.consensus.blockIntervalMs = 20;
    config.consensus.heartbeatMs = 200;
    config.snapshots = { interval: opts.snapshotInterval, keep: 2 };
    if (i === 0)
      for (const j of joiners)
        config.peers.push({ name: j.home.endsWith('state-sync') ? 'state-sync' : 'block-sync', publicKey: j.nodePublicKey });
    writeFileSync(path, JSON.stringify(config, null, 2));
  });
  const running: RunningNode[] = [];
  try {
    for (const home of homes) running.push(await startNodeProcess(home));
    const urls = running.map((r) => r.url);
    log(`building a chain of ${opts.txs} transactions on ${n} validator(s)…`);
    const t0 = performance.now();
    let logged = 0;
    const load = await runLoad({
      url: urls[0] as string,
      submitUrls: urls,
      count: opts.txs,
      concurrency: 8,
      batch: 500,
      timeoutMs: 1_800_000,
      onProgress: (done, total) => {
        if (done < logged + 10_000 && done < total) return;
        logged = done;
        log(`  ${done}/${total} committed`);
      },
    });
    if (load.committed < opts.txs) throw new Error(`only ${load.committed} of ${opts.txs} transactions were committed`);
    const buildSeconds = (performance.now() - t0) / 1000;
    let height = (await status(urls[0] as string)).height;
    // A snapshot of the whole chain: wait for the next snapshot height (heartbeat blocks).
    const snapAt = Math.ceil(height / opts.snapshotInterval) * opts.snapshotInterval;
    await waitHeight(urls[0] as string, snapAt + 1, 600_000);
    await new Promise((r) => setTimeout(r, 2000));
    height = (await status(urls[0] as string)).height;
    const dbBytes = statSync(join(homes[0] as string, HOME_FILES.db)).size;
    log(
      `chain built: ${load.committed} transactions, height ${height}, in ${round1(buildSeconds)} s; database ${Math.round(dbBytes / 1e6)} MB`,
    );

    const catchUp = async (home: string): Promise<CatchUpFigures> => {
      const targetHeight = (await status(urls[0] as string)).height;
      const started = performance.now();
      const node = await startNodeProcess(home);
      running.push(node);
      await waitHeight(node.url, targetHeight, 1_800_000);
      const seconds = (performance.now() - started) / 1000;
      await stopNodes([node]);
      const m = /installed the snapshot at height (\d+) \((\d+) keys\) in (\d+) ms/.exec(readFileSync(join(home, 'node.log'), 'utf8'));
      return {
        targetHeight,
        seconds: round1(seconds),
        ...(m === null ? {} : { snapshotHeight: Number(m[1]), snapshotKeys: Number(m[2]), snapshotSeconds: round1(Number(m[3]) / 1000) }),
      };
    };
    log('block sync: a fresh node replays every block from genesis…');
    const blockSync = await catchUp(joiners[0]?.home as string);
    log(`  reached height ${blockSync.targetHeight} in ${blockSync.seconds} s`);
    log('state sync: a fresh node installs a proven snapshot, then block-syncs the rest…');
    const stateSync = await catchUp(joiners[1]?.home as string);
    if (stateSync.snapshotHeight === undefined) throw new Error('the state-sync node did not install a snapshot; see its node.log');
    log(
      `  reached height ${stateSync.targetHeight} in ${stateSync.seconds} s (snapshot at ${stateSync.snapshotHeight}, ${stateSync.snapshotKeys} keys, installed in ${stateSync.snapshotSeconds} s)`,
    );
    return { txs: load.committed, validators: n, height, buildSeconds: round1(buildSeconds), dbBytes, blockSync, stateSync };
  } finally {
    await stopNodes(running);
    rmSync(dir, { recursive: true, force: true });
  }
}
