// The demo's insurance (docs/insurance.md "The demo"): Evergreen Health Insurance publishes a
// plan whose fee schedule covers every service the demo patients' Synthea claims bill, covers
// each patient for every calendar year they have claims in and for this year, and the
// treating organizations submit every Synthea Claim of their patients (up to
// MAX_CLAIMS_PER_PATIENT, the latest), line by line as synthea-claims.ts reads them; the
// Synthea Claim records already in the vault are the full resources. Claims are then paid,
// held for review as duplicates, denied for a missing prior authorization and disputed, so
// every state shows with a realistic history behind it.
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
import { type SyntheaClaim, syntheaClaimsOf } from './synthea-claims.js';

type Json = Record<string, unknown>;

/** One Synthea claim as the demo bills it: its lines, and the vault hash of its Claim record. */
interface DemoBill {
  claim: SyntheaClaim;
  contentHash: string;
}

/**
 * The patient's Synthea claims, oldest first, each with the content hash of the Claim record
 * the treating organization imported (read back as that organization).
 */
async function demoBills(provider: MedLedgerClient, patient: string, bundle: Json): Promise<DemoBill[]> {
  const hashes = new Map<string, string>();
  for (const meta of await provider.listRecords(patient)) {
    if (meta.resourceType !== 'Claim') continue;
    const { resource } = await provider.readRecord(meta.record);
    const id = (resource as { id?: string }).id;
    if (id !== undefined) hashes.set(id, meta.contentHash);
  }
  return syntheaClaimsOf(bundle).flatMap((claim) => {
    const contentHash = hashes.get(claim.id);
    return contentHash === undefined ? [] : [{ claim, contentHash }];
  });
}

export interface InsuranceDemoPatient {
  id: string;
  name: string;
  keys: KeyBundle;
  /** The treating organization that imported the patient (the provider of their claims). */
  provider: { id: string; keys: KeyBundle };
  bundle: Json;
}

/**
 * Most claims of one patient the demo bills (the latest): the demo patients have 8 to 15, so
 * all are billed; the bound keeps `npm start` quick if the fixtures grow.
 */
export const MAX_CLAIMS_PER_PATIENT = 40;
/** Claims of each patient paid (the oldest adjudicated ones); the later ones wait for payment. */
const PAID_PER_PATIENT = 3;

/** What the demo billed, for the sign-in sheet and the start log. */
export interface InsuranceDemoSummary {
  plan: string;
  claims: number;
  /** Claims by status (`adjudicated`, `paid`, `review`, `denied`), the duplicates included. */
  byStatus: Record<string, number>;
  /** What the ledger has Evergreen pay for the Synthea claims with a Synthea EOB, and Synthea's EOB payments for them, cents. */
  computedPayer: number;
  syntheaPayer: number;
}

/**
 * Seed the insurance demo through the node at `url`. Returns the plan id, the claims billed by
 * status, and the comparison of the computed payer amounts with Synthea's EOB payments.
 */
export async function seedInsuranceDemo(opts: {
  url: string;
  /** The network's genesis, which the demo's clients trust (claims are encrypted records). */
  genesis: TrustedGenesis;
  insurer: { id: string; keys: KeyBundle };
  officer: KeyBundle;
  patients: InsuranceDemoPatient[];
  log: (line: string) => void;
}): Promise<InsuranceDemoSummary> {
  const client = (keys: KeyBundle) => new MedLedgerClient({ url: opts.url, keys, genesis: opts.genesis });
  const perPatient: Array<{ patient: InsuranceDemoPatient; bills: DemoBill[] }> = [];
  for (const patient of opts.patients) {
    const bills = (await demoBills(client(patient.provider.keys), patient.id, patient.bundle)).slice(-MAX_CLAIMS_PER_PATIENT);
    perPatient.push({ patient, bills });
  }
  const all = perPatient.flatMap((p) => p.bills.map((b) => b.claim));
  if (all.length === 0) throw new Error('the demo patients have no Synthea claims to bill');
  // Fee schedule: the highest charge billed for each code; medicines (pharmacy claims) need prior authorization.
  const fees = new Map<string, { allowed: number; pharmacy: boolean }>();
  for (const c of all)
    for (const l of c.lines) {
      const seen = fees.get(l.code);
      fees.set(l.code, { allowed: Math.max(seen?.allowed ?? 0, l.charge), pharmacy: (seen?.pharmacy ?? false) || c.type === 'pharmacy' });
    }
  const firstYear = all.reduce((y, c) => (c.date < y ? c.date : y), '9999').slice(0, 4);
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

  // Coverage renews each calendar year (so the deductible and out-of-pocket maximum run per
  // year): every year a patient has claims in, and this year, for eligibility checks today.
  const officer = client(opts.officer);
  const coverages: Array<Map<string, string>> = [];
  for (const [i, { patient, bills }] of perPatient.entries()) {
    const years = [...new Set([...bills.map((b) => b.claim.date.slice(0, 4)), thisYear])].sort();
    const byYear = new Map<string, string>();
    for (const year of years) {
      const c = await addCoverage(officer, {
        patient: patient.id,
        plan: plan.id,
        memberId: `EVG-${1001 + i}`,
        from: `${year}-01-01`,
        to: `${year}-12-31`,
      });
      byYear.set(year, c.id);
    }
    coverages.push(byYear);
    opts.log(`Evergreen covers ${patient.name} for ${years.length} years (${years[0]}–${years.at(-1)})`);
  }

  // Each treating organization bills its patient's claims oldest first; the organizations run in parallel.
  const submitted = await Promise.all(
    perPatient.map(async ({ patient, bills }, i) => {
      const provider = client(patient.provider.keys);
      const out: Array<{ view: ClaimView; bill: DemoBill }> = [];
      for (const [n, bill] of bills.entries()) {
        const body = {
          patient: patient.id,
          coverage: coverages[i]?.get(bill.claim.date.slice(0, 4)) as string,
          type: bill.claim.type,
          items: bill.claim.lines.map((l) => ({
            sequence: l.sequence,
            code: l.code,
            serviceDate: bill.claim.date,
            quantity: 1,
            charge: l.charge,
          })),
          contentHash: bill.contentHash,
        };
        const done = await provider.submitAndWait('claim.submit', body);
        out.push({ view: await getClaim(provider, insuranceIdOf(done.tx)), bill });
        // The first claim of each patient is billed twice: the copy is held for review as a duplicate.
        if (n === 0) await provider.submitAndWait('claim.submit', body);
      }
      // A pended prior authorization for a medicine, waiting for the officer.
      const medicine = [...fees].find(([, f]) => f.pharmacy)?.[0];
      if (medicine !== undefined && i === 0)
        await requestPreauth(provider, {
          patient: patient.id,
          coverage: coverages[i]?.get(thisYear) as string,
          items: [{ code: medicine }],
        });
      opts.log(`${patient.name}'s hospital or clinic billed ${out.length} Synthea claims`);
      return out;
    }),
  );

  // Evergreen pays each patient's oldest adjudicated claims (writing the EOB where the patient lets it).
  let paid = 0;
  for (const claims of submitted)
    for (const { view } of claims.filter((c) => c.view.status === 'adjudicated' && c.view.outstanding > 0).slice(0, PAID_PER_PATIENT)) {
      await payClaimWithEob(officer, { claim: view.id, amount: view.outstanding, date: new Date().toISOString().slice(0, 10) });
      paid += 1;
    }
  opts.log(`Evergreen paid ${paid} claims`);
  // The last patient disputes their latest adjudicated claim.
  const last = perPatient.at(-1);
  const disputed = submitted.at(-1)?.findLast((c) => c.view.status === 'adjudicated');
  if (last !== undefined && disputed !== undefined)
    await disputeClaim(client(last.patient.keys), { claim: disputed.view.id, reason: 'I was billed for a visit my plan covers' });

  const queue = submitted.flat();
  const byStatus: Record<string, number> = {};
  for (const { view } of queue) {
    const now = await getClaim(officer, view.id);
    byStatus[now.status] = (byStatus[now.status] ?? 0) + 1;
  }
  byStatus.review = (byStatus.review ?? 0) + perPatient.length;
  // Compared on the claims Synthea wrote an EOB for (it writes none for pharmacy claims).
  const withEob = queue.filter((c) => c.bill.claim.syntheaPayment !== null);
  const computedPayer = withEob.reduce((sum, c) => sum + (c.view.adjudications.at(-1)?.total.benefit ?? 0), 0);
  const syntheaPayer = withEob.reduce((sum, c) => sum + (c.bill.claim.syntheaPayment ?? 0), 0);
  opts.log(
    `submitted ${queue.length} Synthea claims and ${perPatient.length} duplicates (${Object.entries(byStatus)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ')})`,
  );
  opts.log(
    `computed payer total $${(computedPayer / 100).toFixed(2)}; Synthea EOB payments for the same claims $${(syntheaPayer / 100).toFixed(2)} (the ${withEob.length} claims with a Synthea EOB)`,
  );
  return { plan: plan.id, claims: queue.length + perPatient.length, byStatus, computedPayer, syntheaPayer };
}
