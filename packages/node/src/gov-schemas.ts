// The governance routes' request schemas (TypeBox), in the OpenAPI document with the rest of /v1.
import { Type } from '@sinclair/typebox';
import { answer, bearer, route } from './api-schemas.js';
import { PageQuerySchema } from './paging.js';
import * as S from './shape-schemas.js';

const tags = ['governance'];
const ProposalStatus = Type.Union(
  ['open', 'passed', 'rejected', 'expired', 'failed'].map((s) => Type.Literal(s)),
  { description: 'only proposals with this status' },
);
const paged = 'Paged: at most `limit` items (default 100, at most 500) and `next`, null at the end.';
const Rule = Type.Object({ numerator: S.Count, denominator: S.Count });
const Proposal = Type.Object(
  {
    id: Type.Integer({ minimum: 1 }),
    proposer: S.Id20,
    tx: S.Hash,
    action: Type.Object({}, { description: 'what passing it does (docs/governance.md)' }),
    createdAt: S.At,
    deadline: S.Ms,
    status: Type.Union(['open', 'passed', 'rejected', 'expired', 'failed'].map((s) => Type.Literal(s))),
    votes: Type.Array(
      Type.Object({ org: S.Id20, vote: Type.Union([Type.Literal('yes'), Type.Literal('no')]), height: S.Count, time: S.Ms }),
    ),
    closedAt: Type.Optional(S.At),
    effectiveHeight: Type.Optional(S.Count),
    tally: Type.Object({ yes: S.Count, no: S.Count, members: S.Count, needed: S.Count }),
  },
  { title: 'Proposal' },
);
const Member = Type.Object({
  id: S.Id20,
  name: S.nullable(Type.String()),
  kind: S.nullable(Type.String()),
  status: S.nullable(Type.String()),
});
const Entry = Type.Object({ id: S.Id20, name: Type.String(), publicKey: S.hexOf(32), encryptionKey: S.hexOf(32), power: S.Count });
const SetChange = Type.Object({ effectiveHeight: S.Count, decidedAt: S.Count, proposal: S.Count, validators: Type.Array(Entry) });

/** Route schemas of gov-api.ts; every route is for member organizations, their staff and validators. */
export const govSchemas = {
  proposals: route({
    ok: { 200: answer('a page of proposals', S.page('proposals', Proposal)) },
    summary: 'Governance proposals, newest first, with their tallies',
    description: paged,
    tags,
    querystring: Type.Object({ ...PageQuerySchema, status: Type.Optional(ProposalStatus) }),
    security: bearer,
  }),
  proposal: route({
    ok: { 200: answer('the proposal', Proposal) },
    summary: 'One proposal: its action, votes, deadline, tally and outcome',
    tags,
    params: Type.Object({ id: Type.String({ pattern: '^[1-9][0-9]{0,11}$', description: 'proposal number' }) }),
    security: bearer,
  }),
  members: route({
    ok: { 200: answer('a page of members', S.page('members', Member)) },
    summary: 'The member organizations and their status',
    description: paged,
    tags,
    querystring: Type.Object(PageQuerySchema),
    security: bearer,
  }),
  params: route({
    ok: {
      200: answer(
        'the rule and the parameters',
        Type.Object({
          rule: Rule,
          set: Type.Object({}, { description: 'the parameters governance has set' }),
          inForce: Type.Object({ emergencyMaxDurationMs: S.Count }, { description: 'the parameters in force' }),
          genesisLimits: Type.Object({ maxBlockTxs: S.Count, maxBlockBytes: S.Count }),
        }),
      ),
    },
    summary: 'The passing rule and the chain parameters in force',
    tags,
    security: bearer,
  }),
  validatorSets: route({
    ok: { 200: answer('a page of decided sets', S.page('validatorSets', SetChange)) },
    summary: 'Validator sets decided by governance, oldest first, each with the height it is effective from',
    description: paged,
    tags,
    querystring: Type.Object(PageQuerySchema),
    security: bearer,
  }),
  validatorSet: route({
    ok: {
      200: answer(
        'the set in effect and the latest decided',
        Type.Object({
          height: S.Count,
          inEffect: Type.Array(Entry),
          latestDecided: Type.Array(Entry),
          consensusFollows: Type.Boolean(),
        }),
      ),
    },
    summary: 'The validator set governance says is in effect at the tip, and the latest decided',
    tags,
    security: bearer,
  }),
};
