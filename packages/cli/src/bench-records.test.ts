// The record benchmark's building blocks: the resource really is the size reported, and a
// short run through a real node completes with every latency measured.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TrustedGenesis } from '@medledger/client';
import { canonicalBytes } from '@medledger/ledger';
import { startSoloNode, type TestNode } from '@medledger/node/testing';
import { benchRecords, fhirResourceOfSize } from './bench-records.js';

let net: TestNode;
before(async () => {
  net = await startSoloNode();
});
after(async () => {
  await net.cleanup();
});

test('the benchmark resource is a FHIR Observation of exactly the requested canonical size', () => {
  for (const size of [1024, 4096, 10_000]) {
    const resource = fhirResourceOfSize(size);
    assert.equal(resource.resourceType, 'Observation');
    assert.equal(canonicalBytes(resource).length, size);
  }
});

test('a short record benchmark writes and reads through a real node and reports each latency', async () => {
  const lines: string[] = [];
  const result = await benchRecords(
    {
      writeUrl: net.url,
      readUrl: net.url,
      genesis: TrustedGenesis.fromDocument(net.node.chain.genesis),
      writes: 3,
      reads: 4,
      resourceBytes: 4096,
    },
    (l) => lines.push(l),
  );
  assert.equal(result.writes, 3);
  assert.equal(result.reads, 4);
  for (const m of [result.writeMs, result.readMs, result.readWithSignInMs]) {
    assert.ok(m.p50 > 0 && m.p99 >= m.p50, JSON.stringify(m));
  }
  assert.ok(lines.some((l) => l.startsWith('record write')));
});
