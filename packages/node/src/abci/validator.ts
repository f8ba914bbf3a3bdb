// One MedLedger validator on CometBFT (docs/cometbft.md): the ABCI server with the EHR
// application over its own state file, and the CometBFT process it supervises. If CometBFT
// dies the application stops too, and the caller is told, so the pair never runs half.
import type { Genesis } from '@medledger/ledger';
import { SqliteAppState } from '@medledger/storage';
import { type CometBftProcess, startCometBft } from './cometbft-process.js';
import { type AbciCommittedBlock, EhrAbciApp } from './ehr-app.js';
import { abciHandler } from './handler.js';
import { CometRpc } from './rpc.js';
import { AbciServer } from './server.js';

export interface CometValidatorOpts {
  genesis: Genesis;
  /** The application's state file (SqliteAppState). */
  statePath: string;
  /** The CometBFT home written by writeCometHome, and the ports it was written with. */
  cometHome: string;
  abciPort: number;
  rpcPort: number;
  binary: string;
}

export interface CometValidatorDeps {
  log: (line: string) => void;
  onCommit?: (block: AbciCommittedBlock) => void;
  /** CometBFT exited on its own; the application has been stopped. */
  onExit?: (why: string) => void;
  /**
   * Called once the application is open and before CometBFT starts (so before it replays or
   * decides any block): the MedLedger node attaches its commit listeners and starts its API
   * here. Its `stop` runs after CometBFT and the ABCI server stopped, before the state file closes.
   */
  attach?: (app: EhrAbciApp, store: SqliteAppState) => Promise<{ stop(): Promise<void> }>;
}

/** A running validator pair. */
export interface CometValidator {
  app: EhrAbciApp;
  rpc: CometRpc;
  comet: CometBftProcess;
  /** Stop CometBFT first (so it sends nothing more), then the ABCI server and the store. */
  stop(): Promise<void>;
}

export async function startCometValidator(opts: CometValidatorOpts, deps: CometValidatorDeps): Promise<CometValidator> {
  const store = new SqliteAppState(opts.statePath);
  let app: EhrAbciApp;
  try {
    app = new EhrAbciApp(opts.genesis, { store, ...(deps.onCommit === undefined ? {} : { onCommit: deps.onCommit }) });
  } catch (err) {
    store.close();
    throw err;
  }
  let attached: { stop(): Promise<void> } | undefined;
  try {
    attached = await deps.attach?.(app, store);
  } catch (err) {
    store.close();
    throw err;
  }
  const server = new AbciServer({ listen: { host: '127.0.0.1', port: opts.abciPort } }, { handler: abciHandler(app), log: deps.log });
  try {
    await server.start();
  } catch (err) {
    await attached?.stop();
    store.close();
    throw err;
  }
  // One shutdown, whoever starts it; stop() resolves only once the store is closed, so a
  // restart never finds the state file still held.
  let stopping: Promise<void> | undefined;
  const stopApp = async () => {
    await server.stop();
    await attached?.stop();
    store.close();
  };
  const comet = startCometBft({ binary: opts.binary, home: opts.cometHome }, (code, signal) => {
    if (stopping !== undefined) return;
    const why = `CometBFT exited (${signal ?? `code ${code}`}); stopping the application`;
    deps.log(why);
    stopping = stopApp().then(() => deps.onExit?.(why));
  });
  return {
    app,
    rpc: new CometRpc(`http://127.0.0.1:${opts.rpcPort}`),
    comet,
    stop: () => {
      stopping ??= comet.stop().then(stopApp);
      return stopping;
    },
  };
}
