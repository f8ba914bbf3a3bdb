// The medicines benchmark's building blocks: its GTINs carry valid check digits, and a short
// run through a real node commits every supply event, one per transaction and in captures, and
// times proven verifications.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseGs1, TrustedGenesis } from '@medledger/client';
import { keys as stateKeys } from '@medledger/ehr';
import { readOrgKey } from '@medledger/node';
import { startSoloNode, TEST_PASSPHRASE, type TestNode } from '@medledger/node/testing';
import { benchGtin, benchMedicines } from './bench-medicines.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

let net: TestNode;
before(async () => {
  net = await startSoloNode({
    organizations: [
      { name: 'Maker 0', kind: 'manufacturer' },
      { name: 'Maker 1', kind: 'manufacturer' },
      { name: 'Bench Pharmacy', kind: 'pharmacy' },
    ],
  });
});
after(async () => {
  await net.cleanup();
});

test('bench GTINs are valid GTIN-14s', () => {
  for (const i of [0, 1, 42, 99_999]) assert.equal(parseGs1(`(01)${benchGtin(i)}(21)X`).gtin, benchGtin(i));
});

test('a short medicines benchmark commits every supply event, alone and in captures, and times proven verifications', async () => {
  const home = join(net.dir, 'node0');
  const lines: string[] = [];
  const result = await benchMedicines(
    {
      urls: [net.url],
      genesis: TrustedGenesis.fromDocument(net.node.chain.genesis),
      manufacturers: [readOrgKey(home), readOrgKey(home, { file: 'org-maker-1.key' })],
      partner: readOrgKey(home, { file: 'org-bench-pharmacy.key' }),
      eventsPerManufacturer: 5,
      eventsPerCapture: 2,
      verifications: 3,
      batch: 4,
    },
    (l) => lines.push(l),
  );
  assert.equal(result.events, 10);
  assert.equal(result.committed, 10, lines.join('\n'));
  assert.equal(result.rejected, 0);
  assert.ok(result.eventsPerSecond > 0);
  // 5 events a manufacturer in captures of 2: three captures each (the last rounds up), 12 events in all.
  assert.deepEqual(
    { ...result.capture, seconds: 0, eventsPerSecond: 0 },
    { eventsPerCapture: 2, captures: 6, events: 12, committed: 12, rejected: 0, seconds: 0, eventsPerSecond: 0 },
    lines.join('\n'),
  );
  assert.ok(result.capture.eventsPerSecond > 0 && result.capture.seconds > 0);
  // The capture run's events are in state like any other: the last serial of each manufacturer.
  const state = net.node.chain.state;
  for (const i of [0, 1]) assert.notEqual(state.getState(stateKeys.package(benchGtin(i), 'C5')), undefined);
  assert.equal(result.verifications, 3);
  assert.ok(result.verifyMs.p50 > 0 && result.verifyMs.p99 >= result.verifyMs.p50);
});
