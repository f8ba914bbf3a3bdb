// The governance routes' request schemas (TypeBox), in the OpenAPI document with the rest of /v1.
import { Type } from '@sinclair/typebox';
import { bearer, route } from './api-schemas.js';
import { PageQuerySchema } from './paging.js';

const tags = ['governance'];
const ProposalStatus = Type.Union(
  ['open', 'passed', 'rejected', 'expired', 'failed'].map((s) => Type.Literal(s)),
  { description: 'only proposals with this status' },
);
const paged = 'Paged: at most `limit` items (default 100, at most 500) and `next`, null at the end.';

/** Route schemas of gov-api.ts; every route is for member organizations, their staff and validators. */
export const govSchemas = {
  proposals: route({
    summary: 'Governance proposals, newest first, with their tallies',
    description: paged,
    tags,
    querystring: Type.Object({ ...PageQuerySchema, status: Type.Optional(ProposalStatus) }),
    security: bearer,
  }),
  proposal: route({
    summary: 'One proposal: its action, votes, deadline, tally and outcome',
    tags,
    params: Type.Object({ id: Type.String({ pattern: '^[1-9][0-9]{0,11}$', description: 'proposal number' }) }),
    security: bearer,
  }),
  members: route({
    summary: 'The member organizations and their status',
    description: paged,
    tags,
    querystring: Type.Object(PageQuerySchema),
    security: bearer,
  }),
  params: route({ summary: 'The passing rule and the chain parameters in force', tags, security: bearer }),
  validatorSets: route({
    summary: 'Validator sets decided by governance, oldest first, each with the height it is effective from',
    description: paged,
    tags,
    querystring: Type.Object(PageQuerySchema),
    security: bearer,
  }),
  validatorSet: route({
    summary: 'The validator set governance says is in effect at the tip, and the latest decided',
    tags,
    security: bearer,
  }),
};
