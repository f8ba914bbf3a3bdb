// FHIR insurance searches proven complete (docs/fhir.md "Insurance searches are proven
// complete"): a node's `ClaimResponse` or `ExplanationOfBenefit` searchset names the counted
// list it was cut from (fhir-insurance-format.ts). The SDK proves that list's count and the
// entries of the span, requires the Bundle's resources to be exactly those entries in order,
// less those the caller may not see or that are another patient's (each proven so), and each
// resource to be what the proven claim or prior authorization gives. A node that drops an
// EOB, adds a forged one or alters one is refused with FACT_NOT_PROVEN.
import { canonicalJson } from './canonical.js';
import type { NodeConnection } from './connection.js';
import { ClientError } from './errors.js';
import { explanationOfBenefit, type LedgerClaimForEob, ledgerListSpanOf } from './fhir-insurance-format.js';
import { fhirResource, fhirUrl } from './fhir-request.js';
import { provenListSpan } from './insurance-lists.js';
import {
  checkClaimResponse,
  checkPreauthResponse,
  insuranceKeys,
  preauthStatusAt,
  type StoredClaim,
  type StoredPreauth,
} from './insurance-proofs.js';
import { type ProvenIdentity, provenIdentity, stateKeys } from './proven-facts.js';
import { refuse } from './trust.js';
import type { ProvenState, VerifiedReader } from './verified-reader.js';

type Json = Record<string, unknown>;

/** A FHIR insurance search, as the node's endpoint takes it (docs/fhir.md). */
export interface FhirInsuranceQuery {
  type: 'ClaimResponse' | 'ExplanationOfBenefit';
  /** ClaimResponse only: claims (default) or prior authorizations. */
  use?: 'claim' | 'preauthorization';
  /** Patient id (40 hex digits): filter an organization's list, or the patient one manages. */
  patient?: string;
  /** `_count`: list positions one page spans (the node's default 50, at most 500). */
  count?: number;
  /** `_offset`: the list position the page starts at (the `nextOffset` of the page before). */
  offset?: number;
}

/** A search page the SDK proved complete and true. */
export interface ProvenFhirPage {
  /** The Bundle's resources, each checked against proven state. */
  resources: Json[];
  /** `_offset` of the next page, or null when the proven list ends with this one. */
  nextOffset: number | null;
  /** The list's proven length. */
  listCount: number;
  provenAt: number;
}

const DEFAULT_COUNT = 50;
const ID20 = /^[0-9a-f]{40}$/;

/** The organization an identity acts for as insurer or provider (ehr `insurerOf` / `providerOf`), from proven identities. */
async function actingOrganization(reader: VerifiedReader, me: ProvenIdentity): Promise<{ insurer?: string; provider?: string }> {
  const kind = (org: ProvenIdentity) => (org.orgKind === 'insurer' ? { insurer: org.id } : { provider: org.id });
  if (me.orgKind !== undefined) return kind(me);
  if ((me.role !== 'insurer' && me.role !== 'clinician' && me.role !== 'pharmacy') || typeof me.org !== 'string') return {};
  let org: ProvenIdentity;
  try {
    org = (await provenIdentity(reader, me.org)).value;
  } catch (err) {
    // An inactive or unknown organization: its staff act for none (as the rules say).
    if (err instanceof ClientError && (err.code === 'FACT_NOT_PROVEN' || err.code === 'IDENTITY_NOT_FOUND')) return {};
    throw err;
  }
  if (me.role === 'insurer') return org.orgKind === 'insurer' ? { insurer: org.id } : {};
  return org.orgKind !== undefined && org.orgKind !== 'insurer' ? { provider: org.id } : {};
}

/**
 * Does `patient` hold an active `payment` or `treatment` grant to any of `grantees` at the
 * proven block time (ehr `hasBillingConsent`)? Each grant is proven.
 */
async function provenBillingConsent(reader: VerifiedReader, patient: string, grantees: readonly string[]): Promise<boolean> {
  const lists = await reader.read(grantees.map((g) => stateKeys.grantsOf(patient, g)));
  const ids = grantees.flatMap((g) => jsonOf<string[]>(lists, stateKeys.grantsOf(patient, g)) ?? []);
  if (ids.length === 0) return false;
  const grants = await reader.read(ids.map(stateKeys.grant));
  return ids.some((id) => {
    const g = jsonOf<{ purpose: string; revoked: unknown; expiresAt: number | null }>(grants, stateKeys.grant(id));
    if (g === undefined) return refuse('FACT_NOT_PROVEN', `grant ${id} the patient lists is not in the proven state`);
    return (
      (g.purpose === 'payment' || g.purpose === 'treatment') && g.revoked === null && (g.expiresAt === null || grants.time < g.expiresAt)
    );
  });
}

function jsonOf<T>(state: ProvenState, key: string): T | undefined {
  const raw = state.value(key);
  if (raw === null) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return refuse('STATE_PROOF_INVALID', `the proven value of ${key} is not JSON`);
  }
}

function resourcesOf(bundle: Json): Json[] {
  if (bundle.resourceType !== 'Bundle' || bundle.type !== 'searchset')
    throw new ClientError('MALFORMED_RESPONSE', 'a FHIR search must answer a searchset Bundle');
  const entries = bundle.entry ?? [];
  if (!Array.isArray(entries)) throw new ClientError('MALFORMED_RESPONSE', 'Bundle.entry must be an array');
  return entries.map((e, i) => {
    const r = (e as Json | null)?.resource;
    if (typeof r !== 'object' || r === null || typeof (r as Json).id !== 'string')
      throw new ClientError('MALFORMED_RESPONSE', `Bundle.entry[${i}].resource must be a resource with an id`);
    return r as Json;
  });
}

/**
 * Check a searchset Bundle a node answered to `q` for the identity of `conn`: the list it
 * names is the one the caller's proven identity searches (its insurer's or provider
 * organization's list, `patient` a filter on it; anyone else the list of the patient they
 * manage), the span starts at `offset` and spans at most `count`, and its resources are
 * exactly the span's proven entries in order, except entries of another patient and, for a
 * provider, of a patient without its active payment or treatment consent, each resource
 * what the proven claim or prior authorization gives (an ExplanationOfBenefit byte for byte).
 * Throws ClientError FACT_NOT_PROVEN, MALFORMED_RESPONSE, or the reader's codes.
 */
export async function checkFhirInsuranceSearch(conn: NodeConnection, q: FhirInsuranceQuery, bundle: Json): Promise<ProvenFhirPage> {
  const reader = conn.verified(`checking a FHIR ${q.type} search`);
  const kind = q.type === 'ClaimResponse' && q.use === 'preauthorization' ? 'preauth' : 'claim';
  const listName = (party: 'i' | 'r' | 'p') => (kind === 'claim' ? `${party}claim` : `${party}pa`);
  const me = (await provenIdentity(reader, conn.id)).value;
  const acting = await actingOrganization(reader, me);
  const expected =
    acting.insurer !== undefined
      ? { list: listName('i'), party: acting.insurer, patient: q.patient }
      : acting.provider !== undefined
        ? { list: listName('r'), party: acting.provider, patient: q.patient }
        : { list: listName('p'), party: q.patient ?? me.id, patient: undefined };
  const span = ledgerListSpanOf(bundle);
  if (span === undefined) refuse('FACT_NOT_PROVEN', 'the search Bundle names no ledger list, so it cannot be proven complete');
  if (span.list !== expected.list || span.party !== expected.party)
    refuse('FACT_NOT_PROVEN', `the search pages list ${span.list} of ${span.party}, not ${expected.list} of ${expected.party}`);
  const offset = q.offset ?? 0;
  const count = q.count ?? DEFAULT_COUNT;
  if (span.from !== offset || span.to < span.from || span.to - span.from > count)
    refuse('FACT_NOT_PROVEN', `the page spans positions ${span.from}–${span.to}, not up to ${count} from ${offset}`);
  const resources = resourcesOf(bundle);

  // The proven entries of the span; an empty span is only the end of the list.
  let ids: string[];
  let listCount: number;
  if (span.to === span.from) {
    ({ ids, count: listCount } = await provenListSpan(reader, span.list, span.party, 0, 0));
    if (span.from < listCount) refuse('FACT_NOT_PROVEN', `the page is empty at ${span.from}, but the proven list has ${listCount} entries`);
  } else ({ ids, count: listCount } = await provenListSpan(reader, span.list, span.party, span.from, span.to));
  if (ids.length === 0 && resources.length > 0) refuse('FACT_NOT_PROVEN', 'the page shows resources where the proven list has none');

  // Shown resources are entries of the span, in list order.
  let at = 0;
  for (const r of resources) {
    const found = ids.indexOf(String(r.id), at);
    if (found < 0) refuse('FACT_NOT_PROVEN', `the page shows ${String(r.id)}, which is not an entry of the list in its place`);
    at = found + 1;
  }
  const key = (id: string) => (kind === 'claim' ? insuranceKeys.claim(id) : insuranceKeys.preauth(id));
  const state = ids.length === 0 ? undefined : await reader.read(ids.map(key));
  const shown = new Map(resources.map((r) => [String(r.id), r]));
  const grantees = acting.provider === undefined ? [] : [me.id, acting.provider];
  const consent = new Map<string, boolean>();
  for (const id of ids) {
    const stored = jsonOf<Json & { patient: string }>(state as ProvenState, key(id));
    if (stored === undefined) refuse('FACT_NOT_PROVEN', `entry ${id} of the list is not in the proven state`);
    const r = shown.get(id);
    const otherPatient = expected.patient !== undefined && stored.patient !== expected.patient;
    if (r !== undefined) {
      if (otherPatient) refuse('FACT_NOT_PROVEN', `the page shows ${id} of another patient`);
      checkResource(q, kind, stored, r, (state as ProvenState).time);
      continue;
    }
    // Left out: another patient's, or (a provider) a patient whose consent it does not hold.
    if (otherPatient) continue;
    if (grantees.length > 0) {
      if (!consent.has(stored.patient)) consent.set(stored.patient, await provenBillingConsent(reader, stored.patient, grantees));
      if (consent.get(stored.patient) === false) continue;
    }
    refuse('FACT_NOT_PROVEN', `the node left ${id} out of the ${q.type} search`);
  }
  return {
    resources,
    nextOffset: span.to < listCount ? span.to : null,
    listCount,
    provenAt: state?.height ?? reader.highestHeight,
  };
}

const referenceOf = (x: unknown) => (typeof x === 'object' && x !== null ? (x as Json).reference : undefined);

/** One shown resource against its proven claim or prior authorization. */
function checkResource(q: FhirInsuranceQuery, kind: 'claim' | 'preauth', stored: Json, r: Json, time: number): void {
  if (q.type === 'ClaimResponse') {
    // Whose response it is: the amounts and decision are checked below, the parties here.
    const parties =
      r.use === (kind === 'claim' ? 'claim' : 'preauthorization') &&
      referenceOf(r.patient) === `Patient/${String(stored.patient)}` &&
      referenceOf(r.insurer) === `Organization/${String(stored.insurer)}` &&
      referenceOf(r.requestor) === `Organization/${String(stored.provider)}`;
    if (!parties) refuse('FACT_NOT_PROVEN', `ClaimResponse ${String(r.id)} names other parties than the proven ${kind}`);
  }
  if (kind === 'preauth') {
    const status = preauthStatusAt(stored as unknown as StoredPreauth, time);
    // The node judged at its tip, at or before the proven block: only pended → overdue may differ.
    checkPreauthResponse(stored as unknown as StoredPreauth, status === 'overdue' ? ['overdue', 'pended'] : [status], r);
    return;
  }
  if (q.type === 'ClaimResponse') checkClaimResponse(stored as unknown as StoredClaim, r);
  else if (canonicalJson(r) !== canonicalJson(explanationOfBenefit(stored as unknown as LedgerClaimForEob)))
    refuse('FACT_NOT_PROVEN', `ExplanationOfBenefit ${String(r.id)} is not the one the proven claim gives`);
}

/**
 * Search ClaimResponses or ExplanationOfBenefits on the node's FHIR endpoint with a SMART
 * bearer `token` (docs/fhir.md "Authorization") and prove the page complete and true
 * (checkFhirInsuranceSearch). A page that fails is asked once more, since a block may commit
 * between the answer and the proof. `fhirBase` defaults to the connection's node under
 * `/fhir/R4`. Throws ClientError: HTTP_ERROR for the endpoint's refusal (with its HTTP status),
 * FACT_NOT_PROVEN for a page that is not the proven list, or a trust code.
 */
export async function searchFhirInsurance(
  conn: NodeConnection,
  opts: FhirInsuranceQuery & { token: string; fhirBase?: string; fetch?: typeof fetch },
): Promise<ProvenFhirPage> {
  if (opts.patient !== undefined && !ID20.test(opts.patient))
    throw new ClientError('INVALID_ARGUMENT', 'patient must be a Patient id (40 hex digits)');
  const params = new URLSearchParams();
  if (opts.patient !== undefined) params.set('patient', opts.patient);
  if (opts.use !== undefined) params.set('use', opts.use);
  params.set('_count', String(opts.count ?? DEFAULT_COUNT));
  params.set('_offset', String(opts.offset ?? 0));
  const url = fhirUrl(conn, opts.fhirBase, `${opts.type}?${params}`);
  const ask = (): Promise<Json> =>
    fhirResource(
      opts.fetch ?? fetch,
      url,
      { headers: { authorization: `Bearer ${opts.token}`, accept: 'application/fhir+json' } },
      'the FHIR search answered no Bundle',
    );
  try {
    return await checkFhirInsuranceSearch(conn, opts, await ask());
  } catch (err) {
    if (!(err instanceof ClientError) || err.code !== 'FACT_NOT_PROVEN') throw err;
    return checkFhirInsuranceSearch(conn, opts, await ask());
  }
}
