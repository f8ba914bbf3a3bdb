// The member directory (docs/sdk.md "Directory"): find staff and organizations by name. A hint
// for choosing whom to share with, never a key to seal to: the chosen identity is looked up
// again through proven state (`identity`) before anything is granted or sealed.
import type { NodeConnection } from './connection.js';
import { ClientError } from './errors.js';
import { nextAt, type Page, type PageRequest, pageQuery } from './paging.js';
import { arrayAt, objectAt } from './responses.js';

/** One directory entry, as the node answers it (unproven: display only). */
export interface DirectoryEntry {
  id: string;
  name: string;
  role: string;
  org?: string;
  orgName?: string;
  orgKind?: string;
}

function entry(x: unknown): DirectoryEntry {
  const o = objectAt(x, 'entry');
  if (typeof o.id !== 'string' || !/^[0-9a-f]{40}$/.test(o.id) || typeof o.name !== 'string' || typeof o.role !== 'string')
    throw new ClientError('MALFORMED_RESPONSE', 'a directory entry must have an id, a name and a role');
  return o as unknown as DirectoryEntry;
}

/**
 * `GET /v1/directory?q=`: matching member organizations (all of them) and one page of
 * matching staff. `query` must be 2 to 100 characters. Throws ClientError.
 */
export async function searchDirectory(
  conn: NodeConnection,
  query: string,
  page: PageRequest = {},
): Promise<{ organizations: DirectoryEntry[] } & Page<DirectoryEntry>> {
  const q = query.trim();
  if (q.length < 2 || q.length > 100) throw new ClientError('INVALID_ARGUMENT', 'a directory search needs 2 to 100 characters');
  const answer = objectAt(await conn.get(`/v1/directory${pageQuery(page, { q })}`, { auth: true }), 'answer');
  return {
    organizations: arrayAt(answer, 'organizations', 'answer').map(entry),
    items: arrayAt(answer, 'staff', 'answer').map(entry),
    next: nextAt(answer, 'answer'),
  };
}
