// Insurance answers checked against proven state (DESIGN §1.5, docs/insurance.md "Trusting
// the answers"): a claim's adjudication, a prior authorization's decision, a coverage, a plan
// and an eligibility answer are what a provider bills by and a patient pays by, so a client
// pinned to a genesis believes none of them on a node's word. Stored records are compared with
// their committed entries; what the node derives at read time (status, outstanding, the FHIR
// ClaimResponse's amounts, the eligibility estimate) is recomputed from the proven values.
// The rules restated here mirror @medledger/ehr (which the client may not import);
// insurance-proofs.test.ts checks they agree.
import { canonicalJson } from './canonical.js';
import { refuse } from './trust.js';
import type { ProvenState, VerifiedReader } from './verified-reader.js';

/** Committed-state keys of insurance (ehr `keys`). */
export const insuranceKeys = {
  plan: (id: string) => `plan/${id}`,
  planVersion: (id: string, version: number) => `planv/${id}/${String(version).padStart(6, '0')}`,
  coverage: (id: string) => `coverage/${id}`,
  accumulator: (coverage: string) => `accum/${coverage}`,
  preauth: (id: string) => `preauth/${id}`,
  claim: (id: string) => `claim/${id}`,
};

type Json = Record<string, unknown>;
const BPS = 10_000;

function json<T>(state: ProvenState, key: string): T | undefined {
  const raw = state.value(key);
  if (raw === null) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return refuse('STATE_PROOF_INVALID', `the proven value of ${key} is not JSON`);
  }
}

function provenEntry<T>(state: ProvenState, key: string, what: string): T {
  const value = json<T>(state, key);
  if (value === undefined) refuse('FACT_NOT_PROVEN', `${what} is not in the proven state at height ${state.height}`);
  return value;
}

/** The node's copy without the fields it derives at read time must be the committed entry, byte for byte. */
function sameStored(told: Json, proven: unknown, derived: readonly string[], what: string): void {
  const stored: Json = {};
  for (const [k, v] of Object.entries(told)) if (!derived.includes(k)) stored[k] = v;
  if (canonicalJson(stored) !== canonicalJson(proven)) refuse('FACT_NOT_PROVEN', `${what}: the node's copy is not the committed one`);
}

// ---- claims ----------------------------------------------------------------------------

interface Amounts {
  submitted: number;
  allowed: number;
  deductible: number;
  costShare: number;
  benefit: number;
  patient: number;
}
/** A claim as committed state holds it (the fields the checks read). */
export interface StoredClaim {
  id: string;
  patient: string;
  insurer: string;
  provider: string;
  preauth: string | null;
  status: string;
  adjudications: Array<{ lines: Array<{ sequence: number; amounts: Amounts; denial: string | null }>; total: Amounts }>;
  payments: Array<{ amount: number; date: string }>;
  disputes: Array<{ resolution: unknown }>;
  reviewDenial: unknown;
}

/** Amount still owed by the insurer (ehr `outstanding`). */
function outstandingOf(c: StoredClaim): number {
  const current = c.adjudications.at(-1);
  const benefit = current === undefined || c.reviewDenial !== null ? 0 : current.total.benefit;
  return benefit - c.payments.reduce((sum, p) => sum + p.amount, 0);
}

const CLAIM_DERIVED = ['outstanding', 'disputeOpen', 'claimResponse'] as const;

/** The dollar amount of adjudication category `code` in a FHIR adjudication list, or undefined. */
function dollarsOf(adjudication: unknown, code: string): unknown {
  if (!Array.isArray(adjudication)) return undefined;
  const hit = (adjudication as Json[]).find((a) => {
    const coding = (a.category as Json | undefined)?.coding;
    return Array.isArray(coding) && (coding[0] as Json | undefined)?.code === code;
  });
  return (hit?.amount as Json | undefined)?.value;
}

/**
 * Every money figure of the node's ClaimResponse must be the proven adjudication's (cents /
 * 100), as must its outcome, preAuthRef and payment. Throws ClientError FACT_NOT_PROVEN.
 */
export function checkClaimResponse(c: StoredClaim, response: unknown): void {
  const r = (typeof response === 'object' && response !== null ? response : {}) as Json;
  function bad(what: string): never {
    return refuse('FACT_NOT_PROVEN', `claim ${c.id}: the ClaimResponse's ${what} is not the proven adjudication's`);
  }
  const current = c.adjudications.at(-1);
  if (r.id !== c.id || current === undefined) bad('identity');
  if ((r.preAuthRef ?? null) !== c.preauth) bad('preAuthRef');
  const expectedOutcome = c.status === 'review' ? 'queued' : current.lines.some((l) => l.denial !== null) ? 'partial' : 'complete';
  if (r.outcome !== expectedOutcome) bad('outcome');
  const categories: Array<[string, keyof Amounts]> = [
    ['submitted', 'submitted'],
    ['eligible', 'allowed'],
    ['deductible', 'deductible'],
    ['copay', 'costShare'],
    ['benefit', 'benefit'],
  ];
  const items = Array.isArray(r.item) ? (r.item as Json[]) : [];
  if (items.length !== current.lines.length) bad('items');
  current.lines.forEach((line, i) => {
    const item = items[i] as Json;
    if (item.itemSequence !== line.sequence) bad(`item ${i + 1}`);
    for (const [code, field] of categories)
      if (dollarsOf(item.adjudication, code) !== line.amounts[field] / 100) bad(`${code} of line ${line.sequence}`);
  });
  for (const [code, field] of categories) if (dollarsOf(r.total, code) !== current.total[field] / 100) bad(`total ${code}`);
  const patientShare = ((r.extension as Json[] | undefined)?.[0]?.valueMoney as Json | undefined)?.value;
  if (patientShare !== current.total.patient / 100) bad('patient responsibility');
  const paid = c.payments.reduce((s, p) => s + p.amount, 0);
  const rPaid = ((r.payment as Json | undefined)?.amount as Json | undefined)?.value;
  if (c.payments.length === 0 ? r.payment !== undefined : rPaid !== paid / 100) bad('payment');
}

/**
 * Claims as the node showed them, each checked against `claim/<id>`: every stored field
 * (status, lines, every adjudication and its amounts, payments, disputes), the derived
 * `outstanding` and `disputeOpen`, and the ClaimResponse's money and outcome. Returns the
 * proven claims with `provenAt`. Throws ClientError `FACT_NOT_PROVEN` or the reader's codes.
 */
export async function provenClaims<T extends Json>(reader: VerifiedReader, told: readonly T[]): Promise<Array<T & { provenAt: number }>> {
  if (told.length === 0) return [];
  const state = await reader.read(told.map((c) => insuranceKeys.claim(String(c.id))));
  return told.map((c) => {
    const what = `claim ${String(c.id)}`;
    const proven = provenEntry<StoredClaim>(state, insuranceKeys.claim(String(c.id)), what);
    sameStored(c, proven, CLAIM_DERIVED, what);
    if (c.outstanding !== outstandingOf(proven)) refuse('FACT_NOT_PROVEN', `${what}: the node's outstanding amount is not the proven one`);
    if (c.disputeOpen !== proven.disputes.some((d) => d.resolution === null))
      refuse('FACT_NOT_PROVEN', `${what}: the node's dispute state is not the proven one`);
    checkClaimResponse(proven, c.claimResponse);
    return { ...c, ...proven, provenAt: state.height };
  });
}

// ---- prior authorizations --------------------------------------------------------------

/** A prior authorization as committed state holds it (the fields the checks read). */
export interface StoredPreauth {
  id: string;
  deadline: number | null;
  decision: null | { approved: boolean; reasonCode: string; authNumber: string | null; validFrom: string | null; validTo: string | null };
}

/** Status at block time `time` (ehr `preauthStatus`): overdue is derived, never written. */
export function preauthStatusAt(p: StoredPreauth, time: number): string {
  if (p.decision !== null) return p.decision.approved ? 'approved' : 'denied';
  return p.deadline !== null && time >= p.deadline ? 'overdue' : 'pended';
}

/**
 * Prior authorizations as the node showed them, each checked against `preauth/<id>`: every
 * stored field (items, deadline, the decision with its reason code, authorization number and
 * validity), the status at the proven block time, and the PAS ClaimResponse's disposition and
 * authorization. A `pended` the node showed that has become `overdue` by the proven block is
 * shown as overdue. Throws ClientError `FACT_NOT_PROVEN` or the reader's codes.
 */
export async function provenPreauths<T extends Json>(reader: VerifiedReader, told: readonly T[]): Promise<Array<T & { provenAt: number }>> {
  if (told.length === 0) return [];
  const state = await reader.read(told.map((p) => insuranceKeys.preauth(String(p.id))));
  return told.map((p) => {
    const what = `prior authorization ${String(p.id)}`;
    const proven = provenEntry<StoredPreauth>(state, insuranceKeys.preauth(String(p.id)), what);
    sameStored(p, proven, ['status', 'claimResponse'], what);
    const status = preauthStatusAt(proven, state.time);
    // The node judged at its tip, at or before the proven block: only pended → overdue may differ.
    if (p.status !== status && !(p.status === 'pended' && status === 'overdue'))
      refuse('FACT_NOT_PROVEN', `${what}: the node says ${String(p.status)}, the proven state says ${status}`);
    checkPreauthResponse(proven, [status, String(p.status)], p.claimResponse);
    return { ...p, ...proven, status, provenAt: state.height };
  });
}

/**
 * A Da Vinci PAS ClaimResponse of a prior authorization must carry its id, a disposition among
 * `statuses` (the proven status, or what the node judged at its own tip), and the proven
 * decision's authorization number and period. Throws ClientError FACT_NOT_PROVEN.
 */
export function checkPreauthResponse(proven: StoredPreauth, statuses: readonly string[], response: unknown): void {
  const r = (typeof response === 'object' && response !== null ? response : {}) as Json;
  const d = proven.decision;
  if (
    r.id !== proven.id ||
    !statuses.includes(String(r.disposition)) ||
    (r.preAuthRef ?? null) !== (d?.authNumber || null) ||
    canonicalJson(r.preAuthPeriod ?? null) !== canonicalJson(d?.validFrom && d.validTo ? { start: d.validFrom, end: d.validTo } : null)
  )
    refuse('FACT_NOT_PROVEN', `prior authorization ${proven.id}: the ClaimResponse is not the proven decision`);
}

// ---- coverage and plans ----------------------------------------------------------------

/** Coverages as the node showed them, each the committed `coverage/<id>`. Throws ClientError `FACT_NOT_PROVEN` or the reader's codes. */
export async function provenCoverages<T extends Json>(
  reader: VerifiedReader,
  told: readonly T[],
): Promise<Array<T & { provenAt: number }>> {
  if (told.length === 0) return [];
  const state = await reader.read(told.map((c) => insuranceKeys.coverage(String(c.id))));
  return told.map((c) => {
    const what = `coverage ${String(c.id)}`;
    const proven = provenEntry<Json>(state, insuranceKeys.coverage(String(c.id)), what);
    sameStored(c, proven, [], what);
    return { ...c, provenAt: state.height };
  });
}

/**
 * Plans as the node showed them (`{id, insurer, versions}`, with `versions` either a count
 * or, for one plan, the list of every version), each checked against `plan/<id>` and, for
 * listed versions, `planv/<id>/<n>`. Throws ClientError `FACT_NOT_PROVEN` or the reader's codes.
 */
export async function provenPlans<T extends Json>(reader: VerifiedReader, told: readonly T[]): Promise<Array<T & { provenAt: number }>> {
  if (told.length === 0) return [];
  const versionKeys = told.flatMap((p) =>
    Array.isArray(p.versions) ? p.versions.map((_, i) => insuranceKeys.planVersion(String(p.id), i + 1)) : [],
  );
  const state = await reader.read([...told.map((p) => insuranceKeys.plan(String(p.id))), ...versionKeys]);
  return told.map((p) => {
    const what = `plan ${String(p.id)}`;
    const head = provenEntry<{ versions: number }>(state, insuranceKeys.plan(String(p.id)), what);
    if (!Array.isArray(p.versions)) {
      sameStored(p, head, [], what);
      return { ...p, provenAt: state.height };
    }
    sameStored(p, head, ['versions'], what);
    if (p.versions.length !== head.versions)
      refuse('FACT_NOT_PROVEN', `${what}: the node lists ${p.versions.length} of ${head.versions} versions`);
    p.versions.forEach((v, i) => {
      const version = provenEntry<Json>(state, insuranceKeys.planVersion(String(p.id), i + 1), `${what} version ${i + 1}`);
      if (canonicalJson(v) !== canonicalJson(version))
        refuse('FACT_NOT_PROVEN', `${what} version ${i + 1}: the node's copy is not the committed one`);
    });
    return { ...p, provenAt: state.height };
  });
}

// ---- eligibility -----------------------------------------------------------------------

type CostShare = { kind: 'copay'; amount: number } | { kind: 'coinsurance'; bps: number };
interface PlanVersion {
  version: number;
  effectiveFrom: string;
  deductible: number;
  oopMax: number;
  costShare: CostShare;
  network: string[];
  services: Array<{ code: string; allowed: number; maxPerPeriod: number | null; priorAuth: boolean; costShare: CostShare | null }>;
}
interface Coverage {
  id: string;
  insurer: string;
  plan: string;
  memberId: string;
  from: string;
  to: string;
}
interface Accumulator {
  deductibleMet: number;
  oopMet: number;
  counts: Record<string, number>;
}

/** `amount × bps / 10 000`, half up, in integers (ehr `coinsuranceOf`). */
export function coinsuranceOf(amount: number, bps: number): number {
  const n = amount * bps + BPS / 2;
  return (n - (n % BPS)) / BPS;
}

/**
 * Eligibility of one service under one coverage from proven values (ehr `checkEligibility`):
 * the plan version in force on `date` among `versions` (every version, oldest first), and one
 * line charged at the fee schedule adjudicated against the accumulator.
 */
export function eligibilityOf(
  q: { coverage: string; code: string; date: string; provider: string; quantity: number },
  coverage: Coverage | undefined,
  versions: readonly PlanVersion[],
  acc: Accumulator,
): Json {
  const none = {
    coverage: q.coverage,
    insurer: coverage?.insurer ?? null,
    plan: coverage?.plan ?? null,
    planVersion: null,
    memberId: coverage?.memberId ?? null,
    priorAuthRequired: false,
    remainingCount: null,
    deductibleRemaining: 0,
    oopRemaining: 0,
    allowed: 0,
    estimatedPatientShare: 0,
    estimatedBenefit: 0,
  };
  if (coverage === undefined) return { covered: false, reason: 'NO_COVERAGE', ...none };
  const plan = [...versions].reverse().find((v) => v.effectiveFrom <= q.date);
  if (plan === undefined || !(coverage.from <= q.date && q.date <= coverage.to))
    return { covered: false, reason: 'COVERAGE_INACTIVE', ...none };
  const deductibleLeft = Math.max(0, plan.deductible - acc.deductibleMet);
  const oopLeft = Math.max(0, plan.oopMax - acc.oopMet);
  const common = { ...none, planVersion: plan.version, deductibleRemaining: deductibleLeft, oopRemaining: oopLeft };
  if (plan.network.length > 0 && !plan.network.includes(q.provider)) return { covered: false, reason: 'OUT_OF_NETWORK', ...common };
  const service = plan.services.find((s) => s.code === q.code);
  if (service === undefined) return { covered: false, reason: 'NOT_COVERED', ...common };
  const remainingCount = service.maxPerPeriod === null ? null : Math.max(0, service.maxPerPeriod - (acc.counts[q.code] ?? 0));
  const withService = { ...common, priorAuthRequired: service.priorAuth, remainingCount };
  if (remainingCount !== null && remainingCount < q.quantity) return { covered: false, reason: 'LIMIT_REACHED', ...withService };
  // One line charged at the fee schedule (ehr adjudicateLines, docs/insurance.md "Claim adjudication").
  const allowed = service.allowed * q.quantity;
  const share = service.costShare ?? plan.costShare;
  let deductible = Math.min(allowed, deductibleLeft);
  let costShare = share.kind === 'copay' ? Math.min(share.amount, allowed - deductible) : coinsuranceOf(allowed - deductible, share.bps);
  let patient = deductible + costShare;
  if (patient > oopLeft) {
    const cut = patient - oopLeft;
    const fromCostShare = Math.min(cut, costShare);
    costShare -= fromCostShare;
    deductible -= cut - fromCostShare;
    patient = oopLeft;
  }
  return { covered: true, reason: 'COVERED', ...withService, allowed, estimatedPatientShare: patient, estimatedBenefit: allowed - patient };
}

/** Proven inputs of eligibility for some coverages, and eligibility recomputed from them. */
export interface ProvenEligibilityState {
  /** Height and block time of the first proof (the coverages and accumulators). */
  height: number;
  time: number;
  /** The proven coverage's insurer, undefined for a coverage not in state. */
  insurerOf(coverage: string): string | undefined;
  /** Eligibility of one service under one of the coverages (ehr `checkEligibility`), from the proven values. */
  answer(coverage: string, q: { code: string; date: string; provider: string; quantity: number }): Json;
}

/**
 * Prove the coverages `ids`, their accumulators and every version of their plans. Throws
 * ClientError `STATE_PROOF_INVALID` or the reader's codes. With no coverage to prove, the
 * chain's public meta key still gives the proven block time.
 */
export async function provenEligibilityState(reader: VerifiedReader, ids: readonly string[]): Promise<ProvenEligibilityState> {
  const first = await reader.read(
    ids.length === 0 ? ['meta/chain'] : [...ids.map(insuranceKeys.coverage), ...ids.map(insuranceKeys.accumulator)],
  );
  const coverages = new Map(ids.map((id) => [id, json<Coverage>(first, insuranceKeys.coverage(id))]));
  const plans = [...new Set([...coverages.values()].flatMap((c) => (c === undefined ? [] : [c.plan])))];
  const heads = plans.length === 0 ? undefined : await reader.read(plans.map(insuranceKeys.plan));
  const versionCount = (plan: string) =>
    heads === undefined ? 0 : (json<{ versions: number }>(heads, insuranceKeys.plan(plan))?.versions ?? 0);
  const versionKeys = plans.flatMap((plan) => Array.from({ length: versionCount(plan) }, (_, i) => insuranceKeys.planVersion(plan, i + 1)));
  const versions = versionKeys.length === 0 ? undefined : await reader.read(versionKeys);
  const versionsOf = (coverage: Coverage | undefined): PlanVersion[] =>
    coverage === undefined || versions === undefined
      ? []
      : Array.from({ length: versionCount(coverage.plan) }, (_, v) =>
          json<PlanVersion>(versions, insuranceKeys.planVersion(coverage.plan, v + 1)),
        ).filter((v): v is PlanVersion => v !== undefined);
  return {
    height: first.height,
    time: first.time,
    insurerOf: (id) => coverages.get(id)?.insurer,
    answer: (id, q) => {
      const coverage = coverages.get(id);
      const acc = json<Accumulator>(first, insuranceKeys.accumulator(id)) ?? { deductibleMet: 0, oopMet: 0, counts: {} };
      return eligibilityOf({ coverage: id, ...q }, coverage, versionsOf(coverage), acc);
    },
  };
}

/**
 * An eligibility answer checked against proven state: for each coverage the node answered
 * for, the coverage, its accumulator and every version of its plan are proven, and the answer
 * is recomputed; it must equal the node's, as must `best` and `eligible`. `provider` is the
 * caller's provider organization (proven by the caller). That the node answered for every
 * coverage of the patient is checked by checkEligibility (insurance-lists.ts). Throws
 * ClientError `FACT_NOT_PROVEN` or the reader's codes.
 */
export async function provenEligibility<T extends Json>(
  reader: VerifiedReader,
  answer: T,
  q: { service: string; date?: string; quantity?: number; provider: string },
): Promise<T & { provenAt: number }> {
  const answers = Array.isArray(answer.answers) ? (answer.answers as Json[]) : [];
  const date = String(answer.date);
  const quantity = q.quantity ?? 1;
  const ids = answers.map((a) => String(a.coverage));
  const proven = await provenEligibilityState(reader, ids);
  const bad = (what: string) => refuse('FACT_NOT_PROVEN', `the eligibility answer's ${what} is not what the proven state gives`);
  if (answer.service !== q.service || answer.quantity !== quantity || answer.provider !== q.provider) bad('question');
  if (q.date !== undefined ? date !== q.date : date > new Date(proven.time).toISOString().slice(0, 10)) bad('date');
  const recomputed = ids.map((id) => proven.answer(id, { code: q.service, date, provider: q.provider, quantity }));
  recomputed.forEach((r, i) => {
    if (canonicalJson(r) !== canonicalJson(answers[i])) bad(`answer for coverage ${ids[i]}`);
  });
  const best = recomputed.find((a) => a.covered === true) ?? recomputed[0] ?? null;
  if (canonicalJson(best) !== canonicalJson(answer.best ?? null) || answer.eligible !== (best?.covered ?? false)) bad('verdict');
  return { ...answer, provenAt: proven.height };
}
