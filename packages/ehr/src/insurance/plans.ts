// Plans and coverage (docs/insurance.md): an insurer organization publishes versioned plans;
// the insurer registers a patient's coverage and, if known, their date of death.
import { txHash } from '@medledger/ledger';
import { arrayField, type Body, enumField, hex16Field, idField, intField, itemObject, onlyFields, optional, stringField } from '../body.js';
import { EhrError } from '../errors.js';
import { activeIdentity, activeSigner } from '../identity.js';
import type { TxKind } from '../kinds.js';
import { keys, readJson, type StateReader, writeJson } from '../state.js';
import { appendInsuranceList, insuranceListCount, insuranceListSpan } from './lists.js';
import {
  type Accumulator,
  BPS,
  type CostShare,
  type Coverage,
  centsField,
  codeField,
  codeList,
  DEFAULT_AUTH_VALIDITY_DAYS,
  DEFAULT_OUTLIER_MULTIPLE,
  dateField,
  type PlanHead,
  type PlanService,
  type PlanVersion,
  RELATIONSHIPS,
} from './model.js';
import { insurerOf, requireInsurer } from './parties.js';

const MAX_SERVICES = 2_000;
const MAX_NETWORK = 500;

export function getPlanHead(state: StateReader, id: string): PlanHead | undefined {
  return readJson<PlanHead>(state, keys.plan(id));
}

/**
 * Parsed plan versions by their stored JSON, with each fee schedule indexed by code. A version
 * is written once and never changed, yet every claim, prior authorization and eligibility
 * answer reads one (and its fee schedule may list 2,000 services): parsing it each time was
 * the largest part of judging a claim. Keyed by the stored text itself, a hit is exactly what
 * parsing would give, so every validator still computes the same; frozen, so no rule can
 * change a shared copy. Bounded (oldest out first).
 */
const PARSED_VERSIONS_MAX = 64;
const parsedVersions = new Map<string, PlanVersion>();
const servicesByCode = new WeakMap<PlanVersion, ReadonlyMap<string, PlanService>>();

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export function getPlanVersion(state: StateReader, id: string, version: number): PlanVersion | undefined {
  const raw = state.getState(keys.planVersion(id, version));
  if (raw === undefined) return undefined;
  const hit = parsedVersions.get(raw);
  if (hit !== undefined) return hit;
  const parsed = deepFreeze(JSON.parse(raw) as PlanVersion);
  servicesByCode.set(parsed, new Map(parsed.services.map((s) => [s.code, s])));
  if (parsedVersions.size >= PARSED_VERSIONS_MAX) parsedVersions.delete(parsedVersions.keys().next().value as string);
  parsedVersions.set(raw, parsed);
  return parsed;
}

/** The version of plan `id` in force on `date`: the latest whose effectiveFrom is not after it. */
export function planInForce(state: StateReader, id: string, date: string): PlanVersion | undefined {
  const head = getPlanHead(state, id);
  for (let v = head?.versions ?? 0; v >= 1; v--) {
    const version = getPlanVersion(state, id, v);
    if (version !== undefined && version.effectiveFrom <= date) return version;
  }
  return undefined;
}

export function getCoverage(state: StateReader, id: string): Coverage | undefined {
  return readJson<Coverage>(state, keys.coverage(id));
}

export function coverageActiveOn(c: Coverage, date: string): boolean {
  return c.from <= date && date <= c.to;
}

export function getAccumulator(state: StateReader, coverage: string): Accumulator {
  return readJson<Accumulator>(state, keys.accumulator(coverage)) ?? { deductibleMet: 0, oopMet: 0, counts: {} };
}

export function serviceOf(plan: PlanVersion, code: string): PlanService | undefined {
  const indexed = servicesByCode.get(plan);
  return indexed !== undefined ? indexed.get(code) : plan.services.find((s) => s.code === code);
}

/** `copay` (cents) or `coinsuranceBps` (basis points, 0–10 000): exactly one when `required`. */
function parseCostShare(b: Body, path: string, required: boolean): CostShare | null {
  const hasCopay = b.copay !== undefined;
  const hasCoins = b.coinsuranceBps !== undefined;
  if (hasCopay && hasCoins) throw new EhrError('INVALID_BODY', `${path}: give copay or coinsuranceBps, not both`);
  if (hasCopay) return { kind: 'copay', amount: centsField(b, 'copay') };
  if (hasCoins) return { kind: 'coinsurance', bps: intField(b, 'coinsuranceBps', BPS) };
  if (required) throw new EhrError('INVALID_BODY', `${path}: copay (cents) or coinsuranceBps is required`);
  return null;
}

function parseService(x: unknown, path: string): PlanService {
  const s = itemObject(x, path, ['code', 'allowed', 'maxPerPeriod', 'priorAuth', 'justifyingDiagnoses', 'copay', 'coinsuranceBps']);
  const priorAuth = s.priorAuth ?? false;
  if (typeof priorAuth !== 'boolean') throw new EhrError('INVALID_BODY', `body.${path}.priorAuth must be a boolean`);
  return {
    code: codeField(s, 'code'),
    allowed: centsField(s, 'allowed'),
    maxPerPeriod: optional(s, 'maxPerPeriod', (b, f) => intField(b, f, 1_000_000)) ?? null,
    priorAuth,
    justifyingDiagnoses: codeList(s, 'justifyingDiagnoses', 200),
    costShare: parseCostShare(s, `body.${path}`, false),
  };
}

export const planPublish: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'plan.publish', [
      'plan',
      'name',
      'effectiveFrom',
      'deductible',
      'oopMax',
      'copay',
      'coinsuranceBps',
      'network',
      'services',
      'authValidityDays',
      'outlierMultiple',
    ]);
    const actor = activeSigner(state, tx.signer);
    if (actor.orgKind !== 'insurer') throw new EhrError('UNAUTHORIZED', 'only an insurer organization publishes plans');
    const existing = optional(b, 'plan', hex16Field);
    const services = arrayField(b, 'services', MAX_SERVICES, parseService).sort((a, c) => (a.code < c.code ? -1 : a.code > c.code ? 1 : 0));
    if (services.length === 0) throw new EhrError('INVALID_BODY', 'body.services must list at least one covered service');
    for (let i = 1; i < services.length; i++)
      if (services[i]?.code === services[i - 1]?.code) throw new EhrError('INVALID_BODY', `service ${services[i]?.code} is listed twice`);
    const network = [...new Set(arrayField(b, 'network', MAX_NETWORK, (x, p) => idField({ [p]: x }, p)))].sort();
    for (const org of network) activeIdentity(state, org, 'network provider');
    const deductible = centsField(b, 'deductible');
    const oopMax = centsField(b, 'oopMax');
    if (oopMax < deductible) throw new EhrError('INVALID_BODY', 'body.oopMax must not be below body.deductible');
    const effectiveFrom = dateField(b, 'effectiveFrom');

    let id: string;
    let version: number;
    if (existing === undefined) {
      id = txHash(tx).slice(0, 32);
      version = 1;
      appendInsuranceList(state, 'iplan', actor.id, id);
    } else {
      const head = getPlanHead(state, existing);
      if (head === undefined) throw new EhrError('NOT_FOUND', `no plan ${existing}`);
      if (head.insurer !== actor.id) throw new EhrError('UNAUTHORIZED', `plan ${existing} belongs to another insurer`);
      const last = getPlanVersion(state, existing, head.versions) as PlanVersion;
      // Versions take effect in order, so "the version in force on a date" has one answer.
      if (effectiveFrom <= last.effectiveFrom)
        throw new EhrError('INVALID_BODY', `body.effectiveFrom must be after version ${last.version}'s ${last.effectiveFrom}`);
      id = existing;
      version = head.versions + 1;
    }
    const plan: PlanVersion = {
      plan: id,
      version,
      insurer: actor.id,
      name: stringField(b, 'name', /^\P{Cc}{1,100}$/u, 'a name of 1–100 characters'),
      effectiveFrom,
      deductible,
      oopMax,
      costShare: parseCostShare(b, 'body', true) as CostShare,
      network,
      services,
      authValidityDays: optional(b, 'authValidityDays', (x, f) => intField(x, f, 3660)) ?? DEFAULT_AUTH_VALIDITY_DAYS,
      outlierMultiple: optional(b, 'outlierMultiple', (x, f) => intField(x, f, 1000)) ?? DEFAULT_OUTLIER_MULTIPLE,
      publishedAt: { height: ctx.height, time: ctx.time },
    };
    if (plan.outlierMultiple < 1) throw new EhrError('INVALID_BODY', 'body.outlierMultiple must be at least 1');
    writeJson(state, keys.planVersion(id, version), plan);
    writeJson(state, keys.plan(id), { id, insurer: actor.id, versions: version } satisfies PlanHead);
  },
};

export const coverageAdd: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'coverage.add', ['patient', 'plan', 'memberId', 'relationship', 'from', 'to']);
    const actor = activeSigner(state, tx.signer);
    const insurer = insurerOf(state, actor);
    if (insurer === undefined) throw new EhrError('UNAUTHORIZED', 'only an insurer or its staff registers coverage');
    const patient = idField(b, 'patient');
    if (activeIdentity(state, patient, 'patient').role !== 'patient') throw new EhrError('INVALID_BODY', 'body.patient is not a patient');
    const planId = hex16Field(b, 'plan');
    const head = getPlanHead(state, planId);
    if (head === undefined) throw new EhrError('NOT_FOUND', `no plan ${planId}`);
    if (head.insurer !== insurer) throw new EhrError('UNAUTHORIZED', `plan ${planId} belongs to another insurer`);
    const from = dateField(b, 'from');
    const to = dateField(b, 'to');
    if (to < from) throw new EhrError('INVALID_BODY', 'body.to is before body.from');
    // One coverage of a plan per member and day: a second one overlapping it would give the
    // member two accumulators (two deductibles, out-of-pocket maxima and count limits) for the
    // same benefit, and the provider would pick whichever pays more.
    for (const id of insuranceListSpan(state, 'pcov', patient, 0, insuranceListCount(state, 'pcov', patient))) {
      const other = getCoverage(state, id);
      if (other !== undefined && other.plan === planId && other.from <= to && from <= other.to)
        throw new EhrError(
          'DUPLICATE_COVERAGE',
          `patient ${patient} already has coverage ${other.id} of plan ${planId} from ${other.from} to ${other.to}`,
        );
    }
    const coverage: Coverage = {
      id: txHash(tx).slice(0, 32),
      insurer,
      plan: planId,
      patient,
      // A member id is an insurer's pseudonymous number, never a name or SSN.
      memberId: stringField(b, 'memberId', /^[A-Za-z0-9-]{1,40}$/, 'a member id of letters, digits and "-" (at most 40)'),
      relationship: optional(b, 'relationship', (x, f) => enumField(x, f, RELATIONSHIPS)) ?? 'self',
      from,
      to,
      deceasedOn: null,
      addedBy: actor.id,
      addedAt: { height: ctx.height, time: ctx.time },
    };
    writeJson(state, keys.coverage(coverage.id), coverage);
    appendInsuranceList(state, 'icov', insurer, coverage.id);
    appendInsuranceList(state, 'pcov', patient, coverage.id);
  },
};

/** The insurer records a member's date of death (from a death record or registry): services after it are flagged. */
export const coverageDeath: TxKind = {
  apply(_ctx, tx, state) {
    const b = onlyFields(tx.body, 'coverage.death', ['coverage', 'date']);
    const actor = activeSigner(state, tx.signer);
    const coverage = getCoverage(state, hex16Field(b, 'coverage'));
    if (coverage === undefined) throw new EhrError('NOT_FOUND', `no coverage ${String(b.coverage)}`);
    requireInsurer(state, actor, coverage.insurer, 'record a death on this coverage');
    writeJson(state, keys.coverage(coverage.id), { ...coverage, deceasedOn: dateField(b, 'date') });
  },
};
