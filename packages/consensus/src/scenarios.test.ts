// Named Byzantine and timing scenarios in the spirit of CometBFT's consensus suite.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decided, harness, proposals, votes } from './testing/harness.js';

describe('consensus scenarios', () => {
  test('LockPOLSafety: a validator locked on a block does not prevote another without a newer polka', () => {
    const a = harness();
    a.proposal(0, 'X');
    a.prevote(0, 'X', 'B', 'C');
    assert.equal(a.m.lockState().lockedValue, 'X');
    // Round 0 fails to commit (precommits are nil), round 1 proposes Y with no polka for it.
    a.precommit(0, null, 'B', 'C', 'D');
    a.timeout('precommit', 0);
    assert.deepEqual(votes(a.proposal(1, 'Y')), ['prevote:1:null']);
    // Nor in a later round for a fresh proposal of Y:
    a.precommit(1, null, 'B', 'C', 'D');
    a.timeout('propose', 1);
    a.timeout('precommit', 1);
    a.prevote(2, null, 'B', 'C');
    assert.equal(a.m.lockState().lockedValue, 'X', 'the lock is never released');
    // Only a re-proposal of Y backed by a polka in a round ≥ its lock round moves it:
    const b = harness();
    b.proposal(0, 'X');
    b.prevote(0, 'X', 'B', 'C');
    b.precommit(0, null, 'B', 'C', 'D');
    b.timeout('precommit', 0);
    b.timeout('propose', 1);
    b.prevote(1, 'Y', 'B', 'C', 'D');
    b.precommit(1, null, 'B', 'C', 'D');
    b.timeout('precommit', 1);
    assert.deepEqual(votes(b.proposal(2, 'Y', 1)), ['prevote:2:Y']);
  });

  test('ProposeValidBlock: a validator that saw a polka after precommitting nil re-proposes that block', () => {
    const a = harness();
    a.timeout('propose', 0); // prevote nil: the proposal arrives late
    a.prevote(0, null, 'B');
    a.timeout('prevote', 0); // precommit nil
    assert.equal(a.m.step, 'precommit');
    a.proposal(0, 'X');
    a.prevote(0, 'X', 'B', 'C', 'D'); // B equivocated; X has a polka: validValue = X
    assert.equal(a.m.lockState().validValue, 'X');
    assert.equal(a.m.lockState().lockedValue, null);
    a.precommit(0, null, 'B', 'C');
    a.timeout('precommit', 0);
    a.prevote(3, null, 'C', 'D'); // skip to round 3, where A proposes
    assert.deepEqual(proposals(a.out).at(-1), { type: 'propose', height: 1, round: 3, value: 'X', validRound: 0 });
  });

  test('CommitFromPreviousRound: precommits for a round-0 block decide it while in round 1', () => {
    const a = harness();
    a.timeout('propose', 0);
    a.prevote(0, null, 'B', 'C');
    a.precommit(0, null, 'B', 'C');
    a.timeout('precommit', 0);
    assert.equal(a.m.round, 1);
    a.proposal(0, 'X');
    const d = decided(a.precommit(0, 'X', 'B', 'C', 'D'));
    assert.equal(d?.type === 'decide' ? `${d.round}:${d.value}` : '', '0:X');
  });

  test('RoundSkipOnNilPolkaFromHigherRound: a nil polka from round 1 moves a round-0 validator to round 1 and on to precommit nil', () => {
    const a = harness('B'); // B proposes round 0; C proposes round 1
    a.prevote(1, null, 'A', 'C', 'D');
    assert.equal(a.m.round, 1);
    assert.equal(a.m.step, 'propose');
    assert.deepEqual(votes(a.timeout('propose', 1)), ['prevote:1:null', 'precommit:1:null']);
  });

  test('prevote equivocation by one validator does not fork', () => {
    // D prevotes X to A and Y to B. Both A and B may see a polka for different values only
    // if an honest validator voted twice, so at most one value can be decided.
    const a = harness('A');
    const b = harness('C');
    a.proposal(0, 'X');
    b.proposal(0, 'X');
    a.prevote(0, 'X', 'B', 'D');
    const ev = b.prevote(0, 'X', 'B').concat(b.prevote(0, 'Y', 'D'), b.prevote(0, 'X', 'D'));
    const evidence = ev.filter((o) => o.type === 'evidence');
    assert.equal(evidence.length, 1);
    assert.equal(evidence[0]?.type === 'evidence' ? evidence[0].validator : '', 'D');
    const dA = decided(a.precommit(0, 'X', 'B', 'C', 'D'));
    const dB = decided(b.precommit(0, 'X', 'A', 'B', 'D'));
    assert.equal(dA?.type === 'decide' ? dA.value : '', 'X');
    assert.equal(dB?.type === 'decide' ? dB.value : '', 'X');
    // Y can never gather 2f+1 precommits: only D voted for it.
    const c = harness('C');
    c.proposal(0, 'X');
    assert.equal(decided(c.precommit(0, 'Y', 'D')), undefined);
  });

  test('proposal equivocation by the proposer is reported once and only the first proposal counts', () => {
    const a = harness();
    a.proposal(0, 'X');
    const outs = a.proposal(0, 'Y');
    const ev = outs.filter((o) => o.type === 'evidence');
    assert.equal(ev.length, 1);
    assert.equal(ev[0]?.type === 'evidence' ? ev[0].kind : '', 'duplicate-proposal');
    assert.deepEqual(votes(a.out), ['prevote:0:X']);
    assert.equal(a.proposal(0, 'Z').filter((o) => o.type === 'evidence').length, 0, 'reported once');
  });
});
