// A claim's adjudication in the shape of a FHIR R4 ClaimResponse (and the Da Vinci PAS
// response for prior authorizations), built at read time from the coded fields on chain.
import type { Adjudication, Claim, LineAmounts, Preauth, PreauthStatus } from './model.js';

const ADJUDICATION = 'http://terminology.hl7.org/CodeSystem/adjudication';
const REASON = 'https://medledger.example/CodeSystem/insurance-reason';
const USD = (cents: number) => ({ value: cents / 100, currency: 'USD' });

function categories(a: LineAmounts, coinsuranceBps: number | null) {
  const cat = (code: string, amount: number) => ({ category: { coding: [{ system: ADJUDICATION, code }] }, amount: USD(amount) });
  return [
    cat('submitted', a.submitted),
    cat('eligible', a.allowed),
    cat('deductible', a.deductible),
    // The value set has no coinsurance code: cost share is `copay`, and coinsurance adds `eligpercent`.
    cat('copay', a.costShare),
    ...(coinsuranceBps === null
      ? []
      : [{ category: { coding: [{ system: ADJUDICATION, code: 'eligpercent' }] }, value: coinsuranceBps / 100 }]),
    cat('benefit', a.benefit),
  ];
}

/**
 * ClaimResponse for `adjudication` of `claim` (its last one by default). Money is shown in
 * dollars only here, for FHIR readers; the chain and every rule keep integer cents.
 */
export function claimResponseOf(claim: Claim, adjudication: Adjudication = claim.adjudications.at(-1) as Adjudication) {
  const outcome = claim.status === 'review' ? 'queued' : adjudication.lines.some((l) => l.denial !== null) ? 'partial' : 'complete';
  return {
    resourceType: 'ClaimResponse',
    id: claim.id,
    status: 'active',
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: claim.type }] },
    use: 'claim',
    patient: { reference: `Patient/${claim.patient}` },
    created: new Date(adjudication.at.time).toISOString(),
    insurer: { reference: `Organization/${claim.insurer}` },
    requestor: { reference: `Organization/${claim.provider}` },
    request: { reference: `Claim/${claim.id}` },
    outcome,
    ...(claim.preauth === null ? {} : { preAuthRef: claim.preauth }),
    item: adjudication.lines.map((l) => ({
      itemSequence: l.sequence,
      ...(l.denial === null ? {} : { noteNumber: [1] }),
      adjudication: [
        ...categories(l.amounts, l.coinsuranceBps),
        ...(l.denial === null
          ? []
          : [
              {
                category: { coding: [{ system: ADJUDICATION, code: 'denied' }] },
                reason: { coding: [{ system: REASON, code: l.denial }] },
              },
            ]),
      ],
    })),
    total: categories(adjudication.total, null),
    ...(claim.payments.length === 0
      ? {}
      : { payment: { date: claim.payments.at(-1)?.date, amount: USD(claim.payments.reduce((s, p) => s + p.amount, 0)) } }),
    extension: [
      { url: 'https://medledger.example/StructureDefinition/patient-responsibility', valueMoney: USD(adjudication.total.patient) },
    ],
  };
}

/** A prior authorization as a Da Vinci PAS ClaimResponse (`use: preauthorization`). */
export function preauthResponseOf(p: Preauth, status: PreauthStatus) {
  const d = p.decision;
  return {
    resourceType: 'ClaimResponse',
    id: p.id,
    status: 'active',
    use: 'preauthorization',
    patient: { reference: `Patient/${p.patient}` },
    insurer: { reference: `Organization/${p.insurer}` },
    requestor: { reference: `Organization/${p.provider}` },
    outcome: status === 'pended' || status === 'overdue' ? 'queued' : 'complete',
    disposition: status,
    ...(d?.authNumber ? { preAuthRef: d.authNumber } : {}),
    ...(d?.validFrom && d.validTo ? { preAuthPeriod: { start: d.validFrom, end: d.validTo } } : {}),
    item: p.items.map((item, i) => ({
      itemSequence: i + 1,
      adjudication: [
        {
          category: { coding: [{ system: ADJUDICATION, code: 'submitted' }] },
          ...(d === null ? {} : { reason: { coding: [{ system: REASON, code: d.reasonCode }] } }),
          value: item.quantity,
        },
      ],
    })),
  };
}
