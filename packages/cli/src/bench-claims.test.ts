// The claims benchmark's building blocks: signed claims are distinct and in nonce order per
// clinician, and a short run through a real node adjudicates every claim it reports.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { listInsurance, MedLedgerClient, TrustedGenesis } from '@medledger/client';
import { generateKeyBundle } from '@medledger/crypto';
import { readOrgKey } from '@medledger/node';
import { startSoloNode, TEST_PASSPHRASE, type TestNode } from '@medledger/node/testing';
import { benchClaims, signClaims } from './bench-claims.js';

let net: TestNode;
before(async () => {
  net = await startSoloNode({
    organizations: [
      { name: 'General Hospital', kind: 'hospital' },
      { name: 'Bench Health Insurance', kind: 'insurer' },
    ],
  });
});
after(async () => {
  await net.cleanup();
});

test('signed claims: one lane per clinician in nonce order, every (patient, code, date) distinct', () => {
  const clinicians = [generateKeyBundle(), generateKeyBundle(), generateKeyBundle()];
  const patients = [
    { id: 'a'.repeat(40), coverage: '1'.repeat(32) },
    { id: 'b'.repeat(40), coverage: '2'.repeat(32) },
  ];
  const { txs, lanes } = signClaims({ chainId: 'c', clinicians, nonces: [0, 5, 9], patients, from: '2020-01-01', count: 100, offset: 0 });
  assert.equal(txs.length, 100);
  lanes.forEach((lane, s) => {
    assert.deepEqual(
      lane.map((i) => txs[i]?.nonce),
      lane.map((_, k) => [0, 5, 9][s] + k),
    );
    assert.ok(lane.every((i) => txs[i]?.signer === clinicians[s]?.signing.publicKey));
  });
  const keys = txs.map((tx) => {
    const b = tx.body as { patient: string; items: Array<{ code: string; serviceDate: string }> };
    return `${b.patient}/${b.items[0]?.code}/${b.items[0]?.serviceDate}`;
  });
  assert.equal(new Set(keys).size, 100, 'no claim is a duplicate of another');
});

test('a short claims benchmark adjudicates every claim through a real node and reports rate and latency', async () => {
  const home = join(net.dir, 'node0');
  const lines: string[] = [];
  const insurerKeys = readOrgKey(home, { file: 'org-bench-health-insurance.key', passphrase: TEST_PASSPHRASE });
  const result = await benchClaims(
    {
      urls: [net.url],
      genesis: TrustedGenesis.fromDocument(net.node.chain.genesis),
      insurerKeys,
      hospitalKeys: readOrgKey(home, { passphrase: TEST_PASSPHRASE }),
      patients: 3,
      clinicians: 2,
      seconds: 30,
      claims: 40,
      rate: 20,
      latencySeconds: 1,
    },
    (l) => lines.push(l),
  );
  assert.equal(result.throughput.adjudicated, 40, JSON.stringify(result));
  assert.equal(result.throughput.rejected, 0);
  assert.ok(result.throughput.claimsPerSecond > 0);
  assert.equal(result.latency.adjudicated, 20);
  assert.ok(result.latency.p50Ms > 0 && result.latency.p99Ms >= result.latency.p50Ms);
  // The insurer's queue holds every claim, each adjudicated (none held for review).
  const insurer = new MedLedgerClient({ url: net.url, keys: insurerKeys, genesis: TrustedGenesis.fromDocument(net.node.chain.genesis) });
  const queue = await listInsurance<{ status: string }>(insurer, { by: 'insurers', id: insurer.id, of: 'claims', limit: 500 });
  assert.equal(queue.items.length, 60);
  assert.ok(queue.items.every((c) => c.status === 'adjudicated'));
  assert.ok(lines.some((l) => /claims\/s/.test(l)));
});
