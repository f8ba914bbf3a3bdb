// The chain's member organizations, for pickers (ship to, prescribe to a pharmacy): the current
// membership as governance keeps it (founders and those admitted by vote, without those
// removed), paged, each entry proven against the trusted genesis: its membership by the proven
// `gov/members` list, its name and kind by its proven identity. A node can neither slip in an
// organization that is not a member nor rename one.
import type { NodeConnection } from './connection.js';
import { ClientError } from './errors.js';
import { govMembers } from './gov.js';
import type { Page, PageRequest } from './paging.js';
import { stateKeys } from './proven-facts.js';
import { refuse } from './trust.js';

/** A member organization, proven. */
export interface MemberOrganization {
  id: string;
  name: string;
  /** Genesis or admission kind: hospital, pharmacy, manufacturer, distributor, … */
  kind: string;
}

const GOV_MEMBERS_KEY = 'gov/members';

/**
 * One page of the active member organizations (of `kinds`, when given: a page may then hold
 * fewer than `limit`, and `next` says whether more follow). Throws ClientError: a TrustErrorCode
 * (FACT_NOT_PROVEN for an organization the proven membership lacks), ACCESS_DENIED for a caller
 * outside the consortium (governance is the members' business).
 */
export async function listMemberOrganizations(
  conn: NodeConnection,
  opts: PageRequest & { kinds?: readonly string[] } = {},
): Promise<Page<MemberOrganization>> {
  const reader = conn.verified('listing member organizations');
  const page = await govMembers(conn, {
    ...(opts.limit === undefined ? {} : { limit: opts.limit }),
    ...(opts.cursor === undefined ? {} : { cursor: opts.cursor }),
  });
  const ids = page.items.map((m) => {
    if (typeof m.id !== 'string' || !/^[0-9a-f]{40}$/.test(m.id))
      throw new ClientError('MALFORMED_RESPONSE', 'a member id must be a 20-byte hex id');
    return m.id;
  });
  if (ids.length === 0) return { items: [], next: page.next };
  const state = await reader.read([GOV_MEMBERS_KEY, ...ids.map(stateKeys.identity)]);
  const raw = state.value(GOV_MEMBERS_KEY);
  const members = raw === null ? [] : (JSON.parse(raw) as string[]);
  const items: MemberOrganization[] = [];
  for (const id of ids) {
    if (!members.includes(id))
      refuse('FACT_NOT_PROVEN', `organization ${id} is not a member in the proven state at height ${state.height}`);
    const identity = JSON.parse(state.value(stateKeys.identity(id)) ?? 'null') as {
      name?: string;
      orgKind?: string;
      status?: string;
    } | null;
    if (identity === null) refuse('FACT_NOT_PROVEN', `member ${id} has no identity in the proven state at height ${state.height}`);
    // A suspended or revoked member stays listed by governance but is offered to nobody.
    if (identity?.status !== 'active' || typeof identity.orgKind !== 'string') continue;
    if (opts.kinds !== undefined && !opts.kinds.includes(identity.orgKind)) continue;
    items.push({ id, name: typeof identity.name === 'string' ? identity.name : id, kind: identity.orgKind });
  }
  return { items, next: page.next };
}
