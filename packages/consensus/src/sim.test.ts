// Thousands of seeded random schedules of the Tendermint machine with n = 4 and n = 7:
// delay, reordering, loss, partitions, crash/restart, and one equivocating Byzantine
// validator. Each checks agreement, validity, no double-signing and termination after
// GST. SIM_SEED and SIM_N replay one schedule; SIM_SCHEDULES multiplies the default
// 6,000 + 3,000 schedules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSchedule } from './sim/simulator.js';

const SCALE = Number(process.env.SIM_SCHEDULES ?? '1');
const BASE = { 4: 6000, 7: 3000 } as const;

function kinds(n: number, seed: number) {
  // n = 4 tolerates f = 1: either the Byzantine validator or one crashing node.
  // n = 7 tolerates f = 2: the Byzantine validator and one crashing node together.
  if (n === 4) return seed % 2 === 0 ? { byzantine: true, crashes: 0 } : { byzantine: false, crashes: 1 + (seed % 3) };
  return { byzantine: true, crashes: 1 };
}

if (process.env.SIM_SEED !== undefined) {
  const seed = Number(process.env.SIM_SEED);
  const n = Number(process.env.SIM_N ?? '4');
  test(`replay schedule seed ${seed} n=${n}`, () => {
    runSchedule({ seed, n, heights: 3 + (seed % 3), ...kinds(n, seed) });
  });
} else {
  for (const [n, count] of [
    [4, Math.round(BASE[4] * SCALE)],
    [7, Math.round(BASE[7] * SCALE)],
  ] as const) {
    test(`${count} random schedules with n = ${n} keep agreement, validity, no double-signing and termination`, (t) => {
      let heights = 0;
      let evidence = 0;
      for (let i = 0; i < count; i++) {
        const seed = n * 1_000_003 + i;
        const r = runSchedule({ seed, n, heights: 3 + (seed % 3), ...kinds(n, seed) });
        heights += r.decided;
        evidence += r.evidence;
      }
      t.diagnostic(`simulated ${count} schedules (n=${n}), heights decided: ${heights}, equivocations detected: ${evidence}`);
      assert.ok(evidence > 0, 'the Byzantine validator was detected equivocating');
    });
  }
}
