// The CometBFT engine as the MedLedger node sees it (engine.ts `Engine`): a transaction the
// node admitted is handed to CometBFT through its RPC (`broadcast_tx_sync`, loopback only),
// as its exact canonical bytes. CometBFT decides the blocks; the node learns of commits from
// the application (EhrApplication commit listeners), never from this file.
import { type SignedTx, txBytes, txHash } from '@medledger/ledger';
import type { Engine } from '../engine.js';
import type { Log } from '../ports.js';
import type { BroadcastResult } from './rpc.js';

export interface CometEngineOptions {
  /** Attempts per transaction while CometBFT's RPC is unreachable (it may still be starting). */
  attempts: number;
  /** Pause between attempts, ms. */
  retryMs: number;
}

// About 30 s: CometBFT's RPC opens a little after the node (it starts once the ABCI server listens).
export const DEFAULT_COMET_ENGINE_OPTIONS: CometEngineOptions = { attempts: 120, retryMs: 250 };

export interface CometEngineDeps {
  /** CometRpc.broadcastTxSync. */
  broadcast(tx: Uint8Array): Promise<BroadcastResult>;
  /**
   * CometBFT refused a transaction this node had admitted (its mempool is full, or the
   * transaction is larger than CometBFT takes), or never took it: the node drops it and
   * reports the code, so its status is `rejected`, not pending forever.
   */
  onRefused(hash: string, code: string, log: string): void;
  log: Log;
}

/** CometBFT's answer when the same bytes are already in its mempool or cache: not a refusal. */
const ALREADY_KNOWN = /already exists in cache|tx already exists/i;

export class CometEngine implements Engine {
  private running = false;
  /**
   * Transactions waiting to be handed over, in admission order. They go one at a time: a
   * signer's transactions must reach CometBFT's mempool in nonce order, because a proposer
   * takes them in mempool order and a block with nonce n+1 before n refuses n+1.
   */
  private readonly queue: SignedTx[] = [];
  private draining: Promise<void> | undefined;

  constructor(
    private readonly opts: CometEngineOptions,
    private readonly deps: CometEngineDeps,
  ) {}

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    this.running = true;
  }

  stop(): void {
    this.running = false;
  }

  /** Resolves when every transaction queued so far has been answered (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

  /**
   * A transaction entered the node's mempool. `tx` is given for transactions made here (a
   * client's or the node's own); those are broadcast, in this order. Never waits: the
   * broadcasts run on their own.
   */
  onTx(tx?: unknown): void {
    if (tx === undefined) return;
    this.queue.push(tx as SignedTx);
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    for (let tx = this.queue.shift(); tx !== undefined; tx = this.queue.shift()) await this.broadcast(tx);
  }

  private async broadcast(tx: SignedTx): Promise<void> {
    const hash = txHash(tx);
    const bytes = txBytes(tx);
    let lastError = '';
    for (let attempt = 0; attempt < this.opts.attempts && this.running; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, this.opts.retryMs));
      let answer: BroadcastResult;
      try {
        answer = await this.deps.broadcast(bytes);
      } catch (err) {
        lastError = (err as Error).message;
        if (ALREADY_KNOWN.test(lastError)) return;
        continue;
      }
      if (answer.code === 0) return;
      const refusal = refusalOf(answer);
      this.deps.onRefused(hash, refusal.code, refusal.log);
      return;
    }
    if (!this.running) return;
    this.deps.log('warn', `CometBFT did not take transaction ${hash.slice(0, 12)}: ${lastError.slice(0, 200)}`);
    this.deps.onRefused(hash, 'ENGINE_UNAVAILABLE', 'the consensus engine (CometBFT) did not take the transaction; submit it again');
  }
}

/** The stable code and reason of a CheckTx refusal: the application's JSON in `data`, else CometBFT's own. */
function refusalOf(answer: BroadcastResult): { code: string; log: string } {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(answer.data)) as { code?: unknown; log?: unknown };
    if (typeof parsed.code === 'string') return { code: parsed.code, log: typeof parsed.log === 'string' ? parsed.log : '' };
  } catch {
    // Not the application's answer (CometBFT refused it itself).
  }
  return { code: 'ENGINE_REFUSED', log: answer.log.slice(0, 200) || `CometBFT refused the transaction (code ${answer.code})` };
}
