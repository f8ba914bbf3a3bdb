// The claims part of `npm run bench` (issue 13 item 9), through the real API of a running
// network: an insurer publishes a plan and covers a set of patients who consent to a
// hospital; the hospital's clinicians then submit `claim.submit` transactions, each
// adjudicated line by line against the coverage's accumulator in the transaction that
// commits it. Reported: claims adjudicated per second under saturating load, and the p50
// and p99 from submit to adjudicated (the commit of the block holding the claim) at a fixed
// offered rate. The Claim records themselves are not written here (their encrypted write is
// the record benchmark's); each claim carries a distinct content hash.
import { randomBytes } from 'node:crypto';
import { addCoverage, MedLedgerClient, publishPlan, staffRegisterBody, type TrustedGenesis } from '@medledger/client';
import { generateKeyBundle, type KeyBundle, toHex } from '@medledger/crypto';
import { type SignedTx, signTx } from '@medledger/ledger';
import { runLoad } from './load.js';

export interface ClaimBenchOptions {
  /** Nodes to submit to (round-robin by clinician); the first is followed for blocks. */
  urls: string[];
  genesis: TrustedGenesis;
  insurerKeys: KeyBundle;
  hospitalKeys: KeyBundle;
  /** Patients covered (claims are spread over them). */
  patients: number;
  /** Clinicians submitting; each signs its own nonce sequence. */
  clinicians: number;
  /** Seconds of saturating load, and the claims signed for it. */
  seconds: number;
  claims: number;
  /** Offered claims/s and seconds of the latency run. */
  rate: number;
  latencySeconds: number;
}

export interface ClaimBenchResult {
  patients: number;
  clinicians: number;
  throughput: { seconds: number; adjudicated: number; rejected: number; claimsPerSecond: number };
  latency: { offeredClaimsPerSecond: number; adjudicated: number; p50Ms: number; p99Ms: number };
}

/** Service codes of the bench plan (Synthea's common encounter and procedure codes) and their fees, cents. */
const SERVICES = [
  { code: '99213', allowed: 12_000 },
  { code: '99214', allowed: 17_500 },
  { code: '185349003', allowed: 13_600 },
  { code: '162673000', allowed: 8_600 },
  { code: '410620009', allowed: 14_200 },
  { code: '430193006', allowed: 6_400 },
  { code: '140', allowed: 14_000 },
  { code: '133', allowed: 14_000 },
];
const DAY_MS = 86_400_000;
const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

/**
 * Sign `count` claims for `clinicians`, interleaved so that claim k·n + s is clinician s's
 * k-th (nonce `nonces[s] + k`); lane s holds clinician s's claims in nonce order. Every claim
 * is a distinct (patient, code, service date), so none is a duplicate held for review.
 */
export function signClaims(opts: {
  chainId: string;
  clinicians: KeyBundle[];
  nonces: number[];
  patients: Array<{ id: string; coverage: string }>;
  from: string;
  count: number;
  offset: number;
}): { txs: SignedTx[]; lanes: number[][] } {
  const txs: SignedTx[] = [];
  const lanes: number[][] = opts.clinicians.map(() => []);
  const n = opts.clinicians.length;
  const start = Date.parse(`${opts.from}T00:00:00Z`);
  for (let i = 0; i < opts.count; i++) {
    const s = i % n;
    const k = Math.floor(i / n);
    const j = opts.offset + i;
    const patient = opts.patients[j % opts.patients.length] as { id: string; coverage: string };
    const service = SERVICES[Math.floor(j / opts.patients.length) % SERVICES.length] as { code: string; allowed: number };
    const day = Math.floor(j / (opts.patients.length * SERVICES.length));
    const keys = opts.clinicians[s] as KeyBundle;
    lanes[s]?.push(txs.length);
    txs.push(
      signTx(
        {
          v: 1,
          chain: opts.chainId,
          kind: 'claim.submit',
          signer: keys.signing.publicKey,
          nonce: (opts.nonces[s] as number) + k,
          body: {
            patient: patient.id,
            coverage: patient.coverage,
            type: 'professional',
            items: [
              {
                sequence: 1,
                code: service.code,
                serviceDate: new Date(start + day * DAY_MS).toISOString().slice(0, 10),
                quantity: 1,
                charge: service.allowed,
              },
            ],
            contentHash: toHex(randomBytes(32)),
          },
        },
        keys.signing.privateKey,
      ),
    );
  }
  return { txs, lanes };
}

/** Set up the plan, patients, consents, coverages and clinicians, then measure. */
export async function benchClaims(opts: ClaimBenchOptions, log: (line: string) => void): Promise<ClaimBenchResult> {
  const url = opts.urls[0] as string;
  const client = (keys: KeyBundle) => new MedLedgerClient({ url, keys, genesis: opts.genesis });
  const insurer = client(opts.insurerKeys);
  const hospital = client(opts.hospitalKeys);
  const status = (await insurer.get('/v1/status')) as { chainId: string; height: number };
  const hospitalId = hospital.id;
  // A benefit period of ten years, so the service dates never run out of coverage.
  const from = '2020-01-01';
  log(`claims: publishing a plan, covering ${opts.patients} patients, registering ${opts.clinicians} clinicians…`);
  const plan = await publishPlan(insurer, {
    name: 'Bench Silver',
    effectiveFrom: from,
    deductible: 50_000,
    oopMax: 600_000,
    coinsuranceBps: 2_000,
    network: [],
    services: SERVICES,
  });
  const clinicians = Array.from({ length: opts.clinicians }, () => generateKeyBundle());
  await Promise.all(
    clinicians.map((keys, i) =>
      hospital.submitAndWait(
        'staff.register',
        staffRegisterBody({
          publicKey: keys.signing.publicKey,
          encryptionKey: keys.encryption.publicKey,
          role: 'clinician',
          name: `Bench Clinician ${i}`,
        }),
      ),
    ),
  );
  const patients = await Promise.all(
    Array.from({ length: opts.patients }, async () => {
      const patient = client(generateKeyBundle());
      const { id } = await patient.registerPatient();
      await patient.grant({ grantee: hospitalId, categories: ['billing'], purpose: 'payment' });
      return id;
    }),
  );
  const covered: Array<{ id: string; coverage: string }> = [];
  for (const [i, id] of patients.entries()) {
    const c = await addCoverage(insurer, { patient: id, plan: plan.id, memberId: `BENCH-${i}`, from, to: '2029-12-31' });
    covered.push({ id, coverage: c.id });
  }

  const nonces = clinicians.map(() => 0);
  const sign = (count: number, offset: number) => {
    const signed = signClaims({ chainId: status.chainId, clinicians, nonces, patients: covered, from, count, offset });
    return signed;
  };
  log(`claims: throughput run, ${opts.seconds} s of saturating load (up to ${opts.claims} claims)…`);
  const saturating = sign(opts.claims, 0);
  const tput = await runLoad({
    url,
    submitUrls: opts.urls,
    count: saturating.txs.length,
    txs: saturating.txs,
    lanes: saturating.lanes,
    concurrency: opts.clinicians,
    batch: 50,
    durationMs: opts.seconds * 1000,
    timeoutMs: 300_000,
  });
  log(`claims: ${tput.committed} adjudicated in ${tput.seconds.toFixed(2)} s: ${tput.txPerSecond.toFixed(0)} claims/s (goal ≥ 500)`);

  // The latency run's nonces follow what each clinician had committed (unsent claims were dropped).
  for (const [s, keys] of clinicians.entries()) nonces[s] = (await client(keys).account()).nextNonce;
  const latencyCount = opts.rate * opts.latencySeconds;
  log(`claims: latency run, ${opts.rate} claims/s offered for ${opts.latencySeconds} s…`);
  const paced = sign(latencyCount, opts.claims);
  const lat = await runLoad({
    url,
    submitUrls: opts.urls,
    count: paced.txs.length,
    txs: paced.txs,
    lanes: paced.lanes,
    concurrency: opts.clinicians,
    batch: 1,
    rate: opts.rate,
    timeoutMs: 180_000,
  });
  const p50 = percentile(lat.latenciesMs, 0.5);
  const p99 = percentile(lat.latenciesMs, 0.99);
  log(`claims: submit to adjudicated at ${opts.rate} claims/s: p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms (goal p50 ≤ 1000 ms)`);
  return {
    patients: opts.patients,
    clinicians: opts.clinicians,
    throughput: {
      seconds: Math.round(tput.seconds * 100) / 100,
      adjudicated: tput.committed,
      rejected: tput.rejected,
      claimsPerSecond: Math.round(tput.txPerSecond),
    },
    latency: { offeredClaimsPerSecond: opts.rate, adjudicated: lat.committed, p50Ms: Math.round(p50), p99Ms: Math.round(p99) },
  };
}
