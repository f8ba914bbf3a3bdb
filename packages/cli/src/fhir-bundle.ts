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

// Resource types without a category of their own are filed by what they are about.
const BY_TYPE: Record<string, string> = {
  Patient: 'demographics',
  Organization: 'administrative',
  Practitioner: 'administrative',
  PractitionerRole: 'administrative',
  Location: 'administrative',
  Encounter: 'encounters',
  Condition: 'problems',
  AllergyIntolerance: 'allergies',
  Immunization: 'immunizations',
  MedicationRequest: 'medications',
  MedicationStatement: 'medications',
  MedicationAdministration: 'medications',
  Medication: 'medications',
  Procedure: 'procedures',
  DiagnosticReport: 'diagnostics',
  ImagingStudy: 'imaging',
  CarePlan: 'care-plans',
  CareTeam: 'care-plans',
  Goal: 'care-plans',
  Claim: 'billing',
  ExplanationOfBenefit: 'billing',
  Coverage: 'billing',
  DocumentReference: 'documents',
  Device: 'devices',
};

const CATEGORY_RE = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * The record category of a resource: an Observation's own category code (`vital-signs`,
 * `laboratory`, `social-history`, …) when it is a valid token, otherwise the resource
 * type's group (`Condition` → `problems`, `Claim` → `billing`, …), else `other`.
 */
export function categoryOf(resource: Resource): string {
  if (resource.resourceType === 'Observation') {
    const cats = resource.category as Array<{ coding?: Array<{ code?: unknown }> }> | undefined;
    const code = Array.isArray(cats) ? cats[0]?.coding?.[0]?.code : undefined;
    if (typeof code === 'string' && CATEGORY_RE.test(code)) return code;
    return 'observations';
  }
  return BY_TYPE[resource.resourceType] ?? 'other';
}
