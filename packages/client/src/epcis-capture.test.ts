// EPCIS 2.0 capture: documents that violate the schema are refused whole, with the Ajv
// findings named; valid documents become the supply transactions that record their events.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeConnection } from './connection.js';
import { captureEpcis, epcisToTransactions } from './epcis-capture.js';
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
  bizStep: 'urn:epcglobal:cbv:bizstep:commissioning',
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

const refused = (doc: unknown, message: RegExp) =>
  assert.throws(
    () => epcisToTransactions(doc),
    (e: unknown) => e instanceof ClientError && e.code === 'INVALID_ARGUMENT' && message.test(e.message),
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

test('EPCIS documents that violate the schema are refused whole, naming the violation', () => {
  refused({ ...sampleDocument([commissioning]), schemaVersion: '1.2' }, /schemaVersion must be equal to constant/);
  refused(
    sampleDocument([{ ...commissioning, action: 'CREATE' }]),
    /\/epcisBody\/eventList\/0\/action must be equal to one of the allowed values/,
  );
  refused(sampleDocument([{ ...commissioning, eventTime: 'yesterday' }]), /eventTime must match format "date-time"/);
  refused(sampleDocument([{ ...commissioning, eventTimeZoneOffset: '+25:00' }]), /eventTimeZoneOffset must match pattern/);
  refused(sampleDocument([{ ...shipping, epcList: [] }]), /epcList must NOT have fewer than 1 items/);
  refused(sampleDocument([{ ...packing, parentID: undefined }]), /must have required property 'parentID'/);
  refused(sampleDocument([]), /eventList must NOT have fewer than 1 items/);
  refused(sampleDocument([{ ...commissioning, bizStep: 'Commissioning!' }]), /bizStep must match pattern/);
});

test('schema-valid events the ledger cannot record are refused by name', () => {
  refused(sampleDocument([{ ...commissioning, epcList: ['https://id.gs1.org/01/00036000291453/21/S1'] }]), /not a valid GS1 Digital Link/);
  refused(sampleDocument([{ ...shipping, 'medledger:transactionStatement': false }]), /DSCSA statement/);
  refused(sampleDocument([{ ...commissioning, ilmd: {} }]), /cbvmda:lotNumber/);
  refused(sampleDocument([{ ...commissioning, bizStep: 'inspecting' }]), /not captured/);
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
  refused(sampleDocument([{ ...unpacking, action: 'ADD' }]), /only packing \(ADD\) and unpacking \(DELETE\)/);
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
