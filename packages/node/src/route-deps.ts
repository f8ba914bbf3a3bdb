// What the HTTP routes (api.ts, the *-api.ts registrars, the FHIR endpoint) may use of the
// node: committed reads and proofs, the gatekeeper, the vault, transaction admission and
// lookup. MedLedgerNode implements it; the routes import this type, never node.ts, so
// the node and its routes no longer import each other.
import type { Identity, StateReader } from '@medledger/ehr';
import type { BlockHeader, Commit, Genesis, GenesisValidator, ProvenStateEntry } from '@medledger/ledger';
import type { NodeStore } from '@medledger/storage';
import type { CometProofHeaders } from './abci/comet-proof.js';
import type { BackupResult } from './backup.js';
import type { BlockProofs } from './block-proofs.js';
import type { Gatekeeper } from './gatekeeper.js';
import type { NodeHome } from './home.js';
import type { NodeMetrics } from './metrics.js';
import type { AccessTime, Log, Now, SubmitOwnTx, TxLookup } from './ports.js';
import type { HeaderEntry } from './synced-headers.js';
import type { Vault } from './vault.js';

/** The chain as routes read it: the tip, committed state with proofs, and stored blocks (chain.ts `Chain`). */
export interface RouteChain {
  readonly chainId: string;
  readonly genesis: Genesis;
  readonly height: number;
  readonly tipTime: number;
  readonly tipHeader: BlockHeader | null;
  readonly tipCommit: Commit | null;
  readonly stateRoot: string;
  readonly resultsRoot: string;
  readonly state: StateReader;
  /** Read-only store access: prefix scans (paging), stored blocks and the tx index. */
  readonly store: Pick<NodeStore, 'scanState' | 'getState' | 'loadBlock' | 'loadHeader' | 'findTx'>;
  proveState(key: string): ProvenStateEntry;
  readonly app: { readonly queries: { identity(id: string): Identity | undefined } };
  /** The set block `height` names as next when it differs from its own (chain.ts). */
  nextValidatorsOf(height: number): GenesisValidator[] | undefined;
  /** A header below a state-synced node's snapshot, kept from its walk (synced-headers.ts); the embedded engine only. */
  syncedHeader?(height: number): HeaderEntry | undefined;
}

/**
 * The routes' deps. Registrars take it as their `node` parameter (the name is kept so route
 * files stay easy to merge); it is this interface, not the node.
 */
export interface RouteDeps extends TxLookup {
  readonly chain: RouteChain;
  /** Which engine decides the blocks: proofs and block views differ (docs/cometbft.md). */
  readonly engineName: 'embedded' | 'cometbft';
  /**
   * Under CometBFT: the signed header that commits to the state after block `height`, whose
   * app hash is `appHash` (the header of `height + 1`), with its commit and the header before
   * it, from CometBFT's RPC (abci/comet-proof.ts); the returned height is `height`, or
   * `height - 1` when that state is the same. Throws ApiError.
   */
  cometProofHeaders?(height: number, appHash: string): Promise<CometProofHeaders & { height: number }>;
  /** Under CometBFT: `GET /v1/headers`' entries from `from` to `last`, CometBFT's signed headers (abci/comet-blocks.ts). */
  cometHeaders?(from: number, last: number): Promise<Array<Record<string, unknown>>>;
  /** Under CometBFT: block `height` as `caller` may see it, with CometBFT's signed header (abci/comet-blocks.ts). */
  cometBlock?(height: number, caller: Identity | undefined): Promise<Record<string, unknown>>;
  /** Committed blocks parsed and hashed once, for block views and inclusion proofs. */
  readonly blocks: Pick<BlockProofs, 'get'>;
  readonly gatekeeper: Gatekeeper;
  readonly vault: Pick<Vault, 'put' | 'getVerified' | 'maxObjectBytes' | 'quotasInForce'>;
  readonly home: NodeHome;
  /** The API's address, set once it listens (before any request). */
  readonly url: string;
  readonly now: Now;
  log: Log;
  accessTime: AccessTime;
  /** Admit a client's transaction (POST /v1/txs); throws ApiError. */
  submitTx(raw: unknown): { hash: string; status: 'pending' };
  submitOwn: SubmitOwnTx;
  status(): Record<string, unknown>;
  account(publicKey: string): Record<string, unknown>;
  /** The node's Prometheus metrics (ops-api.ts). */
  readonly metrics: NodeMetrics;
  /** Whether start() finished (and stop() has not begun), and the peers linked: readiness (ops-api.ts). */
  readonly running: boolean;
  peerCounts(): { connected: number; configured: number };
  /** Write an online backup of this node's home to `out` (backup-api.ts); throws BackupError. */
  backupTo(out: string): Promise<BackupResult>;
}
