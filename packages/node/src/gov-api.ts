// HTTP routes of governance (docs/governance.md): proposals with their votes and tallies, the
// members, the passing rule and parameters in force, and the validator-set history. Read from
// committed state; shown to member organizations, their staff and validators, never to patients.
import {
  DEFAULT_EMERGENCY_MAX_DURATION_MS,
  effectiveBlockLimits,
  getIdentity,
  getProposal,
  govParams,
  type Identity,
  keys,
  latestValidatorSet,
  type Proposal,
  type ProposalStatus,
  passingRule,
  prefixes,
  seesGovernance,
  tally,
  type ValidatorSetChange,
  validatorSetEffectiveAt,
} from '@medledger/ehr';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';
import type { Gatekeeper } from './gatekeeper.js';
import { govSchemas as schemas } from './gov-schemas.js';
import { type PageQuery, pageState } from './paging.js';
import type { RouteDeps } from './route-deps.js';

/** A proposal as the API shows it: as stored, plus where its votes stand and how many yes it needs. */
export function proposalView(state: Parameters<typeof tally>[0], p: Proposal) {
  const t = tally(state, p);
  const rule = passingRule(state);
  // More than n/d of m: the least integer yes with yes·d > n·m.
  const needed = Math.floor((rule.numerator * t.members) / rule.denominator) + 1;
  return { ...p, tally: { yes: t.yes, no: t.no, members: t.members, needed } };
}

export function registerGovRoutes(app: FastifyInstance, node: RouteDeps, gate: Gatekeeper): void {
  const state = node.chain.state;
  const member = (req: FastifyRequest): Identity => {
    const caller = gate.authenticate(req.headers.authorization);
    if (!seesGovernance(state, caller))
      throw new ApiError('ACCESS_DENIED', 'governance is shown to member organizations, their staff and validators');
    return caller;
  };

  app.get<{ Querystring: PageQuery & { status?: ProposalStatus } }>('/v1/gov/proposals', { schema: schemas.proposals }, async (req) => {
    member(req);
    const { status } = req.query;
    const page = pageState(
      node.chain.store,
      [prefixes.govProposals()],
      req.query,
      (_key, value) => {
        const p = JSON.parse(value) as Proposal;
        return status === undefined || p.status === status ? [proposalView(state, p)] : [];
      },
      { reverse: true },
    );
    return { proposals: page.items, next: page.next };
  });

  app.get<{ Params: { id: string } }>('/v1/gov/proposals/:id', { schema: schemas.proposal }, async (req) => {
    member(req);
    const p = getProposal(state, Number(req.params.id));
    if (p === undefined) throw new ApiError('PROPOSAL_NOT_FOUND', `no proposal ${req.params.id}`);
    return proposalView(state, p);
  });

  app.get<{ Querystring: PageQuery }>('/v1/gov/members', { schema: schemas.members }, async (req) => {
    member(req);
    const page = pageState(node.chain.store, [keys.govMembers()], req.query, (key, value) =>
      key !== keys.govMembers()
        ? []
        : (JSON.parse(value) as string[]).map((id) => {
            const org = getIdentity(state, id);
            return { id, name: org?.name ?? null, kind: org?.orgKind ?? null, status: org?.status ?? null };
          }),
    );
    return { members: page.items, next: page.next };
  });

  app.get('/v1/gov/params', { schema: schemas.params }, async (req) => {
    member(req);
    const set = govParams(state);
    const genesis = node.chain.genesis.params;
    return {
      rule: passingRule(state),
      set,
      inForce: {
        ...effectiveBlockLimits(state, genesis),
        emergencyMaxDurationMs: set.emergencyMaxDurationMs ?? genesis.emergencyMaxDurationMs ?? DEFAULT_EMERGENCY_MAX_DURATION_MS,
        vaultQuotas: node.vault.quotasInForce(),
      },
      genesisLimits: { maxBlockTxs: genesis.maxBlockTxs, maxBlockBytes: genesis.maxBlockBytes },
    };
  });

  app.get<{ Querystring: PageQuery }>('/v1/gov/validator-sets', { schema: schemas.validatorSets }, async (req) => {
    member(req);
    const page = pageState(node.chain.store, [prefixes.govValsets()], req.query, (_key, value) => [
      JSON.parse(value) as ValidatorSetChange,
    ]);
    return { validatorSets: page.items, next: page.next };
  });

  app.get('/v1/gov/validator-sets/current', { schema: schemas.validatorSet }, async (req) => {
    member(req);
    const height = node.chain.height;
    const committed = { getState: (key: string) => state.getState(key), scanState: node.chain.store.scanState.bind(node.chain.store) };
    return {
      height,
      // The one rule the engine runs (ehr validatorSetEffectiveAt): the set that signed the tip block.
      inEffect: validatorSetEffectiveAt(committed, height),
      latestDecided: latestValidatorSet(state),
      // The embedded engine, block checks and light clients run the set in effect (docs/governance.md).
      consensusFollows: true,
    };
  });
}
