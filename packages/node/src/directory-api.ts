// GET /v1/directory (issue 17 item 5, docs/api.md "Directory"): find a clinician, a pharmacy
// or an insurer's staff member, or a member organization, by name, so a patient shares by
// choosing a person rather than typing a 40-character code. Staff names and organization
// names are already public to members (GET /v1/identities/:id); patients have no names on
// chain and are never listed.
import { idFromPublicKey } from '@medledger/crypto';
import { getIdentity, type Identity } from '@medledger/ehr';
import type { FastifyInstance } from 'fastify';
import { schemas } from './api-schemas.js';
import type { Gatekeeper } from './gatekeeper.js';
import { type PageQuery, pageState } from './paging.js';
import type { RouteDeps } from './route-deps.js';

/** Staff roles a patient shares with; devices, auditors and privacy officers are not listed. */
const LISTED_ROLES = new Set(['clinician', 'pharmacy', 'insurer', 'researcher']);

/** Every organization's staff index (`staff/<org>/<id>`, ehr state.ts), in one scan. */
const STAFF_PREFIX = 'staff/';

/** One directory entry: who, in which role, at which organization. */
export interface DirectoryEntry {
  id: string;
  name: string;
  role: string;
  org?: string;
  orgName?: string;
  orgKind?: string;
}

/** Does every word of `query` appear in `text` (any case)? */
export function nameMatches(query: string, text: string): boolean {
  const hay = text.toLowerCase();
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((w) => hay.includes(w));
}

export function registerDirectoryRoutes(app: FastifyInstance, node: RouteDeps, gate: Gatekeeper): void {
  const state = node.chain.state;
  app.get<{ Querystring: PageQuery & { q: string } }>('/v1/directory', { schema: schemas.directory }, async (req) => {
    gate.authenticate(req.headers.authorization);
    const q = req.query.q;
    const orgEntry = (o: Identity): DirectoryEntry => ({ id: o.id, name: String(o.name), role: o.role, orgKind: String(o.orgKind) });
    const organizations = node.chain.genesis.organizations
      .map((o) => getIdentity(state, idFromPublicKey(o.adminKey)))
      .filter((o): o is Identity => o?.status === 'active' && typeof o.name === 'string' && nameMatches(q, o.name))
      .map(orgEntry);
    const page = pageState(node.chain.store, [STAFF_PREFIX], req.query, (key) => {
      const staff = getIdentity(state, key.slice(key.lastIndexOf('/') + 1));
      if (staff?.status !== 'active' || typeof staff.name !== 'string' || !LISTED_ROLES.has(staff.role) || staff.org === undefined)
        return [];
      const org = getIdentity(state, staff.org);
      if (org?.status !== 'active') return [];
      const orgName = typeof org.name === 'string' ? org.name : '';
      if (!nameMatches(q, `${staff.name} ${orgName}`)) return [];
      return [{ id: staff.id, name: staff.name, role: staff.role, org: org.id, orgName }];
    });
    return { organizations, staff: page.items, next: page.next };
  });
}
