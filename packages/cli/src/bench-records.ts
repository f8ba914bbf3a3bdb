// The records part of `npm run bench`, through the real API of a running network:
// - write: a 4 KiB FHIR resource canonicalised, encrypted, its objects uploaded, anchored,
//   and committed (the client waits for the block);
// - authorised read by a grantee with a session: fetch, prove the anchor against the trusted
//   genesis, check the hash, open the envelope, decrypt;
// - the same read from a fresh client, so it signs in (challenge, signature, session) first.

import { type FhirResource, MedLedgerClient, type TrustedGenesis } from '@medledger/client';
import { generateKeyBundle } from '@medledger/crypto';
import { canonicalBytes } from '@medledger/ledger';

export interface RecordBenchResult {
  resourceBytes: number;
  writes: number;
  reads: number;
  writeMs: { p50: number; p99: number };
  readMs: { p50: number; p99: number };
  readWithSignInMs: { p50: number; p99: number };
}

const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
const summary = (ms: number[]) => {
  const sorted = [...ms].sort((a, b) => a - b);
  return { p50: Math.round(percentile(sorted, 0.5) * 10) / 10, p99: Math.round(percentile(sorted, 0.99) * 10) / 10 };
};

/** An Observation whose canonical JSON is `bytes` long. */
export function fhirResourceOfSize(bytes: number): FhirResource {
  const base = {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '2339-0', display: 'Glucose [Mass/volume] in Blood' }] },
    effectiveDateTime: '2026-11-30T08:15:00Z',
    valueQuantity: { value: 97, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' },
    note: [{ text: '' }],
  };
  const fill = bytes - canonicalBytes(base).length;
  base.note[0] = { text: 'x'.repeat(Math.max(0, fill)) };
  return base;
}

/**
 * Write `writes` records one after another through `writeUrl`, then read them `reads` times
 * as a grantee through `readUrl`. Latencies are wall-clock per operation, in ms.
 */
export async function benchRecords(
  opts: { writeUrl: string; readUrl: string; genesis: TrustedGenesis; writes: number; reads: number; resourceBytes: number },
  log: (line: string) => void,
): Promise<RecordBenchResult> {
  const patient = new MedLedgerClient({ url: opts.writeUrl, keys: generateKeyBundle(), genesis: opts.genesis });
  const readerKeys = generateKeyBundle();
  const { id: patientId } = await patient.registerPatient();
  const { id: readerId } = await new MedLedgerClient({ url: opts.readUrl, keys: readerKeys, genesis: opts.genesis }).registerPatient();
  await patient.grant({ grantee: readerId, categories: ['laboratory'], purpose: 'treatment' });
  const resource = fhirResourceOfSize(opts.resourceBytes);

  // Warm up both paths (JIT, connections, sessions).
  const warm = await patient.writeRecord({ patient: patientId, resource, category: 'laboratory' });
  const reader = new MedLedgerClient({ url: opts.readUrl, keys: readerKeys, genesis: opts.genesis });
  await reader.readRecord(warm.recordId, 'treatment');

  log(`records: writing ${opts.writes} records of ${opts.resourceBytes} bytes, one at a time…`);
  const writeMs: number[] = [];
  const ids: string[] = [];
  for (let i = 0; i < opts.writes; i++) {
    const t0 = performance.now();
    const { recordId } = await patient.writeRecord({ patient: patientId, resource, category: 'laboratory' });
    writeMs.push(performance.now() - t0);
    ids.push(recordId);
  }
  log(`records: ${opts.reads} authorised reads by a grantee with a session, then ${opts.reads} from a fresh client…`);
  const readMs: number[] = [];
  for (let i = 0; i < opts.reads; i++) {
    const t0 = performance.now();
    await reader.readRecord(ids[i % ids.length] as string, 'treatment');
    readMs.push(performance.now() - t0);
  }
  const signInMs: number[] = [];
  for (let i = 0; i < opts.reads; i++) {
    const fresh = new MedLedgerClient({ url: opts.readUrl, keys: readerKeys, genesis: opts.genesis });
    const t0 = performance.now();
    await fresh.readRecord(ids[i % ids.length] as string, 'treatment');
    signInMs.push(performance.now() - t0);
  }
  const result = {
    resourceBytes: opts.resourceBytes,
    writes: opts.writes,
    reads: opts.reads,
    writeMs: summary(writeMs),
    readMs: summary(readMs),
    readWithSignInMs: summary(signInMs),
  };
  log(`record write (encrypt, upload, anchor, commit): p50 ${result.writeMs.p50} ms, p99 ${result.writeMs.p99} ms (goal p50 ≤ 1500 ms)`);
  log(`authorised read (fetch, verify, decrypt): p50 ${result.readMs.p50} ms, p99 ${result.readMs.p99} ms (goal p50 ≤ 20 ms)`);
  log(`authorised read with sign-in: p50 ${result.readWithSignInMs.p50} ms, p99 ${result.readWithSignInMs.p99} ms`);
  return result;
}
