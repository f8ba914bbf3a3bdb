// Search and read of ClaimResponse and ExplanationOfBenefit on the FHIR endpoint (docs/fhir.md
// "Insurance"), built from the claims on chain: the ClaimResponse as the ledger shapes it
// (claimResponseOf), the ExplanationOfBenefit in the CARIN Blue Button shape. Who sees a claim
// is one rule (fhirMaySeeClaim); a provider also needs the patient's consent, as every other
// FHIR route does.

import { explanationOfBenefit, type LedgerListSpan, ledgerListExtension } from '@medledger/client';
import {
  type Claim,
  claimResponseOf,
  getClaim,
  getPreauth,
  hasBillingConsent,
  type Identity,
  type InsuranceIndex,
  insuranceListCount,
  insuranceListEntry,
  insurerOf,
  managesPatient,
  type Preauth,
  preauthResponseOf,
  preauthStatus,
  providerOf,
  type StateReader,
} from '@medledger/ehr';
import { FhirError } from './outcome.js';

export { explanationOfBenefit };

type Json = Record<string, unknown>;

/** What the search needs of the node: committed state, block time, and the time consent is judged at. */
export interface InsuranceSearchPorts {
  state: StateReader;
  /** Block time: derived states (a prior authorization's expiry) follow it. */
  blockTime(): number;
  /**
   * When a provider's consent is judged: the later of block time and the node's clock, as
   * every read (records.md "Consent"), so a halted chain keeps no expired consent alive.
   */
  consentTime(): number;
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
 * The counted list a search pages (docs/fhir.md "Insurance searches are proven complete"): an
 * insurer's or a provider organization's own list, with `patient` a filter on it; anyone else
 * the list of the patient they search for (themselves by default), which they must manage.
 * The SDK derives the same list from the caller's proven identity. Throws FhirError 403 for a
 * patient the caller does not manage.
 */
function searchedList(state: StateReader, caller: Identity, q: InsuranceSearchQuery, kind: 'claim' | 'preauth') {
  const index = (party: 'p' | 'i' | 'r'): InsuranceIndex => (kind === 'claim' ? `${party}claim` : `${party}pa`) as InsuranceIndex;
  const insurer = insurerOf(state, caller);
  if (insurer !== undefined) return { list: index('i'), party: insurer, patient: q.patient };
  const provider = providerOf(state, caller);
  if (provider !== undefined) return { list: index('r'), party: provider, patient: q.patient };
  const patient = q.patient ?? caller.id;
  if (!managesPatient(state, caller, patient))
    throw new FhirError(403, 'forbidden', "you may search your own claims, your organization's, or those of a patient you manage");
  return { list: index('p'), party: patient, patient: undefined };
}

/**
 * One page of the searched list: positions [offset, offset + count) of it, each entry shown
 * unless it is another patient's (the `patient` filter) or the caller may not see it
 * (fhirMaySeeClaim: a provider without the patient's consent). `total` is given only when
 * every entry of the list is shown, since counting the matches would mean reading all of it.
 */
function visibleCases<T extends { insurer: string; patient: string; provider: string }>(
  ports: InsuranceSearchPorts,
  caller: Identity,
  q: InsuranceSearchQuery,
  kind: 'claim' | 'preauth',
  load: (id: string) => T | undefined,
): { total: number | undefined; page: T[]; span: LedgerListSpan } {
  const { list, party, patient } = searchedList(ports.state, caller, q, kind);
  const count = insuranceListCount(ports.state, list, party);
  const from = q.offset;
  const to = from >= count ? from : Math.min(count, from + q.count);
  const time = ports.consentTime();
  const page: T[] = [];
  for (let position = from; position < to; position++) {
    const id = insuranceListEntry(ports.state, list, party, position);
    const c = id === undefined ? undefined : load(id);
    if (c === undefined) throw new FhirError(500, 'exception', `entry ${position} of list ${list} of ${party} is missing`);
    if ((patient === undefined || c.patient === patient) && fhirMaySeeClaim(ports.state, caller, c, time)) page.push(c);
  }
  // An insurer's or a patient's own list, unfiltered, shows every entry; a provider's hides the unconsented.
  const everyEntry = patient === undefined && !list.startsWith('r');
  return { total: everyEntry ? count : undefined, page, span: { list, party, from, to, count } };
}

/**
 * A searchset Bundle page with self/next/previous links, naming in `meta` the list span it was
 * cut from (ledgerListExtension) so the SDK can prove it complete. `_offset` is a position in
 * that list.
 */
function searchset(
  base: string,
  path: string,
  q: InsuranceSearchQuery,
  cut: { total: number | undefined; span: LedgerListSpan },
  resources: Json[],
): Json {
  const linkAt = (offset: number) => {
    const params = new URLSearchParams();
    if (q.patient !== undefined) params.set('patient', q.patient);
    if (path === 'ClaimResponse' && q.use !== 'claim') params.set('use', q.use);
    params.set('_count', String(q.count));
    params.set('_offset', String(offset));
    return `${base}/${path}?${params}`;
  };
  const { span } = cut;
  const link = [{ relation: 'self', url: linkAt(q.offset) }];
  if (span.to < span.count) link.push({ relation: 'next', url: linkAt(span.to) });
  if (q.offset > 0) link.push({ relation: 'previous', url: linkAt(Math.max(0, q.offset - q.count)) });
  return {
    resourceType: 'Bundle',
    meta: { extension: [ledgerListExtension(span)] },
    type: 'searchset',
    ...(cut.total === undefined ? {} : { total: cut.total }),
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
    const cut = visibleCases<Preauth>(ports, caller, q, 'preauth', (id) => getPreauth(ports.state, id));
    const time = ports.blockTime();
    return searchset(
      base,
      'ClaimResponse',
      q,
      cut,
      cut.page.map((p) => preauthResponseOf(p, preauthStatus(p, time)) as Json),
    );
  }
  const cut = visibleCases<Claim>(ports, caller, q, 'claim', (id) => getClaim(ports.state, id));
  return searchset(
    base,
    'ClaimResponse',
    q,
    cut,
    cut.page.map((c) => claimResponseOf(c) as unknown as Json),
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
  const cut = visibleCases<Claim>(ports, caller, q, 'claim', (id) => getClaim(ports.state, id));
  return searchset(base, 'ExplanationOfBenefit', q, cut, cut.page.map(explanationOfBenefit));
}

/** The claim `id` for a caller who may see it through FHIR, or undefined (not a claim id, no such claim). Throws FhirError 404 when hidden. */
export function visibleClaim(ports: InsuranceSearchPorts, caller: Identity, id: string): Claim | undefined {
  const claim = ID16.test(id) ? getClaim(ports.state, id) : undefined;
  if (claim === undefined) return undefined;
  if (!fhirMaySeeClaim(ports.state, caller, claim, ports.consentTime()))
    throw new FhirError(404, 'not-found', `no such resource, or it is not yours to see`);
  return claim;
}
