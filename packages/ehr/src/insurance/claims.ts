// Claims (docs/insurance.md): submission with deterministic adjudication and fraud signals,
// manual review, payment, and disputes whose overturn re-adjudicates, keeping the history.
import { txHash } from '@medledger/ledger';
import {
  arrayField,
  enumField,
  hex16Field,
  hex32Field,
  idField,
  intField,
  itemObject,
  onlyFields,
  optional,
  stringField,
} from '../body.js';
import { EhrError } from '../errors.js';
import { activeSigner, type Identity } from '../identity.js';
import type { TxKind } from '../kinds.js';
import { keys, readJson, type StateOverlay, type StateReader, writeJson } from '../state.js';
import { adjudicateLines, type LineInput, reverseLines } from './adjudicate.js';
import { appendInsuranceList } from './lists.js';
import {
  type Adjudication,
  addDays,
  CLAIM_TYPES,
  type Claim,
  type ClaimLine,
  centsField,
  codeField,
  codeList,
  DISPUTE_WINDOW_MS,
  dateField,
  dateOf,
  outstanding,
  REASON_CODE_RE,
  REASON_TEXT_RE,
} from './model.js';
import { managesPatient, providerOf, requireConsentedProvider, requireInsurer } from './parties.js';
import { coverageActiveOn, getAccumulator, getCoverage, planInForce, serviceOf } from './plans.js';
import { getPreauth, preauthUnitsLeft } from './preauth.js';

const MAX_LINES = 200;

export function getClaim(state: StateReader, id: string): Claim | undefined {
  return readJson<Claim>(state, keys.claim(id));
}

function parseLine(x: unknown, path: string): ClaimLine {
  const l = itemObject(x, path, ['sequence', 'code', 'serviceDate', 'quantity', 'charge']);
  const sequence = intField(l, 'sequence', 9999);
  const quantity = intField(l, 'quantity', 10_000);
  if (sequence < 1 || quantity < 1) throw new EhrError('INVALID_BODY', `body.${path}: sequence and quantity must be at least 1`);
  return { sequence, code: codeField(l, 'code'), serviceDate: dateField(l, 'serviceDate'), quantity, charge: centsField(l, 'charge') };
}

/** How a (re-)adjudication treats the rules: an overturn may waive the preauth requirement and set allowed amounts. */
interface JudgeOptions {
  waivePreauth: boolean;
  skipFlags: boolean;
  overrides: ReadonlyMap<number, number>;
}

/**
 * Judge a claim against committed state (pure): each line's denial reason and preauth, and
 * the fraud signals. The plan version is the one in force on the earliest service date.
 */
export function judgeClaim(state: StateReader, claim: Claim, opts: JudgeOptions) {
  const coverage = getCoverage(state, claim.coverage);
  if (coverage === undefined) throw new EhrError('NOT_FOUND', `no coverage ${claim.coverage}`);
  const firstDate = claim.items.reduce((d, l) => (l.serviceDate < d ? l.serviceDate : d), '9999-12-31');
  const inForceOnDate = planInForce(state, coverage.plan, firstDate);
  // With no version in force yet, the earliest lines are judged (and denied) by the latest version.
  const plan = inForceOnDate ?? planInForce(state, coverage.plan, '9999-12-31');
  if (plan === undefined) throw new EhrError('NOT_FOUND', `plan ${coverage.plan} has no version`);
  const inForce = inForceOnDate !== undefined;
  const acc = getAccumulator(state, coverage.id);
  const preauth = claim.preauth === null ? undefined : getPreauth(state, claim.preauth);
  // An authorization is the requesting provider's: another provider (even with the patient's
  // consent) may not bill against it and use up its units.
  const usable =
    preauth !== undefined && preauth.patient === claim.patient && preauth.coverage === claim.coverage && preauth.provider === claim.provider
      ? preauth
      : undefined;
  const consumed: Record<string, number> = {};
  const counts: Record<string, number> = { ...acc.counts };
  const flags = new Set<string>();
  const inputs: LineInput[] = claim.items.map((line) => {
    const service = serviceOf(plan, line.code);
    let denial: string | null = null;
    let lineAuth: string | null = null;
    if (!inForce || !coverageActiveOn(coverage, line.serviceDate)) denial = 'COVERAGE_INACTIVE';
    else if (plan.network.length > 0 && !plan.network.includes(claim.provider)) denial = 'OUT_OF_NETWORK';
    else if (service === undefined) denial = 'NOT_COVERED';
    else if (service.priorAuth) {
      const left = usable === undefined ? 0 : preauthUnitsLeft(usable, line.code, line.serviceDate) - (consumed[line.code] ?? 0);
      if (left >= line.quantity && usable !== undefined) {
        lineAuth = usable.id;
        consumed[line.code] = (consumed[line.code] ?? 0) + line.quantity;
      } else if (!opts.waivePreauth) denial = 'PREAUTH_REQUIRED';
    }
    const override = opts.overrides.get(line.sequence) ?? null;
    if (denial === null && service !== undefined && !opts.skipFlags) {
      const seen = readJson<string[]>(state, keys.claimLine(claim.patient, claim.provider, claim.type, line.code, line.serviceDate)) ?? [];
      if (seen.some((id) => id !== claim.id && getClaim(state, id)?.status !== 'denied')) flags.add('DUPLICATE');
      if (service.maxPerPeriod !== null && (counts[line.code] ?? 0) + line.quantity > service.maxPerPeriod) flags.add('OVER_LIMIT');
      if (coverage.deceasedOn !== null && line.serviceDate > coverage.deceasedOn) flags.add('AFTER_DEATH');
      if (chargeAbove(line.charge, plan.outlierMultiple, service.allowed, line.quantity)) flags.add('CHARGE_OUTLIER');
    }
    if (denial === null) counts[line.code] = (counts[line.code] ?? 0) + line.quantity;
    return { line, service, denial, allowedOverride: override, preauth: lineAuth };
  });
  return { plan, acc, inputs, flags: [...flags].sort() };
}

/**
 * Is `charge` more than `multiple × fee × quantity`, exactly? A product of integers is exact in
 * a double while it stays a safe integer, so BigInt (four allocations a line) is needed only
 * past 2^53.
 */
export function chargeAbove(charge: number, multiple: number, fee: number, quantity: number): boolean {
  const limit = multiple * fee * quantity;
  if (Number.isSafeInteger(multiple * fee) && Number.isSafeInteger(limit)) return charge > limit;
  return BigInt(charge) > BigInt(multiple) * BigInt(fee) * BigInt(quantity);
}

/** Adjudicate and, unless held for review, write the accumulator and preauth usage in this transaction. */
function adjudicate(state: StateOverlay, claim: Claim, at: { height: number; time: number }, cause: string, opts: JudgeOptions) {
  const judged = judgeClaim(state, claim, opts);
  const result = adjudicateLines(judged.plan, judged.acc, judged.inputs);
  const applied = judged.flags.length === 0;
  if (applied) {
    writeJson(state, keys.accumulator(claim.coverage), result.acc);
    for (const line of result.lines) {
      if (line.preauth === null) continue;
      const p = getPreauth(state, line.preauth);
      if (p !== undefined)
        writeJson(state, keys.preauth(p.id), { ...p, used: { ...p.used, [line.code]: (p.used[line.code] ?? 0) + line.quantity } });
    }
  }
  const adjudication: Adjudication = { at, planVersion: judged.plan.version, lines: result.lines, total: result.total, applied, cause };
  return { adjudication, flags: judged.flags };
}

/** Undo an applied adjudication's accumulator and preauth effects, before re-adjudicating. */
function unapply(state: StateOverlay, claim: Claim, adjudication: Adjudication): void {
  if (!adjudication.applied) return;
  writeJson(state, keys.accumulator(claim.coverage), reverseLines(getAccumulator(state, claim.coverage), adjudication.lines));
  for (const line of adjudication.lines) {
    if (line.preauth === null) continue;
    const p = getPreauth(state, line.preauth);
    if (p !== undefined)
      writeJson(state, keys.preauth(p.id), { ...p, used: { ...p.used, [line.code]: (p.used[line.code] ?? 0) - line.quantity } });
  }
}

/** Status of a claim whose last adjudication is in force (not held in review, not review-denied). */
function statusAfter(claim: Claim): Claim['status'] {
  const current = claim.adjudications.at(-1) as Adjudication;
  if (current.lines.every((l) => l.denial !== null)) return 'denied';
  return claim.payments.length > 0 && outstanding(claim) <= 0 ? 'paid' : 'adjudicated';
}

const NO_OVERRIDES: ReadonlyMap<number, number> = new Map();

export const claimSubmit: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'claim.submit', ['patient', 'coverage', 'type', 'items', 'diagnoses', 'preauth', 'contentHash']);
    const actor = activeSigner(state, tx.signer);
    const patient = idField(b, 'patient');
    const provider = requireConsentedProvider(state, actor, patient, ctx.time, 'submit a claim');
    const coverage = getCoverage(state, hex16Field(b, 'coverage'));
    if (coverage === undefined || coverage.patient !== patient)
      throw new EhrError('NOT_FOUND', `no coverage ${String(b.coverage)} for patient ${patient}`);
    const items = arrayField(b, 'items', MAX_LINES, parseLine).sort((x, y) => x.sequence - y.sequence);
    if (items.length === 0) throw new EhrError('INVALID_BODY', 'body.items must list at least one line');
    for (let i = 1; i < items.length; i++)
      if (items[i]?.sequence === items[i - 1]?.sequence)
        throw new EhrError('INVALID_BODY', `line sequence ${items[i]?.sequence} is used twice`);
    // A claim is for care given: a service date after the block's (UTC) date, plus one day
    // for the time zones ahead of UTC, is refused. Block time, never a clock.
    const latest = addDays(dateOf(ctx.time), 1);
    const future = items.find((l) => l.serviceDate > latest);
    if (future !== undefined)
      throw new EhrError(
        'FUTURE_SERVICE_DATE',
        `line ${future.sequence}'s service date ${future.serviceDate} is after ${latest}: claim care once it is given`,
      );
    const preauth = optional(b, 'preauth', hex16Field) ?? null;
    if (preauth !== null && getPreauth(state, preauth) === undefined) throw new EhrError('NOT_FOUND', `no prior authorization ${preauth}`);
    const at = { height: ctx.height, time: ctx.time };
    const claim: Claim = {
      id: txHash(tx).slice(0, 32),
      patient,
      coverage: coverage.id,
      insurer: coverage.insurer,
      provider,
      submitter: actor.id,
      type: enumField(b, 'type', CLAIM_TYPES),
      items,
      diagnoses: codeList(b, 'diagnoses', 50),
      preauth,
      contentHash: hex32Field(b, 'contentHash'),
      submittedAt: at,
      status: 'adjudicated',
      flags: [],
      adjudications: [],
      payments: [],
      disputes: [],
      reviewDenial: null,
    };
    const { adjudication, flags } = adjudicate(state, claim, at, 'submit', {
      waivePreauth: false,
      skipFlags: false,
      overrides: NO_OVERRIDES,
    });
    claim.flags = flags;
    claim.adjudications = [adjudication];
    claim.status = flags.length > 0 ? 'review' : statusAfter(claim);
    writeJson(state, keys.claim(claim.id), claim);
    for (const line of items) {
      const key = keys.claimLine(patient, provider, claim.type, line.code, line.serviceDate);
      const seen = readJson<string[]>(state, key) ?? [];
      if (!seen.includes(claim.id)) writeJson(state, key, [...seen, claim.id]);
    }
    appendInsuranceList(state, 'iclaim', claim.insurer, claim.id);
    appendInsuranceList(state, 'pclaim', patient, claim.id);
    appendInsuranceList(state, 'rclaim', provider, claim.id);
  },
};

function claimFor(state: StateReader, raw: unknown): Claim {
  const claim = getClaim(state, hex16Field({ claim: raw }, 'claim'));
  if (claim === undefined) throw new EhrError('NOT_FOUND', `no claim ${String(raw)}`);
  return claim;
}

/** The insurer's staff release a claim held in review (re-adjudicated now, flags set aside) or deny it with a reason. */
export const claimReview: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'claim.review', ['claim', 'approve', 'reasonCode', 'text']);
    const actor = activeSigner(state, tx.signer);
    const claim = claimFor(state, b.claim);
    requireInsurer(state, actor, claim.insurer, 'review this claim');
    if (claim.status !== 'review') throw new EhrError('WRONG_STATE', `claim ${claim.id} is not in review`);
    if (typeof b.approve !== 'boolean') throw new EhrError('INVALID_BODY', 'body.approve must be a boolean');
    const reasonCode = stringField(b, 'reasonCode', REASON_CODE_RE, "a reason code such as 'VERIFIED'");
    const at = { height: ctx.height, time: ctx.time };
    if (!b.approve) {
      const text = stringField(b, 'text', REASON_TEXT_RE, 'a reason of 1–500 characters');
      writeJson(state, keys.claim(claim.id), { ...claim, status: 'denied', reviewDenial: { by: actor.id, reasonCode, text, at } });
      return;
    }
    const { adjudication } = adjudicate(state, claim, at, 'review-approved', {
      waivePreauth: false,
      skipFlags: true,
      overrides: NO_OVERRIDES,
    });
    const next: Claim = { ...claim, adjudications: [...claim.adjudications, adjudication] };
    writeJson(state, keys.claim(claim.id), { ...next, status: statusAfter(next) });
  },
};

export const claimPay: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'claim.pay', ['claim', 'amount', 'date']);
    const actor = activeSigner(state, tx.signer);
    const claim = claimFor(state, b.claim);
    requireInsurer(state, actor, claim.insurer, 'pay this claim');
    if (claim.status !== 'adjudicated') throw new EhrError('WRONG_STATE', `claim ${claim.id} is ${claim.status}, not adjudicated`);
    const owed = outstanding(claim);
    const amount = centsField(b, 'amount');
    if (owed <= 0) throw new EhrError('WRONG_STATE', `nothing is owed on claim ${claim.id}`);
    // One payment settles what is owed: the amount is the adjudicated benefit, not a choice.
    if (amount !== owed) throw new EhrError('AMOUNT_MISMATCH', `claim ${claim.id} owes ${owed} cents, not ${amount}`);
    const payment = { by: actor.id, amount, date: dateField(b, 'date'), at: { height: ctx.height, time: ctx.time } };
    writeJson(state, keys.claim(claim.id), { ...claim, status: 'paid', payments: [...claim.payments, payment] });
  },
};

function lastDecisionTime(claim: Claim): number {
  const adjudicated = claim.adjudications.at(-1)?.at.time ?? claim.submittedAt.time;
  return Math.max(adjudicated, claim.reviewDenial?.at.time ?? 0);
}

function mayDispute(state: StateReader, actor: Identity, claim: Claim): boolean {
  return managesPatient(state, actor, claim.patient) || providerOf(state, actor) === claim.provider;
}

export const claimDispute: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'claim.dispute', ['claim', 'reason']);
    const actor = activeSigner(state, tx.signer);
    const claim = claimFor(state, b.claim);
    if (!mayDispute(state, actor, claim))
      throw new EhrError('UNAUTHORIZED', 'only the patient, their delegate or the provider disputes a claim');
    if (claim.status === 'review') throw new EhrError('WRONG_STATE', `claim ${claim.id} is still in review`);
    if (claim.disputes.some((d) => d.resolution === null))
      throw new EhrError('WRONG_STATE', `claim ${claim.id} already has an open dispute`);
    if (ctx.time - lastDecisionTime(claim) > DISPUTE_WINDOW_MS)
      throw new EhrError('DISPUTE_WINDOW_CLOSED', 'the 180 days to dispute this adjudication have passed');
    const reason = stringField(b, 'reason', REASON_TEXT_RE, 'a reason of 1–500 characters');
    const dispute = { by: actor.id, reason, openedAt: { height: ctx.height, time: ctx.time }, resolution: null };
    writeJson(state, keys.claim(claim.id), { ...claim, disputes: [...claim.disputes, dispute] });
  },
};

/**
 * The insurer upholds or overturns an open dispute. An overturn takes the adjudication in
 * force back out of the accumulators, then re-adjudicates with the prior-authorization
 * requirement waived, fraud signals set aside, and any allowed amounts the insurer sets;
 * the new adjudication supersedes the old one, which stays in the claim's history.
 */
export const claimResolve: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'claim.resolve', ['claim', 'outcome', 'reason', 'allowed']);
    const actor = activeSigner(state, tx.signer);
    const claim = claimFor(state, b.claim);
    requireInsurer(state, actor, claim.insurer, 'resolve disputes on this claim');
    const open = claim.disputes.findIndex((d) => d.resolution === null);
    if (open < 0) throw new EhrError('WRONG_STATE', `claim ${claim.id} has no open dispute`);
    const outcome = enumField(b, 'outcome', ['uphold', 'overturn'] as const);
    const reason = stringField(b, 'reason', REASON_TEXT_RE, 'a reason of 1–500 characters');
    const overrides = new Map<number, number>();
    for (const o of b.allowed === undefined
      ? []
      : arrayField(b, 'allowed', MAX_LINES, (x, p) => itemObject(x, p, ['sequence', 'amount']))) {
      const sequence = intField(o, 'sequence', 9999);
      if (!claim.items.some((l) => l.sequence === sequence))
        throw new EhrError('INVALID_BODY', `claim ${claim.id} has no line ${sequence}`);
      overrides.set(sequence, centsField(o, 'amount'));
    }
    if (outcome === 'uphold' && overrides.size > 0) throw new EhrError('INVALID_BODY', 'body.allowed is only for an overturn');
    const at = { height: ctx.height, time: ctx.time };
    const disputes = claim.disputes.map((d, i) => (i === open ? { ...d, resolution: { by: actor.id, outcome, reason, at } } : d));
    if (outcome === 'uphold') {
      writeJson(state, keys.claim(claim.id), { ...claim, disputes });
      return;
    }
    const current = claim.adjudications.at(-1) as Adjudication;
    unapply(state, claim, current);
    const { adjudication } = adjudicate(state, claim, at, 'dispute-overturned', { waivePreauth: true, skipFlags: true, overrides });
    const next: Claim = { ...claim, disputes, reviewDenial: null, adjudications: [...claim.adjudications, adjudication] };
    writeJson(state, keys.claim(claim.id), { ...next, status: statusAfter(next) });
  },
};
