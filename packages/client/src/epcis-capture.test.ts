// EPCIS 2.0 capture: documents that violate GS1's published EPCIS 2.0 schema are refused whole
// (INVALID_ARGUMENT, each finding with its JSON pointer); valid EPCIS 2.0 outside MedLedger's
// profile is refused as not supported (EPCIS_NOT_SUPPORTED); valid documents become the supply
// transactions that record their events.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeConnection } from './connection.js';
import { captureEpcis, EpcisValidationError, epcisToTransactions } from './epcis-capture.js';
import { ClientError } from './errors.js';

const GTIN = '00036000291452';
const SSCC = '003614141000000015';
const ORG = 'ab'.repeat(20);
const sgtin = (s: string) => `https://id.gs1.org/01/${GTIN}/21/${s}`;

function sampleDocument(events: unknown[]) {
  return {
    '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: '2026-12-06T10:00:00Z',
    epcisBody: { eventList: events },
  };
}
const commissioning = {
  type: 'ObjectEvent',
  eventTime: '2026-12-06T10:00:00+01:00',
  eventTimeZoneOffset: '+01:00',
  action: 'ADD',
  bizStep: 'https://ref.gs1.org/cbv/BizStep-commissioning',
  disposition: 'active',
  epcList: [sgtin('S1'), sgtin('S2')],
  ilmd: { 'cbvmda:lotNumber': 'L1', 'cbvmda:itemExpirationDate': '2028-12-31' },
};
const shipping = {
  type: 'ObjectEvent',
  eventTime: '2026-12-06T10:05:00Z',
  eventTimeZoneOffset: '+00:00',
  action: 'OBSERVE',
  bizStep: 'https://ref.gs1.org/cbv/BizStep-shipping',
  disposition: 'in_transit',
  epcList: [sgtin('S1'), `https://id.gs1.org/00/${SSCC}`],
  bizTransactionList: [{ type: 'inv', bizTransaction: 'urn:example:inv:INV-7' }],
  destinationList: [{ type: 'owning_party', destination: `urn:medledger:org:${ORG}` }],
  'medledger:transactionDate': '2026-12-06',
  'medledger:transactionStatement': true,
};
const packing = {
  type: 'AggregationEvent',
  eventTime: '2026-12-06T10:01:00Z',
  eventTimeZoneOffset: '+00:00',
  action: 'ADD',
  bizStep: 'packing',
  parentID: `https://id.gs1.org/00/${SSCC}`,
  childEPCs: [sgtin('S2')],
};

const refused = (doc: unknown, message: RegExp, code = 'INVALID_ARGUMENT') =>
  assert.throws(
    () => epcisToTransactions(doc),
    (e: unknown) => e instanceof ClientError && e.code === code && message.test(e.message),
  );
/** Refused by the published EPCIS 2.0 schema, with a finding at `pointer`. */
const notEpcis = (doc: unknown, pointer: string, message: RegExp) =>
  assert.throws(
    () => epcisToTransactions(doc),
    (e: unknown) =>
      e instanceof EpcisValidationError &&
      e.code === 'INVALID_ARGUMENT' &&
      e.violations.some((v) => v.pointer === pointer && message.test(v.message)) &&
      e.message.includes(pointer),
  );
/** Valid EPCIS 2.0, refused because MedLedger does not record it, with a finding at `pointer`. */
const unsupported = (doc: unknown, pointer: string, message: RegExp) =>
  assert.throws(
    () => epcisToTransactions(doc),
    (e: unknown) =>
      e instanceof EpcisValidationError &&
      e.code === 'EPCIS_NOT_SUPPORTED' &&
      /valid EPCIS 2\.0, but MedLedger does not support it/.test(e.message) &&
      e.violations.some((v) => v.pointer === pointer && message.test(v.message)),
  );

test('a valid EPCIS 2.0 document becomes commission, pack and ship transactions', () => {
  const steps = epcisToTransactions(sampleDocument([commissioning, packing, shipping]));
  assert.deepEqual(
    steps.map((s) => s.kind),
    ['supply.commission', 'supply.pack', 'supply.ship'],
  );
  assert.deepEqual(steps[0]?.body, {
    gtin: GTIN,
    lot: 'L1',
    expiry: '2028-12-31',
    serials: ['S1', 'S2'],
    eventTime: '2026-12-06T09:00:00.000Z',
  });
  assert.deepEqual(steps[2]?.body, {
    to: ORG,
    epcs: [{ gtin: GTIN, serial: 'S1' }],
    cases: [SSCC],
    eventTime: '2026-12-06T10:05:00.000Z',
    transaction: 'INV-7',
    transactionDate: '2026-12-06',
    statement: true,
  });
});

test('EPCIS documents that violate the published EPCIS 2.0 schema are refused whole, with the pointer of each violation', () => {
  const e0 = '/epcisBody/eventList/0';
  notEpcis({ ...sampleDocument([commissioning]), schemaVersion: 'two' }, '/schemaVersion', /must match pattern/);
  notEpcis({ ...sampleDocument([commissioning]), creationDate: 42 }, '/creationDate', /must be string/);
  notEpcis(sampleDocument([{ ...commissioning, action: 'CREATE' }]), `${e0}/action`, /must be equal to one of the allowed values/);
  notEpcis(sampleDocument([{ ...commissioning, eventTime: 'yesterday' }]), `${e0}/eventTime`, /must match format "date-time"/);
  notEpcis(sampleDocument([{ ...commissioning, eventTimeZoneOffset: '+25:00' }]), `${e0}/eventTimeZoneOffset`, /must match pattern/);
  notEpcis(
    sampleDocument([{ ...commissioning, eventTimeZoneOffset: undefined }]),
    `${e0}/eventTimeZoneOffset`,
    /must have required property/,
  );
  notEpcis(sampleDocument([{ ...commissioning, action: undefined }]), `${e0}/action`, /must have required property 'action'/);
  notEpcis(sampleDocument([{ ...shipping, epcList: ['not a uri'] }]), `${e0}/epcList/0`, /must match format "uri"/);
  notEpcis(sampleDocument([{ ...commissioning, bizStep: 'Commissioning!' }]), `${e0}/bizStep`, /must match format "uri"/);
  // EPCIS 2.0's JSON binding takes CBV values bare or as GS1 Web URIs, not as EPCIS 1.x URNs.
  notEpcis(
    sampleDocument([{ ...commissioning, bizStep: 'urn:epcglobal:cbv:bizstep:commissioning' }]),
    `${e0}/bizStep`,
    /must match pattern/,
  );
  notEpcis({ ...sampleDocument([commissioning]), '@context': undefined }, '/@context', /must have required property/);
  notEpcis(
    sampleDocument([{ ...shipping, destinationList: [{ type: 'owning_party' }] }]),
    `${e0}/destinationList/0/destination`,
    /required/,
  );
  // A finding deep in the second event points there, not at the document.
  notEpcis(sampleDocument([commissioning, { ...packing, childEPCs: 'S2' }]), '/epcisBody/eventList/1/childEPCs', /must be array/);
});

test("valid EPCIS 2.0 outside MedLedger's profile is refused as not supported, not as a schema violation", () => {
  const transformation = {
    type: 'TransformationEvent',
    eventTime: '2026-12-06T10:00:00Z',
    eventTimeZoneOffset: '+00:00',
    inputEPCList: [sgtin('S1')],
    outputEPCList: [sgtin('S9')],
    transformationID: 'urn:example:transformation:T1',
    bizStep: 'repackaging',
  };
  unsupported(sampleDocument([commissioning, transformation]), '/epcisBody/eventList/1/type', /must be equal to one of the allowed values/);
  const sensing = {
    type: 'ObjectEvent',
    eventTime: '2026-12-06T10:00:00Z',
    eventTimeZoneOffset: '+00:00',
    action: 'OBSERVE',
    bizStep: 'sensor_reporting',
    readPoint: { id: 'urn:epc:id:sgln:0614141.00777.0' },
    sensorElementList: [{ sensorReport: [{ type: 'Temperature', value: 4.5, uom: 'CEL' }] }],
  };
  unsupported(sampleDocument([sensing]), '/epcisBody/eventList/0/epcList', /must have required property 'epcList'/);
  unsupported({ ...sampleDocument([commissioning]), schemaVersion: '1.2' }, '/schemaVersion', /must be equal to constant/);
  unsupported(sampleDocument([{ ...shipping, epcList: [] }]), '/epcisBody/eventList/0/epcList', /must NOT have fewer than 1 items/);
  unsupported(
    sampleDocument([{ ...packing, parentID: undefined }]),
    '/epcisBody/eventList/0/parentID',
    /must have required property 'parentID'/,
  );
  unsupported(sampleDocument([]), '/epcisBody/eventList', /must NOT have fewer than 1 items/);
  // Each fixture above is valid EPCIS 2.0 as GS1 publishes it: only the profile refuses it.
  for (const doc of [sampleDocument([transformation]), sampleDocument([sensing]), sampleDocument([])])
    assert.throws(
      () => epcisToTransactions(doc),
      (e: unknown) => e instanceof ClientError && e.code === 'EPCIS_NOT_SUPPORTED',
    );
});

test('schema-valid events the ledger cannot record are refused by name', () => {
  refused(sampleDocument([{ ...commissioning, epcList: ['https://id.gs1.org/01/00036000291453/21/S1'] }]), /not a valid GS1 Digital Link/);
  refused(sampleDocument([{ ...shipping, 'medledger:transactionStatement': false }]), /DSCSA statement/);
  refused(sampleDocument([{ ...commissioning, ilmd: {} }]), /cbvmda:lotNumber/);
  refused(sampleDocument([{ ...commissioning, bizStep: 'inspecting' }]), /not captured/, 'EPCIS_NOT_SUPPORTED');
});

test('an unpacking AggregationEvent DELETE becomes supply.unpack, keeping the children it names to check against the case', () => {
  const unpacking = { ...packing, action: 'DELETE', bizStep: 'unpacking', eventTime: '2026-12-06T11:00:00Z' };
  const [named, all] = [
    epcisToTransactions(sampleDocument([unpacking]))[0],
    epcisToTransactions(sampleDocument([{ ...unpacking, childEPCs: undefined }]))[0],
  ];
  assert.deepEqual(named, {
    kind: 'supply.unpack',
    body: { sscc: SSCC, eventTime: '2026-12-06T11:00:00.000Z' },
    childEPCs: [{ gtin: GTIN, serial: 'S2' }],
  });
  // EPCIS lets a DELETE name no children: all of them.
  assert.deepEqual(all, { kind: 'supply.unpack', body: { sscc: SSCC, eventTime: '2026-12-06T11:00:00.000Z' } });
  refused(sampleDocument([{ ...unpacking, childEPCs: [`https://id.gs1.org/00/${SSCC}`] }]), /childEPCs must be packages/);
  refused(sampleDocument([{ ...unpacking, action: 'ADD' }]), /only packing \(ADD\) and unpacking \(DELETE\)/, 'EPCIS_NOT_SUPPORTED');
});

/** A connection that must not be used: these documents are refused before anything is read or sent. */
const unused = new Proxy({} as NodeConnection, {
  get(_, name) {
    throw new Error(`the connection was used (${String(name)})`);
  },
});

test('a document that cannot be one capture is refused before anything is read or sent', async () => {
  // One partner signs a capture: a receive of what the same document ships can never pass.
  const receiving = { ...shipping, bizStep: 'receiving', disposition: 'in_progress', eventTime: '2026-12-06T10:06:00Z' };
  await assert.rejects(
    captureEpcis(unused, sampleDocument([commissioning, shipping, receiving])),
    (e: unknown) =>
      e instanceof ClientError &&
      e.code === 'INVALID_ARGUMENT' &&
      /eventList\[2\] receives what eventList\[1\] ships in the same document/.test(e.message),
  );
});
