// Search parameters this endpoint supports (docs/fhir.md "Search"): patient, _type,
// category, date (R4 §3.1.1.4.2 prefixes eq/ne-less subset) and _count with _offset paging.
import type { Resource } from '@medplum/fhirtypes';
import { FhirError } from './outcome.js';

export const DEFAULT_COUNT = 50;
export const MAX_COUNT = 500;
const SUPPORTED = new Set(['patient', 'subject', '_type', 'category', 'date', '_count', '_offset', '_format']);

/** A date search value as a closed interval of epoch ms, with its prefix. */
interface DateParam {
  prefix: 'eq' | 'ge' | 'le' | 'gt' | 'lt';
  start: number;
  end: number;
}

export interface SearchQuery {
  patient?: string;
  types?: string[];
  categories?: string[];
  dates: DateParam[];
  count: number;
  offset: number;
}

/**
 * The interval a FHIR date/dateTime/instant covers at its precision (R4 §2.24.0.2
 * "date"): `2012` is the whole year. Undefined for a malformed value.
 */
export function dateRange(value: string): { start: number; end: number } | undefined {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/.exec(value);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi] = m;
  if (h !== undefined) {
    const t = Date.parse(m[8] === undefined ? `${value}Z` : value);
    if (Number.isNaN(t)) return undefined;
    const precision = m[6] === undefined ? 60_000 : m[7] === undefined ? 1000 : 1;
    return { start: t, end: t + precision - 1 };
  }
  const year = Number(y);
  if (mo === undefined) return { start: Date.UTC(year, 0, 1), end: Date.UTC(year + 1, 0, 1) - 1 };
  const month = Number(mo) - 1;
  if (d === undefined) return { start: Date.UTC(year, month, 1), end: Date.UTC(year, month + 1, 1) - 1 };
  const day = Number(d);
  void mi;
  return { start: Date.UTC(year, month, day), end: Date.UTC(year, month, day + 1) - 1 };
}

function one(raw: string | string[] | undefined): string[] {
  if (raw === undefined) return [];
  return Array.isArray(raw) ? raw : [raw];
}

function intParam(raw: string | string[] | undefined, name: string, min: number, max: number, dflt: number): number {
  const v = one(raw);
  if (v.length === 0) return dflt;
  const s = v[v.length - 1] as string;
  if (!/^[0-9]{1,9}$/.test(s) || Number(s) < min || Number(s) > max)
    throw new FhirError(400, 'invalid', `${name} must be an integer from ${min} to ${max}`);
  return Number(s);
}

/**
 * `_count` (1–MAX_COUNT, default DEFAULT_COUNT) and `_offset` (default 0) as every search on
 * this endpoint takes them. Throws FhirError 400 for a value out of range or not an integer.
 */
export function parsePaging(query: Record<string, string | string[] | undefined>): { count: number; offset: number } {
  return {
    count: intParam(query._count, '_count', 1, MAX_COUNT, DEFAULT_COUNT),
    offset: intParam(query._offset, '_offset', 0, 1_000_000_000, 0),
  };
}

/** Parse a search query string (already split by Fastify). Throws FhirError 400 for what is not supported. */
export function parseSearch(query: Record<string, string | string[] | undefined>, type?: string): SearchQuery {
  for (const key of Object.keys(query)) {
    if (!SUPPORTED.has(key)) throw new FhirError(400, 'not-supported', `search parameter '${key}' is not supported here`);
  }
  const patients = [...one(query.patient), ...one(query.subject)].map((p) => p.replace(/^Patient\//, ''));
  if (patients.length > 1) throw new FhirError(400, 'not-supported', 'give one patient');
  const patient = patients[0];
  if (patient !== undefined && !/^[0-9a-f]{40}$/.test(patient)) throw new FhirError(400, 'value', 'patient must be a Patient id');
  const typeList = one(query._type).flatMap((t) => t.split(','));
  if (type !== undefined && typeList.length > 0)
    throw new FhirError(400, 'invalid', '_type is for searches across types: GET [base]?_type=');
  const types = type !== undefined ? [type] : typeList.length > 0 ? typeList : undefined;
  const categories = one(query.category)
    .flatMap((c) => c.split(','))
    .map((c) => c.slice(c.indexOf('|') + 1));
  const dates = one(query.date).map((raw) => {
    const m = /^(eq|ge|le|gt|lt)?(.+)$/.exec(raw);
    const range = m === null ? undefined : dateRange(m[2] as string);
    if (m === null || range === undefined)
      throw new FhirError(400, 'value', `date '${raw}' must be a FHIR date with an optional eq, ge, le, gt or lt prefix`);
    return { prefix: (m[1] ?? 'eq') as DateParam['prefix'], ...range };
  });
  return {
    ...(patient === undefined ? {} : { patient }),
    ...(types === undefined ? {} : { types }),
    ...(categories.length === 0 ? {} : { categories }),
    dates,
    ...parsePaging(query),
  };
}

type Json = Record<string, unknown>;

const periodOf = (p: unknown) => {
  const o = p as { start?: string; end?: string } | undefined;
  const s = o?.start === undefined ? undefined : dateRange(o.start);
  const e = o?.end === undefined ? undefined : dateRange(o.end);
  if (s === undefined && e === undefined) return undefined;
  return { start: s?.start ?? Number.MIN_SAFE_INTEGER, end: e?.end ?? Number.MAX_SAFE_INTEGER };
};
const at = (v: unknown) => (typeof v === 'string' ? dateRange(v) : undefined);
type DateOf = (r: Json) => { start: number; end: number } | undefined;
const effective: DateOf = (r) => at(r.effectiveDateTime) ?? at(r.effectiveInstant) ?? periodOf(r.effectivePeriod) ?? at(r.issued);
const period: DateOf = (r) => periodOf(r.period);
const billable: DateOf = (r) => periodOf(r.billablePeriod) ?? at(r.created);

/** The `date` search parameter's path for each type that has one; a resource of any other type matches no `date`. */
const DATE_OF: Readonly<Record<string, DateOf>> = {
  Observation: effective,
  DiagnosticReport: effective,
  Condition: (r) => at(r.recordedDate) ?? at(r.onsetDateTime),
  AllergyIntolerance: (r) => at(r.recordedDate),
  Encounter: period,
  CarePlan: period,
  CareTeam: period,
  EpisodeOfCare: period,
  Procedure: (r) => at(r.performedDateTime) ?? periodOf(r.performedPeriod),
  Immunization: (r) => at(r.occurrenceDateTime),
  MedicationRequest: (r) => at(r.authoredOn),
  Claim: billable,
  ExplanationOfBenefit: billable,
  DocumentReference: (r) => at(r.date),
  Goal: (r) => at(r.startDate) ?? at(r.statusDate),
};

/**
 * Can a record of this type match a `date` search at all? Its type is anchored on chain, so a
 * search leaves out (unread) the candidates of types with no date, such as Patient.
 */
export function typeHasDate(resourceType: string): boolean {
  return Object.hasOwn(DATE_OF, resourceType);
}

/** The clinically relevant date of a resource (the `date` search parameter's path for its type). */
export function resourceDate(resource: Resource): { start: number; end: number } | undefined {
  const dateOf = Object.hasOwn(DATE_OF, resource.resourceType) ? DATE_OF[resource.resourceType] : undefined;
  return dateOf?.(resource as unknown as Json);
}

/** Does a resource match every `date` parameter? A resource without a date matches none. */
export function matchesDates(resource: Resource, dates: readonly DateParam[]): boolean {
  if (dates.length === 0) return true;
  const d = resourceDate(resource);
  if (d === undefined) return false;
  return dates.every((p) => {
    switch (p.prefix) {
      case 'eq':
        return d.start >= p.start && d.end <= p.end;
      case 'ge':
        return d.end >= p.start;
      case 'gt':
        return d.end > p.end;
      case 'le':
        return d.start <= p.end;
      case 'lt':
        return d.start < p.start;
    }
    return false;
  });
}
