// Eligibility (docs/insurance.md): is this patient covered on this date, for this service, at
// this provider? A pure function of committed state; no transaction is written.
import type { StateReader } from '../state.js';
import { adjudicateLines } from './adjudicate.js';
import { coverageActiveOn, getAccumulator, getCoverage, planInForce, serviceOf } from './plans.js';

export interface EligibilityQuery {
  coverage: string;
  code: string;
  /** Service date 'YYYY-MM-DD'. */
  date: string;
  /** Provider organization id. */
  provider: string;
  quantity: number;
}

/** The answer, with amounts in cents. `reason`: COVERED, NO_COVERAGE, COVERAGE_INACTIVE, OUT_OF_NETWORK, NOT_COVERED or LIMIT_REACHED. */
export interface Eligibility {
  covered: boolean;
  reason: string;
  coverage: string;
  insurer: string | null;
  plan: string | null;
  planVersion: number | null;
  memberId: string | null;
  priorAuthRequired: boolean;
  /** Units left in the period; null when the plan sets no limit. */
  remainingCount: number | null;
  deductibleRemaining: number;
  oopRemaining: number;
  /** Fee-schedule allowed amount for the quantity asked. */
  allowed: number;
  estimatedPatientShare: number;
  estimatedBenefit: number;
}

/**
 * Eligibility of one service under one coverage, from state (pure). The estimate adjudicates
 * one line charged at the fee schedule against the current accumulator, exactly as a claim
 * would, without writing anything.
 */
export function checkEligibility(state: StateReader, q: EligibilityQuery): Eligibility {
  const coverage = getCoverage(state, q.coverage);
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
  const plan = planInForce(state, coverage.plan, q.date);
  if (plan === undefined || !coverageActiveOn(coverage, q.date)) return { covered: false, reason: 'COVERAGE_INACTIVE', ...none };
  const acc = getAccumulator(state, coverage.id);
  const service = serviceOf(plan, q.code);
  const common = {
    ...none,
    planVersion: plan.version,
    deductibleRemaining: Math.max(0, plan.deductible - acc.deductibleMet),
    oopRemaining: Math.max(0, plan.oopMax - acc.oopMet),
  };
  if (plan.network.length > 0 && !plan.network.includes(q.provider)) return { covered: false, reason: 'OUT_OF_NETWORK', ...common };
  if (service === undefined) return { covered: false, reason: 'NOT_COVERED', ...common };
  const remainingCount = service.maxPerPeriod === null ? null : Math.max(0, service.maxPerPeriod - (acc.counts[q.code] ?? 0));
  const withService = { ...common, priorAuthRequired: service.priorAuth, remainingCount };
  if (remainingCount !== null && remainingCount < q.quantity) return { covered: false, reason: 'LIMIT_REACHED', ...withService };
  const line = { sequence: 1, code: q.code, serviceDate: q.date, quantity: q.quantity, charge: service.allowed * q.quantity };
  const estimate = adjudicateLines(plan, acc, [{ line, service, denial: null, allowedOverride: null, preauth: null }]);
  return {
    covered: true,
    reason: 'COVERED',
    ...withService,
    allowed: estimate.total.allowed,
    estimatedPatientShare: estimate.total.patient,
    estimatedBenefit: estimate.total.benefit,
  };
}
