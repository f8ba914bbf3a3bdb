// `medledger start`: a local network of validator processes on loopback, each a
// `medledger node` child with its own home, stopped together on Ctrl-C.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { genesisEngine, parseGenesis } from '@medledger/ledger';
import {
  COMET_HOME_DIR,
  defaultCometPorts,
  HOME_FILES,
  initCometHomes,
  initNetwork,
  type OrgKeyFile,
  PASSPHRASE_ENV,
} from '@medledger/node';

import { CliError, EXIT } from './exit-codes.js';

const BIN = fileURLToPath(new URL('../bin/medledger.js', import.meta.url));

export interface RunningNode {
  name: string;
  home: string;
  url: string;
  child: ChildProcess;
}

/**
 * Homes under `dataDir` (node0, node1, …), writing a fresh network when there are none
 * (with `organizations` as the founding organizations, when given; keystores encrypted
 * with MEDLEDGER_PASSPHRASE; with a CometBFT home in each when `engine` is 'cometbft').
 * `orgKeys` is empty for an existing network, whose engine is the one its homes were written for.
 */
export function ensureHomes(
  dataDir: string,
  validators: number,
  basePort: number,
  organizations?: Array<{ name: string; kind: string }>,
  engine: 'embedded' | 'cometbft' = 'embedded',
): { homes: string[]; created: boolean; orgKeys: OrgKeyFile[]; engine: 'embedded' | 'cometbft' } {
  const existing: string[] = [];
  for (let i = 0; existsSync(join(dataDir, `node${i}`, HOME_FILES.genesis)); i++) existing.push(join(dataDir, `node${i}`));
  if (existing.length > 0) {
    const first = existing[0] as string;
    // The engine is the one the network's genesis names (absent: embedded).
    const named = genesisEngine(parseGenesis(JSON.parse(readFileSync(join(first, HOME_FILES.genesis), 'utf8'))));
    if (named === 'embedded' && existsSync(join(first, COMET_HOME_DIR)))
      throw new CliError(
        `the network in ${dataDir} was made for CometBFT before the genesis named its engine, so its genesis now means the embedded engine: remove ${dataDir} and start again (docs/cometbft.md "The engine is fixed by genesis")`,
        EXIT.usage,
      );
    return { homes: existing, created: false, orgKeys: [], engine: named };
  }
  mkdirSync(dataDir, { recursive: true });
  const { homes, orgKeys, genesis } = initNetwork({
    validators,
    out: dataDir,
    basePort,
    engine,
    ...(organizations === undefined ? {} : { organizations }),
  });
  if (engine === 'cometbft')
    initCometHomes(homes, genesis, { passphrase: process.env[PASSPHRASE_ENV] ?? '', ports: defaultCometPorts(homes.length, basePort) });
  // Each node is its organization's system: it re-seals hospital-wide shares to the
  // organization's staff (docs/records.md "Hospital-wide shares").
  for (const home of homes) {
    if (!existsSync(join(home, HOME_FILES.orgKey))) continue;
    const file = join(home, HOME_FILES.config);
    writeFileSync(file, `${JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), reseal: {} }, null, 2)}\n`);
  }
  return { homes, created: true, orgKeys, engine };
}

/**
 * Start one `medledger node` process for `home`, its log appended to `home/node.log`.
 * `runtimeArgs` go to Node itself (e.g. `--cpu-prof`). Resolves with its API URL once it
 * prints it; rejects if it exits first.
 */
export function startNodeProcess(home: string, extraArgs: string[] = [], runtimeArgs: string[] = []): Promise<RunningNode> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...runtimeArgs, BIN, 'node', '--home', home, ...extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(join(home, 'node.log'), { flags: 'a', mode: 0o600 });
    child.stderr?.pipe(log);
    let buffered = '';
    let settled = false;
    child.stdout?.on('data', (chunk: Buffer) => {
      log.write(chunk);
      if (settled) return;
      buffered += String(chunk);
      const m = /node (\S+) API: (\S+)/.exec(buffered);
      if (m !== null) {
        settled = true;
        resolve({ name: m[1] as string, home, url: m[2] as string, child });
      }
    });
    // 'close' comes after the child's output is drained, so the log is complete.
    child.once('close', (code) => {
      if (!settled) {
        settled = true;
        // Wait for the log to flush, then quote its end: tests delete the home afterwards.
        log.end(() => {
          let tail = '';
          try {
            tail = readFileSync(join(home, 'node.log'), 'utf8').trim().split('\n').slice(-8).join('\n');
          } catch {}
          reject(
            new Error(`node at ${home} exited with code ${code} before serving; see ${join(home, 'node.log')}${tail ? `:\n${tail}` : ''}`),
          );
        });
      }
    });
  });
}

/** Stop node processes with SIGTERM, escalating to SIGKILL after `graceMs`. */
export async function stopNodes(nodes: RunningNode[], graceMs = 5_000): Promise<void> {
  await Promise.all(
    nodes.map(
      (n) =>
        new Promise<void>((resolve) => {
          if (n.child.exitCode !== null || n.child.signalCode !== null) return resolve();
          const timer = setTimeout(() => n.child.kill('SIGKILL'), graceMs);
          n.child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          n.child.kill('SIGTERM');
        }),
    ),
  );
}
