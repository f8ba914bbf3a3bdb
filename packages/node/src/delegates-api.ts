// HTTP routes listing delegations (docs/records.md "Delegates"): a patient's delegates with
// their status, and the patients who named the caller. Pending invitations are shown only to
// the patient, the patient's accepted delegates and the invited delegate.
import { type Delegation, getDelegation, isDelegate, prefixes } from '@medledger/ehr';
import type { FastifyInstance } from 'fastify';
import { schemas } from './api-schemas.js';
import { ApiError } from './errors.js';
import type { Gatekeeper } from './gatekeeper.js';
import { type PageQuery, pageState } from './paging.js';
import type { RouteDeps } from './route-deps.js';

export function registerDelegateRoutes(app: FastifyInstance, node: RouteDeps, gate: Gatekeeper): void {
  const state = node.chain.state;

  // One page of the ids under `prefix` (paging.ts: the cursor every /v1 list uses).
  const page = (prefix: string, q: PageQuery): { ids: string[]; next: string | null } => {
    const p = pageState(node.chain.store, [prefix], q, (key) => [key.slice(prefix.length)]);
    return { ids: p.items, next: p.next };
  };

  app.get<{ Params: { id: string }; Querystring: PageQuery }>(
    '/v1/patients/:id/delegates',
    { schema: schemas.patientDelegates },
    async (req) => {
      const caller = gate.authenticate(req.headers.authorization);
      const patient = req.params.id;
      const manages = caller.id === patient || isDelegate(state, patient, caller.id);
      if (!manages) {
        // An invited delegate sees their own invitation, and nothing else of the patient's.
        const own = getDelegation(state, patient, caller.id);
        if (own === undefined) throw new ApiError('ACCESS_DENIED', 'only the patient, their delegates and an invited delegate see this');
        return { delegates: [own], next: null };
      }
      const { ids, next } = page(prefixes.delegates(patient), req.query);
      return { delegates: ids.flatMap((d) => getDelegation(state, patient, d) ?? []), next };
    },
  );

  app.get<{ Querystring: PageQuery }>('/v1/me/delegations', { schema: schemas.myDelegations }, async (req) => {
    const caller = gate.authenticate(req.headers.authorization);
    const { ids, next } = page(prefixes.delegating(caller.id), req.query);
    const delegates: Delegation[] = ids.flatMap((p) => getDelegation(state, p, caller.id) ?? []);
    return { delegates, next };
  });
}
