// `medledger bench-join` on a small chain: both joining nodes really reach the chain's height,
// the state-sync one from a snapshot of it, and the figures say so.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePortRange, TEST_PASSPHRASE } from '@medledger/node/testing';
import { runJoinBench } from './bench-join.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;
const dir = mkdtempSync(join(tmpdir(), 'medledger-bench-join-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('bench-join times a block-sync and a state-sync node catching up with the same chain', async () => {
  const result = await runJoinBench(
    { txs: 600, blockTxs: 100, snapshotInterval: 4, outDir: dir, basePort: await freePortRange(6) },
    () => {},
  );
  assert.equal(result.txs, 600);
  assert.equal(result.height, 8, 'six blocks of registrations, rounded up to a snapshot height');
  assert.equal(result.blockSync.targetHeight, 8);
  assert.equal(result.stateSync.targetHeight, 8);
  assert.equal(result.stateSync.snapshotHeight, 8);
  assert.ok((result.stateSync.snapshotKeys ?? 0) > 1200, 'every registration is in the snapshot');
  assert.ok(result.blockSync.seconds > 0 && result.stateSync.seconds > 0);
});
