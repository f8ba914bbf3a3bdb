// Reading FHIR R4 transaction bundles (as Synthea writes them) into the resources the CLI
// stores as records, and the record category each resource is filed under.

/** A FHIR resource: any JSON object with a `resourceType`. */
export type Resource = { resourceType: string } & Record<string, unknown>;

/** Thrown for a file that is not a FHIR Bundle the importer can use. */
export class BundleError extends Error {}

/**
 * The resources of a Bundle (`transaction`, `batch` or `collection`), in order, and its one
 * Patient. Throws BundleError naming what is wrong.
 */
export function bundleResources(bundle: unknown): { resources: Resource[]; patient: Resource } {
  const b = bundle as { resourceType?: unknown; entry?: unknown };
  if (typeof b !== 'object' || b === null || b.resourceType !== 'Bundle') throw new BundleError('the file is not a FHIR Bundle');
  if (!Array.isArray(b.entry) || b.entry.length === 0) throw new BundleError('the bundle has no entries');
  const resources = b.entry.map((e: unknown, i: number) => {
    const r = (e as { resource?: unknown } | null)?.resource as Resource | undefined;
    if (typeof r !== 'object' || r === null || typeof r.resourceType !== 'string' || !/^[A-Z][A-Za-z]{0,63}$/.test(r.resourceType))
      throw new BundleError(`entry[${i}] has no resource with a FHIR resourceType`);
    return r;
  });
  const patients = resources.filter((r) => r.resourceType === 'Patient');
  if (patients.length !== 1) throw new BundleError(`the bundle must hold exactly one Patient (it holds ${patients.length})`);
  return { resources, patient: patients[0] as Resource };
}

/** The record category of a resource: the SDK's one table (`@medledger/client` categories.ts). */
export { categoryOf } from '@medledger/client';
