// The proof benchmark through a real node: every kind of query is fetched, checked from the
// genesis file, and reported with non-trivial sizes and times.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startSoloNode, TEST_PASSPHRASE, type TestNode } from '@medledger/node/testing';
import { benchProofs } from './bench-proofs.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

let net: TestNode;
before(async () => {
  net = await startSoloNode();
});
after(async () => {
  await net.cleanup();
});

test('a short proof benchmark checks every kind of proven query and reports its size and times', async () => {
  const genesis = JSON.parse(readFileSync(join(net.dir, 'node0', 'genesis.json'), 'utf8'));
  const lines: string[] = [];
  const results = await benchProofs({ url: net.url, genesis, rounds: 3 }, (l) => lines.push(l));
  assert.equal(results.length, 10);
  for (const r of results) {
    assert.ok(r.answerBytes > r.proofBytes && r.proofBytes > 0, JSON.stringify(r));
    assert.ok(r.verifyP50Ms > 0 && r.fetchP50Ms > 0, JSON.stringify(r));
  }
  const batch = results.find((r) => r.kind === 'recipient set (batch)');
  assert.equal(batch?.keys, 7);
  assert.ok(lines.some((l) => l.includes('access-log entry')));
});
