// The headers below a state-synced node's snapshot (docs/deploy.md "Joining"). Such a node
// holds no block before its snapshot, yet a client pinned to genesis walks every header from
// height 1 to follow validator-set changes (client light-sets.ts). The node walked those same
// headers to check the snapshot (state-sync.ts), linked to the snapshot's verified block, so
// it keeps them and serves them like its own (headers-page.ts); clients check them anyway.
import type { BlockHeader, Commit, GenesisValidator } from '@medledger/ledger';
import type { MetaStore } from './ports.js';

/** One walked header as `GET /v1/headers` serves it. */
export interface HeaderEntry {
  header: BlockHeader;
  commit: Commit;
  nextValidators?: GenesisValidator[];
}

/** Headers per stored page (one meta entry). */
const PAGE = 100;
const keyOf = (page: number) => `synced-headers/${page}`;
const pageOf = (height: number) => Math.floor((height - 1) / PAGE);

export class SyncedHeaders {
  /** The last page read, so a walk through a page parses it once. */
  private cached: { page: number; entries: HeaderEntry[] } | undefined;

  constructor(private readonly meta: MetaStore) {}

  /** Keep `entries` (heights ascending from 1, as walked), in pages. Durable when this returns. */
  save(entries: readonly HeaderEntry[]): void {
    for (let start = 0; start < entries.length; start += PAGE) {
      const page = entries.slice(start, start + PAGE);
      const first = page[0] as HeaderEntry;
      if (first.header.height !== start + 1) throw new Error(`walked headers must run from height 1 without a gap (at ${start + 1})`);
      this.meta.setMeta(keyOf(pageOf(first.header.height)), JSON.stringify(page));
    }
    this.cached = undefined;
  }

  /** The kept header at `height`, or undefined. */
  get(height: number): HeaderEntry | undefined {
    const page = pageOf(height);
    if (this.cached?.page !== page) {
      const raw = this.meta.getMeta(keyOf(page));
      if (raw === undefined) return undefined;
      this.cached = { page, entries: JSON.parse(raw) as HeaderEntry[] };
    }
    return this.cached.entries[(height - 1) % PAGE];
  }
}
