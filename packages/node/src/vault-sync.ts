// Vault sync between nodes (docs/records.md): ask validators for objects by hash over the
// authenticated p2p links, check what comes back, and keep fetching wanted objects.
import { isHex, sha256Hex } from '@medledger/crypto';
import type { NodeStore } from '@medledger/storage';

/** What the vault needs of the p2p layer; the P2P class satisfies it. */
export interface VaultPeers {
  connectedPeers(): string[];
  send(peer: string, msg: Record<string, unknown>): void;
  nameOf(peer: string): string;
}

export type VaultLog = (level: 'info' | 'warn' | 'error', msg: string) => void;

/** A peer's `{type: 'vault-get', id, hash}`: it asks for the object with this hash. */
export interface VaultGet {
  id: string;
  hash: string;
}

/** What a peer answered to one request, or that it did not answer in time. */
export type PeerAnswer = { kind: 'data'; data: Uint8Array } | { kind: 'none' } | { kind: 'invalid'; why: string } | { kind: 'timeout' };

/** A peer's `{type: 'vault-data', id, hash, data: base64 | null}`, decoded. */
export interface VaultData {
  id: string;
  hash: string;
  answer: Exclude<PeerAnswer, { kind: 'timeout' }>;
}

/** Requests waiting for an answer at once; more are refused rather than queued. */
export const MAX_PENDING_REQUESTS = 256;
const REQUEST_ID = /^[0-9A-Za-z_-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const SYNC_INTERVAL_MS = 1_000;
const PARALLEL_FETCHES = 8;
const FETCHES_PER_PASS = 64;
const SCAN_PER_PASS = 1_000;
const SCAN_PAGE = 200;
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_MAX_MS = 5 * 60_000;
/** Failure records kept for backoff; forgetting one only makes that hash due early. */
const MAX_BACKOFF_ENTRIES = 10_000;

/** A vault address: SHA-256 as 64 lowercase hex characters. */
export function isObjectHash(value: unknown): value is string {
  return isHex(value, 32);
}

/** Check a peer's vault-get; undefined when any field is wrong. */
export function parseVaultGet(msg: Record<string, unknown>): VaultGet | undefined {
  const { id, hash } = msg;
  if (typeof id !== 'string' || !REQUEST_ID.test(id) || !isObjectHash(hash)) return undefined;
  return { id, hash };
}

/**
 * Check a peer's vault-data. Undefined when `id` or `hash` is wrong (the answer cannot be
 * matched to a request); a `data` field that is not null or canonical base64 of at most
 * `maxObjectBytes` bytes is an `invalid` answer, so the asker can move to another peer.
 */
export function parseVaultData(msg: Record<string, unknown>, maxObjectBytes: number): VaultData | undefined {
  const { id, hash, data } = msg;
  if (typeof id !== 'string' || !REQUEST_ID.test(id) || !isObjectHash(hash)) return undefined;
  if (data === null) return { id, hash, answer: { kind: 'none' } };
  if (typeof data !== 'string' || data.length % 4 !== 0 || !BASE64.test(data))
    return { id, hash, answer: { kind: 'invalid', why: 'data is not base64' } };
  // Checked before decoding, so an oversized answer costs no allocation.
  if (data.length > 4 * Math.ceil(maxObjectBytes / 3))
    return { id, hash, answer: { kind: 'invalid', why: `data is larger than ${maxObjectBytes} bytes` } };
  const bytes = Uint8Array.from(Buffer.from(data, 'base64'));
  if (bytes.length > maxObjectBytes) return { id, hash, answer: { kind: 'invalid', why: `data is larger than ${maxObjectBytes} bytes` } };
  return { id, hash, answer: { kind: 'data', data: bytes } };
}

/** Encode this node's answer to a vault-get. */
export function vaultDataMessage(id: string, hash: string, data: Uint8Array | undefined): Record<string, unknown> {
  return {
    type: 'vault-data',
    id,
    hash,
    data: data === undefined ? null : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
  };
}

interface PendingRequest {
  peer: string;
  hash: string;
  timer: NodeJS.Timeout;
  resolve: (answer: PeerAnswer) => void;
}

export interface VaultSyncOptions {
  maxObjectBytes: number;
  /** How long one peer has to answer one request (ms). */
  fetchTimeoutMs: number;
}

export interface VaultSyncDeps {
  store: NodeStore;
  now: () => number;
  log: VaultLog;
  peers: VaultPeers;
  /** The size committed state says an object has (ehr objectSizeOnChain), if it says one. */
  sizeOnChain?: (hash: string) => number | undefined;
}

/**
 * Fetches objects from peers. Every answer is re-hashed before it is stored; a fetched
 * object is stored only while the hash is still wanted, so an erasure committed while a
 * request was out is not undone by the answer.
 */
export class VaultSync {
  private readonly pending = new Map<string, PendingRequest>();
  private readonly inflight = new Map<string, Promise<Uint8Array | undefined>>();
  private readonly backoff = new Map<string, { failures: number; nextAt: number }>();
  /** Where the next pass resumes in the wanted list, so hashes no peer has cannot starve the rest. */
  private cursor: string | undefined;
  private nextId = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;
  private passing = false;
  private passAgain = false;

  constructor(
    private readonly opts: VaultSyncOptions,
    private readonly deps: VaultSyncDeps,
  ) {}

  /** Start fetching wanted objects in the background. */
  start(): void {
    if (this.stopped) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stop the background loop and give up on every request still waiting. */
  stop(): void {
    this.running = false;
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.resolve({ kind: 'timeout' });
    }
    this.pending.clear();
  }

  /** New wanted hashes: run a pass now rather than at the next interval. */
  kick(): void {
    if (!this.running) return;
    if (this.passing) this.passAgain = true;
    else this.schedule(0);
  }

  /** Drop the retry state of a hash that arrived or is no longer wanted. */
  forget(hash: string): void {
    this.backoff.delete(hash);
  }

  /**
   * Fetch `hash` from the connected peers, asking each in turn (each bounded by
   * fetchTimeoutMs) until one returns bytes with that hash. Concurrent calls for one hash
   * share a request. Resolves to the verified bytes, or undefined.
   */
  fetch(hash: string): Promise<Uint8Array | undefined> {
    const existing = this.inflight.get(hash);
    if (existing !== undefined) return existing;
    const fetching = this.fetchFromPeers(hash).finally(() => this.inflight.delete(hash));
    this.inflight.set(hash, fetching);
    return fetching;
  }

  /** A peer's vault-data: settle the matching request. Unasked or late answers are dropped. */
  onData(peer: string, msg: Record<string, unknown>): void {
    const parsed = parseVaultData(msg, this.opts.maxObjectBytes);
    if (parsed === undefined) {
      this.deps.log('warn', `ignored a malformed vault-data message from ${this.deps.peers.nameOf(peer)}`);
      return;
    }
    const request = this.pending.get(parsed.id);
    if (request === undefined || request.peer !== peer || request.hash !== parsed.hash) return;
    this.pending.delete(parsed.id);
    clearTimeout(request.timer);
    request.resolve(parsed.answer);
  }

  /**
   * One pass over the wanted list: fetch the hashes that are due (not backing off after a
   * failure), a few at a time. Returns how many arrived.
   */
  async syncPass(): Promise<number> {
    if (this.deps.peers.connectedPeers().length === 0) return 0;
    const due = this.dueWanted();
    let fetched = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < due.length && !this.stopped) {
        const hash = due[next++] as string;
        if ((await this.fetch(hash)) !== undefined) fetched++;
        else this.recordFailure(hash);
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_FETCHES, due.length) }, worker));
    return fetched;
  }

  private async fetchFromPeers(hash: string): Promise<Uint8Array | undefined> {
    for (const peer of this.deps.peers.connectedPeers()) {
      if (this.stopped) return undefined;
      const answer = await this.request(peer, hash);
      if (answer.kind === 'invalid') {
        this.deps.log(
          'warn',
          `${this.deps.peers.nameOf(peer)} sent an invalid answer for vault object ${hash.slice(0, 12)}: ${answer.why}`,
        );
        continue;
      }
      if (answer.kind !== 'data') continue;
      if (sha256Hex(answer.data) !== hash) {
        this.deps.log(
          'warn',
          `${this.deps.peers.nameOf(peer)} answered vault object ${hash.slice(0, 12)} with bytes that do not match its hash; asking another peer`,
        );
        continue;
      }
      const expected = this.deps.sizeOnChain?.(hash);
      if (expected !== undefined && answer.data.length !== expected) {
        // The bytes match the hash, so no peer has a better copy: the anchor lied. Keeping
        // it would let one validator that skipped the admission checks pin it everywhere.
        this.deps.log(
          'warn',
          `vault object ${hash.slice(0, 12)} is ${answer.data.length} bytes but the chain says ${expected}; not keeping it`,
        );
        this.deps.store.unwantVaultObject(hash);
        this.forget(hash);
        return undefined;
      }
      return this.accept(hash, answer.data);
    }
    return undefined;
  }

  /** Store verified bytes if the hash is still wanted; undefined when it no longer is. */
  private accept(hash: string, data: Uint8Array): Uint8Array | undefined {
    const status = this.deps.store.vaultObjectStatus(hash);
    if (status === undefined) return undefined;
    if (status === 'wanted') this.deps.store.putVaultObject(hash, data, this.deps.now());
    this.forget(hash);
    return data;
  }

  private request(peer: string, hash: string): Promise<PeerAnswer> {
    if (this.stopped || this.pending.size >= MAX_PENDING_REQUESTS) return Promise.resolve({ kind: 'timeout' });
    this.nextId++;
    const id = this.nextId.toString(36);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ kind: 'timeout' });
      }, this.opts.fetchTimeoutMs);
      this.pending.set(id, { peer, hash, timer, resolve });
      this.deps.peers.send(peer, { type: 'vault-get', id, hash });
    });
  }

  private recordFailure(hash: string): void {
    if (this.deps.store.vaultObjectStatus(hash) !== 'wanted') {
      this.forget(hash);
      return;
    }
    const failures = (this.backoff.get(hash)?.failures ?? 0) + 1;
    this.backoff.delete(hash);
    if (this.backoff.size >= MAX_BACKOFF_ENTRIES) this.backoff.delete(this.backoff.keys().next().value as string);
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 20));
    this.backoff.set(hash, { failures, nextAt: this.deps.now() + delay });
    if (failures === 3)
      this.deps.log(
        'warn',
        `vault object ${hash.slice(0, 12)} is anchored but no peer has served it after ${failures} tries; still trying`,
      );
  }

  /** Up to FETCHES_PER_PASS wanted hashes that are due, resuming after the last pass. */
  private dueWanted(): string[] {
    const now = this.deps.now();
    const due: string[] = [];
    let after = this.cursor;
    let scanned = 0;
    let wrapped = after === undefined;
    while (due.length < FETCHES_PER_PASS && scanned < SCAN_PER_PASS) {
      const page = this.deps.store.wantedVaultObjects(SCAN_PAGE, after);
      if (page.length === 0) {
        if (wrapped) break;
        wrapped = true;
        after = undefined;
        continue;
      }
      for (const hash of page) {
        scanned++;
        after = hash;
        if (due.includes(hash)) continue;
        if ((this.backoff.get(hash)?.nextAt ?? 0) <= now) due.push(hash);
        if (due.length >= FETCHES_PER_PASS) break;
      }
    }
    this.cursor = after;
    return due;
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.runPasses();
    }, ms);
  }

  private async runPasses(): Promise<void> {
    if (this.passing) {
      this.passAgain = true;
      return;
    }
    this.passing = true;
    try {
      do {
        this.passAgain = false;
        await this.syncPass();
      } while (this.passAgain && this.running);
    } catch (err) {
      this.deps.log('error', `vault sync pass failed: ${(err as Error).message}`);
    } finally {
      this.passing = false;
      this.schedule(SYNC_INTERVAL_MS);
    }
  }
}
