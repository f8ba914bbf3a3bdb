// The serving side of state sync (docs/deploy.md "Joining"): every `interval` blocks the
// node writes a snapshot of its committed state to `<home>/snapshots/<height>/`, keeps the
// newest `keep`, and answers peers that ask for the list, a manifest or a chunk. The state
// is read in the commit that made it (one synchronous scan, so no later block mixes in);
// the files are written afterwards, and a snapshot is offered only once its manifest, the
// last file written, exists.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoredBlock } from '@medledger/storage';
import { isNodeLocalKey } from './application.js';
import { HOME_DIR_MODE, HOME_FILE_MODE } from './home.js';
import type { Log, PeerNet } from './ports.js';
import { chunkHashOf, encodeChunks, SNAPSHOT_FORMAT, type SnapshotManifest } from './snapshot-check.js';

export interface SnapshotConfig {
  /** Make a snapshot at every height that is a multiple of this; 0 makes none. */
  interval: number;
  /** How many of the newest snapshots are kept on disk and offered. */
  keep: number;
}

/** Snapshots when config.json says nothing: every 1,000 blocks, the newest 2 kept. */
export const DEFAULT_SNAPSHOT_CONFIG: SnapshotConfig = { interval: 1000, keep: 2 };

const MANIFEST = 'manifest.json';
const chunkFile = (i: number) => `chunk-${i}.json`;

export interface SnapshotStoreDeps {
  /** Every committed state key in order (one synchronous pass, at the commit). */
  scanState(prefix: string): Array<[string, string]>;
  loadBlock(height: number): StoredBlock | undefined;
  net: Pick<PeerNet, 'send'>;
  log: Log;
}

export class SnapshotStore {
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly opts: SnapshotConfig & { dir: string },
    private readonly deps: SnapshotStoreDeps,
  ) {}

  /** Heights of the complete snapshots on disk, newest first. */
  heights(): number[] {
    if (!existsSync(this.opts.dir)) return [];
    return readdirSync(this.opts.dir)
      .filter((d) => /^[1-9][0-9]*$/.test(d) && existsSync(join(this.opts.dir, d, MANIFEST)))
      .map(Number)
      .sort((a, b) => b - a);
  }

  /** After a block is committed: snapshot it when its height is due. Returns when the files are written. */
  onCommitted(height: number): Promise<void> {
    if (this.opts.interval <= 0 || height % this.opts.interval !== 0) return this.writing;
    const stored = this.deps.loadBlock(height);
    if (stored === undefined) return this.writing;
    // Read now, inside this commit; write after, one snapshot at a time. A snapshot that
    // fails is logged and skipped: it must never stop the node committing.
    try {
      const entries = this.deps.scanState('').filter(([key]) => !isNodeLocalKey(key));
      const chunks = encodeChunks(entries);
      const manifest: SnapshotManifest = {
        format: SNAPSHOT_FORMAT,
        height,
        block: stored.block,
        commit: stored.commit,
        results: stored.results,
        chunks: chunks.map(chunkHashOf),
      };
      this.writing = this.writing.then(() => this.write(manifest, chunks, entries.length));
    } catch (err) {
      this.deps.log('warn', `state snapshot at height ${height} not taken: ${(err as Error).message}`);
    }
    return this.writing;
  }

  private async write(manifest: SnapshotManifest, chunks: string[], keys: number): Promise<void> {
    const dir = join(this.opts.dir, String(manifest.height));
    try {
      mkdirSync(dir, { recursive: true, mode: HOME_DIR_MODE });
      for (let i = 0; i < chunks.length; i++) await writeFile(join(dir, chunkFile(i)), chunks[i] as string, { mode: HOME_FILE_MODE });
      // The manifest last, by rename: a snapshot is offered only once whole.
      await writeFile(join(dir, `${MANIFEST}.tmp`), JSON.stringify(manifest), { mode: HOME_FILE_MODE });
      await rename(join(dir, `${MANIFEST}.tmp`), join(dir, MANIFEST));
      this.deps.log('info', `state snapshot at height ${manifest.height}: ${keys} keys in ${chunks.length} chunks`);
      for (const old of this.heights().slice(Math.max(1, this.opts.keep)))
        rmSync(join(this.opts.dir, String(old)), { recursive: true, force: true });
    } catch (err) {
      this.deps.log('warn', `state snapshot at height ${manifest.height} not written: ${(err as Error).message}`);
    }
  }

  /**
   * Answer a peer's snapshot message: `snapshots-get` with the list of heights and block
   * hashes, `snapshot-get {height}` with the manifest, `snapshot-chunk-get {height, index}`
   * with that chunk's text. Asked-for snapshots that are gone get an empty answer.
   */
  onPeerMessage(peer: string, msg: Record<string, unknown>): void {
    const send = (m: Record<string, unknown>) => this.deps.net.send(peer, m);
    if (msg.type === 'snapshots-get') {
      const list = this.heights().flatMap((height) => {
        const m = this.readManifest(height);
        return m === undefined ? [] : [{ height, blockHash: m.commit.blockHash, chunks: m.chunks.length }];
      });
      send({ type: 'snapshots', list });
      return;
    }
    const height = msg.height;
    if (typeof height !== 'number' || !this.heights().includes(height)) {
      if (msg.type === 'snapshot-get' || msg.type === 'snapshot-chunk-get')
        send({ type: msg.type === 'snapshot-get' ? 'snapshot' : 'snapshot-chunk', height, missing: true });
      return;
    }
    if (msg.type === 'snapshot-get') {
      send({ type: 'snapshot', height, manifest: this.readManifest(height) });
      return;
    }
    if (msg.type === 'snapshot-chunk-get') {
      const index = msg.index;
      const manifest = this.readManifest(height);
      if (manifest === undefined || typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= manifest.chunks.length) {
        send({ type: 'snapshot-chunk', height, index, missing: true });
        return;
      }
      send({ type: 'snapshot-chunk', height, index, data: readFileSync(join(this.opts.dir, String(height), chunkFile(index)), 'utf8') });
    }
  }

  private readManifest(height: number): SnapshotManifest | undefined {
    try {
      return JSON.parse(readFileSync(join(this.opts.dir, String(height), MANIFEST), 'utf8')) as SnapshotManifest;
    } catch {
      return undefined;
    }
  }
}
