// The demo's insurance (docs/insurance.md): Evergreen Health Insurance publishes a plan whose
// fee schedule covers the services the demo patients' Synthea claims bill, covers each
// patient, and the treating organizations submit those claims (their Synthea Claim records,
// read back from the vault, are the full resources). A few claims are then paid, held for
// review, denied for a missing prior authorization and disputed, so every state shows.
import {
  addCoverage,
  type ClaimView,
  disputeClaim,
  getClaim,
  insuranceIdOf,
  MedLedgerClient,
  payClaimWithEob,
  publishPlan,
  requestPreauth,
  type TrustedGenesis,
} from '@medledger/client';
import type { KeyBundle } from '@medledger/crypto';

type Json = Record<string, unknown>;

/** One Synthea claim as the ledger bills it: its first item (the encounter or medication) at the claim's total. */
interface SyntheaBill {
  recordId: string;
  contentHash: string;
  type: string;
  code: string;
  date: string;
  charge: number;
  /** Synthea's own ExplanationOfBenefit payment for it, cents (for the comparison). */
  syntheaPayment: number | null;
}

const cents = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v * 100) : 0);

/** The bills of one patient's Synthea Claim records, oldest first, read as the treating organization. */
async function syntheaBills(provider: MedLedgerClient, patient: string, eobPayments: Map<string, number>): Promise<SyntheaBill[]> {
  const bills: SyntheaBill[] = [];
  for (const meta of await provider.listRecords(patient)) {
    if (meta.resourceType !== 'Claim') continue;
    const { resource } = await provider.readRecord(meta.record);
    const claim = resource as Json & { id?: string; item?: Json[]; total?: { value?: number }; billablePeriod?: { start?: string } };
    const first = claim.item?.[0] as { productOrService?: { coding?: Array<{ code?: string }> } } | undefined;
    const code = first?.productOrService?.coding?.[0]?.code;
    const type = (claim.type as { coding?: Array<{ code?: string }> } | undefined)?.coding?.[0]?.code;
    const date = claim.billablePeriod?.start?.slice(0, 10);
    if (code === undefined || type === undefined || date === undefined) continue;
    bills.push({
      recordId: meta.record,
      contentHash: meta.contentHash,
      type,
      code,
      date,
      charge: cents(claim.total?.value),
      syntheaPayment: claim.id === undefined ? null : (eobPayments.get(claim.id) ?? null),
    });
  }
  return bills.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

/** Synthea EOB payments by the Claim id they reference, from a bundle. */
export function syntheaEobPayments(bundle: Json): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of (bundle.entry as Array<{ resource?: Json }> | undefined) ?? []) {
    const r = entry.resource;
    if (r?.resourceType !== 'ExplanationOfBenefit') continue;
    const ref = String((r.claim as { reference?: string } | undefined)?.reference ?? '');
    const claimId = ref.replace(/^urn:uuid:|^Claim\//, '');
    out.set(claimId, cents((r.payment as { amount?: { value?: number } } | undefined)?.amount?.value));
  }
  return out;
}

export interface InsuranceDemoPatient {
  id: string;
  name: string;
  keys: KeyBundle;
  /** The treating organization that imported the patient (the provider of their claims). */
  provider: { id: string; keys: KeyBundle };
  bundle: Json;
}

/** Claims of each patient the demo submits (the latest ones, so they stay in the recent past). */
const CLAIMS_PER_PATIENT = 5;

/**
 * Seed the insurance demo through the node at `url`. Returns the plan and coverage ids and
 * the comparison of the computed payer amounts with Synthea's EOB payments.
 */
export async function seedInsuranceDemo(opts: {
  url: string;
  /** The network's genesis, which the demo's clients trust (claims are encrypted records). */
  genesis: TrustedGenesis;
  insurer: { id: string; keys: KeyBundle };
  officer: KeyBundle;
  patients: InsuranceDemoPatient[];
  log: (line: string) => void;
}) {
  const client = (keys: KeyBundle) => new MedLedgerClient({ url: opts.url, keys, genesis: opts.genesis });
  const perPatient: Array<{ patient: InsuranceDemoPatient; bills: SyntheaBill[] }> = [];
  for (const patient of opts.patients) {
    const bills = (await syntheaBills(client(patient.provider.keys), patient.id, syntheaEobPayments(patient.bundle))).slice(
      -CLAIMS_PER_PATIENT,
    );
    perPatient.push({ patient, bills });
  }
  const all = perPatient.flatMap((p) => p.bills);
  if (all.length === 0) throw new Error('the demo patients have no Synthea claims to bill');
  // Fee schedule: the highest charge billed for each code; the pharmacy code needs prior authorization.
  const fees = new Map<string, { allowed: number; pharmacy: boolean }>();
  for (const b of all) {
    const seen = fees.get(b.code);
    fees.set(b.code, { allowed: Math.max(seen?.allowed ?? 0, b.charge), pharmacy: (seen?.pharmacy ?? false) || b.type === 'pharmacy' });
  }
  const firstYear = all.reduce((y, b) => (b.date < y ? b.date : y), '9999').slice(0, 4);
  const thisYear = new Date().toISOString().slice(0, 4);
  const plan = await publishPlan(client(opts.insurer.keys), {
    name: 'Evergreen Silver',
    effectiveFrom: `${firstYear}-01-01`,
    deductible: 20_000,
    oopMax: 400_000,
    coinsuranceBps: 2000,
    network: [...new Set(opts.patients.map((p) => p.provider.id))],
    services: [...fees].map(([code, f]) => ({
      code,
      allowed: f.allowed,
      ...(f.pharmacy ? { priorAuth: true, justifyingDiagnoses: ['38341003'] } : {}),
    })),
  });
  opts.log(`Evergreen Health Insurance published plan ${plan.id} covering ${fees.size} Synthea services`);

  const officer = client(opts.officer);
  const submitted: ClaimView[] = [];
  let computedPayer = 0;
  let syntheaPayer = 0;
  for (const [i, { patient, bills }] of perPatient.entries()) {
    const coverage = await addCoverage(officer, {
      patient: patient.id,
      plan: plan.id,
      memberId: `EVG-${1001 + i}`,
      from: `${firstYear}-01-01`,
      to: `${thisYear}-12-31`,
    });
    const provider = client(patient.provider.keys);
    for (const [n, b] of bills.entries()) {
      const done = await provider.submitAndWait('claim.submit', {
        patient: patient.id,
        coverage: coverage.id,
        type: b.type,
        items: [{ sequence: 1, code: b.code, serviceDate: b.date, quantity: 1, charge: b.charge }],
        contentHash: b.contentHash,
      });
      const claim = await getClaim(officer, insuranceIdOf(done.tx));
      submitted.push(claim);
      computedPayer += claim.adjudications.at(-1)?.total.benefit ?? 0;
      if (b.syntheaPayment !== null) syntheaPayer += b.syntheaPayment;
      // The first claim of each patient is billed twice: the second copy is held as a duplicate.
      if (n === 0) {
        await provider.submitAndWait('claim.submit', {
          patient: patient.id,
          coverage: coverage.id,
          type: b.type,
          items: [{ sequence: 1, code: b.code, serviceDate: b.date, quantity: 1, charge: b.charge }],
          contentHash: b.contentHash,
        });
      }
    }
    // A pended prior authorization for the pharmacy service, waiting for the officer.
    const pharmacyCode = [...fees].find(([, f]) => f.pharmacy)?.[0];
    if (pharmacyCode !== undefined && i === 0)
      await requestPreauth(provider, { patient: patient.id, coverage: coverage.id, items: [{ code: pharmacyCode }] });
  }
  // Pay the first adjudicated claim with something owed; dispute the last one as its patient.
  const payable = submitted.find((c) => c.status === 'adjudicated' && c.outstanding > 0);
  if (payable !== undefined) {
    const paid = await payClaimWithEob(officer, {
      claim: payable.id,
      amount: payable.outstanding,
      date: new Date().toISOString().slice(0, 10),
    });
    opts.log(`Evergreen paid claim ${payable.id}${'recordId' in paid.eob ? ' and wrote the EOB to the patient' : ''}`);
  }
  const last = submitted.at(-1);
  const owner = opts.patients.find((p) => p.id === last?.patient);
  if (last !== undefined && owner !== undefined && last.status !== 'review')
    await disputeClaim(client(owner.keys), { claim: last.id, reason: 'I was billed for a visit my plan covers' });
  const states: Record<string, number> = {};
  for (const c of submitted) states[c.status] = (states[c.status] ?? 0) + 1;
  opts.log(`submitted ${submitted.length} Synthea claims (${JSON.stringify(states)}), plus one duplicate per patient held for review`);
  opts.log(
    `computed payer total $${(computedPayer / 100).toFixed(2)}; Synthea EOB payments for the same claims $${(syntheaPayer / 100).toFixed(2)}`,
  );
  return { plan: plan.id, claims: submitted.length, computedPayer, syntheaPayer };
}
