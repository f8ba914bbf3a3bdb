// Import of Synthea's Claims as claims against a plan (issue 13 item 7), and the comparison of
// the payer amounts the ledger computes with the payments of Synthea's own
// ExplanationOfBenefits (docs/insurance.md "Synthea claims compared").
//
// Synthea bills an encounter as item 1 of its Claim without a `net` (its cost is the claim
// total less the other lines); the import gives that line its charge, so every line is billed.
// A Synthea pharmacy claim bills its one line under the encounter's code, one claim per
// prescription of the encounter; the import bills it under the prescribed medication's RxNorm
// code (from the MedicationRequest it references), so three prescriptions of one visit are
// three medicines, not one service billed three times.
import { addCoverage, MedLedgerClient, publishPlan, submitClaim, type TrustedGenesis } from '@medledger/client';
import type { KeyBundle } from '@medledger/crypto';

type Json = Record<string, unknown>;

/** One line as the ledger bills it. */
export interface SyntheaLine {
  sequence: number;
  code: string;
  charge: number;
  /** Synthea's encounter line (item 1, priced as the total less the other lines). */
  encounter: boolean;
}

/** One Synthea Claim, ready to submit, with its EOB's payment (null: Synthea wrote no EOB for it). */
export interface SyntheaClaim {
  id: string;
  type: string;
  date: string;
  lines: SyntheaLine[];
  total: number;
  syntheaPayment: number | null;
  /** The Claim with every line's `net` set, as written to the patient's records. */
  resource: Json;
}

/** Dollars (Synthea writes up to 3 decimals) to integer cents, half up. Import-side only: the ledger gets the integers. */
export function centsOfDollars(v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return 0;
  return Math.round(Number((v * 100).toFixed(6)));
}

const code0 = (concept: unknown) => (concept as { coding?: Array<{ code?: string }> } | undefined)?.coding?.[0]?.code ?? undefined;

/** The Claims of a Synthea bundle, oldest first, each with its EOB's payment. */
export function syntheaClaimsOf(bundle: Json): SyntheaClaim[] {
  const resources = ((bundle.entry as Array<{ resource?: Json }> | undefined) ?? []).map((e) => e.resource ?? {});
  const payments = new Map<string, number>();
  for (const r of resources) {
    if (r.resourceType !== 'ExplanationOfBenefit') continue;
    const claimId = String((r.claim as { reference?: string } | undefined)?.reference ?? '').replace(/^urn:uuid:|^Claim\//, '');
    payments.set(claimId, centsOfDollars((r.payment as { amount?: { value?: number } } | undefined)?.amount?.value));
  }
  const medications = new Map<string, Json>();
  for (const r of resources)
    if (r.resourceType === 'MedicationRequest') {
      const coding = (r.medicationCodeableConcept as { coding?: Json[] } | undefined)?.coding?.[0];
      if (coding !== undefined) medications.set(String(r.id), coding);
    }
  const out: SyntheaClaim[] = [];
  for (const r of resources) {
    if (r.resourceType !== 'Claim') continue;
    const prescribed = medications.get(
      String((r.prescription as { reference?: string } | undefined)?.reference ?? '').replace(/^urn:uuid:/, ''),
    );
    const type = code0(r.type);
    const date = (r.billablePeriod as { start?: string } | undefined)?.start?.slice(0, 10);
    const items = ((r.item as Json[] | undefined) ?? []).map((item, i) =>
      // The medicine is what a pharmacy claim bills (its first line names only the encounter).
      type === 'pharmacy' && i === 0 && prescribed !== undefined
        ? {
            ...item,
            productOrService: {
              ...(item.productOrService as Json),
              coding: [prescribed, ...(((item.productOrService as Json)?.coding as Json[]) ?? [])],
            },
          }
        : item,
    );
    const total = centsOfDollars((r.total as { value?: number } | undefined)?.value);
    if (type === undefined || date === undefined || items.length === 0) continue;
    const priced = items.map((item) => (item.net === undefined ? null : centsOfDollars((item.net as { value?: number }).value)));
    const rest = priced.reduce<number>((s, c) => s + (c ?? 0), 0);
    const lines = items.map((item, i) => ({
      sequence: typeof item.sequence === 'number' ? item.sequence : i + 1,
      code: code0(item.productOrService) ?? '',
      // Only the first unpriced line (the encounter) takes the remainder; any other is 0.
      charge: priced[i] ?? (i === priced.indexOf(null) ? Math.max(0, total - rest) : 0),
      encounter: priced[i] === null && i === priced.indexOf(null),
    }));
    const resource: Json = {
      ...r,
      item: items.map((item, i) => ({
        ...item,
        net: { value: (lines[i] as SyntheaLine).charge / 100, currency: 'USD' },
        servicedDate: date,
      })),
    };
    out.push({ id: String(r.id), type, date, lines, total, syntheaPayment: payments.get(String(r.id)) ?? null, resource });
  }
  return out.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

/** The plan the comparison uses: fee schedule the highest charge seen per code (so billed = allowed). */
export function comparisonPlan(claims: readonly SyntheaClaim[], network: string[]) {
  const fees = new Map<string, number>();
  for (const c of claims) for (const l of c.lines) fees.set(l.code, Math.max(fees.get(l.code) ?? 0, l.charge));
  return {
    name: 'Evergreen Silver (Synthea comparison)',
    effectiveFrom: `${claims.reduce((y, c) => (c.date < y ? c.date : y), '9999').slice(0, 4)}-01-01`,
    deductible: 50_000,
    oopMax: 400_000,
    coinsuranceBps: 2_000,
    network,
    services: [...fees].filter(([code]) => code !== '').map(([code, allowed]) => ({ code, allowed })),
  };
}

export interface ImportedClaim {
  patient: string;
  synthea: SyntheaClaim;
  claimId: string;
  status: string;
  flags: string[];
  /** What the ledger's adjudication has the insurer pay and the patient owe, cents. */
  benefit: number;
  patientShare: number;
}

/**
 * Import every Claim of each bundle through the node at `url`: register the patient, consent
 * to the provider (billing, read-write, payment), publish the comparison plan, cover each
 * calendar year the patient has claims in (so the deductible and out-of-pocket maximum run per
 * year), and have the provider submit each Claim, oldest first (written to the patient's
 * records encrypted, its coded fields adjudicated on chain).
 */
export async function importSyntheaClaims(opts: {
  url: string;
  genesis: TrustedGenesis;
  insurer: KeyBundle;
  provider: KeyBundle;
  patients: Array<{ keys: KeyBundle; bundle: Json }>;
  log?: (line: string) => void;
}): Promise<ImportedClaim[]> {
  const client = (keys: KeyBundle) => new MedLedgerClient({ url: opts.url, keys, genesis: opts.genesis });
  const insurer = client(opts.insurer);
  const provider = client(opts.provider);
  const perPatient = opts.patients.map((p) => ({ ...p, claims: syntheaClaimsOf(p.bundle) }));
  const plan = await publishPlan(
    insurer,
    comparisonPlan(
      perPatient.flatMap((p) => p.claims),
      [provider.id],
    ),
  );
  const done = await Promise.all(
    perPatient.map(async (p, n) => {
      const patient = client(p.keys);
      const { id } = await patient.registerPatient();
      await patient.grant({ grantee: provider.id, categories: ['billing'], access: 'read-write', purpose: 'payment' });
      const coverages = new Map<string, string>();
      for (const year of [...new Set(p.claims.map((c) => c.date.slice(0, 4)))]) {
        const c = await addCoverage(insurer, {
          patient: id,
          plan: plan.id,
          memberId: `SYN-${n}-${year}`,
          from: `${year}-01-01`,
          to: `${year}-12-31`,
        });
        coverages.set(year, c.id);
      }
      const out: ImportedClaim[] = [];
      for (const claim of p.claims) {
        const submitted = await submitClaim(provider, {
          patient: id,
          coverage: coverages.get(claim.date.slice(0, 4)) as string,
          claim: claim.resource,
        });
        const total = submitted.claim.adjudications.at(-1)?.total;
        out.push({
          patient: id,
          synthea: claim,
          claimId: submitted.id,
          status: submitted.claim.status,
          flags: submitted.claim.flags,
          benefit: total?.benefit ?? 0,
          patientShare: total?.patient ?? 0,
        });
      }
      opts.log?.(`imported ${out.length} Synthea claims of patient ${id}`);
      return out;
    }),
  );
  return done.flat();
}

/** Totals of the comparison, in cents: the claims with a Synthea EOB, and all. */
export function compareWithSynthea(imported: readonly ImportedClaim[]) {
  const withEob = imported.filter((c) => c.synthea.syntheaPayment !== null);
  const sum = (xs: readonly ImportedClaim[], f: (c: ImportedClaim) => number) => xs.reduce((s, c) => s + f(c), 0);
  const byStatus: Record<string, number> = {};
  for (const c of imported) byStatus[c.status] = (byStatus[c.status] ?? 0) + 1;
  return {
    claims: imported.length,
    byStatus,
    billed: sum(imported, (c) => c.synthea.total),
    computedBenefit: sum(imported, (c) => c.benefit),
    computedPatient: sum(imported, (c) => c.patientShare),
    withEob: {
      claims: withEob.length,
      billed: sum(withEob, (c) => c.synthea.total),
      syntheaPayment: sum(withEob, (c) => c.synthea.syntheaPayment ?? 0),
      computedBenefit: sum(withEob, (c) => c.benefit),
      /** Claims whose computed payment is within 1 % (or one dollar) of Synthea's. */
      close: withEob.filter(
        (c) => Math.abs(c.benefit - (c.synthea.syntheaPayment ?? 0)) <= Math.max(100, (c.synthea.syntheaPayment ?? 0) / 100),
      ).length,
    },
  };
}
