// The FHIR R4 CoverageEligibilityResponse the node answers to `CoverageEligibilityRequest/$submit`
// (docs/insurance.md "Eligibility"), built from the ledger's eligibility answers. Shared by the
// node, which builds it, and the SDK, which rebuilds it from proven state and compares
// (STYLE 15: one wire format, not two that drift). Browser-safe, no I/O.

type Json = Record<string, unknown>;

/** The fields of one eligibility answer (ehr `checkEligibility`) that the FHIR response shows. */
export interface EligibilityAnswerForFhir {
  covered: boolean;
  reason: string;
  priorAuthRequired: boolean;
  remainingCount: number | null;
  deductibleRemaining: number;
  oopRemaining: number;
  estimatedPatientShare: number;
  estimatedBenefit: number;
}

/** What the response is built from. */
export interface EligibilityResponseInput {
  patient: string;
  /** The date judged (YYYY-MM-DD). */
  date: string;
  /** Block time (ms) of the state answered from. */
  created: number;
  /** The request's `id`, echoed. */
  requestId: string;
  /** The requested services, each with the request's own coding echoed back. */
  items: ReadonlyArray<{ code: string; coding: unknown[] }>;
  /** Each coverage answered for, in the patient's list order, with one answer per item. */
  coverages: ReadonlyArray<{ id: string; insurer: string | undefined; answers: readonly EligibilityAnswerForFhir[] }>;
}

export const BENEFIT_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/benefit-type';
/** The `type.text` of the benefit that carries the estimated patient share (the benefit-type code system has none). */
export const PATIENT_SHARE_TEXT = 'estimated patient share';

const usd = (cents: number) => ({ value: cents / 100, currency: 'USD' });
const benefit = (code: string, allowed: number) => ({
  type: { coding: [{ system: BENEFIT_TYPE_SYSTEM, code }] },
  allowedMoney: usd(allowed),
});

/** One requested item under one coverage: excluded or not, the reason, the money left and the estimate. */
function itemOf(coding: unknown[], answer: EligibilityAnswerForFhir): Json {
  return {
    productOrService: { coding },
    excluded: !answer.covered,
    authorizationRequired: answer.priorAuthRequired,
    description: answer.reason,
    benefit: [
      benefit('deductible', answer.deductibleRemaining),
      benefit('benefit', answer.estimatedBenefit),
      benefit('copay-maximum', answer.oopRemaining),
      ...(answer.covered ? [{ type: { text: PATIENT_SHARE_TEXT }, allowedMoney: usd(answer.estimatedPatientShare) }] : []),
      ...(answer.remainingCount === null
        ? []
        : [{ type: { coding: [{ system: BENEFIT_TYPE_SYSTEM, code: 'visit' }] }, allowedUnsignedInt: answer.remainingCount }]),
    ],
  };
}

/** The CoverageEligibilityResponse for `input`. Pure: the same input gives the same JSON. */
export function coverageEligibilityResponse(input: EligibilityResponseInput): Json {
  const insurance = input.coverages.map((c) => ({
    coverage: { reference: `Coverage/${c.id}` },
    inforce: c.answers.some((a) => a.reason !== 'COVERAGE_INACTIVE' && a.reason !== 'NO_COVERAGE'),
    item: input.items.map((item, i) => itemOf(item.coding, c.answers[i] as EligibilityAnswerForFhir)),
  }));
  const first = input.coverages[0];
  return {
    resourceType: 'CoverageEligibilityResponse',
    status: 'active',
    purpose: ['benefits', 'validation'],
    patient: { reference: `Patient/${input.patient}` },
    servicedDate: input.date,
    created: new Date(input.created).toISOString(),
    request: { identifier: { value: input.requestId } },
    outcome: 'complete',
    disposition:
      input.coverages.length === 0
        ? 'no coverage on record'
        : input.coverages.some((c) => c.answers.some((a) => a.covered))
          ? 'covered'
          : 'not covered',
    // R4 requires one insurer: the first coverage's (the others are listed in `insurance`).
    ...(first === undefined ? {} : { insurer: { reference: `Organization/${first.insurer}` } }),
    insurance,
  };
}
