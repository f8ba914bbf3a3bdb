// FHIR resource → record `category` (docs/fhir.md "Categories"): the token on chain that
// consent scopes name. Observations keep their HL7 category code; other types map to a
// per-type default, so a patient can grant "laboratory" or "medications" as a whole.

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

/** Default category per resource type; a type not listed here is `other`. */
export const CATEGORY_BY_TYPE: Readonly<Record<string, string>> = {
  Patient: 'demographics',
  RelatedPerson: 'demographics',
  Observation: 'observation',
  Condition: 'conditions',
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
  DiagnosticReport: 'reports',
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
  Organization: 'directory',
  Practitioner: 'directory',
  PractitionerRole: 'directory',
  Location: 'directory',
  Provenance: 'provenance',
};

/** Every category this mapping can produce: what a custody grant covers (≤ 64, the scope limit). */
export const ALL_CATEGORIES: readonly string[] = [
  ...new Set([...OBSERVATION_CATEGORIES, ...Object.values(CATEGORY_BY_TYPE), 'other']),
].sort();

/**
 * The record category of a FHIR resource: for an Observation the first HL7
 * observation-category code it carries, else the per-type default, else `other`.
 */
export function categoryOf(resource: { resourceType: string; category?: unknown }): string {
  if (resource.resourceType === 'Observation' && Array.isArray(resource.category)) {
    for (const cc of resource.category as Array<{ coding?: Array<{ system?: string; code?: string }> }>) {
      for (const c of cc?.coding ?? []) {
        const code = c?.code;
        if (
          c?.system === 'http://terminology.hl7.org/CodeSystem/observation-category' &&
          (OBSERVATION_CATEGORIES as readonly string[]).includes(code ?? '')
        )
          return code as string;
      }
    }
  }
  return CATEGORY_BY_TYPE[resource.resourceType] ?? 'other';
}
