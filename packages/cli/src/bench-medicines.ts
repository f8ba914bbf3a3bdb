// The medicines benchmark (issue 14): on a running network whose genesis has manufacturers,
// - supply events committed per second: each manufacturer registers a product, then
//   pre-signed `supply.commission` transactions (one EPCIS commissioning event of one serial
//   each) are submitted in batches, one lane per manufacturer so each signer's nonces arrive in
//   order, the lanes spread over the nodes, and followed until committed (load.ts);
// - verification answers: a trading partner's `verifyProduct` through the SDK, the answer
//   proven against the genesis (the request log submitted too, as every verification does),
//   timed per call.
import { MedLedgerClient, medicinesTx, type TrustedGenesis, verifyProduct } from '@medledger/client';
import type { KeyBundle } from '@medledger/crypto';
import { type SignedTx, signTx } from '@medledger/ledger';
import { runLoad } from './load.js';

export interface MedicinesBenchResult {
  manufacturers: number;
  events: number;
  committed: number;
  rejected: number;
  seconds: number;
  eventsPerSecond: number;
  verifications: number;
  verifyMs: { p50: number; p99: number };
}

const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

/** A GTIN-14 for product `i`: 13 data digits and the GS1 mod-10 check digit. */
export function benchGtin(i: number): string {
  const data = `00399${String(i).padStart(8, '0')}`;
  let sum = 0;
  for (let k = 0; k < 13; k++) sum += Number(data[k]) * (k % 2 === 0 ? 3 : 1);
  return `${data}${(10 - (sum % 10)) % 10}`;
}

/**
 * Run the medicines benchmark through `urls` (events submitted to the first, which is
 * followed). `manufacturers` are organizations of kind manufacturer; `partner` any trading
 * partner, which verifies. Throws if the setup transactions are refused.
 */
export async function benchMedicines(
  opts: {
    urls: string[];
    genesis: TrustedGenesis;
    manufacturers: KeyBundle[];
    partner: KeyBundle;
    eventsPerManufacturer: number;
    verifications: number;
    batch?: number;
    timeoutMs?: number;
  },
  log: (line: string) => void,
): Promise<MedicinesBenchResult> {
  const url = opts.urls[0] as string;
  const client = (keys: KeyBundle) => new MedLedgerClient({ url, keys, genesis: opts.genesis });
  const expiry = `${new Date().getUTCFullYear() + 2}-12-31`;
  const eventTime = `${new Date().toISOString().slice(0, 19)}Z`;
  // Setup: a product per manufacturer, and a package the partner verifies.
  const makers = opts.manufacturers.map(client);
  await Promise.all(
    makers.map((m, i) =>
      medicinesTx(m, 'product.register', {
        gtin: benchGtin(i),
        ndc: `39900-${String(i % 1000).padStart(3, '0')}-01`,
        name: `Bench product ${i}`,
        strength: '10 mg',
        form: 'tablet',
        rxnorm: String(900000 + i),
      }),
    ),
  );
  await medicinesTx(makers[0] as MedLedgerClient, 'supply.commission', {
    gtin: benchGtin(0),
    lot: 'VERIFY',
    expiry,
    serials: ['V1'],
    eventTime,
  });

  // Pre-signed events, interleaved by nonce: [m0 n1, m1 n1, …, m0 n2, …].
  const chainId = opts.genesis.chainId;
  const txs: SignedTx[] = [];
  for (let n = 0; n < opts.eventsPerManufacturer; n++)
    opts.manufacturers.forEach((keys, i) => {
      // Nonces 0 and (for the first) 1 went to the setup above.
      const nonce = n + (i === 0 ? 2 : 1);
      txs.push(
        signTx(
          {
            v: 1,
            chain: chainId,
            kind: 'supply.commission',
            signer: keys.signing.publicKey,
            nonce,
            body: { gtin: benchGtin(i), lot: 'BENCH', expiry, serials: [`B${n}`], eventTime },
          },
          keys.signing.privateKey,
        ),
      );
    });
  log(`medicines: ${txs.length} supply events (commissioning) from ${opts.manufacturers.length} manufacturers…`);
  // One lane per manufacturer (its events in nonce order, one request at a time), the lanes
  // spread over the nodes: partners submit to their own nodes at once, not through one queue.
  const makersCount = opts.manufacturers.length;
  const lanes = opts.manufacturers.map((_, i) => Array.from({ length: opts.eventsPerManufacturer }, (_, n) => n * makersCount + i));
  const load = await runLoad({
    url,
    submitUrls: opts.urls,
    count: txs.length,
    txs,
    concurrency: 1,
    lanes,
    batch: opts.batch ?? 100,
    timeoutMs: opts.timeoutMs ?? 300_000,
  });
  log(`medicines: committed ${load.committed} supply events in ${load.seconds.toFixed(2)} s: ${load.txPerSecond.toFixed(0)} events/s`);

  const partner = new MedLedgerClient({ url: opts.urls[1 % opts.urls.length] as string, keys: opts.partner, genesis: opts.genesis });
  const id = { gtin: benchGtin(0), serial: 'V1', lot: 'VERIFY' };
  await verifyProduct(partner, id); // warm up: session, connections
  const ms: number[] = [];
  for (let i = 0; i < opts.verifications; i++) {
    const t0 = performance.now();
    const v = await verifyProduct(partner, id);
    ms.push(performance.now() - t0);
    if (!v.verified) throw new Error(`the bench package did not verify: ${v.reason}`);
  }
  ms.sort((a, b) => a - b);
  const verifyMs = { p50: Math.round(percentile(ms, 0.5) * 10) / 10, p99: Math.round(percentile(ms, 0.99) * 10) / 10 };
  log(`medicines: verification answers (proven, logged) p50 ${verifyMs.p50} ms, p99 ${verifyMs.p99} ms over ${ms.length}`);
  return {
    manufacturers: opts.manufacturers.length,
    events: txs.length,
    committed: load.committed,
    rejected: load.rejected,
    seconds: Math.round(load.seconds * 100) / 100,
    eventsPerSecond: Math.round(load.txPerSecond),
    verifications: ms.length,
    verifyMs,
  };
}
