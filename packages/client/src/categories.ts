// FHIR resource → record `category`, the token on chain that consent scopes name. One table
// for every writer (the SDK, the CLI and its Synthea import, the FHIR endpoint, the web app),
// so a grant of "problems" covers a Condition however it was written. Observations keep their
// HL7 observation-category code; other types map to a group; anything else is `other`.

/** Observation category codes kept as the record category (http://terminology.hl7.org/CodeSystem/observation-category). */
export const OBSERVATION_CATEGORIES = [
  'social-history',
  'vital-signs',
  'imaging',
  'laboratory',
  'procedure',
  'survey',
  'exam',
  'therapy',
  'activity',
] as const;

const OBSERVATION_CATEGORY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/observation-category';

/** The group of each resource type; a type not listed is `other`. */
export const CATEGORY_BY_TYPE: Readonly<Record<string, string>> = {
  Patient: 'demographics',
  RelatedPerson: 'demographics',
  Observation: 'observations',
  Condition: 'problems',
  AllergyIntolerance: 'allergies',
  Medication: 'medications',
  MedicationRequest: 'medications',
  MedicationStatement: 'medications',
  MedicationAdministration: 'medications',
  MedicationDispense: 'medications',
  Immunization: 'immunizations',
  Procedure: 'procedures',
  Encounter: 'encounters',
  EpisodeOfCare: 'encounters',
  DiagnosticReport: 'diagnostics',
  DocumentReference: 'documents',
  Composition: 'documents',
  ImagingStudy: 'imaging',
  CarePlan: 'care-plans',
  CareTeam: 'care-plans',
  Goal: 'care-plans',
  ServiceRequest: 'orders',
  Claim: 'billing',
  ClaimResponse: 'billing',
  ExplanationOfBenefit: 'billing',
  Coverage: 'billing',
  Device: 'devices',
  Organization: 'administrative',
  Practitioner: 'administrative',
  PractitionerRole: 'administrative',
  Location: 'administrative',
  Provenance: 'provenance',
};

/** Every category `categoryOf` can produce (fewer than the 64 a grant's scope may list). */
export const ALL_CATEGORIES: readonly string[] = [
  ...new Set([...OBSERVATION_CATEGORIES, ...Object.values(CATEGORY_BY_TYPE), 'other']),
].sort();

/**
 * The record category of a FHIR resource: for an Observation the first HL7
 * observation-category code it carries (`vital-signs`, `laboratory`, …), else its type's
 * group (`Condition` → `problems`, `Claim` → `billing`, …), else `other`. Does not throw.
 */
export function categoryOf(resource: { resourceType: string; category?: unknown }): string {
  if (resource.resourceType === 'Observation' && Array.isArray(resource.category)) {
    for (const cc of resource.category as Array<{ coding?: Array<{ system?: string; code?: string }> } | null>) {
      for (const c of cc?.coding ?? []) {
        if (c?.system === OBSERVATION_CATEGORY_SYSTEM && (OBSERVATION_CATEGORIES as readonly string[]).includes(c.code ?? '')) {
          return c.code as string;
        }
      }
    }
  }
  return CATEGORY_BY_TYPE[resource.resourceType] ?? 'other';
}
