// The medicines benchmark (issue 14): on a running network whose genesis has manufacturers,
// - supply events committed per second, twice: each manufacturer registers a product, then
//   pre-signed `supply.commission` transactions (one EPCIS commissioning event of one serial
//   each) are submitted in batches, one lane per manufacturer so each signer's nonces arrive in
//   order, the lanes spread over the nodes, and followed until committed (load.ts); then as
//   many events again as `supply.capture` transactions of `eventsPerCapture` commissioning
//   events each, as a partner's EPCIS documents arrive;
// - verification answers: a trading partner's `verifyProduct` through the SDK, the answer
//   proven against the genesis (the request log submitted too, as every verification does),
//   timed per call.
import { MedLedgerClient, medicinesTx, type TrustedGenesis, verifyProduct } from '@medledger/client';
import type { KeyBundle } from '@medledger/crypto';
import { type SignedTx, signTx } from '@medledger/ledger';
import { runLoad } from './load.js';

export interface MedicinesBenchResult {
  manufacturers: number;
  /** One event per transaction: events sent, committed, refused, seconds, events/s. */
  events: number;
  committed: number;
  rejected: number;
  seconds: number;
  eventsPerSecond: number;
  /** The same number of events in `supply.capture` transactions of `eventsPerCapture` events. */
  capture: {
    eventsPerCapture: number;
    captures: number;
    events: number;
    /** Events in committed captures (each holds `eventsPerCapture`). */
    committed: number;
    /** Captures refused. */
    rejected: number;
    seconds: number;
    eventsPerSecond: number;
  };
  verifications: number;
  verifyMs: { p50: number; p99: number };
}

/** Events per capture transaction by default: a modest EPCIS document. */
export const DEFAULT_EVENTS_PER_CAPTURE = 20;

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
    /** Events per `supply.capture` in the capture run (1–100; default 20). */
    eventsPerCapture?: number;
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

  const chainId = opts.genesis.chainId;
  const perCapture = opts.eventsPerCapture ?? DEFAULT_EVENTS_PER_CAPTURE;
  if (!Number.isInteger(perCapture) || perCapture < 1 || perCapture > 100) throw new Error('eventsPerCapture must be 1 to 100');
  const makersCount = opts.manufacturers.length;
  // Nonces 0 and (for the first) 1 went to the setup above.
  const nextNonce: number[] = opts.manufacturers.map((_, i) => (i === 0 ? 2 : 1));
  const sign = (i: number, kind: string, body: unknown): SignedTx => {
    const keys = opts.manufacturers[i] as KeyBundle;
    const nonce = nextNonce[i] as number;
    nextNonce[i] = nonce + 1;
    return signTx({ v: 1, chain: chainId, kind, signer: keys.signing.publicKey, nonce, body }, keys.signing.privateKey);
  };
  const commission = (i: number, serial: string) => ({ gtin: benchGtin(i), lot: 'BENCH', expiry, serials: [serial], eventTime });
  /**
   * Send `perMaker` pre-signed transactions of each manufacturer, interleaved by nonce
   * ([m0 n1, m1 n1, …, m0 n2, …]), one lane per manufacturer (its transactions in nonce order,
   * one request at a time), the lanes spread over the nodes: partners submit to their own
   * nodes at once, not through one queue.
   */
  const send = (perMaker: number, txOf: (maker: number, n: number) => SignedTx) => {
    const txs: SignedTx[] = [];
    for (let n = 0; n < perMaker; n++) for (let i = 0; i < makersCount; i++) txs.push(txOf(i, n));
    const lanes = opts.manufacturers.map((_, i) => Array.from({ length: perMaker }, (_, n) => n * makersCount + i));
    return runLoad({
      url,
      submitUrls: opts.urls,
      count: txs.length,
      txs,
      concurrency: 1,
      lanes,
      batch: opts.batch ?? 100,
      timeoutMs: opts.timeoutMs ?? 300_000,
    });
  };

  const events = opts.eventsPerManufacturer * makersCount;
  log(`medicines: ${events} supply events (commissioning), one per transaction, from ${makersCount} manufacturers…`);
  const single = await send(opts.eventsPerManufacturer, (i, n) => sign(i, 'supply.commission', commission(i, `B${n}`)));
  log(
    `medicines: committed ${single.committed} supply events in ${single.seconds.toFixed(2)} s: ${single.txPerSecond.toFixed(0)} events/s`,
  );

  // As many events again (rounded up to whole captures), in captures of `perCapture` events each.
  const capturesPerMaker = Math.ceil(opts.eventsPerManufacturer / perCapture);
  const captureEvents = capturesPerMaker * perCapture * makersCount;
  log(`medicines: ${captureEvents} supply events in captures of ${perCapture} (${capturesPerMaker * makersCount} transactions)…`);
  const captured = await send(capturesPerMaker, (i, c) =>
    sign(i, 'supply.capture', {
      events: Array.from({ length: perCapture }, (_, k) => ({ kind: 'supply.commission', body: commission(i, `C${c * perCapture + k}`) })),
    }),
  );
  const committedEvents = captured.committed * perCapture;
  const captureRate = captured.seconds > 0 ? committedEvents / captured.seconds : 0;
  log(
    `medicines: committed ${captured.committed} captures (${committedEvents} events) in ${captured.seconds.toFixed(2)} s: ${captureRate.toFixed(0)} events/s`,
  );

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
    manufacturers: makersCount,
    events,
    committed: single.committed,
    rejected: single.rejected,
    seconds: Math.round(single.seconds * 100) / 100,
    eventsPerSecond: Math.round(single.txPerSecond),
    capture: {
      eventsPerCapture: perCapture,
      captures: capturesPerMaker * makersCount,
      events: captureEvents,
      committed: committedEvents,
      rejected: captured.rejected,
      seconds: Math.round(captured.seconds * 100) / 100,
      eventsPerSecond: Math.round(captureRate),
    },
    verifications: ms.length,
    verifyMs,
  };
}
