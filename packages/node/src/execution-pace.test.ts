import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExecutionPace, INITIAL_MS_PER_TX } from './execution-pace.js';

test('a fresh pace proposes what the initial estimate executes in the target time, within the chain limit', () => {
  const pace = new ExecutionPace({ targetBlockMs: 1_000 });
  assert.equal(pace.perTxMs, INITIAL_MS_PER_TX);
  assert.equal(pace.proposalTxs(5_000), 2_000);
  assert.equal(pace.proposalTxs(500), 500, 'never more than the chain allows');
  assert.equal(pace.proposalTxs(50), 50, 'the floor never exceeds the chain limit either');
});

test('slow blocks shrink proposals and lengthen the wait for one; fast blocks do the opposite', () => {
  const pace = new ExecutionPace({ targetBlockMs: 1_000 });
  for (let i = 0; i < 30; i++) pace.observe(4_000, 1_000); // 4 ms per tx: a loaded machine
  assert.ok(Math.abs(pace.perTxMs - 4) < 0.01, `converges on the measured cost, got ${pace.perTxMs}`);
  assert.equal(pace.proposalTxs(5_000), 250);
  assert.equal(pace.proposeAllowanceMs(250), 2_000, 'twice the execution time of the block being built');
  for (let i = 0; i < 60; i++) pace.observe(100, 1_000); // 0.1 ms per tx
  assert.equal(pace.proposalTxs(5_000), 5_000, 'capped by the chain limit');
  assert.equal(pace.proposeAllowanceMs(5_000), 1_000);
});

test('tiny blocks and nonsense figures leave the estimate alone; the wait and the cut are bounded', () => {
  const pace = new ExecutionPace({ targetBlockMs: 1_000 });
  pace.observe(5_000, 3); // a 3-tx block says little
  pace.observe(Number.NaN, 1_000);
  pace.observe(-1, 1_000);
  assert.equal(pace.perTxMs, INITIAL_MS_PER_TX);
  for (let i = 0; i < 50; i++) pace.observe(1_000_000, 1_000); // 1 s per tx
  assert.equal(pace.proposalTxs(5_000), 100, 'a proposal is never cut below the floor');
  assert.equal(pace.proposeAllowanceMs(5_000), 60_000, 'a stalled proposer is still given up on');
});
