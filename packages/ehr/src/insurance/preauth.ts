// Prior authorization (docs/insurance.md): a provider asks; the plan's rules approve or deny
// at once when they can, else the request is pended with a CMS-0057-F deadline in block time
// and the insurer's staff decide. `overdue` is derived at read time, never written.
import { txHash } from '@medledger/ledger';
import { arrayField, hex16Field, idField, intField, itemObject, onlyFields, optional, stringField } from '../body.js';
import { EhrError } from '../errors.js';
import { activeSigner } from '../identity.js';
import type { TxKind } from '../kinds.js';
import { getRecord } from '../policy.js';
import { keys, readJson, type StateReader, writeJson } from '../state.js';
import { appendInsuranceList } from './lists.js';
import {
  addDays,
  codeField,
  codeList,
  dateField,
  dateOf,
  type Preauth,
  type PreauthDecision,
  type PreauthItem,
  REASON_CODE_RE,
  REASON_TEXT_RE,
  STANDARD_DEADLINE_MS,
  URGENT_DEADLINE_MS,
} from './model.js';
import { insurerOf, requireConsentedProvider } from './parties.js';
import { coverageActiveOn, getAccumulator, getCoverage, planInForce, serviceOf } from './plans.js';

export function getPreauth(state: StateReader, id: string): Preauth | undefined {
  return readJson<Preauth>(state, keys.preauth(id));
}

/** Decision times of one insurer's pended requests (CMS-0057-F public reporting). */
export interface PreauthMetrics {
  /** Requests the plan's rules decided at once. */
  automatic: number;
  /** Requests pended for staff. */
  pended: number;
  decided: number;
  decidedLate: number;
  /** Sum and maximum of request-to-decision block time over staff decisions, ms. */
  totalDecisionMs: number;
  maxDecisionMs: number;
}

export function getPreauthMetrics(state: StateReader, insurer: string): PreauthMetrics {
  return (
    readJson<PreauthMetrics>(state, keys.preauthMetrics(insurer)) ?? {
      automatic: 0,
      pended: 0,
      decided: 0,
      decidedLate: 0,
      totalDecisionMs: 0,
      maxDecisionMs: 0,
    }
  );
}

/** What the plan's rules say about a request: a decision (approve or deny with a reason) or `pend`. */
export type RuleOutcome = { approved: boolean; reasonCode: string } | 'pend';

/**
 * The plan's rules for a request on `date` (pure): deny when coverage is not active, the
 * provider is out of network, a code is not covered or its period count would be exceeded;
 * approve when no item needs prior authorization or a justifying diagnosis is given for
 * every item that does; otherwise pend for a person to decide.
 */
export function preauthRules(
  state: StateReader,
  req: { coverage: string; provider: string; items: readonly PreauthItem[]; diagnoses: readonly string[] },
  date: string,
): RuleOutcome {
  const coverage = getCoverage(state, req.coverage);
  if (coverage === undefined || !coverageActiveOn(coverage, date)) return { approved: false, reasonCode: 'COVERAGE_INACTIVE' };
  const plan = planInForce(state, coverage.plan, date);
  if (plan === undefined) return { approved: false, reasonCode: 'COVERAGE_INACTIVE' };
  if (plan.network.length > 0 && !plan.network.includes(req.provider)) return { approved: false, reasonCode: 'OUT_OF_NETWORK' };
  const acc = getAccumulator(state, coverage.id);
  let needsPerson = false;
  let needsAuth = false;
  for (const item of req.items) {
    const service = serviceOf(plan, item.code);
    if (service === undefined) return { approved: false, reasonCode: 'NOT_COVERED' };
    if (service.maxPerPeriod !== null && (acc.counts[item.code] ?? 0) + item.quantity > service.maxPerPeriod)
      return { approved: false, reasonCode: 'LIMIT_EXCEEDED' };
    if (!service.priorAuth) continue;
    needsAuth = true;
    if (!service.justifyingDiagnoses.some((d) => req.diagnoses.includes(d))) needsPerson = true;
  }
  if (needsPerson) return 'pend';
  return { approved: true, reasonCode: needsAuth ? 'MEETS_CRITERIA' : 'NOT_REQUIRED' };
}

function parseItem(x: unknown, path: string): PreauthItem {
  const i = itemObject(x, path, ['code', 'quantity']);
  const quantity = optional(i, 'quantity', (b, f) => intField(b, f, 10_000)) ?? 1;
  if (quantity < 1) throw new EhrError('INVALID_BODY', `body.${path}.quantity must be at least 1`);
  return { code: codeField(i, 'code'), quantity };
}

export const preauthRequest: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'preauth.request', ['patient', 'coverage', 'items', 'diagnoses', 'supportingRecords', 'urgent']);
    const actor = activeSigner(state, tx.signer);
    const patient = idField(b, 'patient');
    const provider = requireConsentedProvider(state, actor, patient, ctx.time, 'request prior authorization');
    const coverage = getCoverage(state, hex16Field(b, 'coverage'));
    if (coverage === undefined || coverage.patient !== patient)
      throw new EhrError('NOT_FOUND', `no coverage ${String(b.coverage)} for patient ${patient}`);
    const items = arrayField(b, 'items', 50, parseItem);
    if (items.length === 0) throw new EhrError('INVALID_BODY', 'body.items must list at least one service');
    if (new Set(items.map((i) => i.code)).size !== items.length) throw new EhrError('INVALID_BODY', 'body.items lists a code twice');
    const supportingRecords =
      b.supportingRecords === undefined ? [] : arrayField(b, 'supportingRecords', 50, (x, p) => hex16Field({ [p]: x }, p));
    for (const r of supportingRecords) {
      if (getRecord(state, r)?.patient !== patient)
        throw new EhrError('NOT_FOUND', `supporting record ${r} is not a record of patient ${patient}`);
    }
    const urgent = b.urgent ?? false;
    if (typeof urgent !== 'boolean') throw new EhrError('INVALID_BODY', 'body.urgent must be a boolean');
    const diagnoses = codeList(b, 'diagnoses', 50);
    const at = { height: ctx.height, time: ctx.time };
    const id = txHash(tx).slice(0, 32);
    const today = dateOf(ctx.time);
    const outcome = preauthRules(state, { coverage: coverage.id, provider, items, diagnoses }, today);
    let decision: PreauthDecision | null = null;
    if (outcome !== 'pend') {
      const plan = planInForce(state, coverage.plan, today);
      decision = {
        by: 'rules',
        at,
        approved: outcome.approved,
        reasonCode: outcome.reasonCode,
        text: null,
        authNumber: outcome.approved ? id : null,
        validFrom: outcome.approved ? today : null,
        validTo: outcome.approved ? addDays(today, plan?.authValidityDays ?? 0) : null,
        late: false,
      };
    }
    const preauth: Preauth = {
      id,
      patient,
      coverage: coverage.id,
      insurer: coverage.insurer,
      provider,
      requester: actor.id,
      items,
      diagnoses,
      supportingRecords: [...supportingRecords].sort(),
      urgent,
      requestedAt: at,
      deadline: decision === null ? ctx.time + (urgent ? URGENT_DEADLINE_MS : STANDARD_DEADLINE_MS) : null,
      decision,
      used: {},
    };
    writeJson(state, keys.preauth(id), preauth);
    appendInsuranceList(state, 'ipa', coverage.insurer, id);
    appendInsuranceList(state, 'ppa', patient, id);
    appendInsuranceList(state, 'rpa', provider, id);
    const metrics = getPreauthMetrics(state, coverage.insurer);
    if (decision === null) metrics.pended += 1;
    else metrics.automatic += 1;
    writeJson(state, keys.preauthMetrics(coverage.insurer), metrics);
  },
};

/**
 * The insurer's staff decide a pended request. A decision after the deadline is still taken
 * (the provider needs an answer) but is marked `late` and counted in the insurer's metrics.
 */
export const preauthDecide: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'preauth.decide', ['preauth', 'approve', 'reasonCode', 'text', 'authNumber', 'validFrom', 'validTo']);
    const actor = activeSigner(state, tx.signer);
    const preauth = getPreauth(state, hex16Field(b, 'preauth'));
    if (preauth === undefined) throw new EhrError('NOT_FOUND', `no prior authorization ${String(b.preauth)}`);
    if (insurerOf(state, actor) !== preauth.insurer)
      throw new EhrError('UNAUTHORIZED', `only insurer ${preauth.insurer} or its staff decide this request`);
    if (preauth.decision !== null) throw new EhrError('WRONG_STATE', `prior authorization ${preauth.id} is already decided`);
    if (typeof b.approve !== 'boolean') throw new EhrError('INVALID_BODY', 'body.approve must be a boolean');
    const reasonCode = stringField(b, 'reasonCode', REASON_CODE_RE, "a reason code such as 'MEDICAL_NECESSITY'");
    const text = optional(b, 'text', (x, f) => stringField(x, f, REASON_TEXT_RE, 'a reason of 1–500 characters'));
    const late = preauth.deadline !== null && ctx.time >= preauth.deadline;
    let decision: PreauthDecision;
    if (b.approve) {
      const validFrom = dateField(b, 'validFrom');
      const validTo = dateField(b, 'validTo');
      if (validTo < validFrom) throw new EhrError('INVALID_BODY', 'body.validTo is before body.validFrom');
      const authNumber =
        optional(b, 'authNumber', (x, f) => stringField(x, f, /^[A-Za-z0-9-]{1,40}$/, 'an authorization number')) ?? preauth.id;
      decision = {
        by: actor.id,
        at: { height: ctx.height, time: ctx.time },
        approved: true,
        reasonCode,
        text: text ?? null,
        authNumber,
        validFrom,
        validTo,
        late,
      };
    } else {
      // CMS-0057-F: every denial gives a specific reason.
      if (text === undefined) throw new EhrError('INVALID_BODY', 'body.text is required for a denial');
      if (b.validFrom !== undefined || b.validTo !== undefined || b.authNumber !== undefined)
        throw new EhrError('INVALID_BODY', 'a denial has no authorization number or validity');
      decision = {
        by: actor.id,
        at: { height: ctx.height, time: ctx.time },
        approved: false,
        reasonCode,
        text,
        authNumber: null,
        validFrom: null,
        validTo: null,
        late,
      };
    }
    writeJson(state, keys.preauth(preauth.id), { ...preauth, decision });
    const metrics = getPreauthMetrics(state, preauth.insurer);
    const took = ctx.time - preauth.requestedAt.time;
    metrics.decided += 1;
    if (late) metrics.decidedLate += 1;
    metrics.totalDecisionMs += took;
    metrics.maxDecisionMs = Math.max(metrics.maxDecisionMs, took);
    writeJson(state, keys.preauthMetrics(preauth.insurer), metrics);
  },
};

/** Units of `code` an approved preauthorization still allows on `date`, or 0. */
export function preauthUnitsLeft(p: Preauth, code: string, date: string): number {
  const d = p.decision;
  if (d === null || !d.approved || d.validFrom === null || d.validTo === null) return 0;
  if (date < d.validFrom || date > d.validTo) return 0;
  const item = p.items.find((i) => i.code === code);
  return item === undefined ? 0 : item.quantity - (p.used[code] ?? 0);
}
