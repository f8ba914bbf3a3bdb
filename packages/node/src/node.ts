// One MedLedger node, wiring only (docs/architecture.md): it builds the store, the chain and
// its application, admission, the consensus engine, the vault, the gatekeeper, the emergency
// agent and the HTTP API, and connects them through narrow ports (ports.ts). The engine is
// the embedded Tendermint one, or CometBFT (deps.comet): then the application is the one
// CometBFT drives over ABCI in this process, and transactions go to CometBFT's RPC.

import { join } from 'node:path';
import { idFromPublicKey } from '@medledger/crypto';
import { type Identity, identityOfKey, latestValidatorSet, objectEffects, objectSizeOnChain, vaultQuotaParams } from '@medledger/ehr';
import type { SignedTx } from '@medledger/ledger';
import { type NodeStore, openSqliteStore, type SqliteAppState } from '@medledger/storage';
import type { FastifyInstance } from 'fastify';
import { cometBlockView, cometHeadersPage } from './abci/comet-blocks.js';
import { CometChain, cometNodeStore } from './abci/comet-chain.js';
import { CometEngine, DEFAULT_COMET_ENGINE_OPTIONS } from './abci/comet-engine.js';
import { type CometProofHeaders, cometProofHeaders } from './abci/comet-proof.js';
import { CometRecentBlocks } from './abci/comet-recent-blocks.js';
import type { EhrAbciApp } from './abci/ehr-app.js';
import type { CometRpc } from './abci/rpc.js';
import { AccessQueue } from './access-queue.js';
import { Admission, maxTxBytesFor } from './admission.js';
import { apiOptionsOf, buildApi } from './api.js';
import { type BackupResult, snapshotHome } from './backup.js';
import { BlockProofs } from './block-proofs.js';
import { Chain } from './chain.js';
import { DEFAULT_EMERGENCY_AGENT_CONFIG, EmergencyAgent } from './emergency-agent.js';
import type { Engine } from './engine.js';
import { requireGenesisEngine } from './engine-check.js';
import { DEFAULT_TARGET_BLOCK_MS, ExecutionPace } from './execution-pace.js';
import { DEFAULT_SESSION_CONFIG, Gatekeeper } from './gatekeeper.js';
import { HEADERS_PAGE, headersPage } from './headers-page.js';
import { DEFAULT_VAULT_CONFIG, type NodeHome, readPeerTls } from './home.js';
import { removeNodeLock, writeNodeLock } from './home-lock.js';
import { Mempool } from './mempool.js';
import { evidenceBody, type SignedProposal, type SignedVote } from './messages.js';
import { NodeMetrics } from './metrics.js';
import type { NodeChain } from './node-chain.js';
import { resealerFromConfig } from './org-reseal.js';
import { ownTxSubmitter } from './own-tx.js';
import { P2P } from './p2p.js';
import { checkPeerList } from './p2p-tls.js';
import type { CommittedView, LogLevel, SubmitOwnTx } from './ports.js';
import { ReshareAgent } from './reshare-agent.js';
import type { RouteDeps } from './route-deps.js';
import { DEFAULT_SNAPSHOT_CONFIG, SnapshotStore } from './snapshots.js';
import { DEFAULT_STATE_SYNC_OPTIONS, StateSync } from './state-sync.js';
import { type EvidenceOutput, TendermintEngine } from './tendermint.js';
import { Vault } from './vault.js';

/** Injected effects, so tests control time and output. */
export interface NodeDeps {
  now?: () => number;
  logger?: (level: LogLevel, message: string) => void;
  store?: NodeStore;
  /** Run on CometBFT instead of the embedded engine (docs/cometbft.md). */
  comet?: CometWiring;
}

/** What a node on CometBFT is built from: the ABCI application in this process and CometBFT's RPC. */
export interface CometWiring {
  /** The ABCI adapter CometBFT drives; its EhrApplication is the node's application. */
  abci: EhrAbciApp;
  /** The application's state file (chain state and tx index). */
  appState: SqliteAppState;
  /** CometBFT's RPC on loopback: transactions go in here, headers and commits come out. */
  rpc: CometRpc;
  /** The vault's own peer links (CometBFT holds the MedLedger p2p port); none: no vault sync. */
  vaultP2p?: { listen: { host: string; port: number }; peers: Array<{ name: string; publicKey: string; url: string }> };
}

export class MedLedgerNode implements RouteDeps {
  readonly chain: NodeChain;
  readonly mempool: Mempool;
  /** Every transaction enters the mempool here; tx status by hash. */
  readonly admission: Admission;
  /** Recent committed blocks, parsed and hashed once for the read routes' proofs. */
  readonly blocks: BlockProofs;
  readonly now: () => number;
  private readonly logger: (level: LogLevel, message: string) => void;
  /** How blocks are decided: the embedded engine or CometBFT's (engine.ts). */
  readonly driver: Engine & { readonly isRunning: boolean };
  /** The embedded engine, undefined on CometBFT. */
  private readonly tendermint: TendermintEngine | undefined;
  /** CometBFT's RPC and the ABCI adapter when on CometBFT. */
  readonly comet: CometWiring | undefined;
  readonly engineName: 'embedded' | 'cometbft';
  private readonly recentComet: CometRecentBlocks | undefined;
  /** The authenticated peer links; their messages are routed by `routePeerMessage`. */
  readonly p2p: P2P;
  readonly vault: Vault;
  readonly gatekeeper: Gatekeeper;
  readonly emergency: EmergencyAgent;
  /** Re-shares emergency keys to the current validator set after a change (docs/emergency.md). */
  readonly reshare: ReshareAgent;
  /** Committed state for subsystems: read-only, with prefix scans. */
  readonly view: CommittedView;
  /** The one way this node's own transactions (and its FHIR agent's) are signed and admitted. */
  readonly submitOwn: SubmitOwnTx;
  readonly metrics: NodeMetrics;
  /** This node's measured block execution speed, which paces the embedded engine's proposals (execution-pace.ts). */
  private readonly pace = new ExecutionPace({ targetBlockMs: DEFAULT_TARGET_BLOCK_MS });
  /** The state snapshots this node makes and serves to joining nodes (embedded engine only). */
  readonly snapshots: SnapshotStore | undefined;
  /** Set while this node joins by state sync (before its engine starts). */
  private stateSync: StateSync | undefined;
  /** True between a finished start() and stop() (readiness). */
  running = false;
  private api: FastifyInstance | undefined;
  private apiUrl = '';

  /**
   * The time reads, grants and emergency windows are judged at: the later of the latest
   * block's time and this node's clock. A slow clock cannot stretch a grant past the chain's
   * time, a fast one only ends grants early, and an idle chain's old block time does not keep
   * an expired grant alive (docs/records.md "Consent").
   */
  accessTime(): number {
    return Math.max(this.chain.tipTime, this.now());
  }

  constructor(
    readonly home: NodeHome,
    deps: NodeDeps = {},
  ) {
    this.now = deps.now ?? Date.now;
    this.logger =
      deps.logger ?? ((level, message) => process.stderr.write(`${new Date().toISOString()} ${level} [${home.config.name}] ${message}\n`));
    // A peer list or TLS files that cannot work are refused before the database is opened (and locked).
    checkPeerList(home.config.peers, home.config.p2p.tls !== undefined);
    const peerTls = readPeerTls(home);
    this.comet = deps.comet;
    this.engineName = deps.comet === undefined ? 'embedded' : 'cometbft';
    // The engine is fixed by genesis: refused before the database is opened (and locked).
    requireGenesisEngine(home.genesis, this.engineName);
    const nodeDb = deps.store ?? openSqliteStore(home.dbPath);
    const comet = deps.comet;
    let embedded: Chain | undefined;
    if (comet === undefined) {
      embedded = new Chain(home.genesis, nodeDb);
      this.chain = embedded;
    } else {
      const application = comet.abci.application;
      this.chain = new CometChain(home.genesis, {
        application,
        store: cometNodeStore(nodeDb, comet.appState, () => application.info().height),
        lastBlockHash: () => comet.abci.lastBlockHash,
      });
    }
    const store = this.chain.store;
    this.blocks = new BlockProofs({ capacity: 8 }, { loadBlock: (height) => store.loadBlock(height) });
    this.mempool = new Mempool(home.config.mempool);
    const log = (level: LogLevel, message: string) => this.log(level, message);
    const { genesis, chainId } = this.chain;
    this.p2p = new P2P(
      {
        chainId,
        key: home.key.signing,
        listen: comet === undefined ? home.config.p2p : (comet.vaultP2p?.listen ?? { host: '127.0.0.1', port: 0 }),
        peers: comet === undefined ? home.config.peers : (comet.vaultP2p?.peers ?? []),
        // Under CometBFT these are the vault's own links, between the genesis validators.
        allowed: comet === undefined ? { has: (key: string) => this.mayPeer(key) } : new Set(genesis.validators.map((v) => v.publicKey)),
        log,
        ...(home.config.peerBudget === undefined ? {} : { budget: home.config.peerBudget }),
        ...(peerTls === undefined ? {} : { tls: peerTls }),
      },
      { onMessage: (peer, msg) => this.routePeerMessage(peer, msg), onConnect: (peer) => this.tendermint?.onConnect(peer) },
    );
    this.tendermint = embedded === undefined ? undefined : this.embeddedEngine(embedded, nodeDb, log);
    this.driver =
      this.tendermint ??
      new CometEngine(DEFAULT_COMET_ENGINE_OPTIONS, {
        broadcast: (tx) => (comet as CometWiring).rpc.broadcastTxSync(tx),
        onRefused: (hash, code, reason) => this.admission.dropRefused(hash, { code, log: reason }),
        log,
      });
    this.vault = new Vault(
      { ...DEFAULT_VAULT_CONFIG, ...home.config.vault },
      {
        store,
        now: this.now,
        log,
        peers: this.p2p,
        sizeOnChain: (hash) => objectSizeOnChain(this.chain.state, hash),
        chainQuotas: () => vaultQuotaParams(this.chain.state),
      },
    );
    this.metrics = new NodeMetrics({
      height: () => this.chain.height,
      round: () => this.tendermint?.round,
      peers: () => this.peerCounts(),
      mempool: () => ({ txs: this.mempool.size, bytes: this.mempool.bytes }),
      vault: () => store.vaultTotals(),
      // Read at scrape time; the agent is made below.
      reshare: () => this.reshare.status(),
    });
    this.chain.app.observeExecution = (ms, txs) => {
      this.metrics.observeAppExecution(ms);
      this.pace.observe(ms, txs);
    };
    const chain = this.chain;
    // Under CometBFT the blocks are CometBFT's; the node keeps recent ones' transactions for proofs.
    const recent = comet === undefined ? undefined : new CometRecentBlocks({ capacity: 256 });
    this.recentComet = recent;
    if (recent !== undefined && comet !== undefined)
      chain.app.onCommitted(({ height, txs }) => recent.add(height, comet.abci.lastBlockHash, txs));
    this.admission = new Admission(
      { chainId: chain.chainId, maxTxBytes: maxTxBytesFor(chain.genesis.params.maxBlockBytes) },
      {
        // On CometBFT, admission checks through the ABCI adapter, so that CometBFT's CheckTx
        // of the same bytes (broadcast next) answers alike instead of checking them twice.
        app:
          comet === undefined
            ? chain.app
            : {
                checkTx: (tx, extra) => comet.abci.admitLocal(tx, extra),
                // CometBFT gossips transactions itself; no peer relays reach admission.
                checkRelayedTx: (tx) => comet.abci.admitLocal(tx),
                recheckTx: (tx) => comet.abci.admitLocal(tx),
              },
        mempool: this.mempool,
        state: chain.state,
        checkNamed: (signerId, named) => this.vault.checkNamed(signerId, named),
        txIndex: store,
        blocks: recent ?? this.blocks,
        onAdmitted: (tx) => this.driver.onTx(tx),
        onRefused: (code) => this.metrics.countRejected(code),
      },
    );
    this.view = {
      chainId: chain.chainId,
      genesis: chain.genesis,
      state: chain.state,
      height: () => chain.app.info().height,
      tipTime: () => chain.app.lastBlockTime,
      scanState: (prefix, opts) => store.scanState(prefix, opts),
    };
    this.submitOwn = ownTxSubmitter(
      { chainId: chain.chainId, nodeKey: () => this.transactionKey() },
      { pendingNonce: (signer) => chain.app.pendingNonce(signer), admit: (tx) => this.admit(tx) },
    );
    const nodeId = idFromPublicKey(this.publicKey);
    const isPending = (hash: string) => this.admission.isPending(hash);
    const now = this.now;
    const resealer = resealerFromConfig(home.config.reseal, home.dir);
    this.gatekeeper = new Gatekeeper(
      { ...DEFAULT_SESSION_CONFIG, ...home.config.sessions, chainId: chain.chainId, nodePublicKey: this.publicKey },
      {
        state: chain.state,
        now,
        accessTime: () => this.accessTime(),
        getVerified: (hash) => this.vault.getVerified(hash),
        events: new AccessQueue({ nodeId }, { state: chain.state, outbox: store, submitOwn: this.submitOwn, isPending, now, log }),
        ...(resealer === undefined ? {} : { resealer }),
        eventKey: () => this.transactionKey().publicKey,
      },
    );
    this.emergency = new EmergencyAgent(
      {
        ...DEFAULT_EMERGENCY_AGENT_CONFIG,
        ...home.config.emergency,
        nodeId,
        encryptionPrivateKey: home.key.encryption.privateKey,
        ...(home.nextKey === undefined ? {} : { nextEncryptionPrivateKey: home.nextKey.encryption.privateKey }),
      },
      { view: this.view, submitOwn: this.submitOwn, isPending, log },
    );
    this.reshare = new ReshareAgent(
      {
        nodeId,
        encryptionPrivateKeys: [
          home.key.encryption.privateKey,
          ...(home.nextKey === undefined ? [] : [home.nextKey.encryption.privateKey]),
        ],
      },
      { view: this.view, submitOwn: this.submitOwn, isPending, log },
    );
    // After each block is stored, in this order: the vault keeps, fetches or deletes the
    // objects its writes claimed or released; the mempool drops and re-checks; the
    // emergency agent answers the windows it opened.
    chain.app.onCommitted(({ writes }) => {
      const effects = objectEffects(writes);
      if (effects.anchored.length > 0 || effects.released.length > 0) this.vault.onCommitted(effects.anchored, effects.released);
    });
    chain.app.onCommitted((committed) => this.admission.onCommitted(committed));
    // Under CometBFT this runs inside ABCI Commit; the agent's shares are posted on a later
    // tick so that nothing in Commit waits on them (docs/cometbft.md).
    if (comet === undefined) chain.app.onCommitted(({ txs }) => this.emergency.onCommitted(txs));
    else chain.app.onCommitted(({ txs }) => setImmediate(() => this.emergency.onCommitted(txs)));
    // Re-sharing only schedules its batch here; the sealing runs on a later tick.
    chain.app.onCommitted(() => this.reshare.onCommitted());
    // State snapshots for joining nodes, on the embedded engine (CometBFT has its own state sync).
    this.snapshots =
      comet === undefined
        ? new SnapshotStore(
            { ...DEFAULT_SNAPSHOT_CONFIG, ...home.config.snapshots, dir: join(home.dir, 'snapshots') },
            { scanState: (prefix) => store.scanState(prefix), loadBlock: (h) => store.loadBlock(h), net: this.p2p, log },
          )
        : undefined;
    const snapshots = this.snapshots;
    if (snapshots !== undefined) chain.app.onCommitted(({ height }) => void snapshots.onCommitted(height));
    // A validator removed by vote loses its peer links once its removal takes effect.
    if (comet === undefined)
      chain.app.onCommitted(() => {
        for (const peer of this.p2p.connectedPeers()) {
          if (this.mayPeer(peer)) continue;
          this.log('info', `closing the peer link of ${this.p2p.nameOf(peer)}: it is no longer a validator`);
          this.p2p.disconnect(peer);
        }
      });
  }

  /** The embedded Tendermint engine over `chain` (tendermint.ts). */
  private embeddedEngine(chain: Chain, meta: NodeStore, log: (level: LogLevel, message: string) => void): TendermintEngine {
    const { chainId, genesis } = chain;
    const home = this.home;
    return new TendermintEngine(
      {
        chainId,
        key: home.key.signing,
        ...(home.nextKey === undefined ? {} : { nextKey: home.nextKey.signing }),
        maxBlockTxs: genesis.params.maxBlockTxs,
        maxBlockBytes: genesis.params.maxBlockBytes,
        consensus: home.config.consensus,
      },
      {
        chain,
        commitDecided: (block, commit) => {
          chain.commitBlock(block, commit);
          this.metrics.observeCommit(this.now() - block.header.time);
        },
        blockLimits: () => chain.blockLimits(),
        pace: this.pace,
        mempool: this.mempool,
        meta,
        net: this.p2p,
        onEvidence: (ev) => this.reportEquivocation(ev),
        now: this.now,
        log,
      },
    );
  }

  /** The embedded engine (consensus state, the future-message buffer). Throws on a node run on CometBFT. */
  get engine(): TendermintEngine {
    if (this.tendermint === undefined) throw new Error('this node runs on CometBFT; it has no embedded engine');
    return this.tendermint;
  }

  /**
   * Who may open a peer link: a validator of the next height or of the newest set governance
   * decided (so an added validator can sync before its effective height), by its key or, for a
   * validator whose key was rotated by vote, by its original key (its identity id), which stays
   * its peer identity until its operator moves node.next.key to node.key. A removed validator
   * is refused from its next handshake on.
   */
  private mayPeer(key: string): boolean {
    // A full node the operator listed (a joining organization's, docs/deploy.md "Joining").
    if (this.home.config.peers.some((p) => p.fullNode === true && p.publicKey === key)) return true;
    if (this.chain.validatorsFor(this.chain.height + 1).some((v) => v.publicKey === key)) return true;
    const id = idFromPublicKey(key);
    return latestValidatorSet(this.chain.state).some((v) => v.publicKey === key || v.id === id);
  }

  /**
   * The key this node signs its own transactions with: `node.next.key` once a rotation by vote
   * made it the validator identity's key (the old key then signs nothing), else `node.key`.
   */
  private transactionKey() {
    const next = this.home.nextKey?.signing;
    return next !== undefined && identityOfKey(this.chain.state, next.publicKey) !== undefined ? next : this.home.key.signing;
  }

  /** This node's validator/node public key. */
  get publicKey(): string {
    return this.home.key.signing.publicKey;
  }

  log(level: LogLevel, message: string): void {
    this.logger(level, message);
  }

  /**
   * Check the stored chain, then serve the API and start producing blocks. Refuses to
   * start (throws) on a corrupt store, with a message that says how to resync.
   */
  async start(): Promise<string> {
    try {
      this.chain.checkStoredChain();
    } catch (err) {
      this.chain.store.close();
      throw new Error(
        `${(err as Error).message}. This node's data cannot be trusted: stop it, move ${this.home.dbPath} aside, and start the node again to resync the chain from its peers (or restore a backup).`,
      );
    }
    await this.p2p.start();
    try {
      // A joining node with no block yet fetches a proven snapshot first (docs/deploy.md
      // "Joining"); its API opens once that state is installed, so nothing is served from genesis state.
      if (this.home.config.stateSync?.enabled === true && this.chain instanceof Chain && this.chain.height === 0)
        await this.joinByStateSync(this.chain);
      this.api = await buildApi(this, apiOptionsOf(this.home));
      this.apiUrl = await this.api.listen({ host: this.home.config.api.host, port: this.home.config.api.port });
    } catch (err) {
      // A node that cannot open its API (bad config, port taken) must not stay half-up with
      // its peer port open and its database locked.
      this.p2p.stop();
      await this.api?.close().catch(() => undefined);
      this.api = undefined;
      this.chain.store.close();
      throw err;
    }
    this.driver.start();
    this.vault.start();
    this.gatekeeper.start();
    this.emergency.onStart();
    this.reshare.onCommitted();
    this.running = true;
    writeNodeLock(this.home.dir, { pid: process.pid, api: this.apiUrl, startedAt: this.now() });
    this.log('info', `serving API at ${this.apiUrl}, chain ${this.chain.chainId} at height ${this.chain.height}`);
    return this.apiUrl;
  }

  /** Fetch, check and install a snapshot from the peers (state-sync.ts); with none, block sync from genesis follows. */
  private async joinByStateSync(chain: Chain): Promise<void> {
    const started = this.now();
    const sync = new StateSync(
      {
        ...DEFAULT_STATE_SYNC_OPTIONS,
        ...(this.home.config.stateSync?.discoverMs === undefined ? {} : { discoverMs: this.home.config.stateSync.discoverMs }),
        genesis: this.chain.genesis,
        peerOrder: this.home.config.peers.map((p) => p.publicKey),
      },
      {
        net: this.p2p,
        log: (level, message) => this.log(level, message),
        now: this.now,
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      },
    );
    this.stateSync = sync;
    try {
      const synced = await sync.run();
      if (synced === undefined) return;
      const { batch } = synced;
      chain.installSnapshot(batch, synced.validators, synced.headers);
      // The vault wants every object the snapshot's records name; vault sync fetches them.
      this.vault.onCommitted(objectEffects(batch.writes).anchored, []);
      this.log(
        'info',
        `state sync: installed the snapshot at height ${this.chain.height} (${batch.writes.length} keys) in ${this.now() - started} ms; block sync continues from there`,
      );
    } finally {
      this.stateSync = undefined;
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.driver.stop();
    this.p2p.stop();
    this.gatekeeper.stop();
    this.reshare.stop();
    this.vault.stop();
    await this.api?.close();
    this.chain.store.close();
    removeNodeLock(this.home.dir);
  }

  /** Peers in this node's config, and how many are connected now. */
  peerCounts(): { connected: number; configured: number } {
    const peers = this.p2p.peers();
    return { connected: peers.filter((p) => p.connected).length, configured: peers.length };
  }

  /** An online backup of this node's home, taken by its own (locking) database connection (backup.ts). */
  backupTo(out: string): Promise<BackupResult> {
    return snapshotHome(this.home.dir, this.chain.store, out);
  }

  get url(): string {
    return this.apiUrl;
  }

  /** Admit a client's transaction (Admission.submitTx). Throws ApiError; nothing is kept on failure. */
  submitTx(raw: unknown): { hash: string; status: 'pending' } {
    return this.admission.submitTx(raw);
  }

  /**
   * Every peer message enters here and goes to the one subsystem it is for: gossiped
   * transactions to admission, sync and consensus messages to the engine, vault objects to
   * the vault. Nothing is read before the engine starts or after it stops, except the
   * answers a joining node awaits while it state-syncs (before its engine starts).
   */
  private routePeerMessage(peer: string, msg: Record<string, unknown>): void {
    switch (msg.type) {
      case 'snapshots':
      case 'snapshot':
      case 'snapshot-chunk':
      case 'headers':
        this.stateSync?.onPeerMessage(peer, msg);
        return;
      case 'snapshots-get':
      case 'snapshot-get':
      case 'snapshot-chunk-get':
        if (this.driver.isRunning) this.snapshots?.onPeerMessage(peer, msg);
        return;
      case 'headers-get':
        // Under CometBFT the chain's headers are CometBFT's (it has its own state sync).
        if (this.driver.isRunning && this.engineName === 'embedded') this.serveHeaders(peer, msg);
        return;
    }
    if (!this.driver.isRunning) return;
    const engine = this.tendermint;
    // Under CometBFT these links carry vault objects only; CometBFT has its own p2p.
    if (engine === undefined && msg.type !== 'vault-get' && msg.type !== 'vault-data') return;
    switch (msg.type) {
      case 'txs':
        if (Array.isArray(msg.txs)) for (const tx of msg.txs.slice(0, 10_000)) this.admission.admitFromPeer(tx);
        return;
      case 'status':
        engine?.onPeerStatus(peer, msg.height);
        return;
      case 'getBlocks':
        engine?.onBlockRequest(peer, msg);
        return;
      case 'blocks':
        engine?.onBlocks(peer, msg);
        return;
      case 'proposal':
      case 'vote':
        engine?.onConsensusMessage(peer, msg);
        return;
      case 'vault-get':
      case 'vault-data':
        this.vault.onPeerMessage(peer, msg);
        return;
      default:
        return;
    }
  }

  /**
   * Answer a joining node's `headers-get` with one page of headers (headers-page.ts), the
   * walk that lets it check a snapshot against the validator set in force at its height.
   */
  private serveHeaders(peer: string, msg: Record<string, unknown>): void {
    const { from, limit } = msg;
    if (typeof from !== 'number' || !Number.isSafeInteger(from) || from < 1) return;
    if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > HEADERS_PAGE) return;
    this.p2p.send(peer, { type: 'headers', from, ...headersPage(this.chain, from, limit) });
  }

  /** Admit an already-parsed transaction made here and gossip it (Admission.admit). */
  admit(tx: SignedTx): { hash: string; status: 'pending' } {
    return this.admission.admit(tx);
  }

  /**
   * Log equivocation evidence and, when this node is a validator, commit it to the chain
   * as an `evidence.equivocation` transaction signed by this node.
   */
  reportEquivocation(ev: EvidenceOutput): void {
    const first = ev.first.signed as SignedVote | SignedProposal;
    const second = ev.second.signed as SignedVote | SignedProposal;
    this.log(
      'warn',
      `EQUIVOCATION by validator ${ev.validator.slice(0, 12)}: two ${ev.kind === 'duplicate-proposal' ? 'proposals' : `${(first as SignedVote).type}s`} at height ${ev.height} round ${ev.round}`,
    );
    const body = evidenceBody(ev.kind, first, second);
    try {
      this.submitOwn('evidence.equivocation', body);
    } catch (err) {
      this.log('info', `equivocation evidence not submitted: ${(err as Error).message}`);
    }
  }

  /** Whether a transaction is in this node's mempool. */
  isPending(hash: string): boolean {
    return this.admission.isPending(hash);
  }

  /** Status of a transaction by hash (Admission.txStatus); the tx itself only for a `caller` who may see it. */
  txStatus(hash: string, caller?: Identity): Record<string, unknown> {
    return this.admission.txStatus(hash, caller);
  }

  /** Under CometBFT: the headers that prove the state after block `height` (abci/comet-proof.ts). */
  cometProofHeaders(height: number, appHash: string): Promise<CometProofHeaders & { height: number }> {
    const comet = this.comet;
    if (comet === undefined) throw new Error('this node runs the embedded engine');
    return cometProofHeaders((method, params) => comet.rpc.raw(method, params), height, appHash);
  }

  /** Under CometBFT: CometBFT's signed headers from `from` to `last`, with the next set where it changes (abci/comet-blocks.ts). */
  cometHeaders(from: number, last: number): Promise<Array<Record<string, unknown>>> {
    const comet = this.comet;
    if (comet === undefined) throw new Error('this node runs the embedded engine');
    return cometHeadersPage(
      { raw: (method, params) => comet.rpc.raw(method, params), nextValidatorsOf: (h) => this.chain.nextValidatorsOf(h) },
      from,
      last,
    );
  }

  /** Under CometBFT: block `height` as `caller` may see it (abci/comet-blocks.ts). */
  cometBlock(height: number, caller: Identity | undefined): Promise<Record<string, unknown>> {
    const comet = this.comet;
    const recent = this.recentComet;
    if (comet === undefined || recent === undefined) throw new Error('this node runs the embedded engine');
    return cometBlockView(
      {
        raw: (method, params) => comet.rpc.raw(method, params),
        recent,
        state: this.chain.state,
        resultOf: (hash) => this.chain.store.findTx(hash)?.result,
      },
      height,
      caller,
    );
  }

  status(): Record<string, unknown> {
    return {
      chainId: this.chain.chainId,
      engine: this.engineName,
      nodeId: idFromPublicKey(this.publicKey),
      name: this.home.config.name,
      publicKey: this.publicKey,
      height: this.chain.height,
      lastBlockHash: this.chain.tipHash,
      lastBlockTime: this.chain.height === 0 ? null : this.chain.tipTime,
      appHash: this.chain.appHash,
      // The set that signs the next block (governance changes it, docs/governance.md).
      validators: this.chain.validatorsFor(this.chain.height + 1).map((v) => ({ name: v.name, publicKey: v.publicKey, power: v.power })),
      peers: this.p2p.peers(),
      mempool: { txs: this.mempool.size },
    };
  }

  account(publicKey: string): Record<string, unknown> {
    const id = idFromPublicKey(publicKey);
    return {
      publicKey,
      id,
      nonce: this.chain.app.queries.nonce(publicKey),
      nextNonce: this.chain.app.pendingNonce(publicKey),
      identity: this.chain.app.queries.identity(id) ?? null,
    };
  }
}
