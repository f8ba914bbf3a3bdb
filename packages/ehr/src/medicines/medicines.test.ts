// Medicines rules through the application: custody from manufacturer to pharmacy, the atomic
// dispense, the attacks it refuses (double fills, counterfeit, recalled, expired product) and
// determinism across two independent applications.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DAY_MS } from '../insurance/model.js';
import { getRecord } from '../policy.js';
import { keys, prefixes } from '../state.js';
import { replayIndependently } from '../testing/world.js';
import { gtinValid } from './model.js';
import { getPrescription } from './rx.js';
import { getCase } from './supply.js';
import {
  actor,
  CASE,
  CHAIN,
  dispense,
  dispenseRecord,
  GTIN,
  idOf,
  OTHER_GTIN,
  pkg,
  prescribe,
  product,
  RXNORM,
  rxBody,
  stocked,
  type World,
  world,
} from './test-world.js';
import { getLotQuarantine, getPackage, getProduct, verifyPackage } from './verify.js';

describe('GS1 identifiers', () => {
  test('a GTIN-14 with a wrong check digit is refused; a real one passes', () => {
    assert.equal(gtinValid('00036000291452'), true);
    assert.equal(gtinValid('00036000291453'), false);
    const w = world();
    assert.deepEqual(w.block([w.maker.tx('product.register', product('00036000291453'))]), ['INVALID_BODY']);
  });

  test('only a manufacturer registers products', () => {
    const w = world();
    assert.deepEqual(w.block([w.wholesaler.tx('product.register', product())]), ['UNAUTHORIZED']);
    assert.deepEqual(w.block([w.maker.tx('product.register', product()), w.maker.tx('product.register', product())]), [
      'ok',
      'ALREADY_REGISTERED',
    ]);
  });

  test('a product without an NDC (sold outside the US) registers; a malformed NDC is refused', () => {
    const w = world();
    const { ndc: _ndc, ...noNdc } = product();
    assert.deepEqual(w.block([w.maker.tx('product.register', noNdc)]), ['ok']);
    assert.equal(getProduct(w.state, GTIN)?.ndc, null);
    assert.deepEqual(w.block([w.maker.tx('product.register', { ...product('00012345600012'), ndc: '1234' })]), ['INVALID_BODY']);
  });
});

describe('custody', () => {
  test('full path: manufacturer to wholesaler to pharmacy; a packed item moved with its case; events trace it', () => {
    const w = world();
    stocked(w);
    for (const s of ['S1', 'S2', 'S3', 'S4']) {
      const p = getPackage(w.state, GTIN, s);
      assert.equal(p?.holder, w.pharmA.id);
      assert.equal(p?.inTransitTo, null);
    }
    assert.equal(getPackage(w.state, GTIN, 'S1')?.parent, CASE);
    assert.equal(getCase(w.state, CASE)?.holder, w.pharmA.id);
    assert.deepEqual(verifyPackage(w.state, pkg('S1'), w.now()), { verified: true });
    // commission, pack, ship, receive, ship, receive.
    let events = 0;
    const prefix = prefixes.packageEvents(GTIN, 'S1');
    // The test store has no scan; count the stored event index keys by replaying the writes.
    for (const ws of w.writes) for (const x of ws) if (x.key.startsWith(prefix)) events += 1;
    assert.equal(events, 6);
    // The last receipt names the wholesaler as source and the pharmacy as destination; every event has a hash id.
    const stored = w.writes
      .flat()
      .filter((x) => x.key.startsWith('epcis/'))
      .map((x) => JSON.parse(x.value as string));
    const receipt = stored.filter((e) => e.bizStep === 'receiving').at(-1);
    assert.deepEqual(receipt.sourceList, [{ type: 'owning_party', source: `urn:medledger:org:${w.wholesaler.id}` }]);
    assert.deepEqual(receipt.destinationList, [{ type: 'owning_party', destination: `urn:medledger:org:${w.pharmA.id}` }]);
    for (const e of stored) assert.match(e.eventID, /^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0$/);
  });

  test('ship by a non-holder is refused; receive by someone other than the addressee is refused', () => {
    const w = world();
    w.block([w.maker.tx('product.register', product())]);
    w.block([w.maker.tx('supply.commission', { gtin: GTIN, lot: 'L1', expiry: '2027-12-31', serials: ['S1'], eventTime: w.iso() })]);
    const shipBody = {
      to: w.pharmA.id,
      epcs: [{ gtin: GTIN, serial: 'S1' }],
      eventTime: w.iso(),
      transaction: 'INV-9',
      transactionDate: '2026-01-10',
      statement: true,
    };
    assert.deepEqual(w.block([w.wholesaler.tx('supply.ship', shipBody)]), ['NOT_HOLDER']);
    assert.deepEqual(w.block([w.maker.tx('supply.ship', { ...shipBody, statement: false })]), ['INVALID_BODY']);
    assert.deepEqual(w.block([w.maker.tx('supply.ship', shipBody)]), ['ok']);
    const recv = { epcs: [{ gtin: GTIN, serial: 'S1' }], eventTime: w.iso() };
    assert.deepEqual(w.block([w.pharmB.tx('supply.receive', recv)]), ['NOT_ADDRESSEE']);
    // In transit the shipper no longer holds it for a second sale.
    assert.deepEqual(w.block([w.maker.tx('supply.ship', { ...shipBody, to: w.pharmB.id, transaction: 'INV-10' })]), ['NOT_HOLDER']);
    assert.deepEqual(w.block([w.pharmA.tx('supply.receive', recv)]), ['ok']);
  });

  test('a shipment to an organization suspended in transit: stuck until its sender cancels it; only a dead addressee’s, only by the sender', () => {
    const w = world();
    stocked(w);
    const S3 = { gtin: GTIN, serial: 'S3' };
    const S4 = { gtin: GTIN, serial: 'S4' };
    const ship = (to: string, epcs: unknown[], cases: string[], n: string) =>
      w.pharmA.tx('supply.ship', {
        to,
        epcs,
        ...(cases.length === 0 ? {} : { cases }),
        eventTime: w.iso(),
        transaction: `INV-${n}`,
        transactionDate: '2026-01-11',
        statement: true,
      });
    const cancel = (by: ReturnType<typeof actor>, body: Record<string, unknown>) => by.tx('supply.cancel', { eventTime: w.iso(), ...body });
    // Pharmacy A sends S3 and the case to pharmacy B, and S4 to the wholesaler.
    assert.deepEqual(w.block([ship(w.pharmB.id, [S3], [CASE], '1'), ship(w.wholesaler.id, [S4], [], '2')]), ['ok', 'ok']);
    // Governance suspends pharmacy B (5 of the 7 members vote yes).
    const voters = [w.maker, w.wholesaler, w.pharmA, w.regulator, w.maker2];
    assert.deepEqual(w.block([w.maker.tx('gov.propose', { action: { type: 'org.suspend', org: w.pharmB.id }, votingPeriodMs: 600_000 })]), [
      'ok',
    ]);
    assert.deepEqual(
      w.block(voters.map((v) => v.tx('gov.vote', { proposal: 1, vote: 'yes' }))),
      voters.map(() => 'ok'),
    );
    assert.equal(w.state.getState(keys.identity(w.pharmB.id))?.includes('"suspended"'), true);
    // Stuck: B cannot receive; A can neither receive, ship again nor decommission what it sent.
    assert.deepEqual(w.block([w.pharmB.tx('supply.receive', { epcs: [S3], cases: [CASE], eventTime: w.iso() })]), ['REVOKED']);
    assert.deepEqual(w.block([w.pharmacistB.tx('supply.receive', { epcs: [S3], eventTime: w.iso() })]), ['REVOKED']);
    assert.deepEqual(w.block([w.pharmA.tx('supply.receive', { epcs: [S3], eventTime: w.iso() })]), ['NOT_ADDRESSEE']);
    assert.deepEqual(w.block([ship(w.wholesaler.id, [S3], [], '3')]), ['NOT_HOLDER']);
    assert.deepEqual(w.block([w.pharmA.tx('supply.decommission', { epcs: [S3], kind: 'destroy', reason: 'stuck', eventTime: w.iso() })]), [
      'NOT_HOLDER',
    ]);
    // A shipment whose addressee is active is the addressee's to receive: its sender cannot cancel it.
    assert.deepEqual(w.block([cancel(w.pharmA, { epcs: [S4] })]), ['WRONG_STATE']);
    assert.match(w.results.at(-1)?.[0]?.log ?? '', /can still receive it/);
    // Only the sender cancels, naming a packed package by its case; the suspended addressee cannot.
    assert.deepEqual(w.block([cancel(w.wholesaler, { epcs: [S3] })]), ['NOT_HOLDER']);
    assert.deepEqual(w.block([cancel(w.pharmB, { epcs: [S3] })]), ['REVOKED']);
    assert.deepEqual(w.block([cancel(w.pharmA, { epcs: [{ gtin: GTIN, serial: 'S1' }] })]), ['PACKED']);
    // One refused item refuses the whole cancellation: S4's addressee is active.
    assert.deepEqual(w.block([cancel(w.pharmA, { epcs: [S3, S4] })]), ['WRONG_STATE']);
    assert.equal(getPackage(w.state, GTIN, 'S3')?.inTransitTo, w.pharmB.id);
    assert.deepEqual(w.block([cancel(w.pharmA, { epcs: [S3], cases: [CASE] })]), ['ok']);
    for (const s of ['S1', 'S2', 'S3']) {
      const p = getPackage(w.state, GTIN, s);
      assert.equal(p?.holder, w.pharmA.id);
      assert.equal(p?.inTransitTo, null);
      // Back from outside its sender's control: a return, to be verified before it is sold on.
      assert.equal(p?.returnPending, true);
      assert.deepEqual(p?.heldBy, [w.maker.id, w.pharmA.id, w.wholesaler.id].sort());
    }
    assert.deepEqual(getCase(w.state, CASE), {
      sscc: CASE,
      holder: w.pharmA.id,
      inTransitTo: null,
      children: [`${GTIN}/S1`, `${GTIN}/S2`],
    });
    // The EPCIS trace records it: void_shipping by the sender, naming the addressee it did not reach.
    const voided = w.writes
      .flat()
      .filter((x) => x.key.startsWith('epcis/'))
      .map((x) => JSON.parse(x.value as string))
      .filter((e) => e.bizStep === 'void_shipping');
    assert.equal(voided.length, 1);
    assert.equal(voided[0]['medledger:recordedBy'], w.pharmA.id);
    assert.deepEqual(voided[0].destinationList, [{ type: 'owning_party', destination: `urn:medledger:org:${w.pharmB.id}` }]);
    assert.equal(
      w.writes.flat().some((x) => x.key.startsWith(prefixes.packageEvents(GTIN, 'S1')) && x.key.includes(voided[0].eventID.slice(14, 78))),
      true,
    );
    // Cancelled once: nothing is in transit any more.
    assert.deepEqual(w.block([cancel(w.pharmA, { epcs: [S3] })]), ['NOT_HOLDER']);
    // Sold on only after a logged verification, then to an active partner as usual.
    assert.deepEqual(w.block([ship(w.wholesaler.id, [S3], [], '4')]), ['RETURN_NOT_VERIFIED']);
    assert.deepEqual(w.block([w.pharmA.tx('supply.verify', S3)]), ['ok']);
    assert.deepEqual(w.block([ship(w.wholesaler.id, [S3], [], '5')]), ['ok']);
    assert.deepEqual(w.block([w.wholesaler.tx('supply.receive', { epcs: [S3, S4], eventTime: w.iso() })]), ['ok']);
  });

  test('the same event twice is refused; a packed item cannot ship alone', () => {
    const w = world();
    w.block([w.maker.tx('product.register', product())]);
    const body = { gtin: GTIN, lot: 'L1', expiry: '2027-12-31', serials: ['S1', 'S2'], eventTime: w.iso() };
    assert.deepEqual(w.block([w.maker.tx('supply.commission', body)]), ['ok']);
    assert.deepEqual(w.block([w.maker.tx('supply.commission', body)]), ['DUPLICATE_EVENT']);
    const future = new Date(w.now() + 3_600_000).toISOString();
    assert.deepEqual(w.block([w.maker.tx('supply.commission', { ...body, serials: ['S9'], eventTime: future })]), ['INVALID_BODY']);
    assert.deepEqual(w.block([w.maker.tx('supply.commission', { ...body, eventTime: w.iso() })]), ['ALREADY_REGISTERED']);
    w.block([w.maker.tx('supply.pack', { sscc: CASE, epcs: [{ gtin: GTIN, serial: 'S1' }], eventTime: w.iso() })]);
    const ship = {
      to: w.wholesaler.id,
      epcs: [{ gtin: GTIN, serial: 'S1' }],
      eventTime: w.iso(),
      transaction: 'INV-1',
      transactionDate: '2026-01-10',
      statement: true,
    };
    assert.deepEqual(w.block([w.maker.tx('supply.ship', ship)]), ['PACKED']);
    assert.deepEqual(w.block([w.maker.tx('supply.unpack', { sscc: CASE, eventTime: w.iso() })]), ['ok']);
    assert.equal(getCase(w.state, CASE), undefined);
    assert.deepEqual(w.block([w.maker.tx('supply.ship', { ...ship, eventTime: w.iso() })]), ['ok']);
  });

  test('a case cannot ship after one of its items was dispensed', () => {
    const w = world();
    stocked(w);
    const rx = prescribe(w);
    w.block([rx]);
    assert.deepEqual(w.block([dispense(w.pharmacistA, rx, [pkg('S1')])]), ['ok']);
    const back = {
      to: w.wholesaler.id,
      cases: [CASE],
      eventTime: w.iso(),
      transaction: 'RET-1',
      transactionDate: '2026-01-10',
      statement: true,
    };
    assert.deepEqual(w.block([w.pharmA.tx('supply.ship', back)]), ['CASE_BROKEN']);
  });
});

describe('verification and dispense', () => {
  test('counterfeit serial and lot mismatch answer No_match; dispensing them is refused', () => {
    const w = world();
    stocked(w);
    assert.deepEqual(verifyPackage(w.state, pkg('FAKE'), w.now()), { verified: false, reason: 'No_match_GTIN_Serial' });
    assert.deepEqual(verifyPackage(w.state, pkg('S3', 'L2'), w.now()), { verified: false, reason: 'No_match_GTIN_Serial_Lot' });
    assert.deepEqual(verifyPackage(w.state, pkg('S3', 'L1', '2028-01-01'), w.now()), {
      verified: false,
      reason: 'No_match_GTIN_Serial_Expiry',
    });
    assert.deepEqual(verifyPackage(w.state, { gtin: OTHER_GTIN, serial: 'S1' }, w.now()), { verified: false, reason: 'No_match_GTIN' });
    const rx = prescribe(w);
    w.block([rx]);
    assert.deepEqual(w.block([dispense(w.pharmacistA, rx, [pkg('FAKE')])]), ['NOT_VERIFIED']);
    assert.deepEqual(w.block([dispense(w.pharmacistA, rx, [pkg('S3', 'L2')])]), ['NOT_VERIFIED']);
    assert.equal(getPrescription(w.state, idOf(rx))?.fills, 0);
  });

  test('double dispense of the same serial is refused, and nothing of the second is written', () => {
    const w = world();
    stocked(w);
    const rx1 = prescribe(w);
    const rx2 = prescribe(w);
    w.block([rx1, rx2]);
    assert.deepEqual(w.block([dispense(w.pharmacistA, rx1, [pkg('S3')]), dispense(w.pharmacistA, rx2, [pkg('S3')])]), [
      'ok',
      'NOT_VERIFIED',
    ]);
    assert.deepEqual(verifyPackage(w.state, pkg('S3'), w.now()), { verified: false, reason: 'Dispensed' });
    assert.equal(getPackage(w.state, GTIN, 'S3')?.status, 'dispensed');
    // The pack is tied to the first prescription there, and only there: not on the package trading partners read.
    assert.deepEqual(
      getPrescription(w.state, idOf(rx1))?.dispensed.map((d) => d.serial),
      ['S3'],
    );
    assert.equal(JSON.stringify(getPackage(w.state, GTIN, 'S3')).includes(idOf(rx1)), false);
    assert.equal(getPrescription(w.state, idOf(rx2))?.fills, 0);
  });

  test('the same prescription at two pharmacies: only the pharmacy holding it dispenses', () => {
    const w = world();
    stocked(w);
    const rx = prescribe(w, { repeats: 0 });
    w.block([rx]);
    assert.deepEqual(w.block([dispense(w.pharmacistB, rx, [pkg('S3')])]), ['NOT_HOLDER']);
    assert.deepEqual(w.block([dispense(w.pharmacistA, rx, [pkg('S3')])]), ['ok']);
    assert.deepEqual(w.block([dispense(w.pharmacistA, rx, [pkg('S4')])]), ['RX_NO_FILLS']);
  });

  test('a fill too early is refused; after the interval the repeat fills; then no fills remain', () => {
    const w = world();
    stocked(w);
    const rx = prescribe(w);
    w.block([rx]);
    assert.deepEqual(w.block([dispense(w.pharmacistA, rx, [pkg('S3')])]), ['ok']);
    assert.deepEqual(w.block([dispense(w.pharmacistA, rx, [pkg('S4')])], 27 * DAY_MS), ['TOO_EARLY']);
    assert.deepEqual(w.block([dispense(w.pharmacistA, rx, [pkg('S4')])], DAY_MS), ['ok']);
    assert.deepEqual(w.block([dispense(w.pharmacistA, rx, [pkg('S1')])], 60 * DAY_MS), ['RX_NO_FILLS']);
  });

  test('an expired lot (by block time) does not verify and is not dispensed', () => {
    const w = world();
    w.block([w.maker.tx('product.register', product())]);
    w.block([w.maker.tx('supply.commission', { gtin: GTIN, lot: 'SHORT', expiry: '2026-01-20', serials: ['E1'], eventTime: w.iso() })]);
    const ship = {
      to: w.pharmA.id,
      epcs: [{ gtin: GTIN, serial: 'E1' }],
      eventTime: w.iso(),
      transaction: 'INV-1',
      transactionDate: '2026-01-10',
      statement: true,
    };
    w.block([w.maker.tx('supply.ship', ship)]);
    w.block([w.pharmA.tx('supply.receive', { epcs: [{ gtin: GTIN, serial: 'E1' }], eventTime: w.iso() })]);
    const rx = prescribe(w);
    w.block([rx]);
    assert.deepEqual(verifyPackage(w.state, pkg('E1', 'SHORT', '2026-01-20'), Date.parse('2026-01-20T23:59:59Z')), { verified: true });
    assert.deepEqual(w.block([dispense(w.pharmacistA, rx, [pkg('E1', 'SHORT', '2026-01-20')])], 11 * DAY_MS), ['NOT_VERIFIED']);
    assert.deepEqual(verifyPackage(w.state, pkg('E1', 'SHORT', '2026-01-20'), w.now()), { verified: false, reason: 'Expired' });
  });

  test('a recalled lot (by the regulator) is not dispensed; a wholesaler may not recall', () => {
    const w = world();
    stocked(w);
    const rx = prescribe(w);
    w.block([rx]);
    const recall = { gtin: GTIN, lot: 'L1', reason: 'contamination', eventTime: w.iso() };
    assert.deepEqual(w.block([w.wholesaler.tx('supply.recall', recall)]), ['UNAUTHORIZED']);
    assert.deepEqual(w.block([w.regulator.tx('supply.recall', recall)]), ['ok']);
    assert.deepEqual(w.block([dispense(w.pharmacistA, rx, [pkg('S3')])]), ['NOT_VERIFIED']);
    assert.deepEqual(verifyPackage(w.state, pkg('S3'), w.now()), { verified: false, reason: 'Recalled' });
  });

  test('a quarantined serial answers Suspect, a lot Illegitimate', () => {
    const w = world();
    stocked(w);
    assert.deepEqual(
      w.block([w.pharmA.tx('supply.quarantine', { gtin: GTIN, serial: 'S3', kind: 'suspect', reason: 'torn seal', eventTime: w.iso() })]),
      ['ok'],
    );
    assert.deepEqual(verifyPackage(w.state, pkg('S3'), w.now()), { verified: false, reason: 'Suspect' });
    assert.deepEqual(
      w.block([w.pharmA.tx('supply.quarantine', { gtin: GTIN, lot: 'L1', kind: 'illegitimate', reason: 'x', eventTime: w.iso() })]),
      ['UNAUTHORIZED'],
    );
    assert.deepEqual(
      w.block([w.maker.tx('supply.quarantine', { gtin: GTIN, lot: 'L1', kind: 'illegitimate', reason: 'not ours', eventTime: w.iso() })]),
      ['ok'],
    );
    assert.deepEqual(verifyPackage(w.state, pkg('S4'), w.now()), { verified: false, reason: 'Illegitimate' });
  });

  test('a quarantine only escalates: no one replaces an illegitimate determination with suspect, or repeats suspect', () => {
    const w = world();
    stocked(w);
    const q = (by: World['maker'], kind: string, target: Record<string, string>, reason = 'r') =>
      by.tx('supply.quarantine', { gtin: GTIN, ...target, kind, reason, eventTime: w.iso() });
    // The regulator determines S3 illegitimate; its holder may not turn that into its own 'suspect'.
    assert.deepEqual(w.block([q(w.regulator, 'illegitimate', { serial: 'S3' }, 'counterfeit')]), ['ok']);
    assert.deepEqual(
      w.block([
        q(w.pharmA, 'suspect', { serial: 'S3' }, 'just a torn seal'),
        q(w.pharmA, 'illegitimate', { serial: 'S3' }, 'again'),
        q(w.maker, 'suspect', { serial: 'S3' }),
      ]),
      ['WRONG_STATE', 'WRONG_STATE', 'WRONG_STATE'],
    );
    assert.equal(getPackage(w.state, GTIN, 'S3')?.quarantine?.by, w.regulator.id);
    assert.deepEqual(verifyPackage(w.state, pkg('S3'), w.now()), { verified: false, reason: 'Illegitimate' });
    // A suspect serial may be determined illegitimate, once; a second suspect is refused.
    assert.deepEqual(w.block([q(w.pharmA, 'suspect', { serial: 'S4' }), q(w.pharmA, 'suspect', { serial: 'S4' }, 'twice')]), [
      'ok',
      'WRONG_STATE',
    ]);
    assert.deepEqual(w.block([q(w.pharmA, 'illegitimate', { serial: 'S4' })]), ['ok']);
    // The same for a lot: the manufacturer may not downgrade the regulator's determination.
    assert.deepEqual(w.block([q(w.regulator, 'illegitimate', { lot: 'L1' }, 'diverted')]), ['ok']);
    assert.deepEqual(w.block([q(w.maker, 'suspect', { lot: 'L1' }, 'only suspect')]), ['WRONG_STATE']);
    assert.equal(getLotQuarantine(w.state, GTIN, 'L1')?.by, w.regulator.id);
  });

  test('a serial of another product is refused as WRONG_PRODUCT', () => {
    const w = world();
    stocked(w);
    const rx = prescribe(w, { rxnorm: '308182' });
    w.block([rx]);
    assert.deepEqual(w.block([dispense(w.pharmacistA, rx, [pkg('S3')])]), ['WRONG_PRODUCT']);
  });
});

describe('the MedicationDispense record a dispense writes', () => {
  test('the dispense anchors the pharmacy’s encrypted MedicationDispense in the patient’s records and names it on the fill', () => {
    const w = world();
    stocked(w);
    const rx = prescribe(w);
    w.block([rx]);
    const record = dispenseRecord(w.patient.id, w.pharmacistA.id);
    assert.deepEqual(w.block([dispense(w.pharmacistA, rx, [pkg('S3')], record)]), ['ok']);
    const meta = getRecord(w.state, record.record);
    assert.equal(meta?.patient, w.patient.id);
    assert.equal(meta?.author, w.pharmacistA.id);
    assert.equal(meta?.resourceType, 'MedicationDispense');
    assert.equal(meta?.category, 'medications');
    assert.equal(meta?.contentHash, record.contentHash);
    assert.deepEqual(Object.keys(meta?.envelopes ?? {}).sort(), [w.patient.id, w.pharmacistA.id].sort());
    assert.equal(w.state.getState(keys.patientRecord(w.patient.id, record.record)), '');
    assert.deepEqual(
      getPrescription(w.state, idOf(rx))?.dispensed.map((d) => d.record),
      [record.record],
    );
  });

  test('a dispense without its record, or with one sealed to an outsider or missing the patient, is refused and writes nothing', () => {
    const w = world();
    stocked(w);
    const rx = prescribe(w);
    w.block([rx]);
    const noRecord = w.pharmacistA.tx('medication.dispense', { rx: idOf(rx), items: [pkg('S3')] });
    const outsider = dispenseRecord(w.patient.id, w.pharmacistA.id, [w.patient.id, w.pharmacistA.id, w.pharmacistB.id]);
    const noPatient = dispenseRecord(w.patient.id, w.pharmacistA.id, [w.pharmacistA.id]);
    assert.deepEqual(
      w.block([noRecord, dispense(w.pharmacistA, rx, [pkg('S3')], outsider), dispense(w.pharmacistA, rx, [pkg('S3')], noPatient)]),
      ['INVALID_BODY', 'RECIPIENT_NOT_ALLOWED', 'RECIPIENT_MISSING'],
    );
    assert.equal(getRecord(w.state, outsider.record), undefined);
    assert.equal(getPackage(w.state, GTIN, 'S3')?.status, 'active');
    assert.equal(getPrescription(w.state, idOf(rx))?.fills, 0);
  });

  test('a refused dispense (too early) anchors no record; a record id already used is refused', () => {
    const w = world();
    stocked(w);
    const rx = prescribe(w);
    w.block([rx]);
    const first = dispenseRecord(w.patient.id, w.pharmacistA.id);
    assert.deepEqual(w.block([dispense(w.pharmacistA, rx, [pkg('S3')], first)]), ['ok']);
    const early = dispenseRecord(w.patient.id, w.pharmacistA.id);
    assert.deepEqual(w.block([dispense(w.pharmacistA, rx, [pkg('S4')], early)]), ['TOO_EARLY']);
    assert.equal(getRecord(w.state, early.record), undefined);
    const reused = { ...dispenseRecord(w.patient.id, w.pharmacistA.id), record: first.record };
    assert.deepEqual(w.block([dispense(w.pharmacistA, rx, [pkg('S4')], reused)], 28 * DAY_MS), ['RECORD_EXISTS']);
  });
});

describe('prescriptions', () => {
  test('a clinician prescribes only with the patient’s read-write consent covering a MedicationRequest', () => {
    const w = world();
    stocked(w);
    const stranger = actor();
    const staff = (a: ReturnType<typeof actor>) => ({
      publicKey: a.signing.publicKey,
      encryptionKey: a.encryption.publicKey,
      role: 'clinician',
    });
    assert.deepEqual(w.block([w.hospital.tx('staff.register', staff(stranger))]), ['ok']);
    // No consent at all: refused, nothing listed for the patient or the pharmacy.
    const unconsented = stranger.tx('rx.prescribe', rxBody(w));
    assert.deepEqual(w.block([unconsented]), ['NO_CONSENT']);
    assert.equal(getPrescription(w.state, idOf(unconsented)), undefined);
    const listed = (prefix: string) => [...w.state.values.keys()].filter((k) => k.startsWith(prefix));
    assert.deepEqual(listed(prefixes.rxIndex('p', w.patient.id)), []);
    assert.deepEqual(listed(prefixes.rxIndex('d', w.pharmA.id)), []);
    const grant = (scope: Record<string, string[]>, access: string, grantee = stranger.id) =>
      w.patient.tx('consent.grant', { patient: w.patient.id, grantee, scope, access, purpose: 'treatment' });
    // Read access, or write access to something else, is not enough.
    assert.deepEqual(w.block([grant({ categories: ['medications'] }, 'read'), grant({ categories: ['laboratory'] }, 'read-write')]), [
      'ok',
      'ok',
    ]);
    assert.deepEqual(w.block([stranger.tx('rx.prescribe', rxBody(w))]), ['NO_CONSENT']);
    // The organization's read-write grant on medications serves its clinician.
    const orgGrant = grant({ categories: ['medications'] }, 'read-write', w.hospital.id);
    assert.deepEqual(w.block([orgGrant]), ['ok']);
    const rx = stranger.tx('rx.prescribe', rxBody(w));
    assert.deepEqual(w.block([rx]), ['ok']);
    assert.equal(getPrescription(w.state, idOf(rx))?.prescriber, stranger.id);
    // Once the patient revokes it, no new prescription; the one written stands.
    assert.deepEqual(w.block([w.patient.tx('consent.revoke', { grant: idOf(orgGrant) })]), ['ok']);
    assert.deepEqual(w.block([stranger.tx('rx.prescribe', rxBody(w))]), ['NO_CONSENT']);
    assert.equal(getPrescription(w.state, idOf(rx))?.status, 'active');
  });

  test('controlled substances get no repeats; the list is the regulator’s', () => {
    const w = world();
    assert.deepEqual(w.block([w.maker.tx('rx.schedule', { add: [RXNORM], remove: [] })]), ['UNAUTHORIZED']);
    assert.deepEqual(w.block([w.regulator.tx('rx.schedule', { add: [RXNORM], remove: [] })]), ['ok']);
    assert.deepEqual(w.block([prescribe(w)]), ['CONTROLLED_NO_REPEATS']);
    const rx = prescribe(w, { repeats: 0 });
    assert.deepEqual(w.block([rx]), ['ok']);
    assert.equal(getPrescription(w.state, idOf(rx))?.controlled, true);
  });

  test('a prescription is not filled once its prescriber is revoked, and nothing of the refused dispense is written', () => {
    const w = world();
    stocked(w);
    const rx = prescribe(w);
    assert.deepEqual(w.block([rx]), ['ok']);
    // The hospital revokes the doctor: the doctor can no longer cancel, and the pharmacy no longer fills.
    assert.deepEqual(w.block([w.hospital.tx('staff.revoke', { id: w.doctor.id })]), ['ok']);
    const refused = dispense(w.pharmacistA, rx, [pkg('S3')]);
    assert.deepEqual(w.block([refused]), ['RX_INACTIVE']);
    assert.match(w.results.at(-1)?.[0]?.log ?? '', /no longer backed by its prescriber/);
    assert.equal(getPackage(w.state, GTIN, 'S3')?.status, 'active');
    assert.equal(getPrescription(w.state, idOf(rx))?.fills, 0);
    const record = (refused.body as { record: { record: string } }).record.record;
    assert.equal(getRecord(w.state, record), undefined);
  });

  test('only clinicians prescribe; the patient moves an unfilled prescription; the prescriber cancels', () => {
    const w = world();
    stocked(w);
    assert.deepEqual(w.block([w.pharmacistA.tx('rx.prescribe', rxBody(w))]), ['UNAUTHORIZED']);
    const rx = prescribe(w);
    w.block([rx]);
    assert.deepEqual(w.block([w.doctor.tx('rx.transfer', { rx: idOf(rx), pharmacy: w.pharmB.id })]), ['UNAUTHORIZED']);
    assert.deepEqual(w.block([w.patient.tx('rx.transfer', { rx: idOf(rx), pharmacy: w.pharmB.id })]), ['ok']);
    assert.deepEqual(w.block([dispense(w.pharmacistA, rx, [pkg('S3')])]), ['NOT_HOLDER']);
    assert.equal(w.state.getState(keys.prescription(idOf(rx))) !== undefined, true);
    assert.deepEqual(w.block([w.patient.tx('rx.cancel', { rx: idOf(rx) })]), ['UNAUTHORIZED']);
    assert.deepEqual(w.block([w.doctor.tx('rx.cancel', { rx: idOf(rx) })]), ['ok']);
    assert.deepEqual(w.block([dispense(w.pharmacistB, rx, [pkg('S3')])]), ['RX_INACTIVE']);
    const filled = prescribe(w);
    w.block([filled]);
    w.block([dispense(w.pharmacistA, filled, [pkg('S3')])]);
    assert.deepEqual(w.block([w.patient.tx('rx.transfer', { rx: idOf(filled), pharmacy: w.pharmB.id })]), ['WRONG_STATE']);
  });

  test('a prescription moved A → B → A is indexed once, at the pharmacy holding it, in the order it arrived', () => {
    const w = world();
    stocked(w);
    const rx = prescribe(w);
    const other = prescribe(w);
    assert.deepEqual(w.block([rx]), ['ok']);
    assert.deepEqual(w.block([other]), ['ok']);
    const id = idOf(rx);
    const indexed = (pharmacy: string) =>
      [...w.state.values.keys()].filter((k) => k.startsWith(prefixes.rxIndex('d', pharmacy))).map((k) => k.split('/').slice(2).join('/'));
    const height = (n: number) => String(n).padStart(12, '0');
    const created = getPrescription(w.state, id)?.createdAt.height as number;
    const move = (to: string) => w.block([w.patient.tx('rx.transfer', { rx: id, pharmacy: to })]);
    assert.deepEqual(move(w.pharmB.id), ['ok']);
    const atB = w.log.length;
    // Out of A's index, into B's at the height it arrived.
    assert.deepEqual(indexed(w.pharmA.id), [`${height(created + 1)}/${idOf(other)}`]);
    assert.deepEqual(indexed(w.pharmB.id), [`${height(atB)}/${id}`]);
    assert.deepEqual(getPrescription(w.state, id)?.transferredAt, { height: atB, time: w.now() });
    assert.deepEqual(move(w.pharmA.id), ['ok']);
    const backAtA = w.log.length;
    // Back at A: listed once, after the prescription that stayed; B no longer lists it.
    assert.deepEqual(indexed(w.pharmA.id), [`${height(created + 1)}/${idOf(other)}`, `${height(backAtA)}/${id}`]);
    assert.deepEqual(indexed(w.pharmB.id), []);
    // The patient's own index is untouched by transfers.
    assert.equal([...w.state.values.keys()].filter((k) => k.startsWith(prefixes.rxIndex('p', w.patient.id))).length, 2);
    // A refused transfer (to the pharmacy already holding it) changes no index.
    assert.deepEqual(move(w.pharmA.id), ['INVALID_BODY']);
    assert.deepEqual(indexed(w.pharmA.id), [`${height(created + 1)}/${idOf(other)}`, `${height(backAtA)}/${id}`]);
    // And A fills it.
    assert.deepEqual(w.block([dispense(w.pharmacistA, rx, [pkg('S3')])]), ['ok']);
  });
});

test('determinism: two independent applications write byte-identical state', () => {
  const w = world();
  stocked(w);
  const rx = prescribe(w);
  w.block([rx]);
  w.block([dispense(w.pharmacistA, rx, [pkg('S1')])]);
  w.block([w.regulator.tx('supply.recall', { gtin: GTIN, lot: 'L1', reason: 'recall', eventTime: w.iso() })]);
  const state = replayIndependently(CHAIN, w);
  assert.equal(getPackage(state, GTIN, 'S1')?.status, 'dispensed');
});
