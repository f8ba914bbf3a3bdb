// Each rule of Algorithm 1 (arXiv 1807.04938), driven message by message on one machine.
// Four validators A–D with power 1: quorum (2f+1) is 3, f+1 is 2. At height 1 the
// proposer of round r is (1 + r) mod 4: B, C, D, A, B, …
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decided, harness, proposals, votes } from './testing/harness.js';

describe('Tendermint Algorithm 1, rule by rule', () => {
  test('StartRound: a non-proposer schedules the propose timeout; the proposer asks for a new value', () => {
    const a = harness('A');
    assert.deepEqual(a.out, [{ type: 'scheduleTimeout', step: 'propose', height: 1, round: 0, durationMs: 1000 }]);
    const b = harness('B');
    assert.deepEqual(b.out[0], { type: 'propose', height: 1, round: 0, value: 'new-0-0', validRound: -1 });
  });

  test('line 22: prevote a valid fresh proposal, nil for an invalid one', () => {
    const a = harness();
    assert.deepEqual(votes(a.proposal(0, 'X')), ['prevote:0:X']);
    const b = harness();
    b.invalid.add('Y');
    assert.deepEqual(votes(b.proposal(0, 'Y')), ['prevote:0:null']);
  });

  test('line 22: a locked validator prevotes nil for a different fresh proposal and for its own value again', () => {
    const a = harness();
    a.proposal(0, 'X');
    a.prevote(0, 'X', 'B', 'C'); // polka for X with A's own prevote: lock
    assert.equal(a.m.lockState().lockedValue, 'X');
    a.precommit(0, null, 'B', 'C', 'D');
    a.timeout('precommit', 0);
    assert.deepEqual(votes(a.proposal(1, 'Y')), ['prevote:1:null'], 'locked on X: nil for Y');
    const b = harness();
    b.proposal(0, 'X');
    b.prevote(0, 'X', 'B', 'C');
    b.precommit(0, null, 'B', 'C', 'D');
    b.timeout('precommit', 0);
    assert.deepEqual(votes(b.proposal(1, 'X')), ['prevote:1:X'], 'locked on X: X again');
  });

  test('line 28: a re-proposal with vr ≥ 0 is prevoted only with a polka in vr and lockedRound ≤ vr', () => {
    // A locked X in round 1; round 2 re-proposes Y with vr = 0 and a polka for Y in round 0: lockedRound 1 > 0 → nil.
    const a = harness();
    a.prevote(0, 'Y', 'B', 'C', 'D');
    a.timeout('propose', 0);
    a.precommit(0, null, 'B', 'C', 'D');
    a.timeout('precommit', 0);
    a.proposal(1, 'X');
    a.prevote(1, 'X', 'B', 'C');
    assert.equal(a.m.lockState().lockedRound, 1);
    a.precommit(1, null, 'B', 'C', 'D');
    a.timeout('precommit', 1);
    assert.deepEqual(votes(a.proposal(2, 'Y', 0)), ['prevote:2:null']);
    // Unlocked-enough: locked in round 0 on X, re-proposal of Y with vr = 1 and a polka in round 1 → prevote Y.
    const b = harness();
    b.proposal(0, 'X');
    b.prevote(0, 'X', 'B', 'C');
    b.precommit(0, null, 'B', 'C', 'D');
    b.timeout('precommit', 0);
    b.prevote(1, 'Y', 'B', 'C', 'D');
    assert.deepEqual(votes(b.proposal(2, 'Y', 1)), [], 'still in round 1: the round-2 proposal waits');
    b.timeout('propose', 1);
    b.precommit(1, null, 'B', 'C', 'D');
    b.timeout('precommit', 1);
    assert.deepEqual(votes(b.out.slice(-3)).concat(votes(b.m.handle({ type: 'prevote', height: 1, round: 2, value: 'Y', from: 'B' }))), [
      'prevote:2:Y',
    ]);
  });

  test('line 36: a polka in the prevote step locks and precommits; validValue is also set', () => {
    const a = harness();
    a.proposal(0, 'X');
    assert.deepEqual(votes(a.prevote(0, 'X', 'B', 'C')), ['precommit:0:X']);
    assert.deepEqual(a.m.lockState(), { height: 1, round: 0, lockedRound: 0, lockedValue: 'X', validRound: 0, validValue: 'X' });
  });

  test('line 36: after precommitting nil, a late polka updates validValue/validRound but not the lock', () => {
    const a = harness();
    a.proposal(0, 'X');
    a.prevote(0, null, 'B', 'C');
    a.prevote(0, null, 'D');
    assert.equal(a.m.step, 'precommit');
    a.prevote(0, 'X', 'C'); // conflicting: C also prevoted X (counted for X)
    a.prevote(0, 'X', 'D');
    assert.deepEqual(a.m.lockState(), { height: 1, round: 0, lockedRound: -1, lockedValue: null, validRound: 0, validValue: 'X' });
  });

  test('line 44: a nil polka makes the validator precommit nil', () => {
    const a = harness();
    a.timeout('propose', 0);
    assert.deepEqual(votes(a.prevote(0, null, 'B', 'C')), ['precommit:0:null']);
  });

  test('line 49: decide on 2f+1 precommits for a proposal from an earlier round', () => {
    const a = harness();
    a.timeout('propose', 0);
    a.prevote(0, null, 'B', 'C');
    a.precommit(0, null, 'B', 'C');
    a.timeout('precommit', 0);
    assert.equal(a.m.round, 1);
    a.proposal(0, 'X');
    const d = decided(a.precommit(0, 'X', 'B', 'C', 'D'));
    assert.ok(d !== undefined && d.type === 'decide');
    assert.equal(d.round, 0);
    assert.equal(d.value, 'X');
    assert.deepEqual(d.precommits.map((p) => p.from).sort(), ['B', 'C', 'D']);
  });

  test('line 49: no decision on an invalid value even with 2f+1 precommits', () => {
    const a = harness();
    a.invalid.add('X');
    a.proposal(0, 'X');
    assert.equal(decided(a.precommit(0, 'X', 'B', 'C', 'D')), undefined);
  });

  test('line 55: f+1 messages from a higher round make the validator skip to it', () => {
    const a = harness();
    a.prevote(3, null, 'B');
    assert.equal(a.m.round, 0, 'one message (f) is not enough');
    a.precommit(3, null, 'C');
    assert.equal(a.m.round, 3);
    assert.deepEqual(
      proposals(a.out).at(-1),
      { type: 'propose', height: 1, round: 3, value: 'new-3-0', validRound: -1 },
      'A proposes round 3',
    );
  });

  test('StartRound proposes validValue (with its round) when one is set', () => {
    const a = harness();
    a.proposal(0, 'X');
    a.prevote(0, 'X', 'B', 'C');
    a.precommit(0, null, 'B', 'C', 'D');
    a.timeout('precommit', 0);
    a.prevote(3, null, 'B', 'C'); // skip to round 3, where A proposes
    assert.deepEqual(proposals(a.out).at(-1), { type: 'propose', height: 1, round: 3, value: 'X', validRound: 0 });
  });

  test('the three timeouts grow with the round and stale timeouts are ignored', () => {
    const a = harness();
    const durations = (step: string) =>
      a.out
        .filter((o) => o.type === 'scheduleTimeout' && o.step === step)
        .map((o) => (o.type === 'scheduleTimeout' ? [o.round, o.durationMs] : []));
    for (let r = 0; r < 3; r++) {
      a.timeout('propose', r);
      a.prevote(r, null, 'B', 'C');
      a.precommit(r, null, 'B', 'C');
      a.timeout('precommit', r);
    }
    assert.deepEqual(durations('propose').slice(0, 3), [
      [0, 1000],
      [1, 1500],
      [2, 2000],
    ]);
    assert.deepEqual(durations('prevote').slice(0, 2), [
      [0, 400],
      [1, 600],
    ]);
    assert.deepEqual(durations('precommit').slice(0, 2), [
      [0, 300],
      [1, 400],
    ]);
    assert.deepEqual(a.timeout('prevote', 0), [], 'a stale timeout does nothing');
  });

  test('votes are counted by distinct validator: a repeated vote does not count twice', () => {
    const a = harness();
    a.proposal(0, 'X');
    a.prevote(0, 'X', 'B', 'B', 'B');
    assert.equal(a.m.step, 'prevote', 'A + B is not a quorum');
    assert.deepEqual(votes(a.prevote(0, 'X', 'C')), ['precommit:0:X']);
  });

  test('votes from unknown validators and other heights are ignored', () => {
    const a = harness();
    a.proposal(0, 'X');
    a.prevote(0, 'X', 'Mallory', 'Eve');
    assert.equal(a.m.step, 'prevote');
    assert.deepEqual(a.m.handle({ type: 'prevote', height: 2, round: 0, value: 'X', from: 'B' }), []);
    assert.deepEqual(a.proposal(0, 'Z', -1, 'C'), [], 'only the round proposer may propose');
  });

  test('restore resumes the persisted round with its locks', () => {
    const restored = { height: 1, round: 2, lockedRound: 1, lockedValue: 'X', validRound: 1, validValue: 'X' };
    const a = harness('A', { restored });
    assert.equal(a.m.round, 2);
    assert.deepEqual(a.m.lockState(), restored);
    assert.deepEqual(votes(a.proposal(2, 'Y')), ['prevote:2:null'], 'still locked on X');
  });
});
