// The largest transaction a node admits (MAX_TX_BYTES, docs/governance.md "Chain parameters"):
// anything larger is refused TX_TOO_LARGE before it reaches the mempool, whatever the node's
// request body limit, so every admitted transaction fits a block of the smallest size
// governance may vote (a larger one would never be included and would stall the mempool).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MAX_TX_BYTES } from '@medledger/ehr';
import { txBytes } from '@medledger/ledger';
import { maxTxBytesFor } from './admission.js';
import { get, newSigner, post, startSoloNode, type TestNode } from './testing/index.js';

let net: TestNode;
before(async () => {
  // A body limit above MAX_TX_BYTES, as an operator may configure: the admission limit holds anyway.
  net = await startSoloNode({ config: { bodyLimitBytes: 4 * MAX_TX_BYTES } });
});
after(async () => {
  await net?.cleanup();
});

/** A signed identity.register padded so its canonical bytes are exactly `size`. */
function txOfSize(signer: ReturnType<typeof newSigner>, size: number) {
  const make = (pad: string) => signer.sign('identity.register', { role: 'patient', encryptionKey: signer.encryption.publicKey, pad }, 0);
  const base = txBytes(make('')).length;
  const tx = make('x'.repeat(size - base));
  assert.equal(txBytes(tx).length, size);
  return tx;
}

test('a transaction over MAX_TX_BYTES is refused TX_TOO_LARGE (413) and never pooled; one at the limit reaches the rules', async () => {
  const signer = newSigner();
  const big = await post(`${net.url}/v1/txs`, txOfSize(signer, MAX_TX_BYTES + 1));
  assert.equal(big.status, 413);
  assert.equal(big.json.error.code, 'TX_TOO_LARGE');
  assert.match(big.json.error.message, new RegExp(`at most ${MAX_TX_BYTES} bytes`));
  // In a batch too.
  const batch = await post(`${net.url}/v1/txs/batch`, { txs: [txOfSize(newSigner(), MAX_TX_BYTES + 1)] });
  assert.equal(batch.status, 200);
  assert.equal(batch.json.results[0].status, 'refused');
  assert.equal(batch.json.results[0].error.code, 'TX_TOO_LARGE');
  // At the limit the size passes and the kind's rules decide (an unknown field is refused).
  const atLimit = await post(`${net.url}/v1/txs`, txOfSize(signer, MAX_TX_BYTES));
  assert.equal(atLimit.status, 400);
  assert.equal(atLimit.json.error.code, 'INVALID_BODY');
  const status = await get(`${net.url}/v1/status`);
  assert.equal(status.json.mempool.txs, 0, 'nothing was pooled');
  // The chain still takes ordinary transactions.
  assert.equal((await post(`${net.url}/v1/txs`, newSigner().register())).status, 202);
});

test('the admission limit is MAX_TX_BYTES, or a smaller genesis block limit', () => {
  assert.equal(maxTxBytesFor(8 * 1024 * 1024), MAX_TX_BYTES);
  assert.equal(maxTxBytesFor(MAX_TX_BYTES), MAX_TX_BYTES);
  assert.equal(maxTxBytesFor(4096), 4096);
});
