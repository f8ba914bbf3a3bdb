// Insurance on the FHIR endpoint (docs/insurance.md, docs/fhir.md): a CoverageEligibilityRequest
// answered with a CoverageEligibilityResponse from committed state (no transaction), and
// Claim/$submit (ClaimResponse and ExplanationOfBenefit read and search: insurance-search.ts).
// The decisions are the ledger's own (checkEligibility, claimResponseOf).
import { coverageEligibilityResponse } from '@medledger/client';
import {
  checkEligibility,
  claimResponseOf,
  dateOf,
  getClaim,
  getCoverage,
  getPreauth,
  hasBillingConsent,
  type Identity,
  preauthResponseOf,
  preauthStatus,
  prefixes,
  providerOf,
  type StateReader,
} from '@medledger/ehr';
import { FhirError } from './outcome.js';

type Json = Record<string, unknown>;
const obj = (x: unknown): Json => (typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Json) : {});
const ID20 = /^[0-9a-f]{40}$/;
const ID16 = /^[0-9a-f]{32}$/;
const CODE = /^[A-Za-z0-9][A-Za-z0-9.-]{0,39}$/;
const DATE = /^\d{4}-\d{2}-\d{2}/;

/** What the endpoint needs of the node: committed state, its coverage index, block time, and the time consent is judged at. */
export interface InsuranceFhirPorts {
  state: StateReader;
  coveragesOf(patient: string): string[];
  /** Block time: the default service date and the response's `created` follow it. */
  blockTime(): number;
  /** When the provider's consent is judged: the later of block time and the node's clock (records.md "Consent"). */
  consentTime(): number;
}

/**
 * Answer a CoverageEligibilityRequest (`purpose` benefits/validation) for each requested item
 * under each of the patient's coverages (or the one referenced in `insurance[0].coverage`).
 * Only a provider with the patient's payment or treatment consent may ask. Throws FhirError
 * 400 (malformed request) or 403 (not a provider, no consent).
 */
export function coverageEligibility(ports: InsuranceFhirPorts, caller: Identity, request: unknown): Json {
  const req = obj(request);
  if (req.resourceType !== 'CoverageEligibilityRequest')
    throw new FhirError(400, 'invalid', 'the body must be a CoverageEligibilityRequest');
  const patient = String(obj(req.patient).reference ?? '').replace(/^Patient\//, '');
  if (!ID20.test(patient)) throw new FhirError(400, 'invalid', 'patient.reference must be Patient/<patient identity id>');
  const provider = providerOf(ports.state, caller);
  if (provider === undefined)
    throw new FhirError(403, 'forbidden', 'only a provider organization or its clinical staff checks eligibility');
  if (!hasBillingConsent(ports.state, caller, patient, ports.consentTime()))
    throw new FhirError(403, 'forbidden', 'the patient has given no active payment or treatment consent to you or your organization');
  const items = (Array.isArray(req.item) ? req.item : []).map((raw, i) => {
    const coding = obj(obj(raw).productOrService).coding;
    const code = Array.isArray(coding) ? obj(coding[0]).code : undefined;
    if (typeof code !== 'string' || !CODE.test(code))
      throw new FhirError(400, 'invalid', `item[${i}].productOrService.coding[0].code must be a service code`);
    return { code, coding: coding as unknown[] };
  });
  if (items.length === 0) throw new FhirError(400, 'invalid', 'list the services to check in item[].productOrService');
  const serviced = typeof req.servicedDate === 'string' ? req.servicedDate : undefined;
  if (serviced !== undefined && !DATE.test(serviced)) throw new FhirError(400, 'invalid', 'servicedDate must be a date');
  const date = serviced?.slice(0, 10) ?? dateOf(ports.blockTime());
  const named = String(obj(obj((Array.isArray(req.insurance) ? req.insurance : [])[0]).coverage).reference ?? '').replace(
    /^Coverage\//,
    '',
  );
  if (named !== '' && !ID16.test(named))
    throw new FhirError(400, 'invalid', 'insurance[0].coverage.reference must be Coverage/<coverage id>');
  const coverages = ports.coveragesOf(patient).filter((c) => named === '' || c === named);

  return coverageEligibilityResponse({
    patient,
    date,
    created: ports.blockTime(),
    requestId: typeof req.id === 'string' ? req.id : 'request',
    items,
    coverages: coverages.map((coverage) => ({
      id: coverage,
      insurer: getCoverage(ports.state, coverage)?.insurer,
      answers: items.map((item) => checkEligibility(ports.state, { coverage, code: item.code, date, provider, quantity: 1 })),
    })),
  });
}

/** Coverage ids of a patient from the ledger's index (its keys hold the ids in chunks, in order: ehr lists.ts). */
export function coverageIdsFrom(scan: (prefix: string) => Array<[string, string]>, patient: string): string[] {
  return scan(prefixes.insuranceIndex('pcov', patient)).flatMap(([, ids]) => JSON.parse(ids) as string[]);
}

/** What `Claim/$submit` needs of the endpoint: the ledger rules' reads and the organization's writes. */
export interface ClaimSubmitPorts {
  state: StateReader;
  orgId: string;
  blockTime(): number;
  /** Check the caller may write `resource` for `patient`, encrypt it as a record and anchor it; resolves to its record id and content hash. */
  writeRecord(caller: Identity, patient: string, resource: Json): Promise<{ recordId: string; contentHash: string }>;
  /** Submit a transaction signed by the organization and wait for its commit; resolves to the tx hash. */
  submitAndWait(kind: string, body: Json): Promise<string>;
}

const ref = (x: unknown, type: string) => String(obj(x).reference ?? '').replace(new RegExp(`^${type}/`), '');

/**
 * `POST [base]/Claim/$submit` (Da Vinci PAS style): the Claim is written to the patient's
 * records, encrypted, then `use: preauthorization` becomes `preauth.request` (supporting
 * record: the Claim) and `use: claim` becomes `claim.submit`, signed by the organization,
 * which acts as the provider. Answers the ClaimResponse the ledger decided. Throws FhirError.
 */
export async function submitFhirClaim(ports: ClaimSubmitPorts, caller: Identity, claim: Json, fields: (c: Json) => Json): Promise<Json> {
  if (providerOf(ports.state, caller) !== ports.orgId)
    throw new FhirError(403, 'forbidden', 'only this organization and its clinical staff submit claims here');
  const patient = ref(claim.patient, 'Patient');
  if (!ID20.test(patient)) throw new FhirError(400, 'invalid', 'Claim.patient.reference must be Patient/<patient identity id>');
  const insurance = (Array.isArray(claim.insurance) ? claim.insurance : []).map(obj);
  const focal = insurance.find((i) => i.focal === true) ?? insurance[0];
  const coverage = ref(focal?.coverage, 'Coverage');
  if (!ID16.test(coverage)) throw new FhirError(400, 'invalid', 'Claim.insurance[focal].coverage.reference must be Coverage/<coverage id>');
  const coded = fields(claim);
  const written = await ports.writeRecord(caller, patient, claim);
  if (claim.use === 'preauthorization') {
    const items = (coded.items as Array<{ code: string; quantity: number }>).map((i) => ({ code: i.code, quantity: i.quantity }));
    const priorityCoding = obj(claim.priority).coding;
    const priority = Array.isArray(priorityCoding) ? obj(priorityCoding[0]).code : undefined;
    const hash = await ports.submitAndWait('preauth.request', {
      patient,
      coverage,
      items,
      diagnoses: coded.diagnoses,
      supportingRecords: [written.recordId],
      urgent: priority === 'stat',
    });
    const p = getPreauth(ports.state, hash.slice(0, 32));
    if (p === undefined) throw new FhirError(500, 'exception', 'the prior authorization was committed but cannot be read');
    return preauthResponseOf(p, preauthStatus(p, ports.blockTime()));
  }
  const refs = focal?.preAuthRef;
  const preAuthRef = Array.isArray(refs) ? (refs[0] as unknown) : undefined;
  if (preAuthRef !== undefined && (typeof preAuthRef !== 'string' || !ID16.test(preAuthRef)))
    throw new FhirError(400, 'invalid', 'Claim.insurance.preAuthRef must be a prior authorization id');
  const hash = await ports.submitAndWait('claim.submit', {
    patient,
    coverage,
    type: coded.type,
    items: coded.items,
    diagnoses: coded.diagnoses,
    ...(preAuthRef === undefined ? {} : { preauth: preAuthRef }),
    contentHash: written.contentHash,
  });
  const c = getClaim(ports.state, hash.slice(0, 32));
  if (c === undefined) throw new FhirError(500, 'exception', 'the claim was committed but cannot be read');
  return claimResponseOf(c);
}
