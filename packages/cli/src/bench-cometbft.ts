// `medledger bench --engine cometbft`: the same load profile as the embedded bench
// (registrations from fresh keys, saturating load, then a fixed offered rate) against four
// validators on CometBFT (docs/cometbft.md). Submission is CometBFT's broadcast_tx_sync,
// one transaction per call (CometBFT has no batch submission); commits are followed block
// by block through CometBFT's RPC. CPU and memory per validator sum the application (the
// `medledger node --engine cometbft` process) and its CometBFT process.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TrustedGenesis } from '@medledger/client';
import { sha256Hex } from '@medledger/crypto';
import { txBytes, txHash } from '@medledger/ledger';
import { CometRpc, defaultCometPorts, initCometHomes, initNetwork, PASSPHRASE_ENV } from '@medledger/node';
import { benchRecords, type RecordBenchResult } from './bench-records.js';
import { makeRegistrations } from './load.js';

const BIN = fileURLToPath(new URL('../bin/medledger.js', import.meta.url));

export interface CometBenchOptions {
  validators: number;
  seconds: number;
  rate: number;
  latencySeconds: number;
  basePort: number;
  /** Records to write (and read twice each) through the nodes' MedLedger API, as the embedded bench does; 0: none. */
  records?: number;
}

export interface CometBenchResult {
  throughput: { seconds: number; committed: number; rejected: number; txPerSecond: number };
  latency: { offeredTxPerSecond: number; committed: number; p50Ms: number; p99Ms: number };
  nodes: Array<{ name: string; cpuPercent: number; rssMiB: number }>;
  /** Record write and read latency through the MedLedger API on CometBFT (bench-records.ts), when measured. */
  records?: RecordBenchResult;
}

interface CometNodeProcess {
  name: string;
  child: ChildProcess;
  cometPid: number;
  rpc: CometRpc;
  /** The node's MedLedger API. */
  api: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

/** CPU ticks (user + system) and resident bytes of a process, from /proc. */
function sample(pid: number): { cpuTicks: number; rssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuTicks: Number(fields[11]) + Number(fields[12]), rssBytes: Number(rss?.[1] ?? 0) * 1024 };
}

function startNode(home: string, name: string): Promise<CometNodeProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'node', '--home', home, '--engine', 'cometbft'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr?.on('data', (c: Buffer) => {
      err = (err + String(c)).slice(-4000);
    });
    child.stdout?.on('data', (c: Buffer) => {
      out += String(c);
      const m = /CometBFT RPC: (\S+) \(cometbft pid (\d+)\)/.exec(out);
      const api = /node \S+ API: (\S+)/.exec(out);
      if (m !== null && api !== null)
        resolve({ name, child, cometPid: Number(m[2]), rpc: new CometRpc(m[1] as string), api: api[1] as string });
    });
    child.once('exit', (code) => reject(new Error(`${name} exited ${code} before starting: ${err}`)));
  });
}

/**
 * Submit `txs` through the validators round-robin (at `rate` tx/s when given, else as fast
 * as `concurrency` calls allow, for at most `durationMs`) and follow blocks on the first
 * validator until every accepted transaction is committed.
 */
async function drive(
  nodes: CometNodeProcess[],
  txs: ReturnType<typeof makeRegistrations>,
  opts: { concurrency: number; rate?: number; durationMs?: number; onStart?: () => void },
) {
  const follow = nodes[0] as CometNodeProcess;
  const submittedAt = new Map<string, number>();
  const outstanding = new Set<string>();
  const latencies: number[] = [];
  let rejected = 0;
  let next = 0;
  let height = (await follow.rpc.status()).height;
  opts.onStart?.();
  const start = performance.now();
  let lastCommitAt = start;
  const interval = opts.rate === undefined ? 0 : 1000 / opts.rate;
  const submitter = async (worker: number) => {
    for (let i = next++; i < txs.length; i = next++) {
      if (opts.durationMs !== undefined && performance.now() - start > opts.durationMs) return;
      if (interval > 0) {
        const wait = start + i * interval - performance.now();
        if (wait > 0) await sleep(wait);
      }
      const tx = txs[i] as (typeof txs)[number];
      const hash = txHash(tx);
      submittedAt.set(hash, performance.now());
      outstanding.add(hash);
      try {
        const r = await (nodes[(i + worker) % nodes.length] as CometNodeProcess).rpc.broadcastTxSync(txBytes(tx));
        if (r.code !== 0 && outstanding.delete(hash)) rejected++;
      } catch {
        if (outstanding.delete(hash)) rejected++;
      }
    }
  };
  let submitting = true;
  const follower = async () => {
    const deadline = Date.now() + 180_000;
    while (submitting || outstanding.size > 0) {
      if (Date.now() > deadline) throw new Error(`timed out with ${outstanding.size} transactions not committed`);
      const tip = (await follow.rpc.status()).height;
      for (; height < tip; ) {
        height++;
        const block = (await follow.rpc.raw('block', { height: String(height) })) as { block: { data: { txs: string[] | null } } };
        const now = performance.now();
        for (const b64 of block.block.data.txs ?? []) {
          const hash = sha256Hex(new Uint8Array(Buffer.from(b64, 'base64')));
          if (!outstanding.delete(hash)) continue;
          latencies.push(now - (submittedAt.get(hash) as number));
          lastCommitAt = now;
        }
      }
      await sleep(20);
    }
  };
  const following = follower();
  await Promise.all(Array.from({ length: opts.concurrency }, (_, w) => submitter(w)));
  submitting = false;
  await following;
  const seconds = (lastCommitAt - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    committed: latencies.length,
    rejected,
    seconds,
    txPerSecond: seconds > 0 ? latencies.length / seconds : 0,
    latenciesMs: latencies,
  };
}

/** Run the CometBFT side of the benchmark on a fresh network in a temporary directory. */
export async function runCometBench(opts: CometBenchOptions, log: (line: string) => void): Promise<CometBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'medledger-bench-comet-'));
  const passphrase = process.env[PASSPHRASE_ENV] || 'medledger bench';
  process.env[PASSPHRASE_ENV] = passphrase;
  const nodes: CometNodeProcess[] = [];
  try {
    const { homes, genesis } = initNetwork({
      validators: opts.validators,
      out: dir,
      chainId: 'medledger-bench',
      basePort: opts.basePort,
      passphrase,
      engine: 'cometbft',
    });
    initCometHomes(homes, genesis, { passphrase, ports: defaultCometPorts(homes.length, opts.basePort) });
    for (const [i, home] of homes.entries()) nodes.push(await startNode(home, `validator-${i}`));
    for (const n of nodes) {
      for (
        let h = 0;
        h < 2;
        h = await n.rpc
          .status()
          .then((s) => s.height)
          .catch(() => 0)
      )
        await sleep(100);
    }
    log(`started ${nodes.length} validators on CometBFT`);
    await drive(nodes, makeRegistrations(genesis.chainId, 300), { concurrency: 8 }); // warm-up

    log(`throughput run: ${opts.seconds} s of saturating load, one transaction per call…`);
    const txs = makeRegistrations(genesis.chainId, opts.seconds * 2500);
    const pids = nodes.flatMap((n) => [n.child.pid as number, n.cometPid]);
    let before = pids.map(sample);
    let t0 = 0;
    const tput = await drive(nodes, txs, {
      concurrency: 32,
      durationMs: opts.seconds * 1000,
      onStart: () => {
        before = pids.map(sample);
        t0 = performance.now();
      },
    });
    const wall = (performance.now() - t0) / 1000;
    const after = pids.map(sample);
    const perNode = nodes.map((n, i) => {
      const ticks = [2 * i, 2 * i + 1].reduce((s, k) => s + ((after[k]?.cpuTicks ?? 0) - (before[k]?.cpuTicks ?? 0)), 0);
      const rss = [2 * i, 2 * i + 1].reduce((s, k) => s + (after[k]?.rssBytes ?? 0), 0);
      return { name: n.name, cpuPercent: Math.round((ticks / 100 / wall) * 1000) / 10, rssMiB: Math.round((rss / 1024 / 1024) * 10) / 10 };
    });
    log(`committed ${tput.committed} tx in ${tput.seconds.toFixed(2)} s: ${tput.txPerSecond.toFixed(0)} tx/s`);

    log(`latency run: ${opts.rate} tx/s offered for ${opts.latencySeconds} s…`);
    const lat = await drive(nodes, makeRegistrations(genesis.chainId, opts.rate * opts.latencySeconds), {
      concurrency: 16,
      rate: opts.rate,
    });
    const p50 = percentile(lat.latenciesMs, 0.5);
    const p99 = percentile(lat.latenciesMs, 0.99);
    log(`commit latency at ${opts.rate} tx/s: p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms`);
    const records =
      (opts.records ?? 0) > 0
        ? await benchRecords(
            {
              writeUrl: nodes[0]?.api as string,
              readUrl: nodes[1 % nodes.length]?.api as string,
              genesis: TrustedGenesis.fromDocument(genesis),
              writes: opts.records as number,
              reads: 2 * (opts.records as number),
              resourceBytes: 4096,
            },
            log,
          )
        : undefined;
    return {
      ...(records === undefined ? {} : { records }),
      throughput: { seconds: tput.seconds, committed: tput.committed, rejected: tput.rejected, txPerSecond: Math.round(tput.txPerSecond) },
      latency: { offeredTxPerSecond: opts.rate, committed: lat.committed, p50Ms: Math.round(p50), p99Ms: Math.round(p99) },
      nodes: perNode,
    };
  } finally {
    await Promise.all(
      nodes.map(
        (n) =>
          new Promise<void>((resolve) => {
            if (n.child.exitCode !== null) return resolve();
            const timer = setTimeout(() => n.child.kill('SIGKILL'), 10_000);
            n.child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            n.child.kill('SIGTERM');
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The embedded bench's figures the side-by-side table shows (bench.ts runBench's result); a part not run is absent. */
export interface EmbeddedBenchFigures {
  throughput?: { txPerSecond: number };
  singleTxThroughput?: { txPerSecond: number };
  latency?: { offeredTxPerSecond: number; p50Ms: number; p99Ms: number };
  records?: { writeMs: { p50: number }; readMs: { p50: number } };
  nodes?: Array<{ name: string; cpuPercent: number; rssMiB: number }>;
}

/** An engine's column: its figures, or why it has none (not run, or its run failed). */
export type EngineColumn<T> = { figures: T } | { missing: string };

/**
 * One table, one column per engine; every row is there for both, and a cell an engine
 * cannot fill says why (never a made-up number).
 */
export function benchTable(embedded: EngineColumn<EmbeddedBenchFigures>, comet: EngineColumn<CometBenchResult>): string[] {
  const e = 'figures' in embedded ? embedded.figures : undefined;
  const c = 'figures' in comet ? comet.figures : undefined;
  /** A cell: the figure when the engine ran and measured it, else why not. */
  const cell = <T>(col: EngineColumn<unknown>, value: T | undefined, show: (v: T) => string, notRun: string): string => {
    if ('missing' in col) return `not measured: ${col.missing}`;
    return value === undefined ? `not measured: ${notRun}` : show(value);
  };
  const rate = e?.latency?.offeredTxPerSecond ?? c?.latency.offeredTxPerSecond;
  const rows: Array<[string, string, string]> = [
    [
      'committed tx/s at saturation, batched submission',
      cell(embedded, e?.throughput, (t) => `${t.txPerSecond} (batches of 100)`, 'the tx part was not run'),
      cell(comet, undefined, () => '', 'CometBFT has no batch submission API'),
    ],
    [
      'committed tx/s at saturation, one tx per call',
      cell(embedded, e?.singleTxThroughput, (t) => `${t.txPerSecond} (POST /v1/txs)`, 'the tx part was not run'),
      cell(comet, c?.throughput, (t) => `${t.txPerSecond} (broadcast_tx_sync)`, 'not run'),
    ],
    [
      `commit latency p50 / p99 at ${rate ?? '?'} tx/s offered`,
      cell(embedded, e?.latency, (l) => `${l.p50Ms} / ${l.p99Ms} ms`, 'the tx part was not run'),
      cell(comet, c?.latency, (l) => `${l.p50Ms} / ${l.p99Ms} ms`, 'not run'),
    ],
    [
      'CPU % of a core, RSS per validator (mean)',
      cell(embedded, e?.nodes, meanNodes, 'the tx part was not run'),
      cell(comet, c?.nodes, (n) => `${meanNodes(n)} (app + CometBFT)`, 'not run'),
    ],
    [
      'record write / read p50',
      cell(embedded, e?.records, (r) => `${r.writeMs.p50} / ${r.readMs.p50} ms`, 'the records part was not run'),
      cell(
        comet,
        c?.records,
        (r) => `${r.writeMs.p50} / ${r.readMs.p50} ms (proofs wait for the next header)`,
        'the records part was not run',
      ),
    ],
  ];
  const widths = [0, 1, 2].map((k) => Math.max(...rows.map((r) => r[k]?.length ?? 0), ['', 'embedded', 'cometbft'][k]?.length ?? 0));
  const line = (cells: string[]) => cells.map((x, k) => x.padEnd(widths[k] as number)).join(' | ');
  return [line(['', 'embedded', 'cometbft']), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)];
}

function meanNodes(nodes: ReadonlyArray<{ cpuPercent: number; rssMiB: number }>): string {
  const n = Math.max(1, nodes.length);
  const cpu = nodes.reduce((s, x) => s + x.cpuPercent, 0) / n;
  const rss = nodes.reduce((s, x) => s + x.rssMiB, 0) / n;
  return `${cpu.toFixed(1)} %, ${rss.toFixed(0)} MiB`;
}
