// Search and read of ClaimResponse and ExplanationOfBenefit on the FHIR endpoint (docs/fhir.md
// "Insurance"), built from the claims on chain: the ClaimResponse as the ledger shapes it
// (claimResponseOf), the ExplanationOfBenefit in the CARIN Blue Button shape. Who sees a claim
// is one rule (fhirMaySeeClaim); a provider also needs the patient's consent, as every other
// FHIR route does.
import {
  type Claim,
  claimResponseOf,
  getClaim,
  getPreauth,
  hasBillingConsent,
  type Identity,
  type InsuranceIndex,
  insurerOf,
  managesPatient,
  outstanding,
  type Preauth,
  preauthResponseOf,
  preauthStatus,
  prefixes,
  providerOf,
  type StateReader,
} from '@medledger/ehr';
import { FhirError } from './outcome.js';

type Json = Record<string, unknown>;

/** What the search needs of the node: committed state, index scans and block time. */
export interface InsuranceSearchPorts {
  state: StateReader;
  scan(prefix: string): Array<[string, string]>;
  blockTime(): number;
}

/**
 * May `caller` see claim or preauth `c` through FHIR? Its insurer (the payer of record), the
 * patient or a delegate, or the provider while it holds the patient's active payment or
 * treatment consent (a revoked consent stops FHIR reads of the claims, as of records).
 */
export function fhirMaySeeClaim(
  state: StateReader,
  caller: Identity,
  c: { insurer: string; patient: string; provider: string },
  time: number,
) {
  return (
    insurerOf(state, caller) === c.insurer ||
    managesPatient(state, caller, c.patient) ||
    (providerOf(state, caller) === c.provider && hasBillingConsent(state, caller, c.patient, time))
  );
}

const ID20 = /^[0-9a-f]{40}$/;
const ID16 = /^[0-9a-f]{32}$/;
const SUPPORTED = new Set(['patient', 'use', '_count', '_offset', '_format']);
export const DEFAULT_COUNT = 50;
export const MAX_COUNT = 500;

export interface InsuranceSearchQuery {
  patient: string | undefined;
  use: 'claim' | 'preauthorization';
  count: number;
  offset: number;
}

/** Parse `patient`, `use` (ClaimResponse only), `_count` and `_offset`. Throws FhirError 400. */
export function parseInsuranceSearch(raw: Record<string, string>, type: 'ClaimResponse' | 'ExplanationOfBenefit'): InsuranceSearchQuery {
  for (const k of Object.keys(raw))
    if (!SUPPORTED.has(k) || (k === 'use' && type !== 'ClaimResponse'))
      throw new FhirError(
        400,
        'not-supported',
        `${type} search supports patient, ${type === 'ClaimResponse' ? 'use, ' : ''}_count and _offset`,
      );
  const patient = raw.patient?.replace(/^Patient\//, '');
  if (patient !== undefined && !ID20.test(patient)) throw new FhirError(400, 'invalid', 'patient must be a Patient id (40 hex digits)');
  const use = raw.use ?? 'claim';
  if (use !== 'claim' && use !== 'preauthorization') throw new FhirError(400, 'invalid', 'use must be claim or preauthorization');
  const int = (v: string | undefined, dflt: number, min: number, max: number, name: string) => {
    if (v === undefined) return dflt;
    if (!/^[0-9]{1,9}$/.test(v) || Number(v) < min || Number(v) > max)
      throw new FhirError(400, 'invalid', `${name} must be an integer from ${min} to ${max}`);
    return Number(v);
  };
  return {
    patient,
    use,
    count: int(raw._count, DEFAULT_COUNT, 1, MAX_COUNT, '_count'),
    offset: int(raw._offset, 0, 0, 1_000_000_000, '_offset'),
  };
}

/**
 * The claims (or preauths) `caller` may see, oldest first: of one patient, or, without
 * `patient`, those of the caller's insurer or provider organization. Every visible one
 * counts toward `total`; the page is `count` from `offset`.
 */
function visibleCases<T extends { insurer: string; patient: string; provider: string }>(
  ports: InsuranceSearchPorts,
  caller: Identity,
  q: InsuranceSearchQuery,
  kind: 'claim' | 'preauth',
  load: (id: string) => T | undefined,
): { total: number; page: T[] } {
  const index = (party: 'p' | 'i' | 'r'): InsuranceIndex => (kind === 'claim' ? `${party}claim` : `${party}pa`) as InsuranceIndex;
  const insurer = insurerOf(ports.state, caller);
  const provider = providerOf(ports.state, caller);
  const prefix =
    q.patient !== undefined
      ? prefixes.insuranceIndex(index('p'), q.patient)
      : insurer !== undefined
        ? prefixes.insuranceIndex(index('i'), insurer)
        : provider !== undefined
          ? prefixes.insuranceIndex(index('r'), provider)
          : prefixes.insuranceIndex(index('p'), caller.id);
  const time = ports.blockTime();
  const visible: T[] = [];
  // Each index entry's value is the id (ehr lists.ts).
  for (const [, id] of ports.scan(prefix)) {
    const c = load(id);
    if (c !== undefined && fhirMaySeeClaim(ports.state, caller, c, time)) visible.push(c);
  }
  return { total: visible.length, page: visible.slice(q.offset, q.offset + q.count) };
}

const C4BB = 'http://hl7.org/fhir/us/carin-bb';
const ADJ = 'http://terminology.hl7.org/CodeSystem/adjudication';
const C4BB_ADJ = `${C4BB}/CodeSystem/C4BBAdjudication`;
const usd = (cents: number) => ({ value: cents / 100, currency: 'USD' });
const PROFILE: Record<string, string> = {
  institutional: 'C4BB-ExplanationOfBenefit-Outpatient-Institutional',
  professional: 'C4BB-ExplanationOfBenefit-Professional-NonClinician',
  pharmacy: 'C4BB-ExplanationOfBenefit-Pharmacy',
  oral: 'C4BB-ExplanationOfBenefit-Oral',
  vision: 'C4BB-ExplanationOfBenefit-Professional-NonClinician',
};

function eobAdjudication(
  a: { submitted: number; allowed: number; deductible: number; costShare: number; benefit: number; patient: number },
  coinsurance: boolean,
  paid: boolean,
) {
  const cat = (system: string, code: string, cents: number) => ({ category: { coding: [{ system, code }] }, amount: usd(cents) });
  return [
    cat(ADJ, 'submitted', a.submitted),
    cat(ADJ, 'eligible', a.allowed),
    cat(ADJ, 'deductible', a.deductible),
    coinsurance ? cat(C4BB_ADJ, 'coinsurance', a.costShare) : cat(ADJ, 'copay', a.costShare),
    cat(ADJ, 'benefit', a.benefit),
    cat(C4BB_ADJ, 'memberliability', a.patient),
    cat(C4BB_ADJ, 'noncovered', a.submitted - a.allowed),
    ...(paid ? [cat(C4BB_ADJ, 'paidtoprovider', a.benefit)] : []),
  ];
}

/**
 * A claim's ExplanationOfBenefit in the CARIN Blue Button (C4BB) shape: what was billed, what
 * the plan allowed, the deductible and cost share, what the insurer pays and what the patient
 * owes, per line and in total, with denial reasons and the payments made. Amounts in dollars
 * for FHIR readers; the chain keeps cents.
 */
export function explanationOfBenefit(claim: Claim): Json {
  const current = claim.adjudications.at(-1);
  const lines = current?.lines ?? [];
  const dates = claim.items.map((l) => l.serviceDate).sort();
  const paidCents = claim.payments.reduce((s, p) => s + p.amount, 0);
  const paidInFull = claim.status === 'paid' && outstanding(claim) <= 0;
  return {
    resourceType: 'ExplanationOfBenefit',
    id: claim.id,
    meta: { profile: [`${C4BB}/StructureDefinition/${PROFILE[claim.type]}`] },
    identifier: [
      {
        type: { coding: [{ system: `${C4BB}/CodeSystem/C4BBIdentifierType`, code: 'uc' }] },
        system: 'https://medledger.example/claim-id',
        value: claim.id,
      },
    ],
    status: 'active',
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: claim.type }] },
    use: 'claim',
    patient: { reference: `Patient/${claim.patient}` },
    billablePeriod: { start: dates[0], end: dates.at(-1) },
    created: new Date((current?.at ?? claim.submittedAt).time).toISOString(),
    insurer: { reference: `Organization/${claim.insurer}` },
    provider: { reference: `Organization/${claim.provider}` },
    outcome: claim.status === 'review' ? 'queued' : lines.some((l) => l.denial !== null) ? 'partial' : 'complete',
    claim: { reference: `Claim/${claim.id}` },
    claimResponse: { reference: `ClaimResponse/${claim.id}` },
    ...(claim.preauth === null ? {} : { preAuthRef: [claim.preauth] }),
    insurance: [{ focal: true, coverage: { reference: `Coverage/${claim.coverage}` } }],
    diagnosis: claim.diagnoses.map((code, i) => ({ sequence: i + 1, diagnosisCodeableConcept: { coding: [{ code }] } })),
    item: lines.map((l) => ({
      sequence: l.sequence,
      productOrService: { coding: [{ code: l.code }] },
      servicedDate: l.serviceDate,
      quantity: { value: l.quantity },
      net: usd(l.amounts.submitted),
      adjudication: [
        ...eobAdjudication(l.amounts, l.costShareKind === 'coinsurance', paidInFull),
        ...(l.denial === null
          ? []
          : [
              {
                category: { coding: [{ system: `${C4BB}/CodeSystem/C4BBAdjudicationDiscriminator`, code: 'denialreason' }] },
                reason: { coding: [{ system: 'https://medledger.example/CodeSystem/insurance-reason', code: l.denial }] },
              },
            ]),
      ],
    })),
    total:
      current === undefined
        ? []
        : eobAdjudication(
            current.total,
            lines.some((l) => l.costShareKind === 'coinsurance'),
            paidInFull,
          ).map(({ category, amount }) => ({
            category,
            amount,
          })),
    ...(claim.payments.length === 0
      ? {}
      : {
          payment: {
            type: { coding: [{ system: `${C4BB}/CodeSystem/C4BBPayerClaimPaymentStatusCode`, code: 'paid' }] },
            date: claim.payments.at(-1)?.date,
            amount: usd(paidCents),
          },
        }),
  };
}

/** A searchset Bundle page with self/next/previous links. */
function searchset(base: string, path: string, q: InsuranceSearchQuery, total: number, resources: Json[]): Json {
  const linkAt = (offset: number) => {
    const params = new URLSearchParams();
    if (q.patient !== undefined) params.set('patient', q.patient);
    if (path === 'ClaimResponse' && q.use !== 'claim') params.set('use', q.use);
    params.set('_count', String(q.count));
    params.set('_offset', String(offset));
    return `${base}/${path}?${params}`;
  };
  const link = [{ relation: 'self', url: linkAt(q.offset) }];
  if (q.offset + q.count < total) link.push({ relation: 'next', url: linkAt(q.offset + q.count) });
  if (q.offset > 0) link.push({ relation: 'previous', url: linkAt(Math.max(0, q.offset - q.count)) });
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total,
    link,
    entry: resources.map((resource) => ({
      fullUrl: `${base}/${String(resource.resourceType)}/${String(resource.id)}`,
      resource,
      search: { mode: 'match' },
    })),
  };
}

/** `GET [base]/ClaimResponse?…`: claims' (or, with `use=preauthorization`, prior authorizations') responses. */
export function searchClaimResponses(ports: InsuranceSearchPorts, caller: Identity, base: string, raw: Record<string, string>): Json {
  const q = parseInsuranceSearch(raw, 'ClaimResponse');
  if (q.use === 'preauthorization') {
    const { total, page } = visibleCases<Preauth>(ports, caller, q, 'preauth', (id) => getPreauth(ports.state, id));
    const time = ports.blockTime();
    return searchset(
      base,
      'ClaimResponse',
      q,
      total,
      page.map((p) => preauthResponseOf(p, preauthStatus(p, time)) as Json),
    );
  }
  const { total, page } = visibleCases<Claim>(ports, caller, q, 'claim', (id) => getClaim(ports.state, id));
  return searchset(
    base,
    'ClaimResponse',
    q,
    total,
    page.map((c) => claimResponseOf(c) as unknown as Json),
  );
}

/** `GET [base]/ExplanationOfBenefit?…`: the CARIN Blue Button EOB of each visible claim. */
export function searchExplanationsOfBenefit(
  ports: InsuranceSearchPorts,
  caller: Identity,
  base: string,
  raw: Record<string, string>,
): Json {
  const q = parseInsuranceSearch(raw, 'ExplanationOfBenefit');
  const { total, page } = visibleCases<Claim>(ports, caller, q, 'claim', (id) => getClaim(ports.state, id));
  return searchset(base, 'ExplanationOfBenefit', q, total, page.map(explanationOfBenefit));
}

/** The claim `id` for a caller who may see it through FHIR, or undefined (not a claim id, no such claim). Throws FhirError 404 when hidden. */
export function visibleClaim(ports: InsuranceSearchPorts, caller: Identity, id: string): Claim | undefined {
  const claim = ID16.test(id) ? getClaim(ports.state, id) : undefined;
  if (claim === undefined) return undefined;
  if (!fhirMaySeeClaim(ports.state, caller, claim, ports.blockTime()))
    throw new FhirError(404, 'not-found', `no such resource, or it is not yours to see`);
  return claim;
}
