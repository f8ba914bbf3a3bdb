// The mempool: arrival order, de-duplication, bounds by count and bytes, and a node that
// answers 503 MEMPOOL_FULL (storing nothing) when its pool is full.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { txBytes, txHash } from '@medledger/ledger';
import { Mempool } from './mempool.js';
import { get, newSigner, post, startSoloNode, waitFor } from './testing/harness.js';

const entry = () => {
  const tx = newSigner().register();
  return { hash: txHash(tx), tx, bytes: txBytes(tx).length };
};

describe('mempool', () => {
  test('keeps arrival order, drops duplicates, and reaps within count and byte limits', () => {
    const pool = new Mempool({ maxTxs: 10, maxBytes: 1 << 20 });
    const [a, b, c] = [entry(), entry(), entry()];
    pool.add(a);
    pool.add(b);
    pool.add(a);
    pool.add(c);
    assert.equal(pool.size, 3);
    assert.deepEqual(
      pool.reap(2, 1 << 20).map((e) => e.hash),
      [a.hash, b.hash],
    );
    assert.deepEqual(
      pool.reap(10, a.bytes + b.bytes - 1).map((e) => e.hash),
      [a.hash],
    );
    pool.remove(b.hash);
    assert.deepEqual(
      pool.drain().map((e) => e.hash),
      [a.hash, c.hash],
    );
    assert.equal(pool.size, 0);
  });

  test('finds a pending transaction by its signature until it leaves the pool', () => {
    const pool = new Mempool({ maxTxs: 10, maxBytes: 1 << 20 });
    const [a, b, c] = [entry(), entry(), entry()];
    pool.add(a);
    pool.add(b);
    pool.add(c);
    assert.equal(pool.bySignature(a.tx.sig), a.tx);
    pool.remove(a.hash);
    assert.equal(pool.bySignature(a.tx.sig), undefined, 'removed');
    assert.equal(pool.bySignature(b.tx.sig), b.tx);
    const rest = pool.drain();
    assert.equal(pool.bySignature(b.tx.sig), undefined, 'drained');
    pool.add(rest[1] as typeof c);
    assert.equal(pool.bySignature(c.tx.sig), c.tx, 're-added after a re-check');
    assert.equal(pool.bySignature(b.tx.sig), undefined);
  });

  test('reports full by count and by bytes', () => {
    const e = entry();
    const byCount = new Mempool({ maxTxs: 1, maxBytes: 1 << 20 });
    byCount.add(e);
    assert.ok(byCount.isFull(10));
    const byBytes = new Mempool({ maxTxs: 100, maxBytes: e.bytes + 10 });
    byBytes.add(e);
    assert.ok(byBytes.isFull(11));
    assert.ok(!byBytes.isFull(10));
  });

  test('a node with a full mempool answers 503 MEMPOOL_FULL and keeps nothing', async () => {
    // A long block interval holds transactions in the pool after the first block.
    const t = await startSoloNode({ blockIntervalMs: 60_000, mempool: { maxTxs: 2, maxBytes: 1 << 20 } });
    try {
      const first = await post(`${t.url}/v1/txs`, newSigner().register());
      await waitFor(
        async () => ((await get(`${t.url}/v1/txs/${first.json.hash}`)).json.status === 'committed' ? true : undefined),
        'first block',
      );
      assert.equal((await post(`${t.url}/v1/txs`, newSigner().register())).status, 202);
      assert.equal((await post(`${t.url}/v1/txs`, newSigner().register())).status, 202);
      const refused = await post(`${t.url}/v1/txs`, newSigner().register());
      assert.equal(refused.status, 503);
      assert.equal(refused.json.error.code, 'MEMPOOL_FULL');
      assert.equal((await get(`${t.url}/v1/status`)).json.mempool.txs, 2);
    } finally {
      await t.cleanup();
    }
  });
});
