// Insurance on the client (docs/insurance.md, docs/sdk.md): publish plans, register coverage,
// check eligibility, request and decide prior authorizations, and submit, pay, dispute and
// resolve claims. A claim's full FHIR resource is written as an encrypted record first; only
// its coded fields and the ciphertext's vault hash go into the claim transaction.
import { txHash } from './canonical.js';
import type { NodeConnection } from './connection.js';
import { ClientError } from './errors.js';
import { checkListPage, type InsuranceListKind, type InsuranceListOwner, insuranceListOf, provenListSpan } from './insurance-lists.js';
import { provenClaims, provenCoverages, provenEligibility, provenPlans, provenPreauths } from './insurance-proofs.js';
import type { Page } from './paging.js';
import { provenIdentity } from './proven-facts.js';
import { objectAt } from './responses.js';
import { refuse } from './trust.js';

export interface PlanServiceBody {
  code: string;
  allowed: number;
  maxPerPeriod?: number;
  priorAuth?: boolean;
  justifyingDiagnoses?: string[];
  copay?: number;
  coinsuranceBps?: number;
}
export interface PlanPublishBody {
  /** Omit for a new plan; give the plan id to publish its next version. */
  plan?: string;
  name: string;
  effectiveFrom: string;
  deductible: number;
  oopMax: number;
  copay?: number;
  coinsuranceBps?: number;
  network: string[];
  services: PlanServiceBody[];
  authValidityDays?: number;
  outlierMultiple?: number;
}
export interface CoverageAddBody {
  patient: string;
  plan: string;
  memberId: string;
  relationship?: string;
  from: string;
  to: string;
}
export interface CoverageDeathBody {
  coverage: string;
  date: string;
}
export interface PreauthRequestBody {
  patient: string;
  coverage: string;
  items: Array<{ code: string; quantity?: number }>;
  diagnoses?: string[];
  supportingRecords?: string[];
  urgent?: boolean;
}
export interface PreauthDecideBody {
  preauth: string;
  approve: boolean;
  reasonCode: string;
  text?: string;
  authNumber?: string;
  validFrom?: string;
  validTo?: string;
}
export interface ClaimLineBody {
  sequence: number;
  code: string;
  serviceDate: string;
  quantity: number;
  charge: number;
}
export interface ClaimSubmitBody {
  patient: string;
  coverage: string;
  type: string;
  items: ClaimLineBody[];
  diagnoses?: string[];
  preauth?: string;
  contentHash: string;
}
export interface ClaimReviewBody {
  claim: string;
  approve: boolean;
  reasonCode: string;
  text?: string;
}
export interface ClaimPayBody {
  claim: string;
  amount: number;
  date: string;
}
export interface ClaimDisputeBody {
  claim: string;
  reason: string;
}
export interface ClaimResolveBody {
  claim: string;
  outcome: 'uphold' | 'overturn';
  reason: string;
  allowed?: Array<{ sequence: number; amount: number }>;
}

declare module './tx-builders.js' {
  interface TxBodies {
    'plan.publish': PlanPublishBody;
    'coverage.add': CoverageAddBody;
    'coverage.death': CoverageDeathBody;
    'preauth.request': PreauthRequestBody;
    'preauth.decide': PreauthDecideBody;
    'claim.submit': ClaimSubmitBody;
    'claim.review': ClaimReviewBody;
    'claim.pay': ClaimPayBody;
    'claim.dispute': ClaimDisputeBody;
    'claim.resolve': ClaimResolveBody;
  }
}

/** What a committed insurance transaction gives back: the id it created (if any), its hash and height. */
export interface InsuranceTxResult {
  id: string;
  txHash: string;
  height: number;
}

const enc = encodeURIComponent;
/** Ids of plans, coverages, preauths and claims: the first 16 bytes of the creating transaction's hash. */
export const insuranceIdOf = (tx: Parameters<typeof txHash>[0]) => txHash(tx).slice(0, 32);
const idOfTx = insuranceIdOf;

async function commit<K extends 'plan.publish' | 'coverage.add' | 'preauth.request' | 'claim.submit'>(
  conn: NodeConnection,
  kind: K,
  body: import('./tx-builders.js').TxBodies[K],
): Promise<InsuranceTxResult> {
  const done = await conn.submitAndWait(kind, body);
  return { id: idOfTx(done.tx), txHash: done.hash, height: done.height };
}

/** As an insurer organization, publish a plan or its next version (`plan.publish`). Resolves to the plan id. Throws ClientError. */
export function publishPlan(conn: NodeConnection, body: PlanPublishBody): Promise<InsuranceTxResult> {
  return commit(conn, 'plan.publish', body);
}

/** As an insurer (organization or staff), register a patient's coverage (`coverage.add`). Resolves to the coverage id. */
export function addCoverage(conn: NodeConnection, body: CoverageAddBody): Promise<InsuranceTxResult> {
  return commit(conn, 'coverage.add', body);
}

/** As provider staff with consent, request prior authorization. The answer may already be decided by the plan's rules. */
export async function requestPreauth(
  conn: NodeConnection,
  body: PreauthRequestBody,
): Promise<InsuranceTxResult & { preauth: PreauthView }> {
  const done = await commit(conn, 'preauth.request', body);
  return { ...done, preauth: await getPreauth(conn, done.id) };
}

/** As insurer staff, decide a pended prior authorization. */
export async function decidePreauth(conn: NodeConnection, body: PreauthDecideBody): Promise<PreauthView> {
  await conn.submitAndWait('preauth.decide', body);
  return getPreauth(conn, body.preauth);
}

// ---- claims ----------------------------------------------------------------------------

/** Integer cents of a FHIR Money value, read from its decimal digits (never through a float product). */
export function centsOf(value: unknown, what: string): number {
  const text = typeof value === 'number' || typeof value === 'string' ? String(value) : '';
  const m = /^(\d{1,12})(?:\.(\d{1,2}))?$/.exec(text);
  if (m === null) throw new ClientError('INVALID_ARGUMENT', `${what} must be a non-negative amount with at most 2 decimals`);
  return Number(m[1]) * 100 + Number((m[2] ?? '0').padEnd(2, '0'));
}

type Json = Record<string, unknown>;
const obj = (x: unknown): Json => (typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Json) : {});
const firstCode = (concept: unknown): string | undefined => {
  const coding = obj(concept).coding;
  return Array.isArray(coding) ? (obj(coding[0]).code as string | undefined) : undefined;
};

/**
 * The coded fields the ledger needs from a FHIR R4 Claim (`use: claim`): its type, each
 * item's sequence, code, service date, quantity and net charge in cents, and the diagnosis
 * codes. Throws ClientError('INVALID_ARGUMENT') naming what is missing.
 */
export function claimFieldsOf(claim: Json): Pick<ClaimSubmitBody, 'type' | 'items' | 'diagnoses'> {
  if (claim.resourceType !== 'Claim') throw new ClientError('INVALID_ARGUMENT', 'the file must hold a FHIR Claim');
  if (claim.use !== undefined && claim.use !== 'claim') throw new ClientError('INVALID_ARGUMENT', "Claim.use must be 'claim'");
  const type = firstCode(claim.type);
  if (type === undefined) throw new ClientError('INVALID_ARGUMENT', 'Claim.type.coding[0].code is required');
  const fallbackDate = (obj(claim.billablePeriod).start as string | undefined)?.slice(0, 10);
  const items = (Array.isArray(claim.item) ? claim.item : []).map((raw, i) => {
    const item = obj(raw);
    const code = firstCode(item.productOrService);
    const serviceDate = (
      (item.servicedDate as string | undefined) ??
      (obj(item.servicedPeriod).start as string | undefined) ??
      fallbackDate
    )?.slice(0, 10);
    if (code === undefined || serviceDate === undefined)
      throw new ClientError('INVALID_ARGUMENT', `Claim.item[${i}] needs productOrService.coding[0].code and a service date`);
    const quantity = obj(item.quantity).value ?? 1;
    if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1)
      throw new ClientError('INVALID_ARGUMENT', `Claim.item[${i}].quantity.value must be a positive integer`);
    const money = obj(item.net).value ?? obj(item.unitPrice).value;
    return {
      sequence: typeof item.sequence === 'number' ? item.sequence : i + 1,
      code,
      serviceDate,
      quantity,
      charge: centsOf(money, `Claim.item[${i}].net.value`),
    };
  });
  if (items.length === 0) throw new ClientError('INVALID_ARGUMENT', 'the Claim has no items');
  const diagnoses = (Array.isArray(claim.diagnosis) ? claim.diagnosis : [])
    .map((d) => firstCode(obj(d).diagnosisCodeableConcept))
    .filter((c): c is string => c !== undefined);
  return { type, items, diagnoses: [...new Set(diagnoses)] };
}

/**
 * As provider staff with consent, submit a FHIR Claim: the full resource is written as an
 * encrypted `billing` record (sealed to the patient and everyone the patient shares billing
 * with, such as the insurer), then `claim.submit` carries its coded fields and vault hash.
 * Resolves to the claim with its adjudication. Throws ClientError.
 */
export async function submitClaim(
  conn: import('./api.js').MedLedgerClient,
  opts: { patient: string; coverage: string; claim: Json; preauth?: string },
): Promise<InsuranceTxResult & { recordId: string; claim: ClaimView }> {
  const fields = claimFieldsOf(opts.claim);
  const written = await conn.writeRecord({ patient: opts.patient, resource: opts.claim as never, category: 'billing' });
  const done = await commit(conn, 'claim.submit', {
    patient: opts.patient,
    coverage: opts.coverage,
    ...fields,
    ...(opts.preauth === undefined ? {} : { preauth: opts.preauth }),
    contentHash: written.contentHash,
  });
  return { ...done, recordId: written.recordId, claim: await getClaim(conn, done.id) };
}

async function claimTx(
  conn: NodeConnection,
  kind: 'claim.review' | 'claim.pay' | 'claim.dispute' | 'claim.resolve',
  body: { claim: string },
) {
  await conn.submitAndWait(kind, body as never);
  return getClaim(conn, body.claim);
}

/** As insurer staff, release a claim held in review (`approve`) or deny it with a reason. */
export const reviewClaim = (conn: NodeConnection, body: ClaimReviewBody) => claimTx(conn, 'claim.review', body);
/** As insurer staff, record payment of what is owed (`amount` must equal the outstanding benefit, cents). */
export const payClaim = (conn: NodeConnection, body: ClaimPayBody) => claimTx(conn, 'claim.pay', body);

/**
 * The FHIR R4 ExplanationOfBenefit of a claim as the node shows it: what was billed, what
 * the plan allowed, what the insurer paid and what the patient owes, per line and in total
 * (CARIN Blue Button style adjudication categories), with the payments made.
 */
export function explanationOfBenefitOf(claim: ClaimView): Json {
  const response = claim.claimResponse as Json & { item: Array<{ itemSequence: number; adjudication: unknown[] }>; total: unknown[] };
  const lines = claim.adjudications.at(-1)?.lines ?? [];
  const paid = (claim.payments as Array<{ amount: number; date: string }> | undefined) ?? [];
  return {
    resourceType: 'ExplanationOfBenefit',
    status: 'active',
    type: response.type,
    use: 'claim',
    patient: { reference: `Patient/${String(claim.patient)}` },
    created: response.created,
    insurer: { reference: `Organization/${String(claim.insurer)}` },
    provider: { reference: `Organization/${String(claim.provider)}` },
    outcome: claim.status === 'denied' ? 'error' : 'complete',
    claim: { reference: `Claim/${claim.id}` },
    claimResponse: { reference: `ClaimResponse/${claim.id}` },
    insurance: [{ focal: true, coverage: { reference: `Coverage/${String(claim.coverage)}` } }],
    item: response.item.map((item, i) => ({
      sequence: item.itemSequence,
      productOrService: { coding: [{ code: String(lines[i]?.code ?? '') }] },
      servicedDate: lines[i]?.serviceDate,
      adjudication: item.adjudication,
    })),
    total: response.total,
    ...(paid.length === 0
      ? {}
      : { payment: { date: paid.at(-1)?.date, amount: { value: paid.reduce((s, p) => s + p.amount, 0) / 100, currency: 'USD' } } }),
  };
}

/**
 * As insurer staff, pay what is owed and write the ExplanationOfBenefit to the patient's
 * records (encrypted, category `billing`; the insurer needs the patient's read-write consent
 * on billing). The payment stands even if the EOB cannot be written: `eob.error` says why.
 */
export async function payClaimWithEob(
  conn: import('./api.js').MedLedgerClient,
  body: ClaimPayBody,
): Promise<{ claim: ClaimView; eob: { recordId: string } | { error: { code: string; message: string } } }> {
  const claim = await payClaim(conn, body);
  try {
    const written = await conn.writeRecord({
      patient: String(claim.patient),
      resource: explanationOfBenefitOf(claim) as never,
      category: 'billing',
    });
    return { claim, eob: { recordId: written.recordId } };
  } catch (err) {
    if (!(err instanceof ClientError)) throw err;
    return { claim, eob: { error: { code: err.code, message: err.message } } };
  }
}
/** As the patient, a delegate or the provider, dispute an adjudication (within 180 days). */
export const disputeClaim = (conn: NodeConnection, body: ClaimDisputeBody) => claimTx(conn, 'claim.dispute', body);
/** As insurer staff, uphold or overturn the open dispute (an overturn re-adjudicates). */
export const resolveClaim = (conn: NodeConnection, body: ClaimResolveBody) => claimTx(conn, 'claim.resolve', body);

// ---- reads -----------------------------------------------------------------------------

/** A claim as the node shows it: the ledger's fields plus `outstanding`, `disputeOpen` and a FHIR `claimResponse`. */
export interface ClaimView {
  id: string;
  status: 'adjudicated' | 'denied' | 'review' | 'paid';
  flags: string[];
  outstanding: number;
  disputeOpen: boolean;
  adjudications: Array<{ total: Record<string, number>; lines: Array<Record<string, unknown>>; cause: string; applied: boolean }>;
  claimResponse: Json;
  [field: string]: unknown;
}
/** A prior authorization with its status at the last block time (`overdue` when pended past its deadline). */
export interface PreauthView {
  id: string;
  status: 'approved' | 'denied' | 'pended' | 'overdue';
  deadline: number | null;
  decision: null | {
    approved: boolean;
    reasonCode: string;
    authNumber: string | null;
    validFrom: string | null;
    validTo: string | null;
    late: boolean;
  };
  [field: string]: unknown;
}

/**
 * Ask the node, then check its answer against proven state. A block may commit between the
 * two (a payment, a decision), so one mismatch is asked again before it is called a lie.
 */
async function proven<T>(ask: () => Promise<T>, check: (told: T) => Promise<T>): Promise<T> {
  try {
    return await check(await ask());
  } catch (err) {
    if (!(err instanceof ClientError) || err.code !== 'FACT_NOT_PROVEN') throw err;
    return check(await ask());
  }
}

/**
 * A claim with its adjudication, proven against the trusted genesis (insurance-proofs.ts).
 * Throws ClientError: the node's refusal, `NO_TRUSTED_GENESIS`, `FACT_NOT_PROVEN` for an
 * answer that is not the committed claim, or another trust code.
 */
export async function getClaim(conn: NodeConnection, id: string): Promise<ClaimView> {
  const reader = conn.verified('showing a claim');
  return proven(
    async () => objectAt(await conn.get(`/v1/claims/${enc(id)}`, { auth: true }), 'claim') as unknown as ClaimView,
    async (told) => (await provenClaims(reader, [told]))[0] as ClaimView,
  );
}
/** A prior authorization and its decision, proven (its status at the proven block time). Throws as getClaim does. */
export async function getPreauth(conn: NodeConnection, id: string): Promise<PreauthView> {
  const reader = conn.verified('showing a prior authorization');
  return proven(
    async () => objectAt(await conn.get(`/v1/preauths/${enc(id)}`, { auth: true }), 'preauth') as unknown as PreauthView,
    async (told) => (await provenPreauths(reader, [told]))[0] as PreauthView,
  );
}
/** A coverage, proven. Throws as getClaim does. */
export async function getCoverage(conn: NodeConnection, id: string): Promise<Json> {
  const reader = conn.verified('showing a coverage');
  return proven(
    async () => objectAt(await conn.get(`/v1/coverages/${enc(id)}`, { auth: true }), 'coverage'),
    async (told) => (await provenCoverages(reader, [told]))[0] as Json,
  );
}
/** A plan with every version, proven. Throws as getClaim does. */
export async function getPlan(conn: NodeConnection, id: string): Promise<Json> {
  const reader = conn.verified('showing a plan');
  return proven(
    async () => objectAt(await conn.get(`/v1/plans/${enc(id)}`, { auth: true }), 'plan'),
    async (told) => (await provenPlans(reader, [told]))[0] as Json,
  );
}

/**
 * Eligibility of a patient for one service (provider staff with consent), recomputed from
 * the proven coverage, accumulator and plan. Throws ClientError (`NO_CONSENT`, 403; a trust
 * code for an answer the proven state does not give).
 */
export async function checkEligibility(
  conn: NodeConnection,
  opts: { patient: string; service: string; date?: string; quantity?: number; coverage?: string },
): Promise<Json & { eligible: boolean; best: Json | null; answers: Json[] }> {
  const reader = conn.verified('checking eligibility');
  const q = new URLSearchParams({ service: opts.service });
  if (opts.date !== undefined) q.set('date', opts.date);
  if (opts.quantity !== undefined) q.set('quantity', String(opts.quantity));
  if (opts.coverage !== undefined) q.set('coverage', opts.coverage);
  type Answer = Json & { eligible: boolean; best: Json | null; answers: Json[] };
  // The provider the answer is for is the caller's own organization, proven, never the node's word.
  const me = (await provenIdentity(reader, conn.id)).value;
  const provider = me.orgKind !== undefined ? me.id : String(me.org);
  return proven(
    async () => objectAt(await conn.get(`/v1/patients/${enc(opts.patient)}/eligibility?${q}`, { auth: true }), 'eligibility') as Answer,
    async (told) => {
      const checked = await provenEligibility(reader, told, {
        service: opts.service,
        provider,
        ...(opts.date === undefined ? {} : { date: opts.date }),
        ...(opts.quantity === undefined ? {} : { quantity: opts.quantity }),
      });
      // The answer covers every coverage of the patient (or the one asked for): none left out.
      const { ids } = await provenListSpan(reader, insuranceListOf('patients', 'coverages'), opts.patient, 0, 'end');
      const expected = opts.coverage === undefined ? ids : ids.filter((id) => id === opts.coverage);
      if (checked.answers.map((a) => String(a.coverage)).join() !== expected.join())
        refuse('FACT_NOT_PROVEN', `the eligibility answer covers other coverages than the patient's ${expected.length} proven ones`);
      return checked;
    },
  );
}

type ListPath = InsuranceListOwner;
type ListOf = InsuranceListKind;

/**
 * One page of a party's claims, preauths, coverages or plans (`GET /v1/{insurers|patients|providers}/:id/...`),
 * each item proven, and the page proven complete: it is every entry of the list from `cursor`
 * to `next` that matches `status` (insurance-lists.ts). Throws ClientError FACT_NOT_PROVEN
 * for an altered or left-out entry, INVALID_ARGUMENT for a list that does not exist.
 */
export async function listInsurance<T = Json>(
  conn: NodeConnection,
  opts: { by: ListPath; id: string; of: ListOf; status?: string; limit?: number; cursor?: string },
): Promise<Page<T>> {
  insuranceListOf(opts.by, opts.of);
  const q = new URLSearchParams();
  if (opts.status !== undefined) q.set('status', opts.status);
  if (opts.limit !== undefined) q.set('limit', String(opts.limit));
  if (opts.cursor !== undefined) q.set('cursor', opts.cursor);
  const reader = conn.verified(`listing ${opts.of}`);
  const check = { claims: provenClaims, preauths: provenPreauths, coverages: provenCoverages, plans: provenPlans }[opts.of];
  return proven(
    async () => {
      const answer = objectAt(
        await conn.get(`/v1/${opts.by}/${enc(opts.id)}/${opts.of}${q.size > 0 ? `?${q}` : ''}`, { auth: true }),
        'page',
      );
      const items = answer[opts.of];
      if (!Array.isArray(items) || !items.every((x) => typeof x === 'object' && x !== null))
        throw new ClientError('MALFORMED_RESPONSE', `page.${opts.of} must be an array of objects`);
      return {
        items: items as Json[],
        next: typeof answer.next === 'string' ? answer.next : null,
        ...(typeof answer.end === 'string' ? { end: answer.end } : {}),
      };
    },
    async (page) => {
      const items = await check(reader, page.items);
      const next = await checkListPage(
        reader,
        {
          by: opts.by,
          of: opts.of,
          party: opts.id,
          ...(opts.status === undefined ? {} : { status: opts.status }),
          ...(opts.cursor === undefined ? {} : { cursor: opts.cursor }),
        },
        page,
      );
      return { items, next };
    },
  ) as Promise<Page<T>>;
}
