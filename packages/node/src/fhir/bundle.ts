// POST [base] with a transaction Bundle (R4 §3.1.0.11): every entry is validated and every
// reference resolved before anything is written; then the patient (if the Bundle brings
// one) is registered into custody and each resource anchored as a record.
import { newRecordId } from '@medledger/client';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type { FhirCaller } from './auth.js';
import { scopeAllows } from './auth.js';
import { FhirError } from './outcome.js';
import { type FhirRepository, type PreparedWrite, patientReferenced, visitReferences } from './repository.js';
import { validateFhirResource } from './validate.js';

/** Most entries in one transaction. */
export const MAX_BUNDLE_ENTRIES = 5_000;

type Json = Record<string, unknown>;

/**
 * Process a transaction Bundle for `caller`. Resources that reference no patient belong
 * to the Bundle's Patient (e.g. the Organization and Practitioner of a Synthea export).
 * Returns the transaction-response Bundle. Throws FhirError (400/403/422) before any write.
 */
export async function processTransaction(repo: FhirRepository, caller: FhirCaller, bundle: unknown): Promise<Bundle> {
  const b = bundle as Json;
  if (b?.resourceType !== 'Bundle') throw new FhirError(400, 'invalid', 'POST [base] takes a Bundle');
  if (b.type !== 'transaction') throw new FhirError(400, 'not-supported', "only Bundle.type 'transaction' is processed here");
  const entries = (Array.isArray(b.entry) ? b.entry : []) as BundleEntry[];
  if (entries.length === 0) throw new FhirError(400, 'required', 'the Bundle has no entries');
  if (entries.length > MAX_BUNDLE_ENTRIES) throw new FhirError(413, 'too-costly', `at most ${MAX_BUNDLE_ENTRIES} entries per transaction`);

  // 1. Check every entry and give it its server id.
  const resources: Resource[] = [];
  const fullUrls = new Map<string, string>();
  let newPatient: { patientId: string; index: number } | undefined;
  const recordIds: string[] = [];
  entries.forEach((entry, i) => {
    const where = `Bundle.entry[${i}]`;
    if (entry?.request?.method !== 'POST') throw new FhirError(400, 'not-supported', `${where}.request.method must be POST`);
    if (entry.request.ifNoneExist !== undefined) throw new FhirError(400, 'not-supported', `${where}: conditional create is not supported`);
    if (typeof entry.request.url !== 'string' || entry.request.url === '')
      throw new FhirError(400, 'required', `${where}.request.url is required: the resource type to create`);
    const resource = structuredClone(validateFhirResource(entry.resource, `${where}.resource`));
    if (entry.request.url.split('?')[0] !== resource.resourceType)
      throw new FhirError(400, 'invalid', `${where}.request.url must be the resource type ${resource.resourceType}`);
    if (!scopeAllows(caller.scopes, resource.resourceType, 'c'))
      throw new FhirError(403, 'forbidden', `the token's scopes do not allow creating ${resource.resourceType}`);
    const recordId = newRecordId();
    recordIds.push(recordId);
    if (resource.resourceType === 'Patient') {
      if (newPatient !== undefined) throw new FhirError(400, 'not-supported', 'a transaction registers at most one Patient');
      newPatient = { patientId: '', index: i };
    }
    resources.push(resource);
    if (typeof entry.fullUrl === 'string') fullUrls.set(entry.fullUrl, `${i}`);
  });

  const custodial = newPatient === undefined ? undefined : repo.newCustodialPatient();
  if (custodial !== undefined && newPatient !== undefined) newPatient.patientId = custodial.patientId;
  const logicalIdOf = (i: number) => (i === newPatient?.index ? (newPatient.patientId as string) : (recordIds[i] as string));
  const targets = new Map<string, string>();
  for (const [url, i] of fullUrls) targets.set(url, `${resources[Number(i)]?.resourceType}/${logicalIdOf(Number(i))}`);

  // 2. Resolve references to entries of this Bundle, and find each resource's patient.
  const patients: string[] = [];
  resources.forEach((resource, i) => {
    visitReferences(resource, (ref, set) => {
      const target = targets.get(ref);
      if (target !== undefined) set(target);
    });
    const patient =
      resource.resourceType === 'Patient'
        ? newPatient?.patientId
        : (patientReferenced(resource as unknown as Json) ?? newPatient?.patientId);
    if (patient === undefined)
      throw new FhirError(422, 'processing', `Bundle.entry[${i}].resource references no Patient, and the Bundle has none`);
    patients.push(patient);
  });
  const progress = { registrationSubmitted: false };
  try {
    for (const p of new Set(patients))
      for (const [i, r] of resources.entries()) {
        if (patients[i] !== p) continue;
        // The Bundle's own patient is not on chain yet: its resources are judged by the custody grant's rule.
        if (p === newPatient?.patientId) repo.requireCustodialWrite(caller.identity, r);
        else repo.requireWrite(caller.identity, p, r);
      }
    return await writeAll(repo, resources, patients, logicalIdOf, recordIds, custodial, progress);
  } catch (err) {
    // Keys of a patient whose registration never left this node are of no use to anyone.
    if (custodial !== undefined && !progress.registrationSubmitted) repo.custody.destroy(custodial.patientId);
    throw err;
  }
}

async function writeAll(
  repo: FhirRepository,
  resources: Resource[],
  patients: string[],
  logicalIdOf: (i: number) => string,
  recordIds: string[],
  custodial: ReturnType<FhirRepository['newCustodialPatient']> | undefined,
  progress: { registrationSubmitted: boolean },
): Promise<Bundle> {
  const hashes: string[] = [];
  if (custodial !== undefined) {
    hashes.push(...repo.submitRegistration(custodial.keys));
    progress.registrationSubmitted = true;
    await repo.agent.waitCommitted(hashes);
  }
  const writes: PreparedWrite[] = resources.map((r, i) =>
    repo.prepareWrite(patients[i] as string, r, { logicalId: logicalIdOf(i), recordId: recordIds[i] as string }),
  );
  const anchors = writes.map((w) => repo.submitWrite(w));
  await repo.agent.waitCommitted(anchors);
  return {
    resourceType: 'Bundle',
    type: 'transaction-response',
    entry: writes.map((w) => ({
      response: {
        status: '201 Created',
        location: `${w.resource.resourceType}/${w.logicalId}/_history/${w.recordId}`,
        etag: `W/"${w.recordId}"`,
      },
    })),
  };
}
