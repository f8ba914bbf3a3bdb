// `import-fhir`: a FHIR transaction bundle becomes a pseudonymous patient on chain. The
// patient's keys are made here and written to a keystore; the patient registers and grants
// the importing organization read-write; the organization then writes every resource as an
// encrypted record (its grant seals each data key to it, so it can read them back).
import type { TrustedGenesis } from '@medledger/client';
import { generateKeyBundle, idFromPublicKey, type KeyBundle } from '@medledger/crypto';
import { clientFor, writeKeys } from './cli-support.js';
import { bundleResources, categoryOf } from './fhir-bundle.js';
import { pool } from './pool.js';

export interface ImportedRecord {
  recordId: string;
  resourceType: string;
  category: string;
  /** Index of the resource in the bundle's entries. */
  entry: number;
}

export interface ImportResult {
  patientId: string;
  keyFile: string;
  grantId: string;
  organization: string;
  records: ImportedRecord[];
}

/**
 * Import one bundle (already parsed) as a new patient. `keyFile` must not exist yet; it is
 * written before anything is registered so the patient's key is never lost. `onProgress`
 * is called after each record. Throws CliError / ClientError.
 */
export async function importBundle(opts: {
  url: string;
  /** The genesis the patient's and organization's clients trust (required: both encrypt). */
  genesis: TrustedGenesis | undefined;
  orgKeys: KeyBundle;
  bundle: unknown;
  keyFile: string;
  label?: string;
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}): Promise<ImportResult> {
  const { resources } = bundleResources(opts.bundle);
  const patientKeys = generateKeyBundle();
  await writeKeys(opts.keyFile, patientKeys, opts.label);
  const patient = clientFor(opts.url, patientKeys, opts.genesis);
  const { id: patientId } = await patient.registerPatient();
  const organization = idFromPublicKey(opts.orgKeys.signing.publicKey);
  const categories = [...new Set(resources.map(categoryOf))].sort();
  const { grantId } = await patient.grant({
    grantee: organization,
    categories,
    access: 'read-write',
    purpose: 'treatment',
    shareExisting: false,
  });
  const org = clientFor(opts.url, opts.orgKeys, opts.genesis);
  let done = 0;
  opts.onProgress?.(0, resources.length);
  const records = await pool(resources, opts.concurrency ?? 16, async (resource, entry) => {
    const category = categoryOf(resource);
    const { recordId } = await org.writeRecord({ patient: patientId, resource, category });
    opts.onProgress?.(++done, resources.length);
    return { recordId, resourceType: resource.resourceType, category, entry };
  });
  return { patientId, keyFile: opts.keyFile, grantId, organization, records };
}
