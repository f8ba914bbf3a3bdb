// `medledger bench-join` (docs/deploy.md "Joining"): how long a new node takes to catch up
// with a chain of many transactions, by block sync from genesis and by state sync. It builds
// the chain quickly in process on the one validator's home (blocks of signed patient
// registrations, each executed and committed with the validator's precommit, snapshots
// taken as a running node takes them), starts that validator, then starts one fresh joining
// node of each kind over loopback and times it from process start until it reaches the
// height the chain had when it started.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { blockHash, type Commit, type Genesis, signVote } from '@medledger/ledger';
import { Chain, HOME_FILES, initJoinHome, initNetwork, loadHome, passphraseFromEnv, SnapshotStore } from '@medledger/node';
import { openSqliteStore } from '@medledger/storage';
import { requestJson } from './http.js';
import { makeRegistrations } from './load.js';
import { type RunningNode, startNodeProcess, stopNodes } from './network.js';

export interface JoinBenchOptions {
  txs: number;
  /** Transactions per block of the chain built. */
  blockTxs: number;
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
  /** From spawning the node process until its API opened, seconds (state sync opens it after installing the snapshot). */
  startSeconds: number;
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
  /** Building the chain in process: signing, executing and storing every block, seconds. */
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

/**
 * Build the chain straight into the validator's (stopped) home: blocks of fresh patient
 * registrations, each executed, committed with the single validator's precommit, and
 * snapshotted at every `snapshotInterval` blocks, exactly as a running node would. Ends on a
 * snapshot height, so state sync has the whole chain to start from.
 */
async function buildChain(
  home: string,
  genesis: Genesis,
  passphrase: string,
  opts: JoinBenchOptions,
  log: (line: string) => void,
): Promise<{ txs: number; height: number }> {
  // loadHome creates the database file 0600, as a node's own start does.
  const loaded = loadHome(home, passphrase);
  const key = loaded.key.signing;
  const store = openSqliteStore(loaded.dbPath);
  try {
    const chain = new Chain(genesis, store);
    const snapshots = new SnapshotStore(
      { interval: opts.snapshotInterval, keep: 2, dir: join(home, 'snapshots') },
      { scanState: (prefix) => store.scanState(prefix), loadBlock: (h) => store.loadBlock(h), net: { send: () => {} }, log: () => {} },
    );
    let blocks = Math.ceil(opts.txs / opts.blockTxs);
    blocks = Math.ceil(blocks / opts.snapshotInterval) * opts.snapshotInterval;
    let txs = 0;
    for (let h = 1; h <= blocks; h++) {
      const count = Math.max(0, Math.min(opts.blockTxs, opts.txs - txs));
      const block = chain.buildBlock(makeRegistrations(genesis.chainId, count), genesis.genesisTime + h, key.publicKey);
      const blockHashHex = blockHash(block.header);
      const commit: Commit = {
        height: h,
        round: 0,
        blockHash: blockHashHex,
        signatures: [
          {
            validator: key.publicKey,
            sig: signVote(genesis.chainId, { type: 'precommit', height: h, round: 0, blockHash: blockHashHex }, key.privateKey),
          },
        ],
      };
      const { results } = chain.commitBlock(block, commit);
      if (results.some((r) => r.code !== 'ok')) throw new Error(`block ${h}: a registration was refused`);
      txs += count;
      await snapshots.onCommitted(h);
      if (h % 10 === 0) log(`  block ${h}/${blocks}, ${txs} transactions`);
    }
    return { txs, height: blocks };
  } finally {
    store.close();
  }
}

/** Build the chain, then time a block-sync joiner and a state-sync joiner. Stops every process it started. */
export async function runJoinBench(opts: JoinBenchOptions, log: (line: string) => void): Promise<JoinBenchResult> {
  const dir = join(opts.outDir, `join-bench-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const passphrase = passphraseFromEnv();
  const n = 1;
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
  // The validator lets both joining nodes in, keeps snapshotting, and makes no empty blocks:
  // both joining nodes catch up with the same chain.
  const configPath = join(homes[0] as string, HOME_FILES.config);
  const config = JSON.parse(readFileSync(configPath, 'utf8'));
  config.consensus.heartbeatMs = 0;
  config.snapshots = { interval: opts.snapshotInterval, keep: 2 };
  for (const [i, j] of joiners.entries())
    config.peers.push({ name: i === 0 ? 'block-sync' : 'state-sync', publicKey: j.nodePublicKey, fullNode: true });
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const running: RunningNode[] = [];
  try {
    log(`building a chain of ${opts.txs} transactions in blocks of ${opts.blockTxs}…`);
    const t0 = performance.now();
    const built = await buildChain(homes[0] as string, genesis, passphrase, opts, log);
    const buildSeconds = (performance.now() - t0) / 1000;
    const dbBytes = statSync(join(homes[0] as string, HOME_FILES.db)).size;
    log(
      `chain built: ${built.txs} transactions, height ${built.height}, in ${round1(buildSeconds)} s; database ${Math.round(dbBytes / 1e6)} MB`,
    );
    running.push(await startNodeProcess(homes[0] as string));
    const urls = running.map((r) => r.url);
    const height = (await status(urls[0] as string)).height;

    const catchUp = async (home: string): Promise<CatchUpFigures> => {
      const targetHeight = (await status(urls[0] as string)).height;
      const started = performance.now();
      const node = await startNodeProcess(home);
      const startSeconds = round1((performance.now() - started) / 1000);
      running.push(node);
      await waitHeight(node.url, targetHeight, 1_800_000);
      const seconds = (performance.now() - started) / 1000;
      await stopNodes([node]);
      const m = /installed the snapshot at height (\d+) \((\d+) keys\) in (\d+) ms/.exec(readFileSync(join(home, 'node.log'), 'utf8'));
      return {
        targetHeight,
        seconds: round1(seconds),
        startSeconds,
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
    return { txs: built.txs, validators: 1, height, buildSeconds: round1(buildSeconds), dbBytes, blockSync, stateSync };
  } finally {
    await stopNodes(running);
    rmSync(dir, { recursive: true, force: true });
  }
}
