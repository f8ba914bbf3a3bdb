// EPCIS 2.0 capture on a real 4-validator network over HTTP. An unpack: a manufacturer captures
// commission, pack and ship of a case in one document (one supply.capture transaction), the
// wholesaler receives it and captures its unpack (AggregationEvent DELETE); both aggregation
// events are read back by their Event Hash IDs, proven against the genesis; the packages stand
// alone again in every node's state, and one of them ships on by itself. Atomicity: a document
// whose fourth event is refused records none of its events on any validator.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ClientError, getEpcisEvent, getPackage, MedLedgerClient, medicinesTx, TrustedGenesis, traceProduct } from '@medledger/client';
import { captureEpcis } from '@medledger/client/epcis';
import { keys as stateKeys } from '@medledger/ehr';
import { initNetwork, loadHome, MedLedgerNode, type OrgKeyFile, readOrgKey } from '@medledger/node';
import { freePorts, TEST_PASSPHRASE, waitFor } from '@medledger/node/testing';
import { runCli } from './testing/cli.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-epcis-unpack-'));
const trusted = () => TrustedGenesis.fromDocument(JSON.parse(readFileSync(join(dir, 'genesis.json'), 'utf8')));
const nodes: MedLedgerNode[] = [];
const urls: string[] = [];
let orgs: OrgKeyFile[] = [];

before(async () => {
  const init = initNetwork({
    validators: 4,
    out: dir,
    chainId: 'epcis-unpack',
    ports: await freePorts(4),
    organizations: [
      { name: 'General Hospital', kind: 'hospital' },
      { name: 'Acme Pharma', kind: 'manufacturer' },
      { name: 'Big Wholesale', kind: 'distributor' },
      { name: 'Corner Pharmacy', kind: 'pharmacy' },
    ],
  });
  orgs = init.orgKeys;
  for (const home of init.homes) {
    const loaded = loadHome(home);
    loaded.config.consensus.blockIntervalMs = 50;
    const node = new MedLedgerNode(loaded, { logger: () => {} });
    urls.push(await node.start());
    nodes.push(node);
  }
});
after(async () => {
  for (const node of nodes) await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

const GTIN = '00036000291452';
const SSCC = '003614141000000015';
const EXPIRY = `${new Date().getUTCFullYear() + 2}-12-31`;
const sgtin = (s: string) => `https://id.gs1.org/01/${GTIN}/21/${s}`;
const caseUri = `https://id.gs1.org/00/${SSCC}`;
const orgUrn = (o: OrgKeyFile) => `urn:medledger:org:${o.id}`;
let clock = Date.now();
/** Each event a second after the last: distinct events, never ahead of block time by more than the chain allows. */
const nextTime = () => {
  clock = Math.max(clock + 1000, Date.now());
  return new Date(clock).toISOString();
};
const document = (events: unknown[]) => ({
  '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
  type: 'EPCISDocument',
  schemaVersion: '2.0',
  creationDate: new Date().toISOString(),
  epcisBody: { eventList: events },
});
const aggregation = (action: 'ADD' | 'DELETE', childEPCs?: string[]) => ({
  type: 'AggregationEvent',
  eventTime: nextTime(),
  eventTimeZoneOffset: '+00:00',
  action,
  bizStep: action === 'ADD' ? 'packing' : 'unpacking',
  parentID: caseUri,
  ...(childEPCs === undefined ? {} : { childEPCs }),
});
const shipping = (epcList: string[], to: OrgKeyFile, invoice: string) => ({
  type: 'ObjectEvent',
  eventTime: nextTime(),
  eventTimeZoneOffset: '+00:00',
  action: 'OBSERVE',
  bizStep: 'shipping',
  disposition: 'in_transit',
  epcList,
  bizTransactionList: [{ type: 'inv', bizTransaction: `urn:example:inv:${invoice}` }],
  destinationList: [{ type: 'owning_party', destination: orgUrn(to) }],
  'medledger:transactionDate': new Date().toISOString().slice(0, 10),
  'medledger:transactionStatement': true,
});
const receiving = (epcList: string[]) => ({
  type: 'ObjectEvent',
  eventTime: nextTime(),
  eventTimeZoneOffset: '+00:00',
  action: 'OBSERVE',
  bizStep: 'receiving',
  disposition: 'in_progress',
  epcList,
});

test('a case unpacked from an EPCIS document is read back by its event id, its packages stand alone on every node, and one ships by itself', {
  timeout: 300_000,
}, async () => {
  const [, acme, wholesale, pharmacy] = orgs as [OrgKeyFile, OrgKeyFile, OrgKeyFile, OrgKeyFile];
  const as = (o: OrgKeyFile, node: number) =>
    new MedLedgerClient({ url: urls[node] as string, keys: readOrgKey(o.home, { file: o.file }), genesis: trusted(), pollIntervalMs: 20 });
  const maker = as(acme, 0);
  const wholesaler = as(wholesale, 1);
  const pharm = as(pharmacy, 2);
  // Reads through a node none of the writers used: what the chain holds, not a node's memory.
  const reader = as(pharmacy, 3);
  await medicinesTx(maker, 'product.register', {
    gtin: GTIN,
    ndc: '12345-678-90',
    name: 'Amoxicillin',
    strength: '500 mg',
    form: 'capsule',
    rxnorm: '308182',
  });

  const items = ['U1', 'U2', 'U3'];
  const packed = await captureEpcis(
    maker,
    document([
      {
        type: 'ObjectEvent',
        eventTime: nextTime(),
        eventTimeZoneOffset: '+00:00',
        action: 'ADD',
        bizStep: 'commissioning',
        disposition: 'active',
        epcList: items.map(sgtin),
        ilmd: { 'cbvmda:lotNumber': 'LU1', 'cbvmda:itemExpirationDate': EXPIRY },
      },
      aggregation('ADD', items.map(sgtin)),
      shipping([caseUri], wholesale, 'INV-U1'),
    ]),
  );
  assert.deepEqual(
    packed.map((c) => c.eventIDs.length),
    [1, 1, 1],
  );
  // One transaction carried the three events.
  assert.equal(new Set(packed.map((c) => c.txHash)).size, 1);
  const packId = packed[1]?.eventIDs[0] as string;
  assert.equal((await getPackage(reader, GTIN, 'U2')).parent, SSCC, 'packed: U2 moves with the case');
  const received = await captureEpcis(wholesaler, document([receiving([caseUri])]));
  assert.equal(received[0]?.eventIDs.length, 1);

  // A DELETE naming only part of the case is refused before anything is sent: the ledger unpacks whole cases.
  await assert.rejects(
    captureEpcis(wholesaler, document([aggregation('DELETE', [sgtin('U1')])])),
    (e: unknown) => e instanceof ClientError && e.code === 'INVALID_ARGUMENT' && /whole cases/.test(e.message),
  );
  assert.equal((await getPackage(reader, GTIN, 'U1')).parent, SSCC, 'the refused unpack wrote nothing');

  // The unpack, naming every child (EPCIS also allows naming none): its event is read back.
  const unpacked = await captureEpcis(wholesaler, document([aggregation('DELETE', items.map(sgtin).reverse())]));
  assert.equal(unpacked.length, 1);
  assert.equal(unpacked[0]?.eventIDs.length, 1, 'the unpack event is read back, its id recomputed by the client');
  const unpackId = unpacked[0]?.eventIDs[0] as string;

  // Both aggregation events by their Event Hash IDs, proven against the genesis, through another node.
  const packEvent = await getEpcisEvent(reader, packId);
  const unpackEvent = await getEpcisEvent(reader, unpackId);
  assert.deepEqual(
    [packEvent.type, packEvent.action, packEvent.bizStep, packEvent.parentID, packEvent['medledger:recordedBy']],
    ['AggregationEvent', 'ADD', 'packing', caseUri, acme.id],
  );
  assert.deepEqual(
    [unpackEvent.type, unpackEvent.action, unpackEvent.bizStep, unpackEvent.parentID, unpackEvent['medledger:recordedBy']],
    ['AggregationEvent', 'DELETE', 'unpacking', caseUri, wholesale.id],
  );
  assert.deepEqual([...(unpackEvent.childEPCs as string[])].sort(), items.map(sgtin).sort());
  assert.equal(unpackEvent['medledger:height'], unpacked[0]?.height);
  // The CLI reads it the same way, by the id `supply capture` printed.
  const shown = await runCli([
    'supply',
    'event',
    '--key',
    join(pharmacy.home, pharmacy.file),
    '--id',
    unpackId,
    '--url',
    urls[3] as string,
    '--genesis',
    join(dir, 'genesis.json'),
    '--json',
  ]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.deepEqual(JSON.parse(shown.stdout), unpackEvent);
  // Each package's own proven history ends with the unpack; each stands alone in the wholesaler's custody.
  for (const serial of items) {
    const trace = await traceProduct(reader, { gtin: GTIN, serial });
    assert.deepEqual(
      trace.items.map((e) => e.bizStep),
      ['commissioning', 'packing', 'shipping', 'receiving', 'unpacking'],
    );
    assert.equal(trace.items.at(-1)?.eventID, unpackId);
    const pkg = await getPackage(reader, GTIN, serial);
    assert.deepEqual([pkg.parent, pkg.holder, pkg.inTransitTo], [null, wholesale.id, null], `${serial} after the unpack`);
  }

  // The API serves the event by its hash to trading partners only.
  const hash = /^ni:\/\/\/sha-256;([0-9a-f]{64})\?ver=CBV2\.0$/.exec(unpackId)?.[1] as string;
  const anonymous = await fetch(`${urls[3]}/v1/epcis/events/${hash}`);
  assert.equal(anonymous.status, 401);
  await assert.rejects(
    getEpcisEvent(reader, `ni:///sha-256;${'0'.repeat(64)}?ver=CBV2.0`),
    (e: unknown) => e instanceof ClientError && e.code === 'NOT_FOUND',
  );

  // One package from the unpacked case ships by itself (captured too) and the pharmacy receives it.
  const single = await captureEpcis(wholesaler, document([shipping([sgtin('U2')], pharmacy, 'INV-U2')]));
  assert.equal(single[0]?.eventIDs.length, 1);
  const got = await medicinesTx(pharm, 'supply.receive', { epcs: [{ gtin: GTIN, serial: 'U2' }], eventTime: nextTime() });
  assert.equal((await getPackage(reader, GTIN, 'U2')).holder, pharmacy.id);
  assert.equal((await getPackage(reader, GTIN, 'U1')).holder, wholesale.id, 'the other packages stay where they were');

  // Every validator holds the same bytes for the events, the packages and the removed case.
  for (const node of nodes) await waitFor(() => (node.chain.height >= got.height ? true : undefined), 'every node to commit');
  const watched = [
    stateKeys.epcisEvent(hash),
    stateKeys.epcisEvent(packId.slice(14, 78)),
    stateKeys.case(SSCC),
    ...items.map((s) => stateKeys.package(GTIN, s)),
  ];
  const views = nodes.map((n) => watched.map((k) => n.chain.state.getState(k) ?? null));
  assert.equal(views[0]?.[2], null, 'the case is gone');
  for (const [i, view] of views.entries()) assert.deepEqual(view, views[0], `node ${i} agrees`);
});

const SSCC2 = '003614141000000022';
const commissioning = (serials: string[], lot: string) => ({
  type: 'ObjectEvent',
  eventTime: nextTime(),
  eventTimeZoneOffset: '+00:00',
  action: 'ADD',
  bizStep: 'commissioning',
  disposition: 'active',
  epcList: serials.map(sgtin),
  ilmd: { 'cbvmda:lotNumber': lot, 'cbvmda:itemExpirationDate': EXPIRY },
});

test('an EPCIS document whose fourth event is refused records none of its events on any validator (rollback)', {
  timeout: 300_000,
}, async () => {
  const [, acme, wholesale] = orgs as [OrgKeyFile, OrgKeyFile, OrgKeyFile];
  const as = (o: OrgKeyFile, node: number) =>
    new MedLedgerClient({ url: urls[node] as string, keys: readOrgKey(o.home, { file: o.file }), genesis: trusted(), pollIntervalMs: 20 });
  const maker = as(acme, 1);
  const reader = as(acme, 3);
  const first = [commissioning(['R1', 'R2'], 'LR1'), commissioning(['R3'], 'LR1')];
  const packing = {
    type: 'AggregationEvent',
    eventTime: nextTime(),
    eventTimeZoneOffset: '+00:00',
    action: 'ADD',
    bizStep: 'packing',
    parentID: `https://id.gs1.org/00/${SSCC2}`,
    childEPCs: [sgtin('R1'), sgtin('R2')],
  };
  const good = [...first, packing];
  // The fourth event ships a serial never commissioned: the chain refuses it, naming the event.
  const bad = document([...good, shipping([sgtin('NEVER')], wholesale, 'INV-R')]);
  await assert.rejects(
    captureEpcis(maker, bad),
    (e: unknown) =>
      e instanceof ClientError &&
      e.code === 'NOT_FOUND' &&
      /^eventList\[3\]: no package \d+ serial NEVER \(nothing of the document was recorded\)$/.test(e.message),
  );
  // Nothing of events 1–3 is on any validator, read through the SDK and from each node's state.
  await assert.rejects(getPackage(reader, GTIN, 'R1'), (e: unknown) => e instanceof ClientError && e.code === 'NOT_FOUND');
  const height = Math.max(...nodes.map((n) => n.chain.height));
  for (const node of nodes) await waitFor(() => (node.chain.height >= height ? true : undefined), 'every node to commit');
  for (const [i, node] of nodes.entries())
    for (const key of [stateKeys.package(GTIN, 'R1'), stateKeys.package(GTIN, 'R3'), stateKeys.case(SSCC2)])
      assert.equal(node.chain.state.getState(key), undefined, `node ${i}: ${key}`);

  // A document can only be what one partner signs: a receive of what it ships is refused before sending.
  await assert.rejects(
    captureEpcis(maker, document([...good, shipping([sgtin('R3')], wholesale, 'INV-R'), receiving([sgtin('R3')])])),
    (e: unknown) =>
      e instanceof ClientError && e.code === 'INVALID_ARGUMENT' && /eventList\[4\] receives what eventList\[3\] ships/.test(e.message),
  );

  // The same three events, without the bad one, are all recorded in one transaction (they were never recorded).
  const done = await captureEpcis(maker, document(good));
  assert.equal(done.length, 3);
  assert.equal(new Set(done.map((d) => d.height)).size, 1);
  const ids = done.map((d) => d.eventIDs[0] as string);
  assert.equal(new Set(ids).size, 3);
  const r1 = await traceProduct(reader, { gtin: GTIN, serial: 'R1' });
  assert.deepEqual(
    r1.items.map((e) => e.eventID),
    [ids[0], ids[2]],
    'commissioning then packing, in the order they happened',
  );
  assert.equal((await getPackage(reader, GTIN, 'R2')).parent, SSCC2);
  // The same document again: its first event is a duplicate, and nothing more is written.
  await assert.rejects(
    captureEpcis(maker, document(good)),
    (e: unknown) => e instanceof ClientError && e.code === 'DUPLICATE_EVENT' && /^eventList\[0\]: /.test(e.message),
  );
  const top = Math.max(...nodes.map((n) => n.chain.height));
  for (const node of nodes) await waitFor(() => (node.chain.height >= top ? true : undefined), 'every node to commit');
  const watched = [
    ...ids.map((id) => stateKeys.epcisEvent(id.slice(14, 78))),
    stateKeys.case(SSCC2),
    ...['R1', 'R2', 'R3'].map((s) => stateKeys.package(GTIN, s)),
  ];
  const views = nodes.map((n) => watched.map((k) => n.chain.state.getState(k) ?? null));
  assert.ok(views[0]?.every((v) => v !== null));
  for (const [i, view] of views.entries()) assert.deepEqual(view, views[0], `node ${i} agrees`);
});
