// The rest of the medicines life cycle through the application: a GTIN transferred with its
// history, destroyed and decommissioned packages, logged verifications, a saleable return that
// must verify before it ships again, an illegitimate determination that goes overdue after 24
// hours of block time, and the dispensed packages a recall notice is derived from.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getNotice, noticeStatus } from './lifecycle.js';
import { getPrescription } from './rx.js';
import { dispense, GTIN, idOf, pkg, prescribe, product, stocked, type World, world } from './test-world.js';
import { getPackage, getProduct, verifyPackage } from './verify.js';

const HOUR = 60 * 60_000;
const epc = (serial: string) => ({ gtin: GTIN, serial });
const shipBody = (w: World, to: string, serials: string[], n: string) => ({
  to,
  epcs: serials.map(epc),
  eventTime: w.iso(),
  transaction: `INV-${n}`,
  transactionDate: '2026-01-10',
  statement: true,
});
/** Every write under `prefix` across the blocks so far (the test store has no scan). */
const written = (w: World, prefix: string) =>
  w.writes
    .flat()
    .filter((x) => x.key.startsWith(prefix) && x.value !== null)
    .map((x) => ({ key: x.key, value: x.value as string }));

describe('GTIN transfer', () => {
  test('the owner transfers a GTIN; the new owner commissions and recalls, the old one no longer can; history is kept', () => {
    const w = world();
    assert.deepEqual(w.block([w.maker.tx('product.register', product())]), ['ok']);
    assert.deepEqual(w.block([w.maker2.tx('product.transfer', { gtin: GTIN, to: w.maker2.id })]), ['UNAUTHORIZED']);
    assert.deepEqual(w.block([w.maker.tx('product.transfer', { gtin: GTIN, to: w.wholesaler.id })]), ['INVALID_BODY']);
    assert.deepEqual(w.block([w.maker.tx('product.transfer', { gtin: GTIN, to: w.maker2.id })]), ['ok']);
    const p = getProduct(w.state, GTIN);
    assert.equal(p?.manufacturer, w.maker2.id);
    assert.deepEqual(
      p?.transfers.map((t) => [t.from, t.to]),
      [[w.maker.id, w.maker2.id]],
    );
    const commission = (by: World['maker'], serial: string) =>
      by.tx('supply.commission', { gtin: GTIN, lot: 'L9', expiry: '2027-12-31', serials: [serial], eventTime: w.iso() });
    assert.deepEqual(w.block([commission(w.maker, 'X1'), commission(w.maker2, 'X2')]), ['UNAUTHORIZED', 'ok']);
    const recall = (by: World['maker']) => by.tx('supply.recall', { gtin: GTIN, lot: 'L9', reason: 'assay', eventTime: w.iso() });
    assert.deepEqual(w.block([recall(w.maker), recall(w.maker2)]), ['UNAUTHORIZED', 'ok']);
  });
});

describe('decommission and destroy', () => {
  test('the holder destroys a recalled package and decommissions another; they verify as Decommissioned and cannot ship', () => {
    const w = world();
    stocked(w);
    const pharm = w.pharmA;
    assert.deepEqual(w.block([w.regulator.tx('supply.recall', { gtin: GTIN, lot: 'L1', reason: 'x', eventTime: w.iso() })]), ['ok']);
    const body = (serials: string[], kind: string) => ({ epcs: serials.map(epc), kind, reason: 'recalled stock', eventTime: w.iso() });
    assert.deepEqual(
      w.block([
        w.wholesaler.tx('supply.decommission', body(['S3'], 'destroy')),
        pharm.tx('supply.decommission', body(['S1'], 'destroy')),
        pharm.tx('supply.decommission', body(['S3'], 'shred')),
        pharm.tx('supply.decommission', body(['S3'], 'destroy')),
        pharm.tx('supply.decommission', body(['S4'], 'decommission')),
      ]),
      ['NOT_HOLDER', 'PACKED', 'INVALID_BODY', 'ok', 'ok'],
    );
    assert.equal(getPackage(w.state, GTIN, 'S3')?.status, 'destroyed');
    assert.equal(getPackage(w.state, GTIN, 'S4')?.status, 'decommissioned');
    assert.deepEqual(w.block([pharm.tx('supply.decommission', body(['S3'], 'destroy'))]), ['WRONG_STATE']);
    // Recalled outranks decommissioned in the answer; a fresh lot shows the new reason.
    assert.deepEqual(verifyPackage(w.state, pkg('S3'), w.now()), { verified: false, reason: 'Recalled' });
    const stored = written(w, 'epcis/').map((x) => JSON.parse(x.value));
    assert.deepEqual(
      stored.filter((e) => e.action === 'DELETE' && e.bizStep !== 'dispensing').map((e) => [e.bizStep, e.disposition]),
      [
        ['destroying', 'destroyed'],
        ['decommissioning', 'inactive'],
      ],
    );
  });

  test('a destroyed package that is not recalled verifies as Decommissioned and is not dispensed', () => {
    const w = world();
    stocked(w);
    assert.deepEqual(
      w.block([w.pharmA.tx('supply.decommission', { epcs: [epc('S4')], kind: 'destroy', reason: 'damaged', eventTime: w.iso() })]),
      ['ok'],
    );
    assert.deepEqual(verifyPackage(w.state, pkg('S4'), w.now()), { verified: false, reason: 'Decommissioned' });
    const rx = prescribe(w);
    assert.deepEqual(w.block([rx]), ['ok']);
    assert.deepEqual(w.block([dispense(w.pharmacistA, rx, [pkg('S4')])]), ['NOT_VERIFIED']);
  });
});

describe('verification log and saleable returns', () => {
  test('every verification request is logged on chain with its answer; a non-partner may not ask', () => {
    const w = world();
    stocked(w);
    assert.deepEqual(
      w.block([
        w.pharmA.tx('supply.verify', { gtin: GTIN, serial: 'S3', lot: 'L1' }),
        w.wholesaler.tx('supply.verify', { gtin: GTIN, serial: 'FAKE' }),
        w.patient.tx('supply.verify', { gtin: GTIN, serial: 'S3' }),
      ]),
      ['ok', 'ok', 'UNAUTHORIZED'],
    );
    // One block's writes come sorted by key: order the log by serial.
    const logs = written(w, 'verifylog/')
      .map((x) => JSON.parse(x.value))
      .sort((a, b) => (a.serial < b.serial ? -1 : 1));
    assert.deepEqual(
      logs.map((l) => [l.requester, l.serial, l.verified, l.reason]),
      [
        [w.wholesaler.id, 'FAKE', false, 'No_match_GTIN_Serial'],
        [w.pharmA.id, 'S3', true, null],
      ],
    );
  });

  test('a saleable return cannot ship again until its holder verifies it (RETURN_NOT_VERIFIED)', () => {
    const w = world();
    stocked(w);
    assert.deepEqual(w.block([w.pharmA.tx('supply.ship', shipBody(w, w.wholesaler.id, ['S3'], 'R1'))]), ['ok']);
    assert.deepEqual(w.block([w.wholesaler.tx('supply.receive', { epcs: [epc('S3')], eventTime: w.iso() })]), ['ok']);
    assert.equal(getPackage(w.state, GTIN, 'S3')?.returnPending, true);
    assert.deepEqual(w.block([w.wholesaler.tx('supply.ship', shipBody(w, w.pharmB.id, ['S3'], 'R2'))]), ['RETURN_NOT_VERIFIED']);
    // Another partner's verification does not clear the holder's return.
    assert.deepEqual(w.block([w.pharmA.tx('supply.verify', { gtin: GTIN, serial: 'S3' })]), ['ok']);
    assert.equal(getPackage(w.state, GTIN, 'S3')?.returnPending, true);
    assert.deepEqual(w.block([w.wholesaler.tx('supply.verify', { gtin: GTIN, serial: 'S3', lot: 'L1', expiry: '2027-12-31' })]), ['ok']);
    assert.equal(getPackage(w.state, GTIN, 'S3')?.returnPending, false);
    assert.deepEqual(w.block([w.wholesaler.tx('supply.ship', shipBody(w, w.pharmB.id, ['S3'], 'R3'))]), ['ok']);
    // A first receipt by a new partner is no return.
    assert.deepEqual(w.block([w.pharmB.tx('supply.receive', { epcs: [epc('S3')], eventTime: w.iso() })]), ['ok']);
    assert.equal(getPackage(w.state, GTIN, 'S3')?.returnPending, false);
  });
});

describe('illegitimate product notification', () => {
  test('a suspect product determined illegitimate goes overdue after 24 hours un-notified; then notified late and terminated', () => {
    const w = world();
    stocked(w);
    const q = (kind: string) =>
      w.pharmA.tx('supply.quarantine', { gtin: GTIN, serial: 'S4', kind, reason: 'torn seal', eventTime: w.iso() });
    assert.deepEqual(w.block([q('suspect')]), ['ok']);
    assert.equal(written(w, 'ilnotice/').length, 0, 'a suspect product is investigated, not yet notified');
    const determination = q('illegitimate');
    assert.deepEqual(w.block([determination]), ['ok']);
    const [entry] = written(w, 'ilnotice/');
    const id = JSON.parse(entry?.value as string).id as string;
    const notice = () => getNotice(w.state, id) ?? assert.fail('no notice');
    assert.equal(notice().determinedBy, w.pharmA.id);
    assert.equal(noticeStatus(notice(), w.now() + 23 * HOUR), 'open');
    w.block([], 25 * HOUR);
    assert.equal(noticeStatus(notice(), w.now()), 'overdue');
    assert.deepEqual(
      w.block([
        w.regulator.tx('supply.terminate', { notice: id, reason: 'cleared' }),
        w.wholesaler.tx('supply.notify', { notice: id }),
        w.pharmA.tx('supply.notify', { notice: id }),
        w.pharmA.tx('supply.notify', { notice: id }),
      ]),
      ['WRONG_STATE', 'UNAUTHORIZED', 'ok', 'WRONG_STATE'],
    );
    assert.equal(noticeStatus(notice(), w.now()), 'notified-late');
    assert.deepEqual(
      w.block([
        w.wholesaler.tx('supply.terminate', { notice: id, reason: 'cleared' }),
        w.regulator.tx('supply.terminate', { notice: id, reason: 'FDA consulted: counterfeit destroyed' }),
      ]),
      ['UNAUTHORIZED', 'ok'],
    );
    assert.equal(noticeStatus(notice(), w.now()), 'terminated');
  });

  test('a lot determined illegitimate by its manufacturer and notified within 24 hours is on time', () => {
    const w = world();
    stocked(w);
    assert.deepEqual(
      w.block([w.maker.tx('supply.quarantine', { gtin: GTIN, lot: 'L1', kind: 'illegitimate', reason: 'diverted', eventTime: w.iso() })]),
      ['ok'],
    );
    const id = JSON.parse(written(w, 'ilnotice/')[0]?.value as string).id as string;
    assert.deepEqual(w.block([w.maker.tx('supply.notify', { notice: id })], 23 * HOUR), ['ok']);
    assert.equal(noticeStatus(getNotice(w.state, id) ?? assert.fail(), w.now() + 48 * HOUR), 'notified');
  });
});

test('a dispense records the packages on the prescription: what a recall notice to the patient is derived from', () => {
  const w = world();
  stocked(w);
  const rx = prescribe(w);
  assert.deepEqual(w.block([rx]), ['ok']);
  assert.deepEqual(w.block([dispense(w.pharmacistA, rx, [pkg('S3')])]), ['ok']);
  const stored = getPrescription(w.state, idOf(rx));
  assert.deepEqual(
    stored?.dispensed.map((d) => [d.gtin, d.serial, d.lot]),
    [[GTIN, 'S3', 'L1']],
  );
});
