// GET /v1/orgs/:id/reviewers (docs/emergency.md "The reason"): who a clinician's client seals an
// emergency reason to besides the patient and itself — the organization and its active privacy
// officers — with their encryption keys, for the organization's own staff only.
import { isHex } from '@medledger/crypto';
import { getIdentity, type Identity, MAX_REASON_RECIPIENTS, prefixes } from '@medledger/ehr';
import type { FastifyInstance } from 'fastify';
import { schemas } from './api-schemas.js';
import { ApiError } from './errors.js';
import type { Gatekeeper } from './gatekeeper.js';
import type { RouteDeps } from './route-deps.js';

/** Privacy officers one reason can reach: the cap less the patient, the clinician and the organization. */
export const MAX_REASON_REVIEWERS = MAX_REASON_RECIPIENTS - 3;
const PAGE = 1_000;

export function registerReviewerRoutes(app: FastifyInstance, node: RouteDeps, gate: Gatekeeper): void {
  const state = node.chain.state;
  app.get<{ Params: { id: string } }>('/v1/orgs/:id/reviewers', { schema: schemas.orgReviewers }, async (req) => {
    const caller = gate.authenticate(req.headers.authorization);
    const orgId = req.params.id;
    if (!isHex(orgId, 20)) throw new ApiError('INVALID_PARAM', 'organization id must be 20-byte hex');
    const org = getIdentity(state, orgId);
    if (org === undefined || org.status !== 'active' || (caller.id !== orgId && caller.org !== orgId))
      throw new ApiError('ACCESS_DENIED', "only the organization's own staff see its reviewers");
    // The oldest privacy officers first; beyond the cap the organization itself still reads
    // every reason (`more` says how many were left out).
    const officers: Identity[] = [];
    let more = 0;
    let after: string | undefined;
    for (;;) {
      const page = node.chain.store.scanState(prefixes.staff(orgId), { limit: PAGE, ...(after === undefined ? {} : { after }) });
      for (const [key] of page) {
        const staff = getIdentity(state, key.slice(key.lastIndexOf('/') + 1));
        if (staff?.status !== 'active' || staff.role !== 'privacy-officer') continue;
        if (officers.length < MAX_REASON_REVIEWERS) officers.push(staff);
        else more++;
      }
      if (page.length < PAGE) break;
      after = (page[page.length - 1] as [string, string])[0];
    }
    const keyOf = (i: Identity) => ({ id: i.id, encryptionKey: i.encryptionKey });
    return { org: keyOf(org), privacyOfficers: officers.map(keyOf), more };
  });
}
