// Operator commands: init, node, load and verify.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TrustedGenesis } from '@medledger/client';
import { type Genesis, genesisEngine, parseGenesis } from '@medledger/ledger';
import {
  addNodeCertificates,
  CometRpc,
  cometRpcUrl,
  defaultCometPorts,
  HOME_FILES,
  initCometHomes,
  initNetwork,
  isLoopbackHost,
  loadHome,
  MedLedgerNode,
  PASSPHRASE_ENV,
  rpcBlockSource,
  runningNodeOf,
  startCometNode,
  verifyCometChain,
  verifyStoredChain,
} from '@medledger/node';
import { databaseInUse, openSqliteStore } from '@medledger/storage';
import type { Command } from 'commander';
import { BENCH_PARTS, type BenchOptions, type BenchPart, runBench } from '../bench.js';
import { benchTable, type EmbeddedBenchFigures, type EngineColumn, runCometBench } from '../bench-cometbft.js';
import { runJoinBench } from '../bench-join.js';
import { DEFAULT_EVENTS_PER_CAPTURE } from '../bench-medicines.js';
import { collect } from '../cli-support.js';
import { DEMO_ORGANIZATIONS, DEMO_PASSPHRASE, demoSheetLines, readDemoSheet, seedDemo } from '../demo.js';
import { CliError, EXIT } from '../exit-codes.js';
import { runLoad } from '../load.js';
import { ensureHomes, type RunningNode, startNodeProcess, stopNodes } from '../network.js';
import { getPassphrase } from '../passphrase.js';
import { type InitJoinCliOptions, runInitJoin } from './join.js';

/** `medledger init`'s options: a new network (--validators) or a joining node (--join). */
type InitCliOptions = Omit<InitJoinCliOptions, 'join'> & {
  join?: string;
  validators?: number;
  hosts?: string[];
  tls?: boolean;
  chainId: string;
  basePort: number;
  engine: Engine;
};

export { CliError };

/** `--only tx,claims` as bench parts; exit 2 naming an unknown one. */
function benchParts(raw: string): BenchPart[] {
  const parts = raw.split(',').map((p) => p.trim());
  const unknown = parts.find((p) => !(BENCH_PARTS as readonly string[]).includes(p));
  if (unknown !== undefined || parts.length === 0) throw new CliError(`--only takes ${BENCH_PARTS.join(', ')}, not '${unknown ?? raw}'`, 2);
  return parts as BenchPart[];
}

function positiveInt(name: string) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!/^[0-9]+$/.test(raw) || !Number.isSafeInteger(n) || n < 1) throw new CliError(`${name} must be a positive integer`, 2);
    return n;
  };
}

/** `--events-per-capture`: a capture carries 1–100 events (the ledger's limit). */
function capturesSize(raw: string): number {
  const n = positiveInt('--events-per-capture')(raw);
  if (n > 100) throw new CliError('--events-per-capture must be at most 100 (a capture carries 1 to 100 events)', 2);
  return n;
}

type Engine = 'embedded' | 'cometbft';

function benchEngine(raw: string): Engine | 'both' {
  return raw === 'both' ? raw : engineName(raw);
}

/** `medledger bench`'s options, as commander parses them. */
interface BenchCliOptions {
  validators: number;
  seconds: number;
  rate: number;
  latencySeconds: number;
  records: number;
  proofRounds: number;
  claimSeconds: number;
  claims: number;
  claimRate: number;
  claimLatencySeconds: number;
  medicineEvents: number;
  eventsPerCapture: number;
  verifications: number;
  out: string;
  basePort: number;
  engine: Engine | 'both';
  profile?: string;
  only?: string;
  json?: boolean;
}

/** The embedded engine's bench options, from the command line (one list for both entry points). */
function embeddedBenchOptions(opts: BenchCliOptions): BenchOptions {
  return {
    validators: opts.validators,
    seconds: opts.seconds,
    rate: opts.rate,
    latencySeconds: opts.latencySeconds,
    records: opts.records,
    proofRounds: opts.proofRounds,
    claimSeconds: opts.claimSeconds,
    claims: opts.claims,
    claimRate: opts.claimRate,
    claimLatencySeconds: opts.claimLatencySeconds,
    medicineEvents: opts.medicineEvents,
    eventsPerCapture: opts.eventsPerCapture,
    verifications: opts.verifications,
    outDir: resolve(opts.out),
    basePort: opts.basePort,
    ...(opts.profile === undefined ? {} : { profileDir: resolve(opts.profile) }),
    ...(opts.only === undefined ? {} : { parts: benchParts(opts.only) }),
  };
}

/**
 * `bench --engine cometbft|both`: the same profile on each engine, one after the other, and
 * one table. An engine whose run fails keeps its column, saying why.
 */
async function benchBoth(opts: BenchCliOptions, log: (line: string) => void): Promise<void> {
  const attempt = async <T>(name: string, run: () => Promise<T>): Promise<EngineColumn<T>> => {
    try {
      return { figures: await run() };
    } catch (err) {
      const why = (err as Error).message.split('\n')[0] ?? 'failed';
      log(`${name} run failed: ${why}`);
      return { missing: `the run failed (${why})` };
    }
  };
  const embedded: EngineColumn<EmbeddedBenchFigures> =
    opts.engine === 'both'
      ? await attempt('embedded', async () => (await runBench(embeddedBenchOptions(opts), log)) as EmbeddedBenchFigures)
      : { missing: 'not run (--engine cometbft)' };
  const comet = await attempt('CometBFT', () =>
    runCometBench(
      {
        validators: opts.validators,
        seconds: opts.seconds,
        rate: opts.rate,
        latencySeconds: opts.latencySeconds,
        basePort: opts.basePort,
        records: opts.records,
      },
      log,
    ),
  );
  if (opts.json) console.log(JSON.stringify({ embedded, cometbft: comet }));
  else for (const line of benchTable(embedded, comet)) console.log(line);
}

/** `--hosts a,b,c`: each a non-empty address without spaces. */
function hostList(raw: string): string[] {
  const hosts = raw.split(',').map((h) => h.trim());
  if (hosts.some((h) => h === '' || /\s|\/|^\[/.test(h)))
    throw new CliError('--hosts must be comma-separated IP addresses or DNS names', EXIT.usage);
  return hosts;
}

function engineName(raw: string): Engine {
  if (raw !== 'embedded' && raw !== 'cometbft') throw new CliError("--engine must be 'embedded' or 'cometbft'", 2);
  return raw;
}

/**
 * `node --engine cometbft`: the application with the MedLedger API over it, and CometBFT, run
 * together and stop together; if CometBFT dies the process exits 1, so a supervisor restarts
 * the pair (and if this process dies, CometBFT loses its application and stops itself).
 */
async function runCometNode(home: string, passphrase: string): Promise<void> {
  let validator: Awaited<ReturnType<typeof startCometNode>>;
  try {
    validator = await startCometNode(home, passphrase, {
      log: (line) => process.stderr.write(`${line}\n`),
      onExit: (why) => {
        process.stderr.write(`error: ${why}\n`);
        process.exit(EXIT.failed);
      },
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new CliError((err as Error).message, code === 'BAD_PASSPHRASE' ? EXIT.passphrase : EXIT.usage);
  }
  console.log(`node ${validator.name} CometBFT RPC: ${validator.rpcUrl} (cometbft pid ${validator.comet.child.pid})`);
  console.log(`node ${validator.name} API: ${validator.apiUrl}`);
  const shutdown = async () => {
    await validator.stop();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

/** `verify` of a chain whose genesis names CometBFT: the same checks on the chain CometBFT made, through its RPC. */
async function verifyComet(home: string, genesis: Genesis, opts: { rpc?: string; json?: boolean }): Promise<void> {
  let url: string;
  try {
    url = opts.rpc ?? cometRpcUrl(home);
  } catch (err) {
    throw new CliError(`cannot read ${home}: ${(err as Error).message}`, 2);
  }
  const result = await verifyCometChain(genesis, rpcBlockSource(new CometRpc(url)));
  if (opts.json) console.log(JSON.stringify(result));
  if (!result.ok) throw new CliError(`verification failed at height ${result.height}: ${result.code}: ${result.reason}`, 1);
  if (!opts.json) console.log(`verified ${result.blocks} blocks, ${result.txs} transactions`);
}

export function registerChainCommands(program: Command): void {
  program
    .command('init')
    .description(
      'write one node home per validator, with keys and a shared genesis; or, with --join, one home for a node joining a running network',
    )
    .option('--validators <n>', 'number of validators', positiveInt('--validators'))
    .requiredOption('--out <dir>', 'directory to write node0 … nodeN-1 (or, with --join, the one home) into')
    .option('--chain-id <id>', 'chain id', 'medledger-local')
    .option('--base-port <port>', 'first port; node i uses base+2i (API) and base+2i+1 (p2p)', positiveInt('--base-port'), 26650)
    .option('--engine <engine>', "consensus engine: 'embedded' or 'cometbft' (also writes each home's cometbft/)", engineName, 'embedded')
    .option('--hosts <list>', 'comma-separated address (IP or DNS name) of each node, in order; default 127.0.0.1 for all', hostList)
    .option(
      '--tls',
      'make a certificate per node: HTTPS API and mutual-TLS peer links (default when --hosts, or --join with --host, is not loopback)',
    )
    .option('--no-tls', 'plain HTTP API and ws:// peer links even off loopback')
    .option('--join <genesis-or-url>', "join a running network: its genesis file, or a node's URL to fetch it from (confirm its hash)")
    .option('--genesis-hash <hex>', '--join: the genesis SHA-256 your consortium gave you; the genesis must match it')
    .option('--peer <name=url>', '--join: a validator name from genesis (or a node key) and its P2P URL, repeatable', collect, [])
    .option('--name <name>', "--join: this node's name (default joining-node)")
    .option('--api-port <port>', '--join: API port (default 26650)', positiveInt('--api-port'))
    .option('--p2p-port <port>', '--join: P2P port (default 26651)', positiveInt('--p2p-port'))
    .option('--state-sync', '--join: start from a proven state snapshot of a peer instead of replaying every block')
    .option('--host <address>', '--join: the address this node listens on and is reached at (default 127.0.0.1)')
    .option('--peer-pin <name=pin>', "--join: the TLS pin of a --peer's certificate (medledger tls pin FILE), repeatable", collect, [])
    .option('--json', 'print the result as JSON')
    .action(async (opts: InitCliOptions) => {
      if (opts.join !== undefined) return runInitJoin(opts as InitCliOptions & { join: string });
      if (opts.validators === undefined)
        throw new CliError('init needs --validators N (a new network) or --join GENESIS_OR_URL', EXIT.usage);
      const tls = opts.tls ?? (opts.hosts ?? []).some((h) => !isLoopbackHost(h));
      if (tls && opts.engine === 'cometbft')
        throw new CliError('--tls is for the embedded engine; CometBFT has its own p2p encryption', EXIT.usage);
      // Every keystore written (node keys, organization admin keys) is encrypted with it.
      const passphrase = await getPassphrase('passphrase for the new keystores: ', { confirm: true });
      const { homes, orgKeys, genesis } = initNetwork({
        validators: opts.validators,
        out: resolve(opts.out),
        chainId: opts.chainId,
        basePort: opts.basePort,
        ...(opts.hosts === undefined ? {} : { hosts: opts.hosts }),
        passphrase,
        engine: opts.engine,
      });
      const certs = tls ? await addNodeCertificates(resolve(opts.out), homes) : [];
      if (opts.engine === 'cometbft') initCometHomes(homes, genesis, { passphrase, ports: defaultCometPorts(homes.length, opts.basePort) });
      const genesisFile = join(resolve(opts.out), HOME_FILES.genesis);
      const genesisHash = TrustedGenesis.fromDocument(JSON.parse(readFileSync(genesisFile, 'utf8'))).hash;
      if (opts.json)
        console.log(
          JSON.stringify({
            homes,
            genesis: genesisFile,
            genesisHash,
            organizations: orgKeys.map((o) => ({ ...o, keyFile: join(o.home, o.file) })),
            tls: certs.map((c) => ({ home: c.home, name: c.name, pin: c.pin, cert: c.publicCert })),
          }),
        );
      else {
        console.log(`wrote ${homes.length} node home${homes.length === 1 ? '' : 's'} (keystores encrypted with the passphrase):`);
        for (const h of homes) console.log(`  ${h}  (node.key, org.key${tls ? ', tls/node.crt, tls/node.key' : ''})`);
        for (const c of certs) console.log(`TLS ${c.name}: key pin ${c.pin}; certificate for API clients: ${c.publicCert}`);
        console.log(`genesis: ${genesisFile}  (SHA-256 ${genesisHash})`);
        console.log(`clients trust it with --genesis ${genesisFile}, or MEDLEDGER_GENESIS=${genesisFile}`);
        const engineArg = opts.engine === 'cometbft' ? ' --engine cometbft' : '';
        console.log(`start one with: MEDLEDGER_PASSPHRASE=… medledger node --home ${homes[0]}${engineArg}`);
      }
    });

  program
    .command('node')
    .description('run one node from its home directory')
    .requiredOption('--home <dir>', 'node home written by init')
    .option('--engine <engine>', "consensus engine: 'embedded' or 'cometbft' (needs scripts/install-cometbft.sh)", engineName, 'embedded')
    .action(async (opts: { home: string; engine: Engine }) => {
      let node: MedLedgerNode;
      const passphrase = await getPassphrase('passphrase of the node home: ');
      if (opts.engine === 'cometbft') return runCometNode(resolve(opts.home), passphrase);
      try {
        node = new MedLedgerNode(loadHome(resolve(opts.home), passphrase));
      } catch (err) {
        const wrongPassphrase = (err as { code?: string }).code === 'BAD_PASSPHRASE';
        throw new CliError((err as Error).message, wrongPassphrase ? EXIT.passphrase : EXIT.usage);
      }
      const url = await node.start();
      console.log(`node ${node.home.config.name} API: ${url}`);
      const shutdown = async () => {
        await node.stop();
        process.exit(0);
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    });

  program
    .command('start')
    .description('run a local network of validators as separate processes on loopback, seeded with a demo (the main job)')
    .option('--data <dir>', 'directory holding the node homes; created on first start', '.medledger')
    .option('--validators <n>', 'validators to create on first start', positiveInt('--validators'), 4)
    .option('--base-port <port>', 'first port on first start', positiveInt('--base-port'), 26650)
    .option('--no-demo', 'start an empty network: no demo organizations, staff, patients or consents')
    .option(
      '--engine <engine>',
      "consensus engine on first start: 'embedded' or 'cometbft' (needs scripts/install-cometbft.sh)",
      engineName,
    )
    .action(async (opts: { data: string; validators: number; basePort: number; demo: boolean; engine?: Engine }) => {
      const dataDir = resolve(opts.data);
      // Non-interactive on a fresh clone: without MEDLEDGER_PASSPHRASE the documented demo
      // passphrase is used (and said), and the node processes inherit it.
      const passphraseFromEnv = (process.env[PASSPHRASE_ENV] ?? '') !== '';
      if (!passphraseFromEnv) {
        process.env[PASSPHRASE_ENV] = DEMO_PASSPHRASE;
        console.log(`${PASSPHRASE_ENV} is not set: keystores use the demo passphrase '${DEMO_PASSPHRASE}'`);
      }
      const passphrase = process.env[PASSPHRASE_ENV] as string;
      const { homes, created, orgKeys, engine } = ensureHomes(
        dataDir,
        opts.validators,
        opts.basePort,
        opts.demo ? DEMO_ORGANIZATIONS : undefined,
        opts.engine,
      );
      if (opts.engine !== undefined && opts.engine !== engine)
        throw new CliError(`the network in ${dataDir} runs on the ${engine} engine; start it without --engine, or use another --data`, 2);
      const onEngine = engine === 'cometbft' ? ' on CometBFT' : '';
      console.log(
        created
          ? `created a new ${homes.length}-validator network${onEngine} in ${dataDir}`
          : `continuing the network${onEngine} in ${dataDir}`,
      );
      const nodes: RunningNode[] = [];
      try {
        for (const home of homes) nodes.push(await startNodeProcess(home, engine === 'cometbft' ? ['--engine', 'cometbft'] : []));
      } catch (err) {
        await stopNodes(nodes);
        throw new CliError((err as Error).message, 1);
      }
      for (const n of nodes) console.log(`  ${n.name}: ${n.url}  (log: ${join(n.home, 'node.log')})`);
      const genesisFile = join(dataDir, HOME_FILES.genesis);
      const trusted = TrustedGenesis.fromDocument(JSON.parse(readFileSync(genesisFile, 'utf8')));
      console.log(`genesis: ${genesisFile}  (SHA-256 ${trusted.hash})`);
      console.log(`clients trust this chain with --genesis ${genesisFile}, or: export MEDLEDGER_GENESIS=${genesisFile}`);
      let stopping = false;
      const shutdown = async () => {
        if (stopping) return;
        stopping = true;
        console.log('stopping nodes…');
        await stopNodes(nodes);
        console.log('stopped');
        process.exit(0);
      };
      process.on('SIGINT', shutdown);
      process.on('SIGTERM', shutdown);
      for (const n of nodes) {
        n.child.once('exit', (code, signal) => {
          if (!stopping) console.error(`${n.name} exited (${signal ?? code}); see ${join(n.home, 'node.log')}`);
        });
      }
      let sheet = readDemoSheet(dataDir);
      if (created && opts.demo) {
        console.log('seeding the demo: organizations, staff, three Synthea patients and their consents…');
        try {
          sheet = await seedDemo({
            dataDir,
            url: nodes[0]?.url as string,
            orgKeys,
            passphrase,
            passphraseFromEnv,
            log: (line) => console.log(`  ${line}`),
          });
        } catch (err) {
          await stopNodes(nodes);
          throw new CliError(`seeding the demo failed: ${(err as Error).message}`, 1);
        }
      }
      if (sheet !== undefined) for (const line of demoSheetLines(sheet)) console.log(line);
      console.log(`submit load with: npx medledger load --url ${nodes[0]?.url} --count 1000`);
      console.log('press Ctrl-C to stop all nodes');
    });

  program
    .command('load')
    .description('submit N signed identity.register transactions from fresh keys and wait until all are committed')
    .requiredOption('--url <url>', 'API URL of any node (default: $MEDLEDGER_URL)', process.env.MEDLEDGER_URL)
    .requiredOption('--count <n>', 'number of transactions', positiveInt('--count'))
    .option('--concurrency <c>', 'requests in flight', positiveInt('--concurrency'), 32)
    .option('--batch <b>', 'transactions per request (POST /v1/txs/batch when > 1)', positiveInt('--batch'), 1)
    .option('--rate <r>', 'offered rate, tx/s (default: as fast as possible)', positiveInt('--rate'))
    .option('--json', 'print the result as JSON')
    .action(async (opts: { url: string; count: number; concurrency: number; batch: number; rate?: number; json?: boolean }) => {
      const result = await runLoad({
        url: opts.url,
        count: opts.count,
        concurrency: opts.concurrency,
        batch: opts.batch,
        ...(opts.rate === undefined ? {} : { rate: opts.rate }),
      });
      const p = (q: number) => result.latenciesMs[Math.min(result.latenciesMs.length - 1, Math.floor(q * result.latenciesMs.length))] ?? 0;
      if (opts.json) {
        console.log(
          JSON.stringify({
            committed: result.committed,
            rejected: result.rejected,
            seconds: result.seconds,
            txPerSecond: result.txPerSecond,
            latencyP50Ms: p(0.5),
            latencyP99Ms: p(0.99),
          }),
        );
      } else {
        console.log(`committed ${result.committed} transactions in ${result.seconds.toFixed(2)} s (${result.txPerSecond.toFixed(0)} tx/s)`);
        if (result.rejected > 0) console.log(`${result.rejected} transactions were rejected`);
      }
      if (result.rejected > 0) throw new CliError(`${result.rejected} transactions were rejected`, 1);
    });

  program
    .command('bench-join')
    .description('time a fresh node catching up with a chain of many transactions: by block sync from genesis and by state sync')
    .option('--txs <n>', 'transactions in the chain built first', positiveInt('--txs'), 100_000)
    .option('--block-txs <n>', 'transactions per block of the chain built', positiveInt('--block-txs'), 1000)
    .option('--snapshot-interval <n>', 'the validator snapshots every n blocks', positiveInt('--snapshot-interval'), 50)
    .option('--out <dir>', 'scratch directory (the chain is deleted afterwards)', 'bench/results')
    .option('--base-port <port>', 'first port', positiveInt('--base-port'), 28650)
    .option('--json', 'print the result as JSON')
    .action(async (opts: { txs: number; blockTxs: number; snapshotInterval: number; out: string; basePort: number; json?: boolean }) => {
      await getPassphrase('passphrase for the bench keystores: ', { confirm: true });
      const result = await runJoinBench(
        {
          txs: opts.txs,
          blockTxs: opts.blockTxs,
          snapshotInterval: opts.snapshotInterval,
          outDir: resolve(opts.out),
          basePort: opts.basePort,
        },
        (line) => process.stderr.write(`${line}\n`),
      );
      console.log(opts.json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
    });

  program
    .command('bench')
    .description(
      'benchmark a fresh local network: committed tx/s, commit latency at a fixed rate, record write and read latency, proofs, claims adjudicated/s and submit-to-adjudicated latency, CPU and RSS per node',
    )
    .option('--validators <n>', 'validators', positiveInt('--validators'), 4)
    .option('--seconds <s>', 'seconds of saturating load', positiveInt('--seconds'), 20)
    .option('--rate <r>', 'offered tx/s for the latency run', positiveInt('--rate'), 500)
    .option('--latency-seconds <s>', 'seconds of the latency run', positiveInt('--latency-seconds'), 10)
    .option('--records <n>', 'records written (4 KiB each), then read twice as many times', positiveInt('--records'), 100)
    .option('--proof-rounds <n>', 'times each kind of state proof is fetched and checked', positiveInt('--proof-rounds'), 50)
    .option('--claim-seconds <s>', 'seconds of saturating claim load', positiveInt('--claim-seconds'), 10)
    .option('--claims <n>', 'claims signed for the saturating claim run', positiveInt('--claims'), 10_000)
    .option('--claim-rate <r>', 'offered claims/s for the claim latency run', positiveInt('--claim-rate'), 200)
    .option('--claim-latency-seconds <s>', 'seconds of the claim latency run', positiveInt('--claim-latency-seconds'), 5)
    .option(
      '--medicine-events <n>',
      'supply events per manufacturer (8 manufacturers) for the medicines throughput run; enough that the last block is a small part of the run',
      positiveInt('--medicine-events'),
      1_000,
    )
    .option(
      '--events-per-capture <n>',
      'EPCIS events per supply.capture transaction (1–100) in the medicines part, which measures events/s with one event per transaction and then with captures of this many',
      capturesSize,
      DEFAULT_EVENTS_PER_CAPTURE,
    )
    .option('--verifications <n>', 'product verifications timed in the medicines part', positiveInt('--verifications'), 200)
    .option('--out <dir>', 'where to write the JSON result', 'bench/results')
    .option('--base-port <port>', 'first port', positiveInt('--base-port'), 27650)
    .option('--only <parts>', `run only these parts, comma-separated: ${BENCH_PARTS.join(', ')} (default: all)`)
    .option('--profile <dir>', "write each validator's CPU profile (.cpuprofile) to this directory")
    .option(
      '--engine <engine>',
      "'embedded', 'cometbft' (needs scripts/install-cometbft.sh) or 'both', one after the other",
      benchEngine,
      'embedded',
    )
    .option('--json', 'print the result as JSON')
    .action(async (opts: BenchCliOptions) => {
      const log = (line: string) => (opts.json ? process.stderr.write(`${line}\n`) : console.log(line));
      if (opts.engine !== 'embedded') return benchBoth(opts, log);
      const result = await runBench(embeddedBenchOptions(opts), log);
      if (opts.json) console.log(JSON.stringify(result));
    });

  program
    .command('verify')
    .description("re-verify a stopped node's stored chain from genesis: links, roots, signatures, commits and an application replay")
    .requiredOption('--home <dir>', 'node home')
    .option(
      '--engine <engine>',
      "the engine the genesis must name: 'embedded' or 'cometbft' (the chain is always checked as the one its genesis names: docs/cometbft.md)",
      engineName,
    )
    .option('--rpc <url>', "for a chain whose genesis names CometBFT: CometBFT's RPC URL (default: the home's)")
    .option('--json', 'print the result as JSON')
    .action(async (opts: { home: string; engine?: Engine; rpc?: string; json?: boolean }) => {
      const home = resolve(opts.home);
      if (!existsSync(join(home, HOME_FILES.genesis)) && !existsSync(join(home, HOME_FILES.db)))
        throw new CliError(`no chain database or genesis in ${home}`, 2);
      // Verification needs only the genesis: no keys, so no passphrase.
      let genesis: Genesis;
      try {
        genesis = parseGenesis(JSON.parse(readFileSync(join(home, HOME_FILES.genesis), 'utf8')));
      } catch (err) {
        throw new CliError(`cannot read the genesis of ${home}: ${(err as Error).message}`, 2);
      }
      // The engine is fixed by genesis: a chain is never checked under the other engine's rules.
      const engine = genesisEngine(genesis);
      if (opts.engine !== undefined && opts.engine !== engine)
        throw new CliError(
          `ENGINE_MISMATCH: the genesis of ${home} names the ${engine} engine, not ${opts.engine}; its chain is verified as ${engine}'s`,
          EXIT.usage,
        );
      if (engine === 'cometbft') return verifyComet(home, genesis, opts);
      if (opts.rpc !== undefined) throw new CliError('--rpc is for a chain whose genesis names CometBFT', EXIT.usage);
      const dbPath = join(home, HOME_FILES.db);
      if (!existsSync(dbPath)) throw new CliError(`no chain database at ${dbPath}`, 2);
      // The node holds its database locked while it runs: say so, and what to do, rather than SQLite's "database is locked".
      const running = runningNodeOf(home);
      if (running !== undefined)
        throw new CliError(
          `NODE_RUNNING: a node is running on ${home} (process ${running.pid}, API ${running.api}); stop it, then verify its stored chain`,
          EXIT.failed,
        );
      if (databaseInUse(dbPath))
        throw new CliError(`NODE_RUNNING: ${dbPath} is locked by a running node; stop it, then verify its stored chain`, EXIT.failed);
      const store = openSqliteStore(dbPath, { readonly: true });
      try {
        const result = verifyStoredChain(genesis, store);
        if (opts.json) console.log(JSON.stringify(result));
        if (!result.ok) {
          throw new CliError(`verification failed at height ${result.height}: ${result.code}: ${result.reason}`, 1);
        }
        if (!opts.json) console.log(`verified ${result.blocks} blocks, ${result.txs} transactions`);
      } finally {
        store.close();
      }
    });
}
