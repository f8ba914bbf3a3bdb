// Seeded schedules of the Tendermint machine while governance changes the validator set
// (docs/governance.md "Validator-set changes"): a fifth validator is added, a Byzantine one is
// removed (and keeps equivocating with its old key, which every node must ignore), a power
// changes and a key is rotated. Each schedule checks agreement, validity, no double-signing,
// termination after GST, and that every decision is signed by more than 2/3 of the power of
// the set in effect at its height. SIM_SCHEDULES multiplies the default count.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TendermintMachine } from './machine.js';
import { proposerFor } from './proposer.js';
import { runSchedule } from './sim/simulator.js';
import type { ValidatorInfo } from './types.js';

const SCALE = Number(process.env.SIM_SCHEDULES ?? '1');
const one = (id: string): ValidatorInfo => ({ id, power: 1 });

// Heights 1–2: genesis v0–v3. From 3: v4 added. From 5: v0 removed. From 7: v1 has power 3
// (total 6, quorum 5: v1 and two others, or nothing without v1). From 9: v2 signs as v2*.
const CHANGES = [
  { height: 3, set: ['v0', 'v1', 'v2', 'v3', 'v4'].map(one) },
  { height: 5, set: ['v1', 'v2', 'v3', 'v4'].map(one) },
  { height: 7, set: [{ id: 'v1', power: 3 }, one('v2'), one('v3'), one('v4')] },
  { height: 9, set: [{ id: 'v1', power: 3 }, one('v2*'), one('v3'), one('v4')] },
];
const KEYS = { v2: ['v2*'] };

test(`${Math.round(400 * SCALE)} schedules through an add, a removal of the Byzantine validator, a power change and a key rotation keep every property`, (t) => {
  let evidence = 0;
  for (let i = 0; i < Math.round(400 * SCALE); i++) {
    const seed = 90_000_001 + i;
    // Half the schedules have v0 equivocate until (and after) its removal; the others crash one honest node.
    const byzantine = i % 2 === 0;
    const r = runSchedule({ seed, n: 4, heights: 10, byzantine, crashes: byzantine ? 0 : 1, changes: CHANGES, keys: KEYS });
    evidence += r.evidence;
  }
  t.diagnostic(`equivocations detected: ${evidence}`);
  assert.ok(evidence > 0, 'the Byzantine validator was detected equivocating');
});

test('precommits of removed validators do not decide a height whose set replaced them', () => {
  // Height 5's set is v1–v4; v0 was removed. Precommits from v0, v2 and v3 (3 of the old 4)
  // are not more than 2/3 of the new set's power (v0 counts nothing); adding v4's makes it.
  const machine = new TendermintMachine({
    height: 5,
    validators: (CHANGES[1] as { set: ValidatorInfo[] }).set,
    self: null,
    timeouts: { propose: 100, proposeDelta: 0, prevote: 100, prevoteDelta: 0, precommit: 100, precommitDelta: 0 },
    getValue: () => 'never',
    isValid: () => true,
  });
  machine.start();
  const precommit = (from: string) => machine.handle({ type: 'precommit', height: 5, round: 0, value: 'X', from });
  const set = (CHANGES[1] as { set: ValidatorInfo[] }).set;
  machine.handle({ type: 'proposal', height: 5, round: 0, value: 'X', validRound: -1, from: proposerFor(set, 5, 0) });
  for (const from of ['v0', 'v2']) assert.ok(!precommit(from).some((o) => o.type === 'decide'));
  assert.ok(!precommit('v3').some((o) => o.type === 'decide'), 'v0, v2, v3: only 2 of 4 counted');
  assert.ok(
    precommit('v4').some((o) => o.type === 'decide'),
    'v2, v3, v4: 3 of 4',
  );
});
