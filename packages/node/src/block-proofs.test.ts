import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromHex, generateSigningKeyPair, toHex } from '@medledger/crypto';
import { leafHash, type SignedTx, signTx, txBytes, txRoot, verifyInclusion } from '@medledger/ledger';
import type { StoredBlock } from '@medledger/storage';
import { BlockProofs } from './block-proofs.js';

function block(height: number, n: number): StoredBlock {
  const txs: SignedTx[] = Array.from({ length: n }, (_, i) => {
    const k = generateSigningKeyPair();
    return signTx({ v: 1, chain: 'c', kind: 'identity.register', signer: k.publicKey, nonce: 0, body: { i, height } }, k.privateKey);
  });
  return {
    block: { header: { height, txRoot: txRoot(txs) }, txs } as unknown as StoredBlock['block'],
    commit: {} as StoredBlock['commit'],
    results: txs.map(() => ({ code: 'ok' })) as StoredBlock['results'],
    hash: `h${height}`,
  };
}

test('every transaction of a block gets an inclusion proof that verifies against the header tx root', () => {
  const stored = block(1, 37);
  const proofs = new BlockProofs({ capacity: 2 }, { loadBlock: (h) => (h === 1 ? stored : undefined) });
  const b = proofs.get(1);
  assert.ok(b);
  assert.equal(b.leaves.length, 37);
  stored.block.txs.forEach((tx, i) => {
    const p = b.proof(i);
    assert.equal(b.leaves[i], toHex(leafHash(txBytes(tx))));
    assert.equal(p.treeSize, 37);
    assert.ok(
      verifyInclusion(
        leafHash(txBytes(tx)),
        i,
        p.treeSize,
        p.path.map((x) => fromHex(x)),
        fromHex(p.root),
      ),
      `tx ${i}`,
    );
  });
  // A proof for another position does not verify this transaction.
  const p3 = b.proof(3);
  assert.equal(
    verifyInclusion(
      leafHash(txBytes(stored.block.txs[4] as SignedTx)),
      3,
      37,
      p3.path.map((x) => fromHex(x)),
      fromHex(p3.root),
    ),
    false,
  );
  assert.throws(() => b.proof(37), RangeError);
  assert.equal(proofs.get(2), undefined);
});

test('a block is read from the store once while cached, and the least recently used one is evicted', () => {
  const loads: number[] = [];
  const blocks = new Map([1, 2, 3].map((h) => [h, block(h, 3)]));
  const proofs = new BlockProofs(
    { capacity: 2 },
    {
      loadBlock: (h) => {
        loads.push(h);
        return blocks.get(h);
      },
    },
  );
  proofs.get(1);
  proofs.get(2);
  proofs.get(1);
  proofs.get(1);
  assert.deepEqual(loads, [1, 2]);
  proofs.get(3); // evicts 2, the least recently used
  proofs.get(1);
  proofs.get(2);
  assert.deepEqual(loads, [1, 2, 3, 2]);
});
