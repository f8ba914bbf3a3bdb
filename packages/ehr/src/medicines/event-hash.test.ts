// The CBV 2.0 EPCIS Event Hash ID against vectors. The expected ids were computed by GS1's
// reference implementation, epcis-event-hash-generator 1.9.3 (PyPI), from EPCIS 2.0 JSON-LD
// documents holding these same events (context https://ref.gs1.org/standards/epcis/2.0.0/
// epcis-context.jsonld plus {"medledger": "urn:medledger:epcis:"}); its pre-hash strings are
// quoted where a normalisation rule is the point of the vector.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { sha256HexOfText } from '@medledger/crypto';
import { eventHashId, eventPreHash, storedEventHashId } from './event-hash.js';
import { type EpcisEventBody, storedEventJson } from './events.js';
import { dispense, GTIN, pkg, prescribe, stocked, world } from './test-world.js';

const SN1 = 'https://id.gs1.org/01/00300010000010/21/SN1';
const SN2 = 'https://id.gs1.org/01/00300010000010/21/SN2';
const CASE = 'https://id.gs1.org/00/003000100000000017';

test('commissioning: epcList sorted, CBV values as Web URIs, eventTime to milliseconds, ilmd fields sorted', () => {
  const event: EpcisEventBody = {
    type: 'ObjectEvent',
    eventTime: '2026-12-06T10:00:00Z',
    action: 'ADD',
    bizStep: 'commissioning',
    disposition: 'active',
    epcList: [SN2, SN1],
    ilmd: { 'cbvmda:lotNumber': 'L1', 'cbvmda:itemExpirationDate': '2028-12-31' },
  };
  assert.equal(
    eventPreHash(event),
    'eventType=ObjectEventeventTime=2026-12-06T10:00:00.000ZeventTimeZoneOffset=+00:00' +
      `epcListepc=${SN1}epc=${SN2}action=ADDbizStep=https://ref.gs1.org/cbv/BizStep-commissioning` +
      'disposition=https://ref.gs1.org/cbv/Disp-activeilmdcbvmda:itemExpirationDate=2028-12-31cbvmda:lotNumber=L1',
  );
  assert.equal(eventHashId(event), 'ni:///sha-256;b2c0057e88c6ac4b0b8db997bc881dbc96af39a658dcdcff38fe0c14f6aeca74?ver=CBV2.0');
});

test('shipping: business transaction, source and destination lists with type first, extensions as {namespace}name', () => {
  const event: EpcisEventBody = {
    type: 'ObjectEvent',
    eventTime: '2026-12-06T10:00:05.120Z',
    action: 'OBSERVE',
    bizStep: 'shipping',
    disposition: 'in_transit',
    epcList: [SN1, CASE],
    bizTransactionList: [{ type: 'inv', bizTransaction: 'urn:medledger:invoice:INV-1' }],
    sourceList: [{ type: 'owning_party', source: 'urn:medledger:org:aaaa' }],
    destinationList: [{ type: 'owning_party', destination: 'urn:medledger:org:bbbb' }],
    'medledger:transactionStatement': true,
    'medledger:transactionDate': '2026-12-06',
  };
  assert.equal(eventHashId(event), 'ni:///sha-256;10cb2161bf1813962fca25c8a53a13370e7b1baa1222ac0fa5fffbdcacaa3e28?ver=CBV2.0');
});

test('packing: an AggregationEvent with parentID before childEPCs', () => {
  const event: EpcisEventBody = {
    type: 'AggregationEvent',
    eventTime: '2026-12-06T10:01:00Z',
    action: 'ADD',
    bizStep: 'packing',
    disposition: 'in_progress',
    parentID: CASE,
    childEPCs: [SN1],
  };
  assert.equal(eventHashId(event), 'ni:///sha-256;c965cc1850e4e1aae7954fd599d6dff3312751b8f8066305b838d438ba42de1f?ver=CBV2.0');
});

test('recall: a lot as a quantityList epcClass, and a text extension', () => {
  const event: EpcisEventBody = {
    type: 'ObjectEvent',
    eventTime: '2026-12-06T10:02:00Z',
    action: 'OBSERVE',
    bizStep: 'holding',
    disposition: 'recalled',
    quantityList: [{ epcClass: 'https://id.gs1.org/01/00300010000010/10/L1' }],
    'medledger:reason': 'contamination',
  };
  assert.equal(eventHashId(event), 'ni:///sha-256;b4a3eba2fbb2099ced6b28fccc1093bdd1644d2bf2d16e10cf9eaa08636df992?ver=CBV2.0');
});

test('several list entries sorted, nested extension objects by sorted field, numbers without leading zeros or trailing zeros', () => {
  const event: EpcisEventBody = {
    type: 'ObjectEvent',
    eventTime: '2026-12-06T10:00:05Z',
    action: 'OBSERVE',
    bizStep: 'shipping',
    disposition: 'in_transit',
    epcList: [SN1],
    bizTransactionList: [
      { type: 'po', bizTransaction: 'urn:medledger:inv:zz:PO-2' },
      { type: 'inv', bizTransaction: 'urn:medledger:inv:aa:INV-1' },
    ],
    sourceList: [
      { type: 'owning_party', source: 'urn:medledger:org:aaaa' },
      { type: 'location', source: 'urn:medledger:org:0000' },
    ],
    destinationList: [{ type: 'owning_party', destination: 'urn:medledger:org:bbbb' }],
    'medledger:transactionDate': '2026-12-06',
    'medledger:transactionInformation': [
      {
        gtin: '00300010000010',
        lot: '0123',
        expiry: '2028-12-31',
        count: 2,
        ndc: '12345-678-90',
        name: 'Amox 500',
        strength: '500 mg',
        form: 'capsule',
      },
      {
        gtin: '00300010000027',
        lot: '12e3',
        expiry: '2028-12-31',
        count: 1,
        ndc: '12345-678-91',
        name: 'B',
        strength: '1.50',
        form: 'tablet',
      },
    ],
    'medledger:transactionStatement': true,
  };
  const pre = eventPreHash(event);
  assert.ok(
    pre.includes(
      'bizTransactionListtype=https://ref.gs1.org/cbv/BTT-invbizTransaction=urn:medledger:inv:aa:INV-1' +
        'type=https://ref.gs1.org/cbv/BTT-pobizTransaction=urn:medledger:inv:zz:PO-2destinationList',
    ),
  );
  assert.ok(pre.includes('{urn:medledger:epcis:}transactionInformationcount=1expiry=2028-12-31form=tabletgtin=300010000027lot=12000'));
  assert.ok(pre.includes('strength=1.5{urn:medledger:epcis:}transactionInformationcount=2'));
  assert.ok(pre.endsWith('{urn:medledger:epcis:}transactionStatement=True'));
  assert.equal(eventHashId(event), 'ni:///sha-256;54a8798cb421f67caa15e74a93f5d925c37a388d7842c36a224b4e001e008cb6?ver=CBV2.0');
});

test('a numeric lot loses its leading zeros; a small number is written as Python writes it; values are trimmed', () => {
  const commissioning: EpcisEventBody = {
    type: 'ObjectEvent',
    eventTime: '2026-12-06T10:00:00Z',
    action: 'ADD',
    bizStep: 'commissioning',
    disposition: 'active',
    epcList: ['https://id.gs1.org/01/00300010000010/21/123'],
    ilmd: { 'cbvmda:lotNumber': '0042', 'cbvmda:itemExpirationDate': '2028-12-31' },
  };
  assert.ok(eventPreHash(commissioning).endsWith('cbvmda:lotNumber=42'));
  assert.equal(eventHashId(commissioning), 'ni:///sha-256;f9e41ac0f4ba698122550317f11c1c864a3dd1b1c44049486a83bf685a3dff8b?ver=CBV2.0');
  const quarantine: EpcisEventBody = {
    type: 'ObjectEvent',
    eventTime: '2026-12-06T10:02:00Z',
    action: 'OBSERVE',
    bizStep: 'holding',
    disposition: 'non_sellable_other',
    epcList: ['https://id.gs1.org/01/00300010000010/21/A'],
    'medledger:quarantine': 'suspect',
    'medledger:reason': '  1e-7 ',
  };
  assert.ok(eventPreHash(quarantine).endsWith('{urn:medledger:epcis:}reason=1e-07'));
  assert.equal(eventHashId(quarantine), 'ni:///sha-256;b00889e5ab6c595da3d9a7580df91b1d35c12da6c831a6e57c0ec76b4f2284a3?ver=CBV2.0');
});

test('the id is the same whatever the order of lists and fields, and differs when the event does', () => {
  const a: EpcisEventBody = {
    type: 'ObjectEvent',
    eventTime: '2026-12-06T10:00:00Z',
    action: 'ADD',
    bizStep: 'commissioning',
    disposition: 'active',
    epcList: [SN1, SN2],
    ilmd: { 'cbvmda:lotNumber': 'L1', 'cbvmda:itemExpirationDate': '2028-12-31' },
  };
  const reordered = { ...a, epcList: [SN2, SN1], ilmd: { 'cbvmda:itemExpirationDate': '2028-12-31', 'cbvmda:lotNumber': 'L1' } };
  assert.equal(eventHashId(reordered), eventHashId(a));
  assert.equal(eventHashId({ ...a, eventTime: '2026-12-06T10:00:00.000Z' }), eventHashId(a), 'the same instant');
  assert.equal(eventHashId({ ...a, bizStep: 'urn:epcglobal:cbv:bizstep:commissioning' }), eventHashId(a), 'URN and Web URI forms');
  assert.notEqual(eventHashId({ ...a, eventTime: '2026-12-06T10:00:01Z' }), eventHashId(a));
  assert.notEqual(eventHashId({ ...a, epcList: [SN1] }), eventHashId(a));
});

test('the ni URI of a pre-hash string published with the reference implementation (epcisDocWithSingleEvent)', () => {
  // This published vector checks the hashing and ni formatting step alone: its pre-hash puts a
  // business transaction's id before its type, an older form of the rule than CBV 2.0's type first.
  const published =
    'eventType=ObjectEventeventTime=2022-02-17T02:33:31.116ZeventTimeZoneOffset=-06:00epcListepc=https://id.gs1.org/01/10614141073464/21/2017' +
    'epc=https://id.gs1.org/01/10614141073464/21/2018action=OBSERVEbizStep=https://ref.gs1.org/cbv/BizStep-shipping' +
    'disposition=https://ref.gs1.org/cbv/Disp-in_transitreadPointid=https://id.gs1.org/414/0614141073467/254/1234' +
    'bizTransactionListbizTransaction=http://transaction.acme.com/po/12345678type=https://ref.gs1.org/cbv/BTT-po';
  assert.equal(
    `ni:///sha-256;${createHash('sha256').update(published, 'utf8').digest('hex')}?ver=CBV2.0`,
    'ni:///sha-256;3e0f2437f4cb5e8a1b832b769c0eed1bf3e1421f14061132e9800ded03f10182?ver=CBV2.0',
  );
});

test('every event the rules store carries the id a client recomputes from the stored event (storedEventHashId)', () => {
  const w = world();
  stocked(w);
  const rx = prescribe(w);
  w.block([rx]);
  assert.deepEqual(w.block([dispense(w.pharmacistA, rx, [pkg('S3')])]), ['ok']);
  const stored = w.writes
    .flat()
    .filter((x) => x.key.startsWith('epcis/') && x.value !== null)
    .map((x) => JSON.parse(x.value as string) as Record<string, unknown>);
  // commission, pack, two ships, two receives, the dispense
  assert.equal(stored.length, 7);
  for (const e of stored) assert.equal(storedEventHashId(e), e.eventID, String(e.bizStep));
  // Any change to a hashed field changes the recomputed id; stored-only fields do not.
  const first = stored[0] as Record<string, unknown>;
  assert.notEqual(storedEventHashId({ ...first, bizStep: 'shipping' }), first.eventID);
  assert.equal(storedEventHashId({ ...first, 'medledger:height': 999 }), first.eventID);
});

test('stored events are byte for byte the spread of the event and its stored-only fields, and Node and browser hashes agree', () => {
  const w = world();
  stocked(w);
  const rx = prescribe(w);
  w.block([rx]);
  assert.deepEqual(w.block([dispense(w.pharmacistA, rx, [pkg('S3')])]), ['ok']);
  assert.deepEqual(
    w.block([
      w.pharmA.tx('supply.decommission', { epcs: [{ gtin: GTIN, serial: 'S4' }], kind: 'destroy', reason: 'damaged', eventTime: w.iso() }),
      w.regulator.tx('supply.quarantine', { gtin: GTIN, lot: 'L1', kind: 'suspect', reason: 'odd', eventTime: w.iso() }),
      w.regulator.tx('supply.recall', { gtin: GTIN, lot: 'L1', reason: 'recall', eventTime: w.iso() }),
    ]),
    ['ok', 'ok', 'ok'],
  );
  const values = w.writes.flat().filter((x) => x.key.startsWith('epcis/') && x.value !== null);
  assert.equal(values.length, 10);
  const storedOnly = new Set(['eventID', 'eventTimeZoneOffset', 'recordTime', 'medledger:recordedBy', 'medledger:height']);
  for (const { value } of values) {
    const all = JSON.parse(value as string) as Record<string, unknown>;
    const event = Object.fromEntries(Object.entries(all).filter(([k]) => !storedOnly.has(k))) as unknown as EpcisEventBody;
    const stored = Object.fromEntries(Object.entries(all).filter(([k]) => storedOnly.has(k))) as Parameters<typeof storedEventJson>[1];
    // The stored-only fields come last, in this order, as `{...event, eventID, …}` wrote them.
    assert.deepEqual(Object.keys(all).slice(-5), [...storedOnly]);
    assert.equal(storedEventJson(event, stored), JSON.stringify({ ...event, ...stored }));
    assert.equal(value, JSON.stringify({ ...event, ...stored }));
    assert.equal(eventHashId(event, sha256HexOfText), eventHashId(event), 'node:crypto and the browser-safe SHA-256 agree');
  }
});
