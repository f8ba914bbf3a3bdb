// Eligibility through the node's FHIR endpoint, proven (docs/insurance.md "Trusting the
// answers"): the CoverageEligibilityResponse a node answers to `CoverageEligibilityRequest/$submit`
// is believed no more than the /v1 eligibility answer. The SDK proves the patient's coverage
// list, each coverage, its accumulator and its plan versions against validator-signed headers,
// recomputes every item's answer, and requires the response to be exactly the one those answers
// give (fhir-eligibility-format.ts, the node's own builder). A node that says covered when not,
// or alters a count, the deductible, the patient share or the prior-authorization flag, is
// refused with FACT_NOT_PROVEN naming what it altered.
import { canonicalJson } from './canonical.js';
import type { NodeConnection } from './connection.js';
import { ClientError } from './errors.js';
import {
  BENEFIT_TYPE_SYSTEM,
  coverageEligibilityResponse,
  type EligibilityAnswerForFhir,
  PATIENT_SHARE_TEXT,
} from './fhir-eligibility-format.js';
import { fhirResource, fhirUrl } from './fhir-request.js';
import { insuranceListOf, provenListSpan } from './insurance-lists.js';
import { provenEligibilityState } from './insurance-proofs.js';
import { provenIdentity } from './proven-facts.js';
import { refuse } from './trust.js';

type Json = Record<string, unknown>;
const ID20 = /^[0-9a-f]{40}$/;
const ID16 = /^[0-9a-f]{32}$/;
const CODE = /^[A-Za-z0-9][A-Za-z0-9.-]{0,39}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/** An eligibility question on the FHIR endpoint. */
export interface FhirEligibilityQuery {
  /** Patient id (40 hex digits). */
  patient: string;
  /** Service codes to check (each becomes an `item`). */
  services: string[];
  /** Service date (YYYY-MM-DD); default the node's last block's date. */
  date?: string;
  /** Ask about this coverage only (default: every coverage of the patient). */
  coverage?: string;
}

/** A CoverageEligibilityResponse the SDK proved. */
export interface ProvenFhirEligibility {
  response: Json;
  /** Height of the proven coverages and accumulators. */
  provenAt: number;
}

/** The CoverageEligibilityRequest the SDK sends for `q`. */
export function coverageEligibilityRequest(q: FhirEligibilityQuery): Json {
  return {
    resourceType: 'CoverageEligibilityRequest',
    id: 'request',
    status: 'active',
    purpose: ['benefits', 'validation'],
    patient: { reference: `Patient/${q.patient}` },
    ...(q.date === undefined ? {} : { servicedDate: q.date }),
    ...(q.coverage === undefined ? {} : { insurance: [{ focal: true, coverage: { reference: `Coverage/${q.coverage}` } }] }),
    item: q.services.map((code) => ({ productOrService: { coding: [{ code }] } })),
  };
}

// biome-ignore lint/suspicious/noExplicitAny: the FHIR JSON under check has any shape
type Loose = any;
const benefitOf = (item: Loose, code: string) =>
  (Array.isArray(item?.benefit) ? item.benefit : []).find((b: Loose) =>
    code === 'share'
      ? b?.type?.text === PATIENT_SHARE_TEXT
      : b?.type?.coding?.[0]?.system === BENEFIT_TYPE_SYSTEM && b?.type?.coding?.[0]?.code === code,
  );
/** The facts of one item a provider bills by, each with the name a refusal gives it. */
const FACTS: ReadonlyArray<[string, (item: Loose) => unknown]> = [
  ['covered (excluded)', (x) => x?.excluded],
  ['reason', (x) => x?.description],
  ['prior-authorization flag', (x) => x?.authorizationRequired],
  ['remaining count', (x) => benefitOf(x, 'visit')?.allowedUnsignedInt ?? null],
  ['deductible remaining', (x) => benefitOf(x, 'deductible')?.allowedMoney ?? null],
  ['out-of-pocket remaining', (x) => benefitOf(x, 'copay-maximum')?.allowedMoney ?? null],
  ['estimated patient share', (x) => benefitOf(x, 'share')?.allowedMoney ?? null],
  ['estimated benefit', (x) => benefitOf(x, 'benefit')?.allowedMoney ?? null],
];

/**
 * Check a CoverageEligibilityResponse `response` a node answered to `q` for the identity of
 * `conn` (who must be the token's identity: a provider organization or its clinical staff).
 * Proves the patient's coverage list and answers for every coverage of it (or the one asked
 * for), recomputes each item, and requires `response` to be the one the proven answers give.
 * Throws ClientError FACT_NOT_PROVEN naming the coverage, the service and the fact that
 * differs; MALFORMED_RESPONSE for what is not a CoverageEligibilityResponse; the reader's codes.
 */
export async function checkFhirEligibility(conn: NodeConnection, q: FhirEligibilityQuery, response: Json): Promise<ProvenFhirEligibility> {
  if (response.resourceType !== 'CoverageEligibilityResponse')
    throw new ClientError('MALFORMED_RESPONSE', 'the endpoint did not answer a CoverageEligibilityResponse');
  const reader = conn.verified('checking eligibility on the FHIR endpoint');
  const lie = (what: string): never =>
    refuse('FACT_NOT_PROVEN', `the CoverageEligibilityResponse's ${what} is not what the proven state gives`);
  // The provider judged is the caller's own organization, proven, never the node's word.
  const me = (await provenIdentity(reader, conn.id)).value;
  const provider = me.orgKind !== undefined ? me.id : String(me.org);
  const { ids } = await provenListSpan(reader, insuranceListOf('patients', 'coverages'), q.patient, 0, 'end');
  const expected = q.coverage === undefined ? ids : ids.filter((id) => id === q.coverage);
  const proven = await provenEligibilityState(reader, expected);

  const r = response as Loose;
  if (r.patient?.reference !== `Patient/${q.patient}`) lie('patient');
  const date = String(r.servicedDate);
  const provenDate = new Date(proven.time).toISOString().slice(0, 10);
  // Without a date the node judges its last block's date: the proven one, or the day before if midnight passed meanwhile.
  const dateOk =
    q.date !== undefined ? date === q.date : date === provenDate || date === new Date(proven.time - DAY_MS).toISOString().slice(0, 10);
  if (!dateOk) lie(`service date (${date})`);
  const created = typeof r.created === 'string' ? Date.parse(r.created) : Number.NaN;
  if (!Number.isInteger(created) || created > proven.time || new Date(created).toISOString() !== r.created) lie('creation time');
  const shown = (Array.isArray(r.insurance) ? r.insurance : []).map((i: Loose) => String(i?.coverage?.reference ?? ''));
  if (shown.join() !== expected.map((id) => `Coverage/${id}`).join())
    lie(`coverage list (${shown.length} shown, the patient has ${expected.length} proven)`);

  const items = q.services.map((code) => ({ code, coding: [{ code }] }));
  const coverages = expected.map((id) => ({
    id,
    insurer: proven.insurerOf(id),
    answers: q.services.map((code) => proven.answer(id, { code, date, provider, quantity: 1 }) as unknown as EligibilityAnswerForFhir),
  }));
  const rebuilt = coverageEligibilityResponse({ patient: q.patient, date, created, requestId: 'request', items, coverages }) as Loose;
  // Name the first fact that differs, item by item, before the whole-resource comparison.
  rebuilt.insurance.forEach((want: Loose, c: number) => {
    const got = r.insurance[c];
    if (got?.inforce !== want.inforce) lie(`in-force flag of coverage ${expected[c]}`);
    want.item.forEach((wantItem: Loose, i: number) => {
      const gotItem = Array.isArray(got?.item) ? got.item[i] : undefined;
      for (const [name, of] of FACTS)
        if (canonicalJson(of(gotItem) ?? null) !== canonicalJson(of(wantItem) ?? null))
          lie(`${name} for service ${q.services[i]} under coverage ${expected[c]}`);
    });
  });
  if (canonicalJson(r) !== canonicalJson(rebuilt)) lie('content (disposition, insurer or another field)');
  return { response, provenAt: proven.height };
}

/**
 * Ask the node's FHIR endpoint `CoverageEligibilityRequest/$submit` with a SMART bearer `token`
 * for the identity of `conn` (docs/fhir.md "Authorization") and prove the answer
 * (checkFhirEligibility). An answer that fails is asked once more, since a block may commit
 * between the answer and the proof. `fhirBase` defaults to the connection's node under
 * `/fhir/R4`. Throws ClientError: INVALID_ARGUMENT for a bad query, HTTP_ERROR for the
 * endpoint's refusal (with its HTTP status: 403 without consent), FACT_NOT_PROVEN, or a trust code.
 */
export async function fhirEligibility(
  conn: NodeConnection,
  opts: FhirEligibilityQuery & { token: string; fhirBase?: string; fetch?: typeof fetch },
): Promise<ProvenFhirEligibility> {
  if (!ID20.test(opts.patient)) throw new ClientError('INVALID_ARGUMENT', 'patient must be a Patient id (40 hex digits)');
  if (opts.services.length === 0 || !opts.services.every((s) => CODE.test(s)))
    throw new ClientError('INVALID_ARGUMENT', 'services must be one or more service codes');
  if (opts.date !== undefined && !DATE.test(opts.date)) throw new ClientError('INVALID_ARGUMENT', 'date must be YYYY-MM-DD');
  if (opts.coverage !== undefined && !ID16.test(opts.coverage))
    throw new ClientError('INVALID_ARGUMENT', 'coverage must be a coverage id (32 hex digits)');
  const url = fhirUrl(conn, opts.fhirBase, 'CoverageEligibilityRequest/$submit');
  const ask = async (): Promise<Json> => {
    const body = await fhirResource(
      opts.fetch ?? fetch,
      url,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${opts.token}`, accept: 'application/fhir+json', 'content-type': 'application/fhir+json' },
        body: JSON.stringify(coverageEligibilityRequest(opts)),
      },
      'the FHIR endpoint answered no resource',
    );
    if (Array.isArray(body)) throw new ClientError('MALFORMED_RESPONSE', 'the FHIR endpoint answered no resource');
    return body;
  };
  try {
    return await checkFhirEligibility(conn, opts, await ask());
  } catch (err) {
    if (!(err instanceof ClientError) || err.code !== 'FACT_NOT_PROVEN') throw err;
    return checkFhirEligibility(conn, opts, await ask());
  }
}
