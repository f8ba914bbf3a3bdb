// `medledger bench` / `npm run bench`: a fresh 4-validator network on loopback, driven by
// the load generator, reporting throughput, commit latency at a fixed offered rate, record
// write and read latency through the records API, proof sizes and check times per kind of
// proven state query, claims adjudicated per second and submit-to-adjudicated latency, and
// CPU and memory per node. Results also go to bench/results/ as JSON.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrustedGenesis } from '@medledger/client';
import { HOME_FILES, initNetwork, type NodeConfig, type OrgKeyFile, readOrgKey } from '@medledger/node';
import { benchClaims } from './bench-claims.js';
import { benchMedicines } from './bench-medicines.js';
import { benchProofs } from './bench-proofs.js';
import { benchRecords } from './bench-records.js';
import { runLoad } from './load.js';
import { type RunningNode, startNodeProcess, stopNodes } from './network.js';

/** The benchmark's parts: registrations (throughput, latency, CPU and RSS), records, proofs, claims, medicines (supply events, verifications). */
export const BENCH_PARTS = ['tx', 'records', 'proofs', 'claims', 'medicines'] as const;
/** Manufacturers founded for the medicines part: their events interleave, as separate signers' do. */
const BENCH_MANUFACTURERS = 8;
export type BenchPart = (typeof BENCH_PARTS)[number];

export interface BenchOptions {
  validators: number;
  /** Seconds of saturating load. */
  seconds: number;
  /** Offered rate (tx/s) for the latency run. */
  rate: number;
  /** Seconds of the latency run. */
  latencySeconds: number;
  /** Records written (4 KiB FHIR resources); twice as many reads of each kind. */
  records: number;
  /** Times each kind of state proof is fetched and checked. */
  proofRounds: number;
  /** Claims benchmark: seconds of saturating load and the claims signed for it, offered claims/s and seconds of the latency run. */
  claimSeconds: number;
  claims: number;
  claimRate: number;
  claimLatencySeconds: number;
  outDir: string;
  basePort: number;
  /** Medicines part: supply events (commissionings) per manufacturer, and verifications timed. */
  medicineEvents?: number;
  /** Medicines part: EPCIS events per `supply.capture` transaction in its capture run (1–100). */
  eventsPerCapture?: number;
  verifications?: number;
  /** Run only these parts (default: all); the others are left out of the result. */
  parts?: BenchPart[];
  /** Write each validator's V8 CPU profile (`.cpuprofile`, for Chrome DevTools) here. */
  profileDir?: string;
}

interface ProcSample {
  cpuTicks: number;
  rssBytes: number;
}

const CLOCK_TICKS = 100;

function sample(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuTicks = Number(fields[11]) + Number(fields[12]);
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuTicks, rssBytes: Number(rss?.[1] ?? 0) * 1024 };
}

const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

/** Run the benchmark and return the figures written to JSON. */
export async function runBench(opts: BenchOptions, log: (line: string) => void): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'medledger-bench-'));
  const nodes: RunningNode[] = [];
  try {
    // Hospitals run the validators but the last, which an insurer runs (the claims benchmark needs both).
    const runs = (part: BenchPart) => opts.parts === undefined || opts.parts.includes(part);
    const organizations = [
      ...Array.from({ length: Math.max(1, opts.validators - 1) }, (_, i) => ({ name: `Organization ${i}`, kind: 'hospital' })),
      { name: 'Bench Health Insurance', kind: 'insurer' },
      // The medicines part's trading partners come after: the validators' organizations keep their places.
      ...(runs('medicines')
        ? [
            ...Array.from({ length: BENCH_MANUFACTURERS }, (_, i) => ({ name: `Maker ${i}`, kind: 'manufacturer' })),
            { name: 'Bench Pharmacy', kind: 'pharmacy' },
          ]
        : []),
    ];
    const { homes, genesis, orgKeys } = initNetwork({
      validators: opts.validators,
      out: dir,
      chainId: 'medledger-bench',
      basePort: opts.basePort,
      organizations,
    });
    // The benchmark saturates the nodes from one address: far over the production rate
    // limits (docs/api.md), which it raises in its own throwaway homes.
    for (const home of homes) {
      const file = join(home, HOME_FILES.config);
      const config = JSON.parse(readFileSync(file, 'utf8')) as NodeConfig;
      config.rateLimit = { windowMs: 10_000, perIdentity: 10_000_000, perIp: 10_000_000 };
      writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    }
    const runtimeArgs = opts.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`];
    for (const home of homes) nodes.push(await startNodeProcess(home, [], runtimeArgs));
    const urls = nodes.map((n) => n.url);
    log(`started ${nodes.length} validators: ${urls.join(' ')}`);

    const measured: Record<string, unknown> = {};
    if (runs('tx')) {
      // Warm up (JIT, key caches, connections).
      await runLoad({ url: urls[0] as string, submitUrls: urls, count: 500, concurrency: 8, batch: 50 });

      const expected = Math.ceil(opts.seconds * 4000);
      log(`throughput run: ${opts.seconds} s of saturating load (up to ${expected} transactions)…`);
      let before: ProcSample[] = [];
      let t0 = 0;
      const tput = await runLoad({
        url: urls[0] as string,
        submitUrls: urls,
        count: expected,
        concurrency: 8,
        batch: 100,
        durationMs: opts.seconds * 1000,
        timeoutMs: 180_000,
        onStart: () => {
          // Measure the nodes from the first submission, not while the load is being signed.
          before = nodes.map((n) => sample(n.child.pid as number));
          t0 = performance.now();
        },
      });
      const wall = (performance.now() - t0) / 1000;
      const after = nodes.map((n) => sample(n.child.pid as number));
      const perNode = nodes.map((n, i) => ({
        name: n.name,
        cpuPercent: Math.round((((after[i] as ProcSample).cpuTicks - (before[i] as ProcSample).cpuTicks) / CLOCK_TICKS / wall) * 1000) / 10,
        rssMiB: Math.round(((after[i] as ProcSample).rssBytes / 1024 / 1024) * 10) / 10,
      }));
      log(`committed ${tput.committed} tx in ${tput.seconds.toFixed(2)} s: ${tput.txPerSecond.toFixed(0)} tx/s`);

      // The same saturation with one transaction per request (POST /v1/txs), as CometBFT's
      // broadcast_tx_sync takes them: the side-by-side table compares like with like.
      log(`single-transaction run: ${opts.seconds} s of saturating load, one transaction per request…`);
      const single = await runLoad({
        url: urls[0] as string,
        submitUrls: urls,
        count: expected,
        concurrency: 32,
        batch: 1,
        durationMs: opts.seconds * 1000,
        timeoutMs: 180_000,
      });
      log(`committed ${single.committed} tx in ${single.seconds.toFixed(2)} s: ${single.txPerSecond.toFixed(0)} tx/s`);

      log(`latency run: ${opts.rate} tx/s offered for ${opts.latencySeconds} s…`);
      const lat = await runLoad({
        url: urls[0] as string,
        submitUrls: urls,
        count: opts.rate * opts.latencySeconds,
        concurrency: 16,
        rate: opts.rate,
        timeoutMs: 120_000,
      });
      const p50 = percentile(lat.latenciesMs, 0.5);
      const p99 = percentile(lat.latenciesMs, 0.99);
      log(`commit latency at ${opts.rate} tx/s: p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms`);
      for (const p of perNode) log(`  ${p.name}: CPU ${p.cpuPercent}% of one core, RSS ${p.rssMiB} MiB`);

      Object.assign(measured, {
        throughput: {
          seconds: tput.seconds,
          committed: tput.committed,
          rejected: tput.rejected,
          txPerSecond: Math.round(tput.txPerSecond),
        },
        singleTxThroughput: {
          seconds: single.seconds,
          committed: single.committed,
          rejected: single.rejected,
          txPerSecond: Math.round(single.txPerSecond),
        },
        latency: { offeredTxPerSecond: opts.rate, committed: lat.committed, p50Ms: Math.round(p50), p99Ms: Math.round(p99) },
        nodes: perNode,
      });
    }
    if (runs('records')) {
      measured.records = await benchRecords(
        {
          writeUrl: urls[0] as string,
          readUrl: urls[1 % urls.length] as string,
          genesis: TrustedGenesis.fromDocument(genesis),
          writes: opts.records,
          reads: 2 * opts.records,
          resourceBytes: 4096,
        },
        log,
      );
    }
    if (runs('proofs')) {
      measured.proofs = await benchProofs({ url: urls[1 % urls.length] as string, genesis, rounds: opts.proofRounds }, log);
    }
    if (runs('claims')) {
      const orgKey = (o: OrgKeyFile | undefined) => readOrgKey((o as OrgKeyFile).home, { file: (o as OrgKeyFile).file });
      measured.claims = await benchClaims(
        {
          urls,
          genesis: TrustedGenesis.fromDocument(genesis),
          // The insurer's place: the medicines part's partners come after it when both run.
          insurerKeys: orgKey(orgKeys[organizations.findIndex((o) => o.kind === 'insurer')]),
          hospitalKeys: orgKey(orgKeys[0]),
          patients: 50,
          clinicians: 8,
          seconds: opts.claimSeconds,
          claims: opts.claims,
          rate: opts.claimRate,
          latencySeconds: opts.claimLatencySeconds,
        },
        log,
      );
    }
    if (runs('medicines')) {
      const orgKey = (o: OrgKeyFile | undefined) => readOrgKey((o as OrgKeyFile).home, { file: (o as OrgKeyFile).file });
      const partners = orgKeys.slice(organizations.length - BENCH_MANUFACTURERS - 1);
      measured.medicines = await benchMedicines(
        {
          urls,
          genesis: TrustedGenesis.fromDocument(genesis),
          manufacturers: partners.slice(0, BENCH_MANUFACTURERS).map(orgKey),
          partner: orgKey(partners.at(-1)),
          eventsPerManufacturer: opts.medicineEvents ?? 250,
          ...(opts.eventsPerCapture === undefined ? {} : { eventsPerCapture: opts.eventsPerCapture }),
          verifications: opts.verifications ?? 200,
        },
        log,
      );
    }
    const result = {
      date: new Date().toISOString(),
      validators: opts.validators,
      cpus: (await import('node:os')).cpus().length,
      node: process.version,
      ...measured,
    };
    mkdirSync(opts.outDir, { recursive: true });
    const file = join(opts.outDir, `bench-${result.date.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${file}`);
    return result;
  } finally {
    await stopNodes(nodes);
    // MEDLEDGER_BENCH_KEEP=1 keeps the homes (node logs) for looking into a run.
    if (process.env.MEDLEDGER_BENCH_KEEP === '1') log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
