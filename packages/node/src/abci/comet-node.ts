// `medledger init --engine cometbft` and `medledger node --engine cometbft` (docs/cometbft.md):
// a CometBFT home beside each MedLedger home, and one validator run from them, the
// application and CometBFT supervised together.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Genesis } from '@medledger/ledger';
import { loadHome, readKeystoreFile } from '../home.js';
import { writeCometHome } from './cometbft-home.js';
import { cometBftBinary } from './cometbft-process.js';
import { type CometValidator, type CometValidatorDeps, startCometValidator } from './validator.js';

/** The CometBFT home inside a MedLedger home, and the ports file MedLedger reads. */
export const COMET_HOME_DIR = 'cometbft';
const ENGINE_FILE = 'medledger-engine.json';
/** The application's state file under CometBFT (CometBFT keeps blocks in its own data/). */
export const COMET_APP_STATE = 'data/app.db';

/** Loopback ports of one validator's CometBFT and its ABCI socket. */
export interface CometPorts {
  p2p: number;
  rpc: number;
  abci: number;
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
    writeFileSync(join(dir, ENGINE_FILE), `${JSON.stringify(ports, null, 2)}\n`, { mode: 0o600 });
  });
}

/** Ports for `n` validators from `basePort`: p2p as MedLedger's (base+2i+1), RPC and ABCI after the API/p2p block. */
export function defaultCometPorts(n: number, basePort: number): CometPorts[] {
  return Array.from({ length: n }, (_, i) => ({
    p2p: basePort + 2 * i + 1,
    rpc: basePort + 2 * n + 2 * i,
    abci: basePort + 2 * n + 2 * i + 1,
  }));
}

/**
 * Run the validator of `home` on CometBFT: the EHR application's ABCI server, then CometBFT
 * supervised by it. Throws CometBftMissingError (naming scripts/install-cometbft.sh) or an
 * Error when the home has no CometBFT home (run init with --engine cometbft).
 */
export async function startCometNode(
  home: string,
  passphrase: string,
  deps: CometValidatorDeps,
): Promise<CometValidator & { name: string; rpcUrl: string }> {
  const loaded = loadHome(home, passphrase);
  const cometHome = join(home, COMET_HOME_DIR);
  const portsFile = join(cometHome, ENGINE_FILE);
  if (!existsSync(portsFile)) throw new Error(`${home} has no CometBFT home; write one with 'medledger init --engine cometbft'`);
  const ports = JSON.parse(readFileSync(portsFile, 'utf8')) as CometPorts;
  const validator = await startCometValidator(
    {
      genesis: loaded.genesis,
      statePath: join(home, COMET_APP_STATE),
      cometHome,
      abciPort: ports.abci,
      rpcPort: ports.rpc,
      binary: cometBftBinary(),
    },
    deps,
  );
  return Object.assign(validator, { name: loaded.config.name, rpcUrl: `http://127.0.0.1:${ports.rpc}` });
}

/** The CometBFT RPC URL of the validator at `home` (from its ports file). Throws when the home has no CometBFT home. */
export function cometRpcUrl(home: string): string {
  const portsFile = join(home, COMET_HOME_DIR, ENGINE_FILE);
  if (!existsSync(portsFile)) throw new Error(`${home} has no CometBFT home; write one with 'medledger init --engine cometbft'`);
  return `http://127.0.0.1:${(JSON.parse(readFileSync(portsFile, 'utf8')) as CometPorts).rpc}`;
}
