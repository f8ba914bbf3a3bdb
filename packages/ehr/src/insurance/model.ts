// The insurance records kept in state (docs/insurance.md): plans, coverage, accumulators,
// prior authorizations and claims, with the field checks and date helpers the rules share.
// Every amount is an integer number of cents; every date a UTC calendar date 'YYYY-MM-DD'.
import { type Body, stringField } from '../body.js';
import { EhrError } from '../errors.js';

/** Largest charge or fee accepted, in cents (US$1 billion): `cents × 10 000` stays a safe integer. */
export const MAX_CENTS = 100_000_000_000;
/** 100 % in basis points. */
export const BPS = 10_000;
export const DAY_MS = 86_400_000;
/** CMS-0057-F: a pended prior authorization is decided within 72 hours (urgent) or 7 days (standard). */
export const URGENT_DEADLINE_MS = 72 * 3_600_000;
export const STANDARD_DEADLINE_MS = 7 * DAY_MS;
/** A claim's adjudication may be disputed for 180 days of block time. */
export const DISPUTE_WINDOW_MS = 180 * DAY_MS;
/** Default validity of an approval decided by the plan's rules. */
export const DEFAULT_AUTH_VALIDITY_DAYS = 90;
/** Default fraud threshold: charges above this multiple of the fee schedule go to review. */
export const DEFAULT_OUTLIER_MULTIPLE = 10;

/** FHIR claim-type (http://terminology.hl7.org/CodeSystem/claim-type). */
export const CLAIM_TYPES = ['institutional', 'professional', 'pharmacy', 'oral', 'vision'] as const;
export type ClaimType = (typeof CLAIM_TYPES)[number];
/** FHIR subscriber-relationship (http://terminology.hl7.org/CodeSystem/subscriber-relationship). */
export const RELATIONSHIPS = ['self', 'spouse', 'child', 'parent', 'common', 'injured', 'other'] as const;

export type CostShare = { kind: 'copay'; amount: number } | { kind: 'coinsurance'; bps: number };

/** One covered service of a plan. */
export interface PlanService {
  /** CPT, HCPCS, SNOMED CT, CVX or RxNorm code, as Synthea bills it. */
  code: string;
  /** Fee-schedule allowed amount per unit, cents. */
  allowed: number;
  /** Most units per benefit period; null for no limit. */
  maxPerPeriod: number | null;
  priorAuth: boolean;
  /** Diagnosis codes that justify the service when prior authorization is needed. */
  justifyingDiagnoses: string[];
  /** Overrides the plan's cost share for this service. */
  costShare: CostShare | null;
}

/** One published version of a plan. A claim is judged by the version in force on its service date. */
export interface PlanVersion {
  plan: string;
  version: number;
  insurer: string;
  name: string;
  effectiveFrom: string;
  deductible: number;
  oopMax: number;
  costShare: CostShare;
  /** In-network provider organizations; empty means any provider. */
  network: string[];
  /** Sorted by code, codes unique. */
  services: PlanService[];
  authValidityDays: number;
  outlierMultiple: number;
  publishedAt: { height: number; time: number };
}

export interface PlanHead {
  id: string;
  insurer: string;
  versions: number;
}

export interface Coverage {
  id: string;
  insurer: string;
  plan: string;
  patient: string;
  memberId: string;
  relationship: (typeof RELATIONSHIPS)[number];
  from: string;
  to: string;
  /** Date of death the insurer recorded, if known (fraud check: no services after it). */
  deceasedOn: string | null;
  addedBy: string;
  addedAt: { height: number; time: number };
}

/** Running totals of a coverage's benefit period (its coverage period). */
export interface Accumulator {
  deductibleMet: number;
  oopMet: number;
  /** Units used by code. */
  counts: Record<string, number>;
}

export interface PreauthItem {
  code: string;
  quantity: number;
}

export interface PreauthDecision {
  /** 'rules' for a decision the plan's rules made at once; else the insurer staff id. */
  by: string;
  at: { height: number; time: number };
  approved: boolean;
  reasonCode: string;
  text: string | null;
  authNumber: string | null;
  validFrom: string | null;
  validTo: string | null;
  /** Decided after the deadline. */
  late: boolean;
}

export interface Preauth {
  id: string;
  patient: string;
  coverage: string;
  insurer: string;
  provider: string;
  requester: string;
  items: PreauthItem[];
  diagnoses: string[];
  supportingRecords: string[];
  urgent: boolean;
  requestedAt: { height: number; time: number };
  /** Block time by which the insurer must decide a pended request; null when decided at once. */
  deadline: number | null;
  decision: PreauthDecision | null;
  /** Units consumed by claims, by code. */
  used: Record<string, number>;
}

/** What a caller sees: `overdue` is derived at read time from block time (never written). */
export type PreauthStatus = 'approved' | 'denied' | 'pended' | 'overdue';

export function preauthStatus(p: Preauth, time: number): PreauthStatus {
  if (p.decision !== null) return p.decision.approved ? 'approved' : 'denied';
  return p.deadline !== null && time >= p.deadline ? 'overdue' : 'pended';
}

export interface ClaimLine {
  sequence: number;
  code: string;
  serviceDate: string;
  quantity: number;
  /** Charge for the line (all units), cents. */
  charge: number;
}

/** Integer cents of one adjudicated line; `patient` = deductible + costShare after the out-of-pocket cap. */
export interface LineAmounts {
  submitted: number;
  allowed: number;
  deductible: number;
  costShare: number;
  benefit: number;
  patient: number;
}

export interface AdjudicatedLine {
  sequence: number;
  code: string;
  serviceDate: string;
  quantity: number;
  amounts: LineAmounts;
  costShareKind: 'copay' | 'coinsurance' | null;
  coinsuranceBps: number | null;
  /** Why the line pays nothing (NOT_COVERED, COVERAGE_INACTIVE, OUT_OF_NETWORK, PREAUTH_REQUIRED); null if adjudicated. */
  denial: string | null;
  /** Units counted against the period limit. */
  counted: number;
  /** Prior authorization the line consumed. */
  preauth: string | null;
}

export interface Adjudication {
  at: { height: number; time: number };
  planVersion: number;
  lines: AdjudicatedLine[];
  total: LineAmounts;
  /** Whether accumulators and preauth usage were updated (false for a claim held in review). */
  applied: boolean;
  /** Why this adjudication was made: 'submit', 'review-approved', 'dispute-overturned'. */
  cause: string;
}

export type ClaimStatus = 'adjudicated' | 'denied' | 'review' | 'paid';

export interface Dispute {
  by: string;
  reason: string;
  openedAt: { height: number; time: number };
  resolution: null | { by: string; outcome: 'uphold' | 'overturn'; reason: string; at: { height: number; time: number } };
}

export interface Claim {
  id: string;
  patient: string;
  coverage: string;
  insurer: string;
  provider: string;
  submitter: string;
  type: ClaimType;
  items: ClaimLine[];
  diagnoses: string[];
  preauth: string | null;
  /** Vault hash of the encrypted FHIR Claim (the full resource stays off chain). */
  contentHash: string;
  submittedAt: { height: number; time: number };
  status: ClaimStatus;
  /** Fraud signals that sent the claim to review (DUPLICATE, OVER_LIMIT, AFTER_DEATH, CHARGE_OUTLIER). */
  flags: string[];
  /** Every adjudication, oldest first; the last one is in force, earlier ones are superseded. */
  adjudications: Adjudication[];
  payments: Array<{ by: string; amount: number; date: string; at: { height: number; time: number } }>;
  disputes: Dispute[];
  /** Reason the insurer gave when denying a claim in review. */
  reviewDenial: null | { by: string; reasonCode: string; text: string; at: { height: number; time: number } };
}

/** Amount still owed by the insurer: the benefit in force less payments (negative: overpaid). */
export function outstanding(claim: Claim): number {
  const current = claim.adjudications.at(-1);
  const benefit = current === undefined || claim.reviewDenial !== null ? 0 : current.total.benefit;
  return benefit - claim.payments.reduce((sum, p) => sum + p.amount, 0);
}

// ---- field checks ----------------------------------------------------------------------

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** A real UTC calendar date 'YYYY-MM-DD'. */
export function dateField(b: Body, field: string): string {
  const v = stringField(b, field, DATE_RE, "a date 'YYYY-MM-DD'");
  if (!isCalendarDate(v)) throw new EhrError('INVALID_BODY', `body.${field} is not a calendar date`);
  return v;
}

/**
 * Is `YYYY-MM-DD` a day of the proleptic Gregorian calendar (what a Date round trip accepts for
 * years 0000–9999)? In integers: every claim line has a date, and building two Date objects per
 * line was a measurable part of checking a claim.
 */
function isCalendarDate(v: string): boolean {
  const year = Number(v.slice(0, 4));
  const month = Number(v.slice(5, 7));
  const day = Number(v.slice(8, 10));
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return day <= days;
}

/** The UTC date of a block time. Pure: a function of the integer only, never of a clock. */
export function dateOf(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

/** `date` plus `days` calendar days. */
export function addDays(date: string, days: number): string {
  return dateOf(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS);
}

/** Service and diagnosis codes: letters, digits, '.', '-' (no '/', they appear in state keys). */
export const CODE_RE = /^[A-Za-z0-9][A-Za-z0-9.-]{0,39}$/;
/** Decision reason codes chosen by insurers: 'MEDICAL_NECESSITY', 'INCOMPLETE_DOCUMENTATION'. */
export const REASON_CODE_RE = /^[A-Z][A-Z0-9_]{1,39}$/;
/** Free text of a reason: no clinical detail belongs here, it is public on chain. */
export const REASON_TEXT_RE = /^\P{Cc}{1,500}$/u;

export function codeField(b: Body, field: string): string {
  return stringField(b, field, CODE_RE, 'a code of letters, digits, "." and "-" (at most 40)');
}

export function centsField(b: Body, field: string): number {
  const v = b[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > MAX_CENTS)
    throw new EhrError('INVALID_BODY', `body.${field} must be an integer number of cents from 0 to ${MAX_CENTS}`);
  return v;
}

/** A list of unique codes, sorted (so equal sets are stored identically). */
export function codeList(b: Body, field: string, max: number): string[] {
  const v = b[field];
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > max || !v.every((c) => typeof c === 'string' && CODE_RE.test(c)))
    throw new EhrError('INVALID_BODY', `body.${field} must be an array of at most ${max} codes`);
  return [...new Set(v as string[])].sort();
}
