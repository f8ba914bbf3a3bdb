// `medledger init --engine cometbft` and `medledger node --engine cometbft` (docs/cometbft.md):
// a CometBFT home beside each MedLedger home, and one node run from them: the application,
// the MedLedger API node over it, and CometBFT, supervised together. This is the one file
// besides index.ts that imports node.ts: it builds a whole node, as the CLI does.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { latestValidatorSet } from '@medledger/ehr';
import type { Genesis } from '@medledger/ledger';
import { SqliteAppState } from '@medledger/storage';
import { loadHome, type NodeHome, readKeystoreFile } from '../home.js';
import { MedLedgerNode, type NodeDeps } from '../node.js';
import { cometValidatorPublicKey, writeCometHome, writeCometValidatorKey } from './cometbft-home.js';
import { cometBftBinary } from './cometbft-process.js';
import type { EhrAbciApp } from './ehr-app.js';
import { CometRpc } from './rpc.js';
import { type CometValidator, type CometValidatorDeps, startCometValidator } from './validator.js';

/** The CometBFT home inside a MedLedger home, and the ports file MedLedger reads. */
export const COMET_HOME_DIR = 'cometbft';
const ENGINE_FILE = 'medledger-engine.json';
/** The application's state file under CometBFT (CometBFT keeps blocks in its own data/). */
export const COMET_APP_STATE = 'data/app.db';

/** Loopback ports of one validator's CometBFT, its ABCI socket, and the MedLedger vault's peer links. */
export interface CometPorts {
  p2p: number;
  rpc: number;
  abci: number;
  /** The vault's own p2p port (CometBFT takes the MedLedger p2p port); absent in older homes: no vault sync. */
  vault?: number;
}

/** The ports file: this validator's ports and the other validators' vault links. */
interface EngineFile extends CometPorts {
  vaultPeers?: Array<{ name: string; publicKey: string; url: string }>;
}

/**
 * Write `<home>/cometbft` for every home `initNetwork` wrote, from each home's node key
 * (decrypted with `passphrase`) and timeouts. Node i's CometBFT p2p takes its MedLedger p2p
 * port (unused with this engine) unless `ports` says otherwise.
 */
export function initCometHomes(homes: readonly string[], genesis: Genesis, opts: { passphrase: string; ports: CometPorts[] }): void {
  const loaded = homes.map((home) => ({ home, config: loadHome(home, opts.passphrase).config }));
  const keys = homes.map((home) => readKeystoreFile(join(home, 'node.key'), 'node key', opts.passphrase).signing);
  loaded.forEach(({ home, config }, i) => {
    const ports = opts.ports[i] as CometPorts;
    const dir = join(home, COMET_HOME_DIR);
    writeCometHome(genesis, {
      dir,
      moniker: config.name,
      key: keys[i] as { privateKey: string; publicKey: string },
      ports,
      peers: keys.flatMap((k, j) =>
        j === i ? [] : [{ publicKey: k.publicKey, host: '127.0.0.1', p2pPort: (opts.ports[j] as CometPorts).p2p }],
      ),
      consensus: config.consensus,
    });
    const vaultPeers = loaded.flatMap(({ config: other }, j) => {
      const port = (opts.ports[j] as CometPorts).vault;
      return j === i || port === undefined
        ? []
        : [{ name: other.name, publicKey: (keys[j] as { publicKey: string }).publicKey, url: `ws://127.0.0.1:${port}` }];
    });
    const file: EngineFile = { ...ports, ...(ports.vault === undefined ? {} : { vaultPeers }) };
    writeFileSync(join(dir, ENGINE_FILE), `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  });
}

/**
 * Ports for `n` validators from `basePort`: p2p as MedLedger's (base+2i+1), RPC and ABCI after
 * the API/p2p block (base+2n+2i, +1), then the vault's links (base+4n+i).
 */
export function defaultCometPorts(n: number, basePort: number): CometPorts[] {
  return Array.from({ length: n }, (_, i) => ({
    p2p: basePort + 2 * i + 1,
    rpc: basePort + 2 * n + 2 * i,
    abci: basePort + 2 * n + 2 * i + 1,
    vault: basePort + 4 * n + i,
  }));
}

/** How to run a node on CometBFT: `api: false` runs the validator alone (application and CometBFT). */
export interface CometNodeDeps extends Omit<CometValidatorDeps, 'attach'> {
  api?: boolean;
  /** Adjust the loaded home before the node is built (tests shorten timers). */
  tweakHome?: (home: NodeHome) => void;
  /** The MedLedger node's own effects (its logger, clock). */
  node?: Omit<NodeDeps, 'comet' | 'store'>;
}

/**
 * Run the node of `home` on CometBFT: the EHR application, the MedLedger node over it (API,
 * vault, gatekeeper, FHIR, emergency agent, web app) unless `deps.api` is false, the ABCI
 * server, then CometBFT supervised by it. Throws CometBftMissingError (naming
 * scripts/install-cometbft.sh) or an Error when the home has no CometBFT home (run init with
 * --engine cometbft).
 */
export async function startCometNode(
  home: string,
  passphrase: string,
  deps: CometNodeDeps,
): Promise<CometValidator & { name: string; rpcUrl: string; node: MedLedgerNode | undefined; apiUrl: string | undefined }> {
  const loaded = loadHome(home, passphrase);
  deps.tweakHome?.(loaded);
  const cometHome = join(home, COMET_HOME_DIR);
  const portsFile = join(cometHome, ENGINE_FILE);
  if (!existsSync(portsFile)) throw new Error(`${home} has no CometBFT home; write one with 'medledger init --engine cometbft'`);
  installRotatedKey(loaded, cometHome, join(home, COMET_APP_STATE), deps.log);
  const ports = JSON.parse(readFileSync(portsFile, 'utf8')) as EngineFile;
  const rpc = new CometRpc(`http://127.0.0.1:${ports.rpc}`);
  let node: MedLedgerNode | undefined;
  let apiUrl: string | undefined;
  const attach =
    deps.api === false
      ? undefined
      : async (abci: EhrAbciApp, appState: SqliteAppState) => {
          const built = new MedLedgerNode(loaded, {
            ...deps.node,
            comet: {
              abci,
              appState,
              rpc,
              ...(ports.vault === undefined
                ? {}
                : { vaultP2p: { listen: { host: '127.0.0.1', port: ports.vault }, peers: ports.vaultPeers ?? [] } }),
            },
          });
          apiUrl = await built.start();
          node = built;
          return { stop: () => built.stop() };
        };
  const { api: _api, tweakHome: _tweak, node: _node, ...validatorDeps } = deps;
  const validator = await startCometValidator(
    {
      genesis: loaded.genesis,
      statePath: join(home, COMET_APP_STATE),
      cometHome,
      abciPort: ports.abci,
      rpcPort: ports.rpc,
      binary: cometBftBinary(),
    },
    { ...validatorDeps, ...(attach === undefined ? {} : { attach }) },
  );
  return Object.assign(validator, { name: loaded.config.name, rpcUrl: `http://127.0.0.1:${ports.rpc}`, node, apiUrl });
}

/**
 * A validator whose key rotation passed (docs/governance.md "Rotating a validator key") keeps
 * its next key in `node.next.key`, as on the embedded engine. CometBFT signs with the key in
 * its own key file, which cannot change while it runs, so at this start: when the next key
 * is in the latest validator set governance decided (the application's committed state) and
 * the key CometBFT would sign with is not, CometBFT gets the next key. Between the decision
 * and the effective height (two blocks) that validator's votes then do not count; the others
 * carry on if more than 2/3 of the power remains.
 */
function installRotatedKey(home: NodeHome, cometHome: string, statePath: string, log: (line: string) => void): void {
  const next = home.nextKey?.signing;
  if (next === undefined || !existsSync(statePath)) return;
  const current = cometValidatorPublicKey(cometHome);
  if (current === next.publicKey) return;
  const state = new SqliteAppState(statePath);
  let latest: string[];
  try {
    latest = latestValidatorSet({ getState: (k) => state.getState(k) }).map((v) => v.publicKey);
  } finally {
    state.close();
  }
  if (!latest.includes(next.publicKey) || latest.includes(current)) return;
  writeCometValidatorKey(cometHome, next);
  log(`CometBFT now signs with the rotated validator key ${next.publicKey.slice(0, 16)}… (node.next.key)`);
}

/** The CometBFT RPC URL of the validator at `home` (from its ports file). Throws when the home has no CometBFT home. */
export function cometRpcUrl(home: string): string {
  const portsFile = join(home, COMET_HOME_DIR, ENGINE_FILE);
  if (!existsSync(portsFile)) throw new Error(`${home} has no CometBFT home; write one with 'medledger init --engine cometbft'`);
  return `http://127.0.0.1:${(JSON.parse(readFileSync(portsFile, 'utf8')) as CometPorts).rpc}`;
}
