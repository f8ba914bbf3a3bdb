// The insurance routes' request schemas (TypeBox), in the OpenAPI document with the rest of /v1.
import { type TSchema, Type } from '@sinclair/typebox';
import { answer, bearer, hex, IdentityId, route } from './api-schemas.js';
import { PageLimitSchema } from './paging.js';
import * as S from './shape-schemas.js';

const PlanId = hex(16, 'plan id: first 16 bytes of the first plan.publish transaction hash');
const CoverageId = hex(16, 'coverage id: first 16 bytes of the coverage.add transaction hash');
const PreauthId = hex(16, 'prior authorization id: first 16 bytes of the preauth.request transaction hash');
const ClaimId = hex(16, 'claim id: first 16 bytes of the claim.submit transaction hash');
const insPage = (field: string, item: TSchema) =>
  S.page(field, item, { end: Type.String({ pattern: '^[0-9]{12}$', description: 'the position of the list’s end when read' }) });
const PlanHead = Type.Object({ id: S.Id16, insurer: S.Id20, versions: Type.Integer({ minimum: 1 }) }, { title: 'PlanHead' });
const PlanVersion = Type.Object({ plan: S.Id16, version: Type.Integer({ minimum: 1 }), insurer: S.Id20, name: Type.String() });
const Coverage = Type.Object(
  { id: S.Id16, insurer: S.Id20, plan: S.Id16, patient: S.Id20, memberId: Type.String(), from: Type.String(), to: Type.String() },
  { title: 'Coverage' },
);
const Case = { id: S.Id16, patient: S.Id20, coverage: S.Id16, insurer: S.Id20, provider: S.Id20, items: Type.Array(Type.Object({})) };
const Preauth = Type.Object({ ...Case, status: Type.String(), claimResponse: Type.Object({}) }, { title: 'Preauth' });
const Claim = Type.Object(
  { ...Case, status: Type.String(), outstanding: Type.Integer(), disputeOpen: Type.Boolean(), claimResponse: Type.Object({}) },
  { title: 'Claim' },
);
const Eligibility = Type.Object({ covered: Type.Boolean(), reason: Type.String(), coverage: S.Id16 });

const paging = {
  limit: Type.Optional(PageLimitSchema),
  cursor: Type.Optional(
    Type.String({ pattern: '^[0-9]{12}$', description: '`next` of the previous page: the position in the list to go on from' }),
  ),
};
const preauthStatus = Type.Optional(
  Type.Union(
    ['approved', 'denied', 'pended', 'overdue'].map((s) => Type.Literal(s)),
    { description: 'only this status (overdue: pended past its deadline at the last block time)' },
  ),
);
const claimStatus = Type.Optional(
  Type.Union(
    ['adjudicated', 'denied', 'review', 'paid', 'disputed'].map((s) => Type.Literal(s)),
    {
      description: 'only this status (disputed: with an open dispute)',
    },
  ),
);
const tags = ['insurance'];
const list = (summary: string, field: string, item: TSchema, status?: TSchema) =>
  route({
    ok: { 200: answer(`a page of ${field}`, insPage(field, item)) },
    summary,
    tags,
    params: Type.Object({ id: IdentityId }),
    querystring: Type.Object(status === undefined ? paging : { ...paging, status }),
    security: bearer,
  });

/** Route schemas of insurance-api.ts. Lists answer `{<items>, next}`; `next` is null on the last page. */
export const insuranceSchemas = {
  plan: route({
    ok: { 200: answer('the plan and its versions', Type.Object({ id: S.Id16, insurer: S.Id20, versions: Type.Array(PlanVersion) })) },
    summary: 'A plan with every published version',
    tags,
    params: Type.Object({ id: PlanId }),
    security: bearer,
  }),
  insurerPlans: list("An insurer's plans", 'plans', PlanHead),
  preauthMetrics: route({
    ok: {
      200: answer(
        'decision counts and times',
        Type.Object({
          insurer: IdentityId,
          automatic: S.Count,
          pended: S.Count,
          decided: S.Count,
          decidedLate: S.Count,
          totalDecisionMs: S.Count,
          maxDecisionMs: S.Count,
          meanDecisionMs: S.nullable(S.Count),
        }),
      ),
    },
    summary: "An insurer's prior-authorization decision times (public, CMS-0057-F)",
    tags,
    params: Type.Object({ id: IdentityId }),
  }),
  insurerPreauths: list("An insurer's prior authorizations (its own staff only)", 'preauths', Preauth, preauthStatus),
  insurerClaims: list("An insurer's claims (its own staff only)", 'claims', Claim, claimStatus),
  insurerCoverages: list("An insurer's coverages (its own staff only)", 'coverages', Coverage),
  patientCoverages: list(
    "A patient's coverages (the patient, delegates, providers with payment or treatment consent)",
    'coverages',
    Coverage,
  ),
  patientClaims: list("A patient's claims (the patient and delegates)", 'claims', Claim, claimStatus),
  patientPreauths: list("A patient's prior authorizations (the patient and delegates)", 'preauths', Preauth, preauthStatus),
  providerClaims: list("A provider organization's claims (its own staff only)", 'claims', Claim, claimStatus),
  providerPreauths: list("A provider organization's prior authorizations (its own staff only)", 'preauths', Preauth, preauthStatus),
  coverage: route({
    ok: { 200: answer('the coverage', Coverage) },
    summary: 'One coverage',
    tags,
    params: Type.Object({ id: CoverageId }),
    security: bearer,
  }),
  preauth: route({
    ok: { 200: answer('the prior authorization', Preauth) },
    summary: 'One prior authorization with its status and a Da Vinci PAS ClaimResponse',
    tags,
    params: Type.Object({ id: PreauthId }),
    security: bearer,
  }),
  claim: route({
    ok: { 200: answer('the claim', Claim) },
    summary: 'One claim with every adjudication, payments, disputes and a FHIR ClaimResponse',
    tags,
    params: Type.Object({ id: ClaimId }),
    security: bearer,
  }),
  eligibility: route({
    ok: {
      200: answer(
        'the answer for each of the patient’s coverages, the best first',
        Type.Object({
          patient: IdentityId,
          service: Type.String(),
          date: Type.String(),
          provider: IdentityId,
          quantity: Type.Integer({ minimum: 1 }),
          at: S.At,
          eligible: Type.Boolean(),
          best: S.nullable(Eligibility),
          answers: Type.Array(Eligibility),
        }),
      ),
    },
    summary: 'Eligibility of a patient for a service on a date at the caller’s provider, from committed state (no transaction)',
    description: 'Provider staff with the patient’s payment or treatment consent only; refused with NO_CONSENT (403) otherwise.',
    tags,
    params: Type.Object({ id: IdentityId }),
    querystring: Type.Object({
      service: Type.String({
        pattern: '^[A-Za-z0-9][A-Za-z0-9.-]{0,39}$',
        description: 'service code (CPT, HCPCS, SNOMED CT, CVX, RxNorm)',
      }),
      date: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'service date (default: the last block’s date)' })),
      quantity: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$' })),
      coverage: Type.Optional(CoverageId),
    }),
    security: bearer,
  }),
};
