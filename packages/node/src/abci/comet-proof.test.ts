// Which CometBFT headers prove the node's state (comet-proof.ts), against a fake RPC: header
// H+1 when it exists; on an idle chain header H, when it already carries this state's app hash.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../errors.js';
import { cometProofHeaders } from './comet-proof.js';
import { CometRpcError } from './rpc.js';

/** A chain of `tip` blocks whose header h carries app hash `appHashIn(h)`. */
function fakeRpc(tip: number, appHashIn: (h: number) => string) {
  return async (_method: string, params: Record<string, unknown>) => {
    const h = Number(params.height);
    if (h > tip) throw new CometRpcError(`commit: height ${h} must be less than or equal to the current blockchain height ${tip}`);
    return { signed_header: { header: { height: String(h), app_hash: appHashIn(h).toUpperCase() }, commit: { height: String(h) } } };
  };
}

test('the state after H is proven by header H+1 when CometBFT has it', async () => {
  const r = await cometProofHeaders(
    fakeRpc(8, () => 'aa'),
    7,
    'bb',
    { waitMs: 100, pollMs: 5 },
  );
  assert.equal(r.height, 7);
  assert.equal(r.next.header.height, '8');
  assert.equal(r.header.height, '7');
});

test('idle-chain-proof-waits-for-the-empty-block-interval: an unchanged state is proven at H-1 by header H at once', async () => {
  const started = Date.now();
  const r = await cometProofHeaders(
    fakeRpc(7, (h) => (h === 7 ? 'cc' : 'dd')),
    7,
    'cc',
    { waitMs: 5_000, pollMs: 5 },
  );
  assert.equal(r.height, 6);
  assert.equal(r.next.header.height, '7');
  assert.ok(Date.now() - started < 1_000, 'answered without waiting for block 8');
});

test('a changed state waits for header H+1, and says NO_COMMITTED_BLOCK when it does not come', async () => {
  await assert.rejects(
    cometProofHeaders(
      fakeRpc(7, () => 'dd'),
      7,
      'cc',
      { waitMs: 50, pollMs: 5 },
    ),
    (e: unknown) => e instanceof ApiError && e.code === 'NO_COMMITTED_BLOCK',
  );
});
