// One page of the chain's headers with their commits, and the next validator set wherever a
// header changes it: what a client pinned to genesis walks to follow validator-set changes
// (client light-sets.ts). Served over HTTP (`GET /v1/headers`) and over peer links
// (`headers-get`, for a node checking a state snapshot: state-sync.ts), from one definition.
import type { GenesisValidator } from '@medledger/ledger';
import type { StoredHeader } from '@medledger/storage';
import type { HeaderEntry } from './synced-headers.js';

/** Most headers one page holds. */
export const HEADERS_PAGE = 100;

/** What a page is read from: the committed chain. */
export interface HeaderChain {
  readonly height: number;
  readonly store: { loadHeader(height: number): StoredHeader | undefined };
  nextValidatorsOf(height: number): GenesisValidator[] | undefined;
  /** A header below the snapshot a state-synced node started from, as it walked them (synced-headers.ts). */
  syncedHeader?(height: number): HeaderEntry | undefined;
}

export interface HeadersPage {
  headers: HeaderEntry[];
  /** The height to ask for next, or null at the tip. */
  next: number | null;
}

/**
 * Headers from `from` on, at most `limit` (already checked to be 1…HEADERS_PAGE). The page
 * ends early at the first height this node does not hold (above its tip, or below the
 * snapshot of a state-synced node that kept no headers), so an empty page means "not here".
 */
export function headersPage(chain: HeaderChain, from: number, limit: number): HeadersPage {
  const tip = chain.height;
  const last = Math.min(tip, from + limit - 1);
  const headers: HeadersPage['headers'] = [];
  for (let h = from; h <= last; h++) {
    // Headers only: a page of big blocks would otherwise parse every transaction in them.
    const stored = chain.store.loadHeader(h);
    if (stored === undefined) {
      const walked = chain.syncedHeader?.(h);
      if (walked === undefined) break;
      headers.push(walked);
      continue;
    }
    const nextValidators = chain.nextValidatorsOf(h);
    headers.push({ header: stored.header, commit: stored.commit, ...(nextValidators === undefined ? {} : { nextValidators }) });
  }
  return { headers, next: from + headers.length <= tip ? from + headers.length : null };
}
