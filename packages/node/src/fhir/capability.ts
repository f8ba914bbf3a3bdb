// GET [base]/metadata (R4 §3.1.0.12): what this endpoint does, and where SMART Backend
// Services clients get their tokens.
import type { CapabilityStatement, ResourceType } from '@medplum/fhirtypes';
import { CATEGORY_BY_TYPE } from './categories.js';

const SEARCH_PARAMS = [
  { name: 'patient', type: 'reference' as const, documentation: 'the Patient (id: the patient identity id)' },
  { name: 'category', type: 'token' as const, documentation: 'the MedLedger record category (docs/fhir.md)' },
  {
    name: 'date',
    type: 'date' as const,
    documentation:
      "eq, ge, gt, le, lt prefixes. Dates are encrypted: each candidate a page compares is a read, logged on the patient's access log; total only when one page read every candidate",
  },
  {
    name: '_count',
    type: 'number' as const,
    documentation: 'page size, 1–500 (default 50); _offset (from 0) selects the page; next pages via Bundle.link',
  },
];

/** ClaimResponse and ExplanationOfBenefit are searched from the claims on chain (insurance-search.ts). */
const INSURANCE_SEARCH_PARAMS = [
  SEARCH_PARAMS[0] as (typeof SEARCH_PARAMS)[number],
  { name: 'use', type: 'token' as const, documentation: 'ClaimResponse only: claim (default) or preauthorization' },
  SEARCH_PARAMS[3] as (typeof SEARCH_PARAMS)[number],
];

/**
 * MedicationDispense also searches the fills of a ledger prescription (medicines.ts); with
 * `prescription`, only `_count` and `_offset` go with it.
 */
const DISPENSE_SEARCH_PARAMS = [
  ...SEARCH_PARAMS,
  {
    name: 'prescription',
    type: 'reference' as const,
    documentation:
      'MedicationRequest/rx-<prescription id>: the fills of a ledger prescription, oldest first; only _count and _offset may go with it',
  },
];

const searchParamsOf = (type: string) =>
  type === 'ClaimResponse' || type === 'ExplanationOfBenefit'
    ? INSURANCE_SEARCH_PARAMS
    : type === 'MedicationDispense'
      ? DISPENSE_SEARCH_PARAMS
      : SEARCH_PARAMS;

/** The CapabilityStatement for the endpoint at `base`. */
export function capabilityStatement(base: string, now: number): CapabilityStatement {
  const types = Object.keys(CATEGORY_BY_TYPE).sort() as ResourceType[];
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date(now).toISOString(),
    kind: 'instance',
    software: { name: 'MedLedger', version: '0.1.0' },
    implementation: { description: 'MedLedger FHIR R4 endpoint for one organization', url: base },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json'],
    rest: [
      {
        mode: 'server',
        security: {
          service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
          description: 'SMART Backend Services: client_credentials with a private_key_jwt (EdDSA) assertion signed by a ledger key',
          extension: [
            {
              url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
              extension: [{ url: 'token', valueUri: `${base}/auth/token` }],
            },
          ],
        },
        interaction: [{ code: 'transaction' }, { code: 'search-system' }],
        searchParam: [{ name: '_type', type: 'token' }, ...SEARCH_PARAMS],
        resource: types.map((type) => ({
          type,
          versioning: 'versioned' as const,
          readHistory: true,
          updateCreate: false,
          interaction: [
            { code: 'read' as const },
            { code: 'vread' as const },
            { code: 'create' as const },
            { code: 'update' as const },
            { code: 'search-type' as const },
          ],
          searchParam: searchParamsOf(type),
        })),
        operation: [
          { name: 'claim-code', definition: `${base}/OperationDefinition/Patient-claim-code` },
          { name: 'claim', definition: `${base}/OperationDefinition/Patient-claim` },
        ],
      },
    ],
  };
}
