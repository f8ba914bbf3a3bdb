// The consensus driver: feeds the pure Tendermint machine with verified peer messages,
// timers and proposal validity, and carries out what it decides — signing (behind the
// double-sign guard), gossip, commits, block sync and equivocation evidence. Everything
// runs on the one event loop, so this class is the single mutator of consensus state. It
// reaches the rest of the node only through its ports (TendermintDeps); the wiring routes
// peer messages to it (node.ts routePeerMessage).
import { type LockState, type Output, proposerFor, TendermintMachine, type TimeoutConfig } from '@medledger/consensus';
import type { SigningKeyPair } from '@medledger/crypto';
import { type Block, blockHash, type Commit, commitHash, parseBlock, ZERO_HASH } from '@medledger/ledger';
import { BlockSync } from './block-sync.js';
import type { Engine } from './engine.js';
import { DEFAULT_TARGET_BLOCK_MS, ExecutionPace } from './execution-pace.js';
import { FUTURE_HEIGHTS, FutureBuffer } from './future-buffer.js';
import { setIoFirstTimeout } from './io-first-timer.js';
import type { Mempool } from './mempool.js';
import { parseProposal, parseVote, type SignedProposal, type SignedVote, signProposal, signVoteMessage } from './messages.js';
import type { CommitDecided, EngineChain, Log, MetaStore, Now, PeerNet } from './ports.js';
import { SignerGuard } from './signer-guard.js';

const LOCK_META_KEY = 'consensus/lock';
/** This validator's own signed proposal (with its block) and votes at the current height. */
const OWN_PROPOSAL_KEY = 'consensus/own-proposal';
const OWN_VOTES_KEY = 'consensus/own-votes';
const STATUS_INTERVAL_MS = 1_000;
const TX_GOSSIP_INTERVAL_MS = 10;

export type EvidenceOutput = Extract<Output, { type: 'evidence' }>;

export interface TendermintOptions {
  chainId: string;
  /** This node's signing key: it signs proposals and votes at heights where it is a validator. */
  key: SigningKeyPair;
  /**
   * The key a `validator.rotate` vote gives this validator (`node.next.key` in the home,
   * docs/governance.md): used instead of `key` at heights whose set holds it.
   */
  nextKey?: SigningKeyPair;
  /** Most transactions and bytes in one block (genesis params). */
  maxBlockTxs: number;
  maxBlockBytes: number;
  /** Round timeouts, the pause between heights, and the optional idle heartbeat (config.json `consensus`). */
  consensus: { timeouts: TimeoutConfig; blockIntervalMs: number; heartbeatMs: number };
}

export interface TendermintDeps {
  chain: EngineChain;
  commitDecided: CommitDecided;
  mempool: Pick<Mempool, 'size' | 'reap' | 'bySignature'>;
  /** Durable metadata: the double-sign guard, the lock and this validator's own messages. */
  meta: MetaStore;
  net: PeerNet;
  /** Two signed messages by one validator for one step: log and commit the evidence. */
  onEvidence: (ev: EvidenceOutput) => void;
  /** The block limits in force (governance may lower the genesis ones, docs/governance.md); default the options'. */
  blockLimits?: () => { maxBlockTxs: number; maxBlockBytes: number };
  /**
   * This node's measured execution speed (execution-pace.ts): how many transactions to
   * propose and how long to wait for a proposal. Default: a fresh estimate nothing feeds.
   */
  pace?: ExecutionPace;
  now: Now;
  log: Log;
}

interface KnownBlock {
  block: Block;
  valid: boolean;
}

export class TendermintEngine implements Engine {
  private readonly guard: SignerGuard;
  private readonly chain: EngineChain;
  private readonly p2p: PeerNet;
  private machine: TendermintMachine | undefined;
  private readonly blocks = new Map<string, KnownBlock>();
  /** This height's proposals and votes (ours and peers'), re-sent after a reconnect. */
  private heightMessages: Array<Record<string, unknown>> = [];
  private readonly heightMessageKeys = new Set<string>();
  /** Verified messages for a height not started yet, bounded per relaying peer. */
  readonly future = new FutureBuffer();
  private readonly timers = new Set<NodeJS.Timeout>();
  private txOutbox: unknown[] = [];
  private running = false;
  /** When this height last made progress (it started, or a new proposal or vote came in). */
  private lastProgressAt = 0;
  private nextHeightAt = 0;
  /** When the current (or last) height started: the next starts blockIntervalMs after it. */
  private heightStartedAt = 0;
  private readonly sync: BlockSync;
  private lastLock = '';
  private startScheduled = false;
  private startQueued = false;
  private ownVotes: SignedVote[] = [];
  private readonly pace: ExecutionPace;

  constructor(
    private readonly opts: TendermintOptions,
    private readonly deps: TendermintDeps,
  ) {
    this.chain = deps.chain;
    this.p2p = deps.net;
    this.pace = deps.pace ?? new ExecutionPace({ targetBlockMs: DEFAULT_TARGET_BLOCK_MS });
    this.guard = new SignerGuard(
      deps.meta,
      () => deps.chain.tipTime,
      (line) => deps.log('info', line),
    );
    if (this.guard.holdSince !== undefined)
      deps.log(
        'warn',
        `this home was restored from a backup at ${new Date(this.guard.holdSince).toISOString()}: it signs nothing until the other validators commit a block stamped later (docs/deploy.md "Double-signing after a restore")`,
      );
    this.sync = new BlockSync({
      chain: deps.chain,
      commitDecided: deps.commitDecided,
      net: deps.net,
      later: (ms, fn) => this.later(ms, fn),
      onApplied: () => {
        // Whatever round we were in is moot: the height was decided without us. A synced
        // block counts as a height started now, so the next waits the interval as before
        // (more blocks may follow from the peer).
        this.machine = undefined;
        this.heightStartedAt = deps.now();
        this.afterHeight();
      },
      now: deps.now,
      log: deps.log,
    });
  }

  /**
   * The key this node signs with at `height`: whichever of its keys the validator set in effect
   * there holds, or null when it is not a validator at that height (the set changes by vote,
   * docs/governance.md). Heights up to the tip + 1 only.
   */
  private signerFor(height: number): SigningKeyPair | null {
    const set = this.chain.validatorsFor(height);
    for (const key of [this.opts.key, this.opts.nextKey])
      if (key !== undefined && set.some((v) => v.publicKey === key.publicKey)) return key;
    return null;
  }

  /** The key that proposes and votes at `height`; refuses to sign when the node is no validator there. */
  private signingKey(height: number): SigningKeyPair {
    const key = this.signerFor(height);
    if (key === null) throw new Error(`not a validator at height ${height}`);
    return key;
  }

  private get cfg() {
    return this.opts.consensus;
  }

  /** The consensus round at the current height (metrics); undefined between heights or when not a validator. */
  get round(): number | undefined {
    return this.machine?.round;
  }

  /** Whether the engine runs: peer messages are read only then (the wiring checks this). */
  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    this.running = true;
    this.every(STATUS_INTERVAL_MS, () => this.tick());
    this.every(TX_GOSSIP_INTERVAL_MS, () => this.flushTxs());
    this.maybeStartHeight();
  }

  stop(): void {
    this.running = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** A client transaction was admitted: gossip it (batched) and maybe start the height. */
  onTx(tx?: unknown): void {
    if (tx !== undefined) this.txOutbox.push(tx);
    // Consensus runs on its own turn of the event loop, never inside an HTTP request.
    if (this.machine === undefined && !this.startQueued) {
      this.startQueued = true;
      setImmediate(() => {
        this.startQueued = false;
        this.maybeStartHeight();
      });
    }
  }

  /** Run `fn` after `ms`, behind any peer message already waiting (io-first-timer.ts). */
  private later(ms: number, fn: () => void): void {
    const t = setIoFirstTimeout(() => {
      this.timers.delete(t);
      if (this.running) fn();
    }, ms);
    this.timers.add(t);
  }

  private every(ms: number, fn: () => void): void {
    this.later(ms, () => {
      fn();
      this.every(ms, fn);
    });
  }

  private flushTxs(): void {
    if (this.txOutbox.length === 0) return;
    this.p2p.broadcast({ type: 'txs', txs: this.txOutbox });
    this.txOutbox = [];
  }

  /**
   * Periodic: announce our height, re-send this height's messages if stuck, idle heartbeat.
   * Stuck means no new proposal or vote for two intervals, not a long height: a height with
   * a big block takes seconds to execute, and re-sending its proposal (megabytes) to every
   * peer each second then was a third of each validator's CPU under load, slowing the very
   * height it meant to help.
   */
  private tick(): void {
    this.p2p.broadcast({ type: 'status', height: this.chain.height });
    const now = this.deps.now();
    if (this.machine !== undefined && now - this.lastProgressAt > 2 * STATUS_INTERVAL_MS) {
      for (const m of this.heightMessages) this.p2p.broadcast(m);
      this.lastProgressAt = now;
    }
    this.maybeStartHeight();
  }

  /** A peer (re)connected: tell it our height and re-send this height's messages. */
  onConnect(peer: string): void {
    this.p2p.send(peer, { type: 'status', height: this.chain.height });
    for (const m of this.heightMessages) this.p2p.send(peer, m);
  }

  /**
   * Start consensus for the next height once the block interval has passed and there is
   * something to decide: transactions waiting, a peer already working on this height, or
   * the optional heartbeat. So an idle network makes no empty blocks.
   */
  private maybeStartHeight(force = false): void {
    if (!this.running || this.machine !== undefined) return;
    const now = this.deps.now();
    if (now < this.nextHeightAt && !this.fullBlockWaiting()) {
      // One wake-up is enough, however many transactions arrive while we wait.
      if (!this.startScheduled) {
        this.startScheduled = true;
        this.later(this.nextHeightAt - now, () => {
          this.startScheduled = false;
          this.maybeStartHeight(force);
        });
      }
      return;
    }
    const height = this.chain.height + 1;
    const heartbeat = this.cfg.heartbeatMs > 0 && now - this.chain.tipTime >= this.cfg.heartbeatMs;
    const peersActive = this.future.has(height);
    if (!force && this.deps.mempool.size === 0 && !heartbeat && !peersActive) return;
    const validators = this.chain.validatorsFor(height);
    const lockRaw = this.deps.meta.getMeta(LOCK_META_KEY);
    const lock = lockRaw === undefined ? undefined : (JSON.parse(lockRaw) as LockState);
    this.clearHeightMessages();
    this.blocks.clear();
    this.lastProgressAt = now;
    this.heightStartedAt = now;
    this.machine = new TendermintMachine({
      height,
      validators: validators.map((v) => ({ id: v.publicKey, power: v.power })),
      self: this.signerFor(height)?.publicKey ?? null,
      timeouts: this.cfg.timeouts,
      getValue: (h) => this.buildProposal(h),
      isValid: (value) => this.blocks.get(value)?.valid === true,
      ...(lock !== undefined && lock.height === height ? { restored: lock } : {}),
    });
    this.run(this.machine.start());
    if (lock !== undefined && lock.height === height) this.replayOwnMessages(height);
    else this.ownVotes = [];
    for (const { peer, msg } of this.future.take(height)) this.onConsensusMessage(peer, msg);
  }

  /**
   * The block interval lets transactions gather into fewer, fuller blocks; when a full
   * block is already waiting, pausing only idles the network (the bench spent 200 ms of
   * every 1–1.5 s height so under saturation).
   */
  private fullBlockWaiting(): boolean {
    return this.deps.mempool.size >= this.proposalTxs();
  }

  /** Most transactions this node proposes: the chain's limit, cut to what it executes in the target time. */
  private proposalTxs(): number {
    const { maxBlockTxs } = this.deps.blockLimits?.() ?? this.opts;
    return this.pace.proposalTxs(maxBlockTxs);
  }

  /**
   * After a restart within a height: re-send what this validator signed before the crash
   * and let its own machine count it. The double-sign guard refuses anything different,
   * so without this its earlier votes would be lost and a round could stall.
   */
  private replayOwnMessages(height: number): void {
    const store = this.deps.meta;
    const proposalRaw = store.getMeta(OWN_PROPOSAL_KEY);
    const votesRaw = store.getMeta(OWN_VOTES_KEY);
    const proposalMsg = proposalRaw === undefined ? undefined : (JSON.parse(proposalRaw) as { proposal: SignedProposal; block: Block });
    this.ownVotes = votesRaw === undefined ? [] : (JSON.parse(votesRaw) as SignedVote[]).filter((v) => v.height === height);
    if (proposalMsg !== undefined && proposalMsg.proposal.height === height && this.machine !== undefined) {
      this.blocks.set(proposalMsg.proposal.blockHash, { block: proposalMsg.block, valid: true });
      const msg = { type: 'proposal', ...proposalMsg };
      this.keepForResend(msg);
      this.p2p.broadcast(msg);
      this.run(this.machine.handle(this.proposalInput(proposalMsg.proposal)));
    }
    for (const vote of this.ownVotes) {
      if (this.machine === undefined) return;
      const msg = { type: 'vote', vote };
      this.keepForResend(msg);
      this.p2p.broadcast(msg);
      this.run(this.machine.handle(this.voteInput(vote)));
    }
  }

  /**
   * Remember a proposal or vote of this height to re-send after reconnects and while
   * stuck. Each distinct message is kept once: peers re-send too, and a quorum may be
   * missing for a long time.
   */
  private keepForResend(msg: Record<string, unknown>): void {
    const m = (msg.proposal ?? msg.vote) as {
      round: number;
      blockHash: string | null;
      validator?: string;
      proposer?: string;
      type?: string;
      sig: string;
    };
    const key = `${msg.type}/${m.type ?? ''}/${m.round}/${m.validator ?? m.proposer}/${m.blockHash}`;
    if (this.heightMessageKeys.has(key)) return;
    this.heightMessageKeys.add(key);
    this.heightMessages.push(msg);
    this.lastProgressAt = this.deps.now();
  }

  private clearHeightMessages(): void {
    this.heightMessages = [];
    this.heightMessageKeys.clear();
  }

  private msgHeight(msg: Record<string, unknown>): number | undefined {
    const inner = (msg.proposal ?? msg.vote) as { height?: unknown } | undefined;
    return typeof inner?.height === 'number' ? inner.height : undefined;
  }

  private buildProposal(height: number): string {
    const { chain } = this;
    const limits = this.deps.blockLimits?.() ?? this.opts;
    const entries = this.deps.mempool.reap(this.pace.proposalTxs(limits.maxBlockTxs), limits.maxBlockBytes);
    const block = chain.buildBlock(
      entries.map((e) => e.tx),
      chain.nextBlockTime(this.deps.now()),
      this.signingKey(height).publicKey,
    );
    if (block.header.height !== height) throw new Error('proposal height mismatch');
    const hash = blockHash(block.header);
    this.blocks.set(hash, { block, valid: true });
    return hash;
  }

  /** Carry out the machine's outputs, feeding our own messages back to it. */
  private run(outputs: Output[]): void {
    const queue = [...outputs];
    while (queue.length > 0) {
      const out = queue.shift() as Output;
      const machine = this.machine;
      if (machine === undefined) return;
      switch (out.type) {
        case 'propose': {
          const known = this.blocks.get(out.value);
          if (known === undefined) {
            this.deps.log('error', `refusing to sign a proposal at ${out.height}/${out.round}: block unknown`);
            break;
          }
          const key = this.signingKey(out.height);
          const proposal = signProposal(
            this.opts.chainId,
            { height: out.height, round: out.round, blockHash: out.value, validRound: out.validRound, proposer: key.publicKey },
            key.privateKey,
          );
          const msg = { type: 'proposal', proposal, block: known.block };
          // The guard's position, the proposal and the lock: one durable write before it leaves.
          const lock = this.lockWrite();
          if (!this.guard.authorize(out.height, out.round, 'proposal', out.value, [[OWN_PROPOSAL_KEY, JSON.stringify(msg)], ...lock])) {
            if (this.guard.holdSince === undefined)
              this.deps.log('error', `refusing to sign a proposal at ${out.height}/${out.round}: would double-sign`);
            break;
          }
          this.lockWritten(lock);
          this.keepForResend(msg);
          this.p2p.broadcast(msg);
          queue.push(...machine.handle(this.proposalInput(proposal)));
          break;
        }
        case 'vote': {
          const key = this.signingKey(out.height);
          const vote = signVoteMessage(
            this.opts.chainId,
            { type: out.voteType, height: out.height, round: out.round, blockHash: out.value, validator: key.publicKey },
            key.privateKey,
          );
          const votes = [...this.ownVotes, vote];
          // The guard's position, the vote and the lock it rests on (a precommit's, set in the
          // same step of the machine): one durable write before it leaves, not three.
          const lock = this.lockWrite();
          if (!this.guard.authorize(out.height, out.round, out.voteType, out.value, [[OWN_VOTES_KEY, JSON.stringify(votes)], ...lock])) {
            // Held after a restore: said once at start; the others decide this height without us.
            if (this.guard.holdSince !== undefined) break;
            this.deps.log(
              'warn',
              `refusing to sign a ${out.voteType} at ${out.height}/${out.round}: it would conflict with a vote already signed`,
            );
            break;
          }
          this.lockWritten(lock);
          this.ownVotes = votes;
          const msg = { type: 'vote', vote };
          this.keepForResend(msg);
          this.p2p.broadcast(msg);
          queue.push(...machine.handle(this.voteInput(vote)));
          break;
        }
        case 'scheduleTimeout': {
          const { step, height, round } = out;
          const allowance = step === 'propose' ? this.proposeAllowanceMs() : 0;
          this.later(out.durationMs + allowance, () => {
            if (this.machine === machine) this.run(machine.handle({ type: 'timeout', step, height, round }));
          });
          break;
        }
        case 'decide': {
          const commit: Commit = {
            height: out.height,
            round: out.round,
            blockHash: out.value,
            signatures: out.precommits.map((p) => ({ validator: p.from, sig: (p.signed as SignedVote).sig })),
          };
          this.commit(out.value, commit);
          return;
        }
        case 'evidence':
          this.deps.onEvidence(out);
          break;
      }
      this.persistLock();
    }
  }

  /**
   * How much longer than its timeout to wait for a proposal: the proposer executes its block,
   * state tree included, before sending it, and with thousands of transactions that takes
   * longer than the propose timeout. Timing out then prevotes nil, and the next round's
   * proposer executes a different block from the start. Mempools fill alike through gossip,
   * so ours measures the block the proposer is building, and our execution speed its
   * (execution-pace.ts). Liveness only: a timeout changes when a validator gives up on a
   * proposer, never what any validator computes.
   */
  private proposeAllowanceMs(): number {
    return this.pace.proposeAllowanceMs(Math.min(this.deps.mempool.size, this.proposalTxs()));
  }

  private persistLock(): void {
    const lock = this.lockWrite();
    if (lock.length === 0) return;
    this.deps.meta.setMetas(lock);
    this.lockWritten(lock);
  }

  /** The lock's write, when it changed since last written (none between heights). */
  private lockWrite(): Array<[string, string]> {
    if (this.machine === undefined) return [];
    const lock = JSON.stringify(this.machine.lockState());
    return lock === this.lastLock ? [] : [[LOCK_META_KEY, lock]];
  }

  private lockWritten(write: Array<[string, string]>): void {
    const [entry] = write;
    if (entry !== undefined) this.lastLock = entry[1];
  }

  private proposalInput(p: SignedProposal) {
    return {
      type: 'proposal' as const,
      height: p.height,
      round: p.round,
      value: p.blockHash,
      validRound: p.validRound,
      from: p.proposer,
      signed: p,
    };
  }

  private voteInput(v: SignedVote) {
    return { type: v.type, height: v.height, round: v.round, value: v.blockHash, from: v.validator, signed: v };
  }

  private commit(hash: string, commit: Commit): void {
    const known = this.blocks.get(hash);
    if (known === undefined) {
      this.deps.log('error', `decided block ${hash.slice(0, 12)} is unknown; waiting for block sync`);
      this.machine = undefined;
      return;
    }
    try {
      this.deps.commitDecided(known.block, commit);
    } catch (err) {
      // Halt this attempt rather than carry on past a block we could not store; the height
      // is retried (or fetched by block sync) with the locks and signed messages on disk.
      this.deps.log('error', `could not store decided block ${known.block.header.height}: ${(err as Error).message}`);
      this.machine = undefined;
      this.nextHeightAt = this.deps.now() + this.cfg.blockIntervalMs;
      this.maybeStartHeight(true);
      return;
    }
    this.deps.log('info', `committed block ${known.block.header.height} (${known.block.txs.length} txs, round ${commit.round})`);
    this.afterHeight();
  }

  /**
   * The block interval spaces height starts, not commits: transactions that arrive while a
   * height runs wait for the next one anyway, so a height that took longer than the interval
   * is followed at once. Pausing after every commit put the whole interval on top of each
   * height (at 200 claims/s, 200 ms idle in every 0.8 s height, and half of it in the
   * average claim's wait); a height quicker than the interval still waits out the rest, so
   * light traffic still gathers into fewer blocks.
   */
  private afterHeight(): void {
    this.machine = undefined;
    this.clearHeightMessages();
    this.nextHeightAt = this.heightStartedAt + this.cfg.blockIntervalMs;
    this.p2p.broadcast({ type: 'status', height: this.chain.height });
    this.future.dropThrough(this.chain.height);
    this.maybeStartHeight();
  }

  /** A peer announced its height (a `status` message). */
  onPeerStatus(peer: string, height: unknown): void {
    if (this.running && typeof height === 'number') this.sync.onPeerHeight(peer, height);
  }

  /** A peer asked for stored blocks (`getBlocks`). */
  onBlockRequest(peer: string, msg: Record<string, unknown>): void {
    if (this.running) this.sync.serveBlocks(peer, msg);
  }

  /** A peer answered our block request (`blocks`). */
  onBlocks(peer: string, msg: Record<string, unknown>): void {
    if (this.running) this.sync.applyBlocks(peer, msg);
  }

  /**
   * Whether `key` may sign consensus messages at `height`. At the current height: a member of
   * its validator set. A later height's set is not known for sure yet, so a message for one is
   * only buffered if its signer is in the current set or the latest one governance decided,
   * and is checked again against its height's own set when that height starts.
   */
  private mayVote(key: string, height: number, current: number): boolean {
    if (this.chain.validatorsFor(Math.min(height, current)).some((v) => v.publicKey === key)) return true;
    return height > current && this.chain.latestValidators().some((v) => v.publicKey === key);
  }

  /**
   * Check a peer's proposal or vote where it enters: well formed, signed, by a validator of
   * its height (and a proposal by that round's proposer, with the block its hash names).
   * Returns the checked message with its block, or undefined (logged) when it is refused.
   */
  private verifyConsensusMessage(
    peer: string,
    msg: Record<string, unknown>,
    height: number,
    current: number,
  ): { vote: SignedVote } | { proposal: SignedProposal; block: Block } | undefined {
    const chainId = this.opts.chainId;
    if (msg.type === 'vote') {
      const vote = parseVote(chainId, msg.vote);
      if (vote === undefined || !this.mayVote(vote.validator, height, current)) {
        this.deps.log('warn', `ignored a malformed or badly signed vote from ${this.p2p.nameOf(peer)}`);
        return undefined;
      }
      return { vote };
    }
    const proposal = parseProposal(chainId, msg.proposal);
    if (proposal === undefined) {
      this.deps.log('warn', `ignored a malformed or badly signed proposal from ${this.p2p.nameOf(peer)}`);
      return undefined;
    }
    const expected =
      height === current
        ? proposerFor(
            this.chain.validatorsFor(height).map((v) => ({ id: v.publicKey, power: v.power })),
            proposal.height,
            proposal.round,
          )
        : this.mayVote(proposal.proposer, height, current)
          ? proposal.proposer
          : undefined;
    if (proposal.proposer !== expected) {
      this.deps.log('warn', `ignored a proposal from a validator that is not the proposer (${this.p2p.nameOf(peer)})`);
      return undefined;
    }
    // A block already held under the hash the proposer signed is not read again: proposals
    // are re-sent while a height is stuck, and parsing megabytes of transactions per copy
    // was a quarter of each validator's CPU under load.
    const held = this.blocks.get(proposal.blockHash);
    if (held !== undefined) return { proposal, block: held.block };
    let block: Block;
    try {
      block = parseBlock(msg.block, (sig) => this.deps.mempool.bySignature(sig));
    } catch (err) {
      this.deps.log(
        'warn',
        `ignored a malformed block, or one whose transactions do not match its header, from ${this.p2p.nameOf(peer)}: ${(err as Error).message}`,
      );
      return undefined;
    }
    // The body must be the one the header commits to, or it is not the proposed block at
    // all: kept under the proposal's hash, a body altered by a relaying peer would otherwise
    // stand in for the real one, which is then never read (above). parseBlock, given the
    // mempool, refused transactions that do not give the header's tx root.
    const matches =
      blockHash(block.header) === proposal.blockHash &&
      (block.lastCommit === null ? ZERO_HASH : commitHash(block.lastCommit)) === block.header.lastCommitHash;
    if (!matches) {
      this.deps.log('warn', `ignored a proposal whose block does not match its hash (${this.p2p.nameOf(peer)})`);
      return undefined;
    }
    return { proposal, block };
  }

  /** A peer's `proposal` or `vote`: verified where it enters, then buffered or handled. */
  onConsensusMessage(peer: string, msg: Record<string, unknown>): void {
    if (!this.running) return;
    const height = this.msgHeight(msg);
    const current = this.chain.height + 1;
    if (height === undefined || height < current) return;
    // Verified before anything else, buffering included: an unsigned or forged message
    // must cost no memory and move no sync.
    const checked = this.verifyConsensusMessage(peer, msg, height, current);
    if (checked === undefined) return;
    if (height > current || this.machine === undefined) {
      if (height > current) this.sync.onPeerHeight(peer, height - 1);
      if (height <= current + FUTURE_HEIGHTS) {
        const m = 'vote' in checked ? checked.vote : checked.proposal;
        const key =
          'vote' in checked
            ? `vote/${checked.vote.type}/${m.height}/${m.round}/${checked.vote.validator}/${m.blockHash}`
            : `proposal/${m.height}/${m.round}/${checked.proposal.proposer}/${m.blockHash}`;
        this.future.add(peer, height, key, !('vote' in checked), msg);
      }
      if (height === current) this.maybeStartHeight(true);
      return;
    }
    if ('vote' in checked) {
      const { vote } = checked;
      this.keepForResend({ type: 'vote', vote });
      this.run(this.machine.handle(this.voteInput(vote)));
      return;
    }
    const { proposal, block } = checked;
    const hash = proposal.blockHash;
    if (!this.blocks.has(hash)) {
      let valid = true;
      try {
        this.chain.validateNext(block, this.deps.now());
      } catch (err) {
        valid = false;
        this.deps.log(
          'warn',
          `proposal ${proposal.height}/${proposal.round} from ${this.p2p.nameOf(proposal.proposer)} is invalid: ${(err as Error).message}`,
        );
      }
      this.blocks.set(hash, { block, valid });
    }
    this.keepForResend({ type: 'proposal', proposal, block });
    this.run(this.machine.handle(this.proposalInput(proposal)));
  }
}
