// Wire formats the node's FHIR insurance search and the SDK's check of it must agree on
// (STYLE 15: shared, not restated): the CARIN Blue Button ExplanationOfBenefit built from a
// claim on chain, and the Bundle extension naming the counted list a search page was cut
// from (docs/fhir.md "Insurance searches are proven complete"). Browser-safe, no I/O.

type Json = Record<string, unknown>;

interface LineAmounts {
  submitted: number;
  allowed: number;
  deductible: number;
  costShare: number;
  benefit: number;
  patient: number;
}

/** The fields of a claim as committed state holds it (ehr `Claim`) that its EOB shows. */
export interface LedgerClaimForEob {
  id: string;
  patient: string;
  coverage: string;
  insurer: string;
  provider: string;
  type: string;
  items: ReadonlyArray<{ serviceDate: string }>;
  diagnoses: readonly string[];
  preauth: string | null;
  submittedAt: { time: number };
  status: string;
  adjudications: ReadonlyArray<{
    at: { time: number };
    lines: ReadonlyArray<{
      sequence: number;
      code: string;
      serviceDate: string;
      quantity: number;
      amounts: LineAmounts;
      costShareKind: string | null;
      denial: string | null;
    }>;
    total: LineAmounts;
  }>;
  payments: ReadonlyArray<{ amount: number; date: string }>;
  reviewDenial: unknown;
}

const C4BB = 'http://hl7.org/fhir/us/carin-bb';
const ADJ = 'http://terminology.hl7.org/CodeSystem/adjudication';
const C4BB_ADJ = `${C4BB}/CodeSystem/C4BBAdjudication`;
const usd = (cents: number) => ({ value: cents / 100, currency: 'USD' });
const PROFILE: Record<string, string> = {
  institutional: 'C4BB-ExplanationOfBenefit-Outpatient-Institutional',
  professional: 'C4BB-ExplanationOfBenefit-Professional-NonClinician',
  pharmacy: 'C4BB-ExplanationOfBenefit-Pharmacy',
  oral: 'C4BB-ExplanationOfBenefit-Oral',
  vision: 'C4BB-ExplanationOfBenefit-Professional-NonClinician',
};

/** Amount still owed by the insurer (ehr `outstanding`): the benefit in force less payments. */
function owed(claim: LedgerClaimForEob): number {
  const current = claim.adjudications.at(-1);
  const benefit = current === undefined || claim.reviewDenial !== null ? 0 : current.total.benefit;
  return benefit - claim.payments.reduce((sum, p) => sum + p.amount, 0);
}

function eobAdjudication(a: LineAmounts, coinsurance: boolean, paid: boolean) {
  const cat = (system: string, code: string, cents: number) => ({ category: { coding: [{ system, code }] }, amount: usd(cents) });
  return [
    cat(ADJ, 'submitted', a.submitted),
    cat(ADJ, 'eligible', a.allowed),
    cat(ADJ, 'deductible', a.deductible),
    coinsurance ? cat(C4BB_ADJ, 'coinsurance', a.costShare) : cat(ADJ, 'copay', a.costShare),
    cat(ADJ, 'benefit', a.benefit),
    cat(C4BB_ADJ, 'memberliability', a.patient),
    cat(C4BB_ADJ, 'noncovered', a.submitted - a.allowed),
    ...(paid ? [cat(C4BB_ADJ, 'paidtoprovider', a.benefit)] : []),
  ];
}

/**
 * A claim's ExplanationOfBenefit in the CARIN Blue Button (C4BB) shape: what was billed, what
 * the plan allowed, the deductible and cost share, what the insurer pays and what the patient
 * owes, per line and in total, with denial reasons and the payments made. A pure function of
 * the committed claim, so the SDK rebuilds it from the proven claim and compares. Amounts in
 * dollars for FHIR readers; the chain keeps cents.
 */
export function explanationOfBenefit(claim: LedgerClaimForEob): Json {
  const current = claim.adjudications.at(-1);
  const lines = current?.lines ?? [];
  const dates = claim.items.map((l) => l.serviceDate).sort();
  const paidCents = claim.payments.reduce((s, p) => s + p.amount, 0);
  const paidInFull = claim.status === 'paid' && owed(claim) <= 0;
  return {
    resourceType: 'ExplanationOfBenefit',
    id: claim.id,
    meta: { profile: [`${C4BB}/StructureDefinition/${PROFILE[claim.type]}`] },
    identifier: [
      {
        type: { coding: [{ system: `${C4BB}/CodeSystem/C4BBIdentifierType`, code: 'uc' }] },
        system: 'https://medledger.example/claim-id',
        value: claim.id,
      },
    ],
    status: 'active',
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: claim.type }] },
    use: 'claim',
    patient: { reference: `Patient/${claim.patient}` },
    billablePeriod: { start: dates[0], end: dates.at(-1) },
    created: new Date((current?.at ?? claim.submittedAt).time).toISOString(),
    insurer: { reference: `Organization/${claim.insurer}` },
    provider: { reference: `Organization/${claim.provider}` },
    outcome: claim.status === 'review' ? 'queued' : lines.some((l) => l.denial !== null) ? 'partial' : 'complete',
    claim: { reference: `Claim/${claim.id}` },
    claimResponse: { reference: `ClaimResponse/${claim.id}` },
    ...(claim.preauth === null ? {} : { preAuthRef: [claim.preauth] }),
    insurance: [{ focal: true, coverage: { reference: `Coverage/${claim.coverage}` } }],
    diagnosis: claim.diagnoses.map((code, i) => ({ sequence: i + 1, diagnosisCodeableConcept: { coding: [{ code }] } })),
    item: lines.map((l) => ({
      sequence: l.sequence,
      productOrService: { coding: [{ code: l.code }] },
      servicedDate: l.serviceDate,
      quantity: { value: l.quantity },
      net: usd(l.amounts.submitted),
      adjudication: [
        ...eobAdjudication(l.amounts, l.costShareKind === 'coinsurance', paidInFull),
        ...(l.denial === null
          ? []
          : [
              {
                category: { coding: [{ system: `${C4BB}/CodeSystem/C4BBAdjudicationDiscriminator`, code: 'denialreason' }] },
                reason: { coding: [{ system: 'https://medledger.example/CodeSystem/insurance-reason', code: l.denial }] },
              },
            ]),
      ],
    })),
    total:
      current === undefined
        ? []
        : eobAdjudication(
            current.total,
            lines.some((l) => l.costShareKind === 'coinsurance'),
            paidInFull,
          ).map(({ category, amount }) => ({ category, amount })),
    ...(claim.payments.length === 0
      ? {}
      : {
          payment: {
            type: { coding: [{ system: `${C4BB}/CodeSystem/C4BBPayerClaimPaymentStatusCode`, code: 'paid' }] },
            date: claim.payments.at(-1)?.date,
            amount: usd(paidCents),
          },
        }),
  };
}

/** Extension URL, on a search Bundle's `meta`, naming the counted list the page was cut from. */
export const LEDGER_LIST_EXTENSION = 'https://medledger.example/fhir/StructureDefinition/ledger-list';

/**
 * Where a FHIR insurance search page comes from: positions [from, to) of the counted list
 * `list` of `party` (ehr lists.ts; entries in chunks at `ins-<list>/<party>/<chunk>`), which had `count` entries
 * when the node answered. Every entry in that span is either in the page or left out because
 * the caller may not see it or it is another patient's.
 */
export interface LedgerListSpan {
  list: string;
  party: string;
  from: number;
  to: number;
  count: number;
}

/** The `meta.extension` entry a search Bundle carries for `span`. */
export function ledgerListExtension(span: LedgerListSpan): Json {
  return {
    url: LEDGER_LIST_EXTENSION,
    extension: [
      { url: 'list', valueCode: span.list },
      { url: 'party', valueString: span.party },
      { url: 'from', valueInteger: span.from },
      { url: 'to', valueInteger: span.to },
      { url: 'count', valueInteger: span.count },
    ],
  };
}

/** The list span a search Bundle names, or undefined when it names none or a malformed one. */
export function ledgerListSpanOf(bundle: Json): LedgerListSpan | undefined {
  const meta = bundle.meta as Json | undefined;
  const ext = Array.isArray(meta?.extension) ? (meta.extension as Json[]).find((e) => e?.url === LEDGER_LIST_EXTENSION) : undefined;
  if (ext === undefined || !Array.isArray(ext.extension)) return undefined;
  const part = (name: string) => (ext.extension as Json[]).find((e) => e?.url === name);
  const list = part('list')?.valueCode;
  const party = part('party')?.valueString;
  const ints = ['from', 'to', 'count'].map((name) => part(name)?.valueInteger);
  if (typeof list !== 'string' || typeof party !== 'string') return undefined;
  if (!ints.every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0)) return undefined;
  const [from, to, count] = ints as [number, number, number];
  return { list, party, from, to, count };
}
