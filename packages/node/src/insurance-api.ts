// HTTP routes of insurance (docs/insurance.md): plans, coverage, eligibility, prior
// authorizations and claims, from committed state at the last block's time. Insurer staff
// see only their own insurer's queues; patients their coverage and claims; providers their
// own submissions. Every list pages with limit/cursor/next.
import { isHex } from '@medledger/crypto';
import {
  type Claim,
  checkEligibility,
  claimResponseOf,
  dateOf,
  getClaim,
  getCoverage,
  getPlanHead,
  getPlanVersion,
  getPreauth,
  getPreauthMetrics,
  hasBillingConsent,
  type Identity,
  type InsuranceIndex,
  insuranceListCount,
  insuranceListEntry,
  insuranceListSpan,
  mayListInsurance,
  maySeeCoverage,
  maySeeInsuranceCase,
  outstanding,
  type Preauth,
  preauthResponseOf,
  preauthStatus,
  providerOf,
} from '@medledger/ehr';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';
import type { Gatekeeper } from './gatekeeper.js';
import { insuranceSchemas as schemas } from './insurance-schemas.js';
import type { RouteDeps } from './route-deps.js';

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 500;
const CURSOR_RE = /^[0-9]{12}$/;
/** Positions of a list one page reads at most (a filtered page may come back short, with `next`). */
export const MAX_SCAN = 500;
const CODE_RE = /^[A-Za-z0-9][A-Za-z0-9.-]{0,39}$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

function idParam(raw: string, what: string, bytes: number): string {
  if (!isHex(raw, bytes)) throw new ApiError('INVALID_PARAM', `${what} must be ${bytes}-byte hex`);
  return raw;
}

interface PageQuery {
  limit?: string;
  cursor?: string;
  status?: string;
}

function pageParams(q: PageQuery): { limit: number; cursor: string | undefined } {
  const limit = q.limit === undefined ? DEFAULT_PAGE : Number(q.limit);
  if (!/^[0-9]+$/.test(q.limit ?? '1') || !Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)
    throw new ApiError('INVALID_PARAM', `limit must be an integer from 1 to ${MAX_PAGE}`);
  if (q.cursor !== undefined && !CURSOR_RE.test(q.cursor))
    throw new ApiError('INVALID_PARAM', 'cursor must be a `next` value from a previous page');
  return { limit, cursor: q.cursor };
}

export function registerInsuranceRoutes(app: FastifyInstance, node: RouteDeps, gate: Gatekeeper): void {
  const state = node.chain.state;
  const who = (req: FastifyRequest) => gate.authenticate(req.headers.authorization);
  // Derived states (overdue) and default dates follow block time, never this node's clock.
  const blockTime = () => node.chain.tipTime;
  // Who may see what by consent is judged as the gatekeeper judges reads (records.md "Consent"):
  // at the later of block time and this node's clock, so an idle or halted chain's old block
  // time does not keep an expired consent alive.
  const consentTime = () => node.accessTime();

  /**
   * One page of list `index` of `party`, oldest first, keeping entries `keep` accepts. The list
   * is dense (entry n at position n, ehr lists.ts), so the cursor is the next position to read:
   * a client that proves the count and the entries from its cursor to `next` knows the page
   * skipped nothing (docs/insurance.md "Complete lists"). A page reads at most MAX_SCAN
   * positions, so a filtered page and its proof stay bounded; `next` is null only at the end,
   * so a short page is never the last one unless the list ended.
   */
  function page<T>(index: InsuranceIndex, party: string, q: PageQuery, load: (id: string) => T | undefined, keep: (x: T) => boolean) {
    const { limit, cursor } = pageParams(q);
    const count = insuranceListCount(state, index, party);
    let position = cursor === undefined ? 0 : Number(cursor);
    if (position > count) throw new ApiError('INVALID_PARAM', 'cursor is past the end of the list: pass `next` from a previous page');
    const stop = Math.min(count, position + MAX_SCAN);
    const items: T[] = [];
    while (position < stop && items.length < limit) {
      const id = insuranceListEntry(state, index, party, position);
      position += 1;
      const x = id === undefined ? undefined : load(id);
      if (x !== undefined && keep(x)) items.push(x);
    }
    // `end`: where this page stopped reading. On the last page it is the count the node saw, so a
    // client whose proof sees a longer list (a claim committed meanwhile) pages on from there.
    const end = String(position).padStart(12, '0');
    return { items, next: position < count ? end : null, end };
  }

  /** Every id of list `index` of `party` (a patient's coverages: a handful). */
  const listIds = (index: InsuranceIndex, party: string) =>
    insuranceListSpan(state, index, party, 0, insuranceListCount(state, index, party));

  /** One rule (ehr mayListInsurance) for the list routes and the proofs of their entries. */
  const requireList = (caller: Identity, index: InsuranceIndex, party: string, refusal: string) => {
    if (!mayListInsurance(state, caller, index, party, consentTime())) throw new ApiError('ACCESS_DENIED', refusal);
  };
  const INSURER_ONLY = "only the insurer's own staff see its queues";
  const PATIENT_ONLY = 'only the patient and their delegates see this';
  const PROVIDER_ONLY = "only the provider's own staff see its submissions";
  const maySeeCase = (caller: Identity, c: { insurer: string; patient: string; provider: string }) => maySeeInsuranceCase(state, caller, c);

  const preauthView = (p: Preauth) => {
    const status = preauthStatus(p, blockTime());
    return { ...p, status, claimResponse: preauthResponseOf(p, status) };
  };
  const claimView = (c: Claim) => ({
    ...c,
    outstanding: outstanding(c),
    disputeOpen: c.disputes.some((d) => d.resolution === null),
    claimResponse: claimResponseOf(c),
  });
  const loadPreauth = (id: string) => {
    const p = getPreauth(state, id);
    return p === undefined ? undefined : preauthView(p);
  };
  const loadClaim = (id: string) => {
    const c = getClaim(state, id);
    return c === undefined ? undefined : claimView(c);
  };
  const statusFilter = <T extends { status: string; disputeOpen?: boolean }>(status: string | undefined, allowed: readonly string[]) => {
    if (status !== undefined && !allowed.includes(status))
      throw new ApiError('INVALID_PARAM', `status must be one of ${allowed.join(', ')}`);
    return (x: T) => status === undefined || x.status === status || (status === 'disputed' && x.disputeOpen === true);
  };
  const PREAUTH_STATUSES = ['approved', 'denied', 'pended', 'overdue'] as const;
  const CLAIM_STATUSES = ['adjudicated', 'denied', 'review', 'paid', 'disputed'] as const;

  app.get<{ Params: { id: string } }>('/v1/plans/:id', { schema: schemas.plan }, async (req) => {
    who(req);
    const id = idParam(req.params.id, 'plan id', 16);
    const head = getPlanHead(state, id);
    if (head === undefined) throw new ApiError('NOT_FOUND', `no plan ${id}`);
    const versions = Array.from({ length: head.versions }, (_, i) => getPlanVersion(state, id, i + 1));
    return { ...head, versions };
  });

  app.get<{ Params: { id: string }; Querystring: PageQuery }>('/v1/insurers/:id/plans', { schema: schemas.insurerPlans }, async (req) => {
    who(req);
    const insurer = idParam(req.params.id, 'insurer id', 20);
    const { items, next, end } = page(
      'iplan',
      insurer,
      req.query,
      (id) => getPlanHead(state, id),
      () => true,
    );
    return { plans: items, next, end };
  });

  // CMS-0057-F asks payers to publish prior-authorization decision times: anyone may read them.
  app.get<{ Params: { id: string } }>('/v1/insurers/:id/preauth-metrics', { schema: schemas.preauthMetrics }, async (req) => {
    const insurer = idParam(req.params.id, 'insurer id', 20);
    const m = getPreauthMetrics(state, insurer);
    return { insurer, ...m, meanDecisionMs: m.decided === 0 ? null : Math.floor(m.totalDecisionMs / m.decided) };
  });

  app.get<{ Params: { id: string }; Querystring: PageQuery }>(
    '/v1/insurers/:id/preauths',
    { schema: schemas.insurerPreauths },
    async (req) => {
      const insurer = idParam(req.params.id, 'insurer id', 20);
      requireList(who(req), 'ipa', insurer, INSURER_ONLY);
      const { items, next, end } = page('ipa', insurer, req.query, loadPreauth, statusFilter(req.query.status, PREAUTH_STATUSES));
      return { preauths: items, next, end };
    },
  );

  app.get<{ Params: { id: string }; Querystring: PageQuery }>('/v1/insurers/:id/claims', { schema: schemas.insurerClaims }, async (req) => {
    const insurer = idParam(req.params.id, 'insurer id', 20);
    requireList(who(req), 'iclaim', insurer, INSURER_ONLY);
    const { items, next, end } = page('iclaim', insurer, req.query, loadClaim, statusFilter(req.query.status, CLAIM_STATUSES));
    return { claims: items, next, end };
  });

  app.get<{ Params: { id: string }; Querystring: PageQuery }>(
    '/v1/insurers/:id/coverages',
    { schema: schemas.insurerCoverages },
    async (req) => {
      const insurer = idParam(req.params.id, 'insurer id', 20);
      requireList(who(req), 'icov', insurer, INSURER_ONLY);
      const { items, next, end } = page(
        'icov',
        insurer,
        req.query,
        (id) => getCoverage(state, id),
        () => true,
      );
      return { coverages: items, next, end };
    },
  );

  app.get<{ Params: { id: string }; Querystring: PageQuery }>(
    '/v1/patients/:id/coverages',
    { schema: schemas.patientCoverages },
    async (req) => {
      const patient = idParam(req.params.id, 'patient id', 20);
      // The patient shows their coverage to a provider by consenting (payment or treatment).
      requireList(who(req), 'pcov', patient, 'only the patient, their delegates and providers with their consent see this');
      const { items, next, end } = page(
        'pcov',
        patient,
        req.query,
        (id) => getCoverage(state, id),
        () => true,
      );
      return { coverages: items, next, end };
    },
  );

  app.get<{ Params: { id: string }; Querystring: PageQuery }>('/v1/patients/:id/claims', { schema: schemas.patientClaims }, async (req) => {
    const patient = idParam(req.params.id, 'patient id', 20);
    requireList(who(req), 'pclaim', patient, PATIENT_ONLY);
    const { items, next, end } = page('pclaim', patient, req.query, loadClaim, statusFilter(req.query.status, CLAIM_STATUSES));
    return { claims: items, next, end };
  });

  app.get<{ Params: { id: string }; Querystring: PageQuery }>(
    '/v1/patients/:id/preauths',
    { schema: schemas.patientPreauths },
    async (req) => {
      const patient = idParam(req.params.id, 'patient id', 20);
      requireList(who(req), 'ppa', patient, PATIENT_ONLY);
      const { items, next, end } = page('ppa', patient, req.query, loadPreauth, statusFilter(req.query.status, PREAUTH_STATUSES));
      return { preauths: items, next, end };
    },
  );

  app.get<{ Params: { id: string }; Querystring: PageQuery }>(
    '/v1/providers/:id/claims',
    { schema: schemas.providerClaims },
    async (req) => {
      const provider = idParam(req.params.id, 'provider id', 20);
      requireList(who(req), 'rclaim', provider, PROVIDER_ONLY);
      const { items, next, end } = page('rclaim', provider, req.query, loadClaim, statusFilter(req.query.status, CLAIM_STATUSES));
      return { claims: items, next, end };
    },
  );

  app.get<{ Params: { id: string }; Querystring: PageQuery }>(
    '/v1/providers/:id/preauths',
    { schema: schemas.providerPreauths },
    async (req) => {
      const provider = idParam(req.params.id, 'provider id', 20);
      requireList(who(req), 'rpa', provider, PROVIDER_ONLY);
      const { items, next, end } = page('rpa', provider, req.query, loadPreauth, statusFilter(req.query.status, PREAUTH_STATUSES));
      return { preauths: items, next, end };
    },
  );

  app.get<{ Params: { id: string } }>('/v1/coverages/:id', { schema: schemas.coverage }, async (req) => {
    const caller = who(req);
    const c = getCoverage(state, idParam(req.params.id, 'coverage id', 16));
    if (c === undefined || !maySeeCoverage(state, caller, c, consentTime()))
      throw new ApiError('ACCESS_DENIED', 'no such coverage, or it is not yours to see');
    return c;
  });

  app.get<{ Params: { id: string } }>('/v1/preauths/:id', { schema: schemas.preauth }, async (req) => {
    const caller = who(req);
    const p = getPreauth(state, idParam(req.params.id, 'preauth id', 16));
    if (p === undefined || !maySeeCase(caller, p))
      throw new ApiError('ACCESS_DENIED', 'no such prior authorization, or it is not yours to see');
    return preauthView(p);
  });

  app.get<{ Params: { id: string } }>('/v1/claims/:id', { schema: schemas.claim }, async (req) => {
    const caller = who(req);
    const c = getClaim(state, idParam(req.params.id, 'claim id', 16));
    if (c === undefined || !maySeeCase(caller, c)) throw new ApiError('ACCESS_DENIED', 'no such claim, or it is not yours to see');
    return claimView(c);
  });

  app.get<{ Params: { id: string }; Querystring: { service?: string; date?: string; quantity?: string; coverage?: string } }>(
    '/v1/patients/:id/eligibility',
    { schema: schemas.eligibility },
    async (req) => {
      const caller = who(req);
      const patient = idParam(req.params.id, 'patient id', 20);
      const { service, date: rawDate, quantity: rawQuantity, coverage: only } = req.query;
      if (service === undefined || !CODE_RE.test(service)) throw new ApiError('INVALID_PARAM', 'service must be a service code');
      if (rawDate !== undefined && !DATE_RE.test(rawDate)) throw new ApiError('INVALID_PARAM', "date must be 'YYYY-MM-DD'");
      if (rawQuantity !== undefined && !/^[1-9][0-9]{0,3}$/.test(rawQuantity))
        throw new ApiError('INVALID_PARAM', 'quantity must be 1–9999');
      if (only !== undefined) idParam(only, 'coverage id', 16);
      const provider = providerOf(state, caller);
      if (provider === undefined)
        throw new ApiError('ACCESS_DENIED', 'only a provider organization or its clinical staff checks eligibility');
      if (!hasBillingConsent(state, caller, patient, consentTime()))
        throw new ApiError('NO_CONSENT', 'the patient has given no active payment or treatment consent to you or your organization');
      const at = { height: node.chain.height, time: blockTime() };
      const date = rawDate ?? dateOf(at.time);
      const quantity = rawQuantity === undefined ? 1 : Number(rawQuantity);
      const answers = listIds('pcov', patient)
        .filter((id) => only === undefined || id === only)
        .map((coverage) => checkEligibility(state, { coverage, code: service, date, provider, quantity }));
      // Covered answers first; among equals, the older coverage (index order) first.
      const best = answers.find((a) => a.covered) ?? answers[0] ?? null;
      return { patient, service, date, provider, quantity, at, eligible: best?.covered ?? false, best, answers };
    },
  );
}
