// One MedLedger node: store, chain, mempool, block production and the HTTP API.

import type { Output } from '@medledger/consensus';
import { idFromPublicKey } from '@medledger/crypto';
import { type Identity, identityOfKey, namedObjects, objectEffects, objectSizeOnChain, type StateWrite } from '@medledger/ehr';
import { type Block, type Commit, parseSignedTx, type SignedTx, signTx, type TxResult, txBytes, txHash } from '@medledger/ledger';
import { type NodeStore, openSqliteStore } from '@medledger/storage';
import type { FastifyInstance } from 'fastify';
import { apiOptionsOf, buildApi } from './api.js';
import { BlockProofs } from './block-proofs.js';
import { Chain } from './chain.js';
import { seesTx } from './chain-view.js';
import { DEFAULT_EMERGENCY_AGENT_CONFIG, EmergencyAgent } from './emergency-agent.js';
import { ApiError } from './errors.js';
import { DEFAULT_SESSION_CONFIG, Gatekeeper } from './gatekeeper.js';
import { DEFAULT_VAULT_CONFIG, type NodeHome } from './home.js';
import { Mempool } from './mempool.js';
import { evidenceBody, type SignedProposal, type SignedVote } from './messages.js';
import { TendermintEngine } from './tendermint.js';
import { Vault } from './vault.js';

type EvidenceOutput = Extract<Output, { type: 'evidence' }>;

export type LogLevel = 'info' | 'warn' | 'error';

/** Injected effects, so tests control time and output. */
export interface NodeDeps {
  now?: () => number;
  logger?: (level: LogLevel, message: string) => void;
  store?: NodeStore;
}

/** Bounded record of transactions refused after admission (re-check or in a block). */
class RecentRejections {
  private readonly map = new Map<string, TxResult>();
  constructor(private readonly max: number) {}
  set(hash: string, result: TxResult): void {
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as string);
    this.map.set(hash, result);
  }
  get(hash: string): TxResult | undefined {
    return this.map.get(hash);
  }
}

export class MedLedgerNode {
  readonly chain: Chain;
  readonly mempool: Mempool;
  /** Recent committed blocks, parsed and hashed once for the read routes' proofs. */
  readonly blocks: BlockProofs;
  readonly now: () => number;
  private readonly logger: (level: LogLevel, message: string) => void;
  private readonly rejections = new RecentRejections(10_000);
  readonly engine: TendermintEngine;
  readonly vault: Vault;
  readonly gatekeeper: Gatekeeper;
  readonly emergency: EmergencyAgent;
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
    const store = deps.store ?? openSqliteStore(home.dbPath);
    this.chain = new Chain(home.genesis, store);
    this.blocks = new BlockProofs({ capacity: 8 }, { loadBlock: (height) => store.loadBlock(height) });
    this.mempool = new Mempool(home.config.mempool);
    this.engine = new TendermintEngine(this);
    this.vault = new Vault(
      { ...DEFAULT_VAULT_CONFIG, ...home.config.vault },
      {
        store,
        now: this.now,
        log: (level, message) => this.log(level, message),
        peers: this.engine.p2p,
        sizeOnChain: (hash) => objectSizeOnChain(this.chain.state, hash),
      },
    );
    this.gatekeeper = new Gatekeeper(this, { ...DEFAULT_SESSION_CONFIG, ...home.config.sessions });
    this.emergency = new EmergencyAgent(
      this,
      { ...DEFAULT_EMERGENCY_AGENT_CONFIG, ...home.config.emergency },
      idFromPublicKey(this.publicKey),
    );
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
    this.api = await buildApi(this, apiOptionsOf(this.home));
    this.apiUrl = await this.api.listen({ host: this.home.config.api.host, port: this.home.config.api.port });
    await this.engine.startNetwork();
    this.engine.start();
    this.vault.start();
    this.gatekeeper.start();
    this.emergency.onStart();
    this.log('info', `serving API at ${this.apiUrl}, chain ${this.chain.chainId} at height ${this.chain.height}`);
    return this.apiUrl;
  }

  async stop(): Promise<void> {
    this.engine.stop();
    this.gatekeeper.stop();
    this.vault.stop();
    await this.api?.close();
    this.chain.store.close();
  }

  get url(): string {
    return this.apiUrl;
  }

  /**
   * Admit a transaction from a client: shape, chain, signature, nonce and the kind's rules
   * (via checkTx), then the mempool. Throws ApiError; nothing is kept on failure.
   */
  submitTx(raw: unknown): { hash: string; status: 'pending' } {
    let tx: SignedTx;
    try {
      tx = parseSignedTx(raw);
    } catch (err) {
      throw new ApiError('MALFORMED_TX', (err as Error).message);
    }
    return this.admit(tx);
  }

  /** A transaction gossiped by a peer: admitted like a client's, refusals dropped quietly. */
  admitFromPeer(raw: unknown): void {
    try {
      this.admit(parseSignedTx(raw), false);
    } catch {
      // Already known, stale nonce, or malformed: the peer's problem, not ours.
    }
  }

  /**
   * Admit an already-parsed transaction; `gossip` sends it on to the peers. A transaction
   * made here (by a client of this node or the node itself, so `gossip`) must also pass the
   * vault's checks on the objects it names (Vault.checkNamed); one a peer relays named
   * objects uploaded to that peer, which this node may not hold yet.
   */
  admit(tx: SignedTx, gossip = true): { hash: string; status: 'pending' } {
    if (tx.chain !== this.chain.chainId)
      throw new ApiError('WRONG_CHAIN', `transaction is for chain '${tx.chain}', this is '${this.chain.chainId}'`);
    const hash = txHash(tx);
    if (this.mempool.has(hash)) return { hash, status: 'pending' };
    const bytes = txBytes(tx).length;
    if (this.mempool.isFull(bytes)) throw new ApiError('MEMPOOL_FULL', 'the node is busy; retry shortly');
    const vaultCheck = (t: SignedTx) => {
      const named = namedObjects(t.kind, t.body);
      if (named.content !== undefined || named.envelopes.length > 0)
        this.vault.checkNamed(identityOfKey(this.chain.state, t.signer)?.id, named);
    };
    const result = this.chain.app.checkTx(tx, { height: this.chain.height + 1, time: this.chain.tipTime }, gossip ? vaultCheck : undefined);
    if (result.code !== 'ok') throw new ApiError(result.code, result.log);
    this.mempool.add({ hash, tx, bytes });
    this.engine.onTx(gossip ? tx : undefined);
    return { hash, status: 'pending' };
  }

  /** Store a block decided by consensus (or fetched by block sync) and update the mempool. */
  commitDecided(block: Block, commit: Commit): void {
    const exec = this.chain.commitBlock(block, commit);
    this.afterCommit(block.txs, exec.results, exec.writes);
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
    const tx = signTx(
      {
        v: 1,
        chain: this.chain.chainId,
        kind: 'evidence.equivocation',
        signer: this.publicKey,
        nonce: this.chain.app.pendingNonce(this.publicKey),
        body,
      },
      this.home.key.signing.privateKey,
    );
    try {
      this.admit(tx);
    } catch (err) {
      this.log('info', `equivocation evidence not submitted: ${(err as Error).message}`);
    }
  }

  /**
   * After a block is stored: keep, fetch or delete the vault objects its state writes claimed
   * or released, drop its transactions from the mempool, remember refusals, and re-check
   * what is left against the new state (a nonce may now be stale).
   */
  afterCommit(txs: SignedTx[], results: TxResult[], writes: readonly StateWrite[]): void {
    const effects = objectEffects(writes);
    if (effects.anchored.length > 0 || effects.released.length > 0) this.vault.onCommitted(effects.anchored, effects.released);
    txs.forEach((tx, i) => {
      const hash = txHash(tx);
      this.mempool.remove(hash);
      const result = results[i] as TxResult;
      if (result.code !== 'ok') this.rejections.set(hash, result);
    });
    const ctx = { height: this.chain.height + 1, time: this.chain.tipTime };
    for (const entry of this.mempool.drain()) {
      const result = this.chain.app.checkTx(entry.tx, ctx);
      if (result.code === 'ok') this.mempool.add(entry);
      else this.rejections.set(entry.hash, result);
    }
    this.emergency.onCommitted(txs);
  }

  /**
   * Status of a transaction by hash: pending, committed (with inclusion proof), or rejected.
   * The signed transaction itself (`tx`) is included only for `caller`s who may see it
   * (chain-view.ts `seesTx`): its parties and the consortium.
   */
  txStatus(hash: string, caller?: Identity): Record<string, unknown> {
    if (this.mempool.has(hash)) return { hash, status: 'pending' };
    const loc = this.chain.store.findTx(hash);
    if (loc !== undefined) {
      const provable = this.blocks.get(loc.height);
      if (provable === undefined) throw new ApiError('INTERNAL', 'indexed block missing');
      const { stored } = provable;
      const ok = loc.result.code === 'ok';
      const tx = stored.block.txs[loc.index];
      return {
        hash,
        status: ok ? 'committed' : 'rejected',
        height: loc.height,
        index: loc.index,
        blockHash: stored.hash,
        ...(ok ? {} : { code: loc.result.code, reason: loc.result.log }),
        proof: provable.proof(loc.index),
        ...(tx !== undefined && seesTx(this.chain.state, tx, caller) ? { tx } : {}),
      };
    }
    const rejected = this.rejections.get(hash);
    if (rejected !== undefined) return { hash, status: 'rejected', code: rejected.code, reason: rejected.log };
    throw new ApiError('TX_NOT_FOUND', `no transaction ${hash} is known to this node`);
  }

  status(): Record<string, unknown> {
    const { genesis } = this.chain;
    return {
      chainId: this.chain.chainId,
      nodeId: idFromPublicKey(this.publicKey),
      name: this.home.config.name,
      publicKey: this.publicKey,
      height: this.chain.height,
      lastBlockHash: this.chain.tipHash,
      lastBlockTime: this.chain.height === 0 ? null : this.chain.tipTime,
      appHash: this.chain.appHash,
      validators: genesis.validators.map((v) => ({ name: v.name, publicKey: v.publicKey, power: v.power })),
      peers: this.engine.peers(),
      mempool: { txs: this.mempool.size },
    };
  }

  account(publicKey: string): Record<string, unknown> {
    const id = idFromPublicKey(publicKey);
    return {
      publicKey,
      id,
      nonce: this.chain.app.query.nonce(publicKey),
      nextNonce: this.chain.app.pendingNonce(publicKey),
      identity: this.chain.app.query.identity(id) ?? null,
    };
  }
}
