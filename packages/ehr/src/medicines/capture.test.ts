// supply.capture through the application: an EPCIS document's events as one atomic transaction.
// Each event is applied by its own kind's rule in order and stored exactly as if sent alone; one
// refused event refuses the capture, naming it, and nothing of it is written.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type SignedTx, signTx, txHash } from '@medledger/ledger';
import { EhrApp } from '../app.js';
import { keys } from '../state.js';
import { replayIndependently } from '../testing/world.js';
import { MAX_CAPTURE_BYTES, MAX_CAPTURE_EVENT_CHARS, MAX_CAPTURE_EVENTS } from './capture.js';
import { getCase } from './supply.js';
import { CASE, CHAIN, GTIN, product, type World, world } from './test-world.js';
import { getPackage } from './verify.js';

type Actor = World['maker'];
type Event = { kind: string; body: Record<string, unknown> };

const epc = (serial: string) => ({ gtin: GTIN, serial });
const commission = (w: World, serials: string[], lot = 'L1'): Event => ({
  kind: 'supply.commission',
  body: { gtin: GTIN, lot, expiry: '2027-12-31', serials, eventTime: w.iso() },
});
const pack = (w: World, serials: string[]): Event => ({
  kind: 'supply.pack',
  body: { sscc: CASE, epcs: serials.map(epc), eventTime: w.iso() },
});
const ship = (w: World, to: string, serials: string[], invoice: string): Event => ({
  kind: 'supply.ship',
  body: { to, epcs: serials.map(epc), eventTime: w.iso(), transaction: invoice, transactionDate: '2026-01-10', statement: true },
});
const capture = (by: Actor, events: Event[]) => by.tx('supply.capture', { events });

/** A world whose manufacturer has registered the product. */
function registered(): World {
  const w = world();
  assert.deepEqual(w.block([w.maker.tx('product.register', product())]), ['ok']);
  return w;
}
/** Every key a block wrote, but the signers' nonces. */
const written = (w: World) => (w.writes.at(-1) ?? []).filter((x) => !x.key.startsWith('nonce/'));
const lastResult = (w: World) => w.results.at(-1)?.[0];
const nonceOf = (w: World, a: Actor) => Number(w.state.getState(keys.nonce(a.signing.publicKey)) ?? '0');

describe('supply.capture', () => {
  test('a capture applies its events in order, each seeing the writes before it: commission, pack, ship', () => {
    const w = registered();
    const events = [commission(w, ['C1', 'C2']), pack(w, ['C1', 'C2']), ship(w, w.wholesaler.id, ['C3'], 'X')];
    // Shipping a package commissioned only later in the same capture is refused: order matters.
    assert.deepEqual(w.block([capture(w.maker, [ship(w, w.wholesaler.id, ['C3'], 'X'), commission(w, ['C3'])])]), ['NOT_FOUND']);
    assert.match(lastResult(w)?.log ?? '', /^events\[0\]: no package/);
    events[2] = ship(w, w.wholesaler.id, ['C3'], 'X');
    assert.deepEqual(w.block([capture(w.maker, [commission(w, ['C3']), ...events])]), ['ok']);
    assert.equal(getPackage(w.state, GTIN, 'C1')?.parent, CASE);
    assert.deepEqual(getCase(w.state, CASE)?.children, [`${GTIN}/C1`, `${GTIN}/C2`]);
    assert.equal(getPackage(w.state, GTIN, 'C3')?.inTransitTo, w.wholesaler.id);
    // C1 has two events at this height (commissioning and packing), C3 two (commissioning and shipping).
    const evKeys = written(w).filter((x) => x.key.startsWith(`pkgev/${GTIN}/C1/`) || x.key.startsWith(`pkgev/${GTIN}/C3/`));
    assert.equal(evKeys.length, 4);
  });

  test('each event is stored exactly as when submitted alone: same ids, same bytes, same indexes', () => {
    const w = registered();
    const events = [commission(w, ['A1', 'A2']), pack(w, ['A1']), ship(w, w.wholesaler.id, ['A2'], 'INV-9')];
    const nonce = nonceOf(w, w.maker);
    const sign = (kind: string, body: unknown, n: number): SignedTx =>
      signTx({ v: 1, chain: CHAIN, kind, signer: w.maker.signing.publicKey, nonce: n, body }, w.maker.signing.privateKey);
    // Two executions of the next block against the same committed state: the capture, and the three events alone.
    const app = new EhrApp(CHAIN, w.state);
    const next = { height: w.log.length + 1, time: w.now() + 1000 };
    const asCapture = app.finalizeBlock({ ...next, txs: [sign('supply.capture', { events }, nonce)] });
    const alone = app.finalizeBlock({ ...next, txs: events.map((e, i) => sign(e.kind, e.body, nonce + i)) });
    assert.deepEqual(
      asCapture.results.map((r) => r.code),
      ['ok'],
    );
    assert.deepEqual(
      alone.results.map((r) => r.code),
      ['ok', 'ok', 'ok'],
    );
    const notNonce = (ws: typeof alone.writes) => JSON.stringify(ws.filter((x) => !x.key.startsWith('nonce/')));
    assert.equal(notNonce(asCapture.writes), notNonce(alone.writes));
    assert.equal(asCapture.writes.filter((x) => x.key.startsWith('epcis/')).length, 3);
  });

  test('atomic: event 4 refused leaves events 1–3 unwritten; the refusal names the event and keeps its code', () => {
    const w = registered();
    assert.deepEqual(w.block([w.maker.tx('supply.commission', commission(w, ['OLD']).body)]), ['ok']);
    const before = nonceOf(w, w.maker);
    const events = [commission(w, ['N1']), commission(w, ['N2']), commission(w, ['N3']), commission(w, ['OLD'], 'L2')];
    assert.deepEqual(w.block([capture(w.maker, events)]), ['ALREADY_REGISTERED']);
    assert.match(lastResult(w)?.log ?? '', /^events\[3\]: serial OLD of \d+ is already commissioned$/);
    assert.deepEqual(written(w), [], 'nothing of the capture is written');
    for (const s of ['N1', 'N2', 'N3']) assert.equal(getPackage(w.state, GTIN, s), undefined);
    // As for every refused transaction whose signature and nonce passed, the nonce is used up.
    assert.equal(nonceOf(w, w.maker), before + 1);
    // The same events without the bad one are recorded afterwards (they were never recorded before).
    assert.deepEqual(w.block([capture(w.maker, events.slice(0, 3))]), ['ok']);
    assert.equal(getPackage(w.state, GTIN, 'N3')?.holder, w.maker.id);
  });

  test('the same event twice in one capture is refused, and so is an event of an earlier capture', () => {
    const w = registered();
    const one = commission(w, ['D1']);
    assert.deepEqual(w.block([capture(w.maker, [one, one])]), ['DUPLICATE_EVENT']);
    assert.match(lastResult(w)?.log ?? '', /^events\[1\]: event ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0 is already recorded$/);
    assert.deepEqual(written(w), []);
    assert.deepEqual(w.block([capture(w.maker, [one])]), ['ok']);
    // An earlier capture's event, resubmitted alone or inside another capture.
    assert.deepEqual(w.block([capture(w.maker, [commission(w, ['D2']), one])]), ['DUPLICATE_EVENT']);
    assert.match(lastResult(w)?.log ?? '', /^events\[1\]: /);
    assert.equal(getPackage(w.state, GTIN, 'D2'), undefined);
    assert.deepEqual(w.block([w.maker.tx('supply.commission', one.body)]), ['DUPLICATE_EVENT']);
  });

  test('a non-holder cannot ship inside a capture, nor ship twice what the capture already shipped', () => {
    const w = registered();
    assert.deepEqual(w.block([w.maker.tx('supply.commission', commission(w, ['H1']).body)]), ['ok']);
    assert.deepEqual(w.block([capture(w.wholesaler, [ship(w, w.pharmA.id, ['H1'], 'W1')])]), ['NOT_HOLDER']);
    assert.match(lastResult(w)?.log ?? '', /^events\[0\]: package \d+ serial H1 is not in your custody$/);
    const twice = [ship(w, w.wholesaler.id, ['H1'], 'M1'), ship(w, w.pharmB.id, ['H1'], 'M2')];
    assert.deepEqual(w.block([capture(w.maker, twice)]), ['NOT_HOLDER']);
    assert.match(lastResult(w)?.log ?? '', /^events\[1\]: /);
    assert.equal(getPackage(w.state, GTIN, 'H1')?.inTransitTo, null, 'the first ship was not kept either');
  });

  test('only EPCIS event kinds; 1 to 100 events; bounded bytes; a well-formed body', () => {
    const w = registered();
    const c = commission(w, ['K1']);
    const refusedAs = (events: unknown, re: RegExp) => {
      assert.deepEqual(w.block([w.maker.tx('supply.capture', { events })]), ['INVALID_BODY']);
      assert.match(lastResult(w)?.log ?? '', re);
    };
    for (const kind of ['product.register', 'supply.recall', 'supply.quarantine', 'supply.verify', 'rx.prescribe', 'supply.capture'])
      refusedAs([c, { kind, body: {} }], /^body\.events\[1\]\.kind must be one of supply\.commission, /);
    refusedAs([], /1 to 100 events/);
    refusedAs(
      Array.from({ length: MAX_CAPTURE_EVENTS + 1 }, (_, i) => commission(w, [`M${i}`])),
      /1 to 100 events/,
    );
    refusedAs('not a list', /1 to 100 events/);
    refusedAs([{ ...c, extra: 1 }], /body\.events\[0\]\.extra is not accepted/);
    refusedAs([{ kind: 'supply.commission', body: [] }], /body\.events\[0\]\.body must be an object/);
    refusedAs([c, null], /body\.events\[1\] must be an object/);
    refusedAs(
      [{ kind: 'supply.commission', body: { ...c.body, pad: 'x'.repeat(MAX_CAPTURE_EVENT_CHARS) } }],
      /is over 65536 characters of JSON/,
    );
    // Each body under the per-event limit, but the transaction over MAX_CAPTURE_BYTES.
    refusedAs(
      Array.from({ length: 9 }, () => ({ kind: 'supply.commission', body: { pad: 'x'.repeat(60_000) } })),
      new RegExp(`^a capture transaction is limited to ${MAX_CAPTURE_BYTES} bytes$`),
    );
    // An event's own body check still runs, named by index.
    assert.deepEqual(w.block([capture(w.maker, [c, { kind: 'supply.commission', body: { ...c.body, gtin: '1' } }])]), ['INVALID_BODY']);
    assert.match(lastResult(w)?.log ?? '', /^events\[1\]: body\.gtin must be a GTIN-14/);
    assert.deepEqual(w.block([w.maker.tx('supply.capture', { events: [c], more: true })]), ['INVALID_BODY']);
    assert.equal(getPackage(w.state, GTIN, 'K1'), undefined);
    // Exactly 100 events are accepted.
    const hundred = Array.from({ length: MAX_CAPTURE_EVENTS }, (_, i) => commission(w, [`Z${i}`]));
    assert.deepEqual(w.block([capture(w.maker, hundred)]), ['ok']);
    assert.equal(getPackage(w.state, GTIN, 'Z99')?.holder, w.maker.id);
  });

  test('a capture admitted to the mempool is re-checked in full when a block changes what its events read', () => {
    const w = registered();
    assert.deepEqual(w.block([w.maker.tx('supply.commission', commission(w, ['R1']).body)]), ['ok']);
    const app = new EhrApp(CHAIN, w.state);
    const ctx = { height: w.log.length + 1, time: w.now() + 1000 };
    // The capture's second event ships R1, which reads the recall of its lot.
    const tx = capture(w.maker, [commission(w, ['R2']), ship(w, w.wholesaler.id, ['R1'], 'R')]);
    assert.equal(app.checkTx(tx, ctx).code, 'ok');
    const recall = w.regulator.tx('supply.recall', { gtin: GTIN, lot: 'L1', reason: 'contamination', eventTime: w.iso() });
    const exec = app.finalizeBlock({ ...ctx, txs: [recall] });
    assert.deepEqual(
      exec.results.map((r) => r.code),
      ['ok'],
    );
    w.state.apply(exec);
    app.commit({ txHashes: [txHash(recall)] });
    // Had the inner events' reads not been recorded, the re-check would replay the old writes as ok.
    assert.equal(app.recheckTx(tx, { height: ctx.height + 1, time: ctx.time + 1000 }).code, 'NOT_VERIFIED');
  });

  test('determinism: a second application replaying the blocks writes byte-identical state', () => {
    const w = registered();
    w.block([capture(w.maker, [commission(w, ['B1', 'B2']), pack(w, ['B1']), ship(w, w.wholesaler.id, ['B2'], 'B')])]);
    w.block([capture(w.maker, [commission(w, ['B3']), commission(w, ['B1'])])]);
    w.block([capture(w.wholesaler, [{ kind: 'supply.receive', body: { epcs: [epc('B2')], eventTime: w.iso() } }])]);
    assert.deepEqual(
      w.results.slice(-3).map((r) => r[0]?.code),
      ['ok', 'ALREADY_REGISTERED', 'ok'],
    );
    const state = replayIndependently(CHAIN, w);
    assert.equal(getPackage(state, GTIN, 'B2')?.holder, w.wholesaler.id);
  });
});
