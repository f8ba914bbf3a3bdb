// The load generator: signs identity.register transactions from fresh keys, submits them
// concurrently, and follows new blocks until every one is committed. Benchmarks reuse it.
import { generateEncryptionKeyPair, generateSigningKeyPair, toHex } from '@medledger/crypto';
import { leafHash, type SignedTx, signTx, txBytes, txHash } from '@medledger/ledger';
import { NodeApiError, requestJson } from './http.js';

export interface LoadOptions {
  url: string;
  /** Submit round-robin across these nodes (default: just `url`). Blocks are followed on `url`. */
  submitUrls?: string[];
  /** Transactions per request through POST /v1/txs/batch; 1 uses POST /v1/txs. */
  batch?: number;
  /** Stop submitting after this long (ms); what was submitted is still awaited. */
  durationMs?: number;
  count: number;
  concurrency: number;
  /** Offered rate in tx/s; unlimited when absent. */
  rate?: number;
  /** Give up waiting for commits after this long (ms). */
  timeoutMs?: number;
  onProgress?: (committed: number, total: number) => void;
  /** Called once the transactions are signed, just before the first is sent. */
  onStart?: () => void;
  /** Transactions to send instead of fresh registrations (`count` is then their number). */
  txs?: SignedTx[];
  /**
   * Ordered lanes of indexes into `txs`: each lane is sent in order, one request at a time,
   * to one node (lane i to submit URL i mod n), so one signer's consecutive nonces arrive in
   * order. Replaces `concurrency` (one worker per lane).
   */
  lanes?: number[][];
}

export interface LoadResult {
  committed: number;
  rejected: number;
  seconds: number;
  txPerSecond: number;
  /** Submit-to-commit latency of each committed tx, ms, ascending. */
  latenciesMs: number[];
}

/** Sign `count` registrations from fresh keys for `chainId`. */
export function makeRegistrations(chainId: string, count: number): SignedTx[] {
  const txs: SignedTx[] = [];
  for (let i = 0; i < count; i++) {
    const signing = generateSigningKeyPair();
    const encryption = generateEncryptionKeyPair();
    txs.push(
      signTx(
        {
          v: 1,
          chain: chainId,
          kind: 'identity.register',
          signer: signing.publicKey,
          nonce: 0,
          body: { role: 'patient', encryptionKey: encryption.publicKey },
        },
        signing.privateKey,
      ),
    );
  }
  return txs;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Run the load: submit, then follow blocks until all are committed or the timeout passes. */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const base = opts.url.replace(/\/+$/, '');
  const status = await requestJson<{ chainId: string; height: number }>(`${base}/v1/status`);
  const txs = opts.txs ?? makeRegistrations(status.chainId, opts.count);
  const hashes = txs.map((tx) => txHash(tx));
  // Block bodies are not public (docs/records.md "Who sees which metadata"): each load
  // transaction is recognised by its Merkle leaf hash among a block's public leaves.
  const byLeaf = new Map(txs.map((tx, i) => [toHex(leafHash(txBytes(tx))), hashes[i] as string]));
  const submittedAt = new Map<string, number>();
  const outstanding = new Set(hashes);
  const latencies: number[] = [];
  /** Hashes seen in a block, in the order their latencies were pushed. */
  const included: string[] = [];
  let committed = 0;
  let rejected = 0;
  let nextHeight = status.height + 1;
  opts.onStart?.();
  const start = performance.now();
  let lastCommitAt = start;

  let next = 0;
  let requests = 0;
  const batch = Math.max(1, opts.batch ?? 1);
  const interval = opts.rate === undefined ? 0 : 1000 / opts.rate;
  const targets = (opts.submitUrls ?? [opts.url]).map((u) => u.replace(/\/+$/, ''));
  const refuse = (hash: string) => {
    if (outstanding.delete(hash)) rejected++;
  };
  const timeIsUp = () => opts.durationMs !== undefined && performance.now() - start > opts.durationMs;
  /** Send txs[indexes] (in order) in one request to `target`; each refused one is counted. */
  async function send(indexes: number[], target: string): Promise<void> {
    if (interval > 0) {
      const wait = start + (indexes[0] as number) * interval - performance.now();
      if (wait > 0) await sleep(wait);
    }
    const now = performance.now();
    for (const i of indexes) submittedAt.set(hashes[i] as string, now);
    try {
      if (indexes.length === 1) {
        await requestJson(`${target}/v1/txs`, { body: txs[indexes[0] as number] });
      } else {
        const { results } = await requestJson<{ results: Array<{ status: string }> }>(`${target}/v1/txs/batch`, {
          body: { txs: indexes.map((i) => txs[i]) },
        });
        results.forEach((r, k) => {
          if (r.status !== 'pending') refuse(hashes[indexes[k] as number] as string);
        });
      }
    } catch {
      for (const i of indexes) refuse(hashes[i] as string);
    }
  }
  async function submitter(): Promise<void> {
    while (next < txs.length) {
      if (timeIsUp()) {
        // Time is up: whatever was not sent is dropped from the run.
        for (let i = next; i < txs.length; i++) outstanding.delete(hashes[i] as string);
        next = txs.length;
        return;
      }
      const first = next;
      next = Math.min(txs.length, next + batch);
      await send(
        Array.from({ length: next - first }, (_, k) => first + k),
        targets[requests++ % targets.length] as string,
      );
    }
  }
  async function laneSubmitter(lane: number[], target: string): Promise<void> {
    for (let at = 0; at < lane.length; at += batch) {
      if (timeIsUp()) {
        for (const i of lane.slice(at)) outstanding.delete(hashes[i] as string);
        return;
      }
      await send(lane.slice(at, at + batch), target);
    }
  }

  let submitting = true;
  // The follower's reads are idempotent. Under load a keep-alive socket the node has just
  // closed can be reused ('other side closed', EPIPE); retry those, never a node's refusal.
  const read = async <T>(url: string): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await requestJson<T>(url);
      } catch (err) {
        if (err instanceof NodeApiError || attempt >= 3) throw err;
        await sleep(100);
      }
    }
  };
  async function follower(): Promise<void> {
    const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
    while (outstanding.size > 0 || submitting) {
      if (Date.now() > deadline) throw new Error(`timed out with ${outstanding.size} transactions not committed`);
      const tip = (await read<{ height: number }>(`${base}/v1/status`)).height;
      while (nextHeight <= tip) {
        const { leaves, engine } = await read<{ leaves: string[]; engine?: string }>(`${base}/v1/blocks/${nextHeight}`);
        const seenAt = performance.now();
        if (leaves.length > 0) lastCommitAt = seenAt;
        for (const leaf of leaves) {
          // A CometBFT block's leaves are the transactions' SHA-256, their hashes (docs/cometbft.md).
          const hash = engine === 'cometbft' ? leaf : byLeaf.get(leaf);
          if (hash === undefined || !outstanding.delete(hash)) continue;
          included.push(hash);
          latencies.push(seenAt - (submittedAt.get(hash) ?? seenAt));
        }
        opts.onProgress?.(included.length, txs.length);
        nextHeight++;
      }
      if (outstanding.size > 0 || submitting) await sleep(50);
    }
  }

  const following = follower();
  await Promise.all(
    opts.lanes !== undefined
      ? opts.lanes.map((lane, l) => laneSubmitter(lane, targets[l % targets.length] as string))
      : Array.from({ length: Math.max(1, opts.concurrency) }, submitter),
  );
  submitting = false;
  await following;
  // A transaction in a block may still have been rejected by the rules: its status says,
  // asked after the run so the lookups do not load the node being measured.
  // A node's per-address rate limit may answer 429 here: wait as it says and ask again.
  const statusOf = async (h: string): Promise<{ hash: string; status: string }> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await requestJson<{ hash: string; status: string }>(`${base}/v1/txs/${h}`);
      } catch (err) {
        if (!(err instanceof NodeApiError && err.status === 429) || attempt >= 30) throw err;
        await sleep(1_000);
      }
    }
  };
  const rejectedIn = new Set<string>();
  for (let i = 0; i < included.length; i += 64) {
    const answers = await Promise.all(included.slice(i, i + 64).map(statusOf));
    for (const a of answers) if (a.status !== 'committed') rejectedIn.add(a.hash);
  }
  committed = included.length - rejectedIn.size;
  rejected += rejectedIn.size;
  const kept = latencies.filter((_, i) => !rejectedIn.has(included[i] as string));
  latencies.length = 0;
  latencies.push(...kept);
  const seconds = (lastCommitAt - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { committed, rejected, seconds, txPerSecond: seconds > 0 ? committed / seconds : 0, latenciesMs: latencies };
}
