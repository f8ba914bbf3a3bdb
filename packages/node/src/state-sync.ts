// The joining side of state sync (docs/deploy.md "Joining"): a node with an empty store asks
// its peers which snapshots they hold, takes the highest, and fetches its manifest and
// chunks from one peer. The manifest's commit must verify against the validator set in force
// at its height, which the node follows from genesis through the chain's headers (asked of the
// peers with `headers-get`, checked link by link as the light client does), and the rebuilt
// state must give the signed app hash (snapshot-check.ts); a peer whose manifest, chunk or
// state fails is refused and the next peer offering a snapshot is tried. With no usable
// snapshot the node falls back to block sync from genesis.
import { type HeaderSource, ValidatorSetTracker } from '@medledger/client/light';
import { type Block, blockHash, type Genesis, type GenesisValidator, ZERO_HASH } from '@medledger/ledger';
import type { SnapshotInstallBatch } from '@medledger/storage';
import type { Log, Now, PeerNet } from './ports.js';
import { assembleSnapshot, type CheckedManifest, checkManifest, chunkHashOf, SnapshotError } from './snapshot-check.js';
import type { HeaderEntry } from './synced-headers.js';

export interface StateSyncOptions {
  genesis: Genesis;
  /** How long to look for peers and offers before giving up on state sync (ms). */
  discoverMs: number;
  /** How long one answer may take (ms). */
  answerMs: number;
  /** Chunks asked for at once. */
  window: number;
  /** Peers are asked in this order (the config's), connected or not yet. */
  peerOrder: readonly string[];
}

/** How long state sync waits for all configured peers before asking those connected. */
const CONNECT_GRACE_MS = 5_000;

export const DEFAULT_STATE_SYNC_OPTIONS = { discoverMs: 30_000, answerMs: 30_000, window: 4 };

export interface StateSyncDeps {
  net: Pick<PeerNet, 'send' | 'nameOf' | 'disconnect'> & { connectedPeers(): string[] };
  log: Log;
  now: Now;
  sleep: (ms: number) => Promise<void>;
}

interface Waiter {
  resolve: (msg: Record<string, unknown>) => void;
  timer: NodeJS.Timeout;
}

/** A checked snapshot, the validator set (followed from genesis) that signed its block, and the headers walked below it. */
export interface SyncedSnapshot {
  batch: SnapshotInstallBatch;
  validators: readonly GenesisValidator[];
  /** Heights 1 to the snapshot's − 1, hash-linked to its block: kept so clients can walk them here (synced-headers.ts). */
  headers: HeaderEntry[];
}

/** An offer of one peer: a snapshot height and its block hash. */
interface Offer {
  peer: string;
  height: number;
  blockHash: string;
}

/**
 * The walked headers from height 1 to the one before `block`, each linked to the one before
 * and the last to `block`: the same headers the tracker checked (a hash chain admits no
 * other). Empty when any is missing or out of line, so nothing unchecked is kept.
 */
function linkedHeaders(walked: ReadonlyMap<number, HeaderEntry>, block: Block): HeaderEntry[] {
  const out: HeaderEntry[] = [];
  let prev = ZERO_HASH;
  for (let h = 1; h < block.header.height; h++) {
    const entry = walked.get(h);
    if (entry === undefined || entry.header.prevHash !== prev) return [];
    prev = blockHash(entry.header);
    out.push(entry);
  }
  return prev === block.header.prevHash ? out : [];
}

export class StateSync {
  private readonly waiters = new Map<string, Waiter>();
  private readonly refused = new Set<string>();

  constructor(
    private readonly opts: StateSyncOptions,
    private readonly deps: StateSyncDeps,
  ) {}

  /** Peers refused during this run (their snapshot did not check out). */
  get refusedPeers(): readonly string[] {
    return [...this.refused];
  }

  /** A snapshot answer from a peer (snapshots, snapshot, snapshot-chunk): wake whoever asked. */
  onPeerMessage(peer: string, msg: Record<string, unknown>): void {
    const key = this.keyOf(peer, msg);
    const waiter = key === undefined ? undefined : this.waiters.get(key);
    if (waiter === undefined || key === undefined) return;
    this.waiters.delete(key);
    clearTimeout(waiter.timer);
    waiter.resolve(msg);
  }

  private keyOf(peer: string, msg: Record<string, unknown>): string | undefined {
    if (msg.type === 'snapshots') return `${peer}/list`;
    if (msg.type === 'snapshot') return `${peer}/manifest/${String(msg.height)}`;
    if (msg.type === 'snapshot-chunk') return `${peer}/chunk/${String(msg.height)}/${String(msg.index)}`;
    if (msg.type === 'headers') return `${peer}/headers/${String(msg.from)}`;
    return undefined;
  }

  /** Send `msg` to `peer` and wait for the answer named `key`; undefined on timeout. */
  private ask(peer: string, msg: Record<string, unknown>, key: string): Promise<Record<string, unknown> | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        resolve(undefined);
      }, this.opts.answerMs);
      this.waiters.get(key)?.resolve({});
      this.waiters.set(key, { resolve, timer });
      this.deps.net.send(peer, msg);
    });
  }

  /**
   * Find, fetch and check a snapshot. Resolves with what the store installs, or undefined
   * when no peer offered one that checks out within `discoverMs` (the node then block-syncs
   * from genesis).
   */
  async run(): Promise<SyncedSnapshot | undefined> {
    const started = this.deps.now();
    // Give every configured peer a moment to connect, so the first offers are compared across them.
    while (this.deps.now() - started < Math.min(CONNECT_GRACE_MS, this.opts.discoverMs)) {
      const connected = new Set(this.deps.net.connectedPeers());
      if (this.opts.peerOrder.every((p) => connected.has(p))) break;
      await this.deps.sleep(100);
    }
    const tried = new Set<string>();
    while (this.deps.now() - started < this.opts.discoverMs) {
      const offers = await this.collectOffers();
      const fresh = offers.filter((o) => !tried.has(`${o.peer}/${o.height}`));
      if (fresh.length === 0) {
        await this.deps.sleep(500);
        continue;
      }
      // The highest snapshot first; among equal heights, peers in config order.
      const offer = fresh[0] as Offer;
      tried.add(`${offer.peer}/${offer.height}`);
      const batch = await this.fetchFrom(offer);
      if (batch !== undefined) return batch;
    }
    this.deps.log(
      'warn',
      `state sync: no peer offered a snapshot that checks out within ${this.opts.discoverMs / 1000} s; syncing blocks from genesis`,
    );
    return undefined;
  }

  private orderOf(peer: string): number {
    const i = this.opts.peerOrder.indexOf(peer);
    return i < 0 ? this.opts.peerOrder.length : i;
  }

  private async collectOffers(): Promise<Offer[]> {
    const peers = this.deps.net.connectedPeers().filter((p) => !this.refused.has(p));
    const answers = await Promise.all(
      peers.map((peer) => this.ask(peer, { type: 'snapshots-get' }, `${peer}/list`).then((a) => ({ peer, a }))),
    );
    const offers: Offer[] = [];
    for (const { peer, a } of answers) {
      if (!Array.isArray(a?.list)) continue;
      for (const o of (a.list as unknown[]).slice(0, 16)) {
        const { height, blockHash } = (o ?? {}) as { height?: unknown; blockHash?: unknown };
        if (typeof height === 'number' && Number.isSafeInteger(height) && height > 0 && typeof blockHash === 'string')
          offers.push({ peer, height, blockHash });
      }
    }
    return offers.sort((a, b) => b.height - a.height || this.orderOf(a.peer) - this.orderOf(b.peer));
  }

  private refuse(peer: string, why: string): void {
    this.refused.add(peer);
    this.deps.log('warn', `state sync: refused the snapshot of ${this.deps.net.nameOf(peer)}: ${why}; trying another peer`);
    this.deps.net.disconnect(peer);
  }

  /**
   * The chain's headers as the light client asks for them (`/v1/headers?from=&limit=`), taken
   * over peer links: from `first` (the peer offering the snapshot), else from any other
   * connected peer (one that joined by state sync holds no headers below its snapshot). The
   * tracker checks every header against the one before, so mixing peers cannot mislead it.
   */
  private headerSource(first: string, walked: Map<number, HeaderEntry>): HeaderSource {
    return {
      get: async (path: string) => {
        const query = new URLSearchParams(path.slice(path.indexOf('?') + 1));
        const from = Number(query.get('from'));
        const limit = Number(query.get('limit'));
        const peers = [first, ...this.deps.net.connectedPeers().filter((p) => p !== first && !this.refused.has(p))];
        for (const peer of peers) {
          const answer = await this.ask(peer, { type: 'headers-get', from, limit }, `${peer}/headers/${from}`);
          if (Array.isArray(answer?.headers) && answer.headers.length > 0) {
            for (const entry of answer.headers as HeaderEntry[]) {
              const h = entry?.header?.height;
              if (typeof h === 'number' && Number.isSafeInteger(h) && h >= from && h < from + limit && !walked.has(h)) walked.set(h, entry);
            }
            return answer;
          }
        }
        return { headers: [] };
      },
    };
  }

  /** Manifest and every chunk from `offer.peer`, checked; undefined (and the peer refused) if anything fails. */
  private async fetchFrom(offer: Offer): Promise<SyncedSnapshot | undefined> {
    const { peer, height } = offer;
    const name = this.deps.net.nameOf(peer);
    const answer = await this.ask(peer, { type: 'snapshot-get', height }, `${peer}/manifest/${height}`);
    if (answer === undefined || answer.missing === true) {
      this.deps.log('info', `state sync: ${name} did not send the manifest of its snapshot at height ${height}`);
      return undefined;
    }
    let manifest: CheckedManifest;
    const walked = new Map<number, HeaderEntry>();
    try {
      manifest = await checkManifest(new ValidatorSetTracker(this.opts.genesis, this.headerSource(peer, walked)), answer.manifest);
      if (manifest.height !== height) throw new SnapshotError('BAD_MANIFEST', 'the manifest is for another height');
    } catch (err) {
      this.refuse(peer, (err as Error).message);
      return undefined;
    }
    this.deps.log('info', `state sync: fetching the snapshot at height ${height} (${manifest.chunks.length} chunks) from ${name}`);
    const texts: string[] = new Array(manifest.chunks.length);
    let next = 0;
    let failure: string | undefined;
    const worker = async () => {
      while (failure === undefined && next < manifest.chunks.length) {
        const index = next++;
        const got = await this.ask(peer, { type: 'snapshot-chunk-get', height, index }, `${peer}/chunk/${height}/${index}`);
        if (typeof got?.data !== 'string') {
          failure ??= `chunk ${index} did not arrive`;
          return;
        }
        if (chunkHashOf(got.data) !== manifest.chunks[index]) {
          failure ??= `chunk ${index} does not match its hash in the manifest`;
          return;
        }
        texts[index] = got.data;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.opts.window) }, worker));
    if (failure !== undefined) {
      this.refuse(peer, failure);
      return undefined;
    }
    try {
      return { batch: assembleSnapshot(manifest, texts), validators: manifest.validators, headers: linkedHeaders(walked, manifest.block) };
    } catch (err) {
      this.refuse(peer, (err as Error).message);
      return undefined;
    }
  }
}
