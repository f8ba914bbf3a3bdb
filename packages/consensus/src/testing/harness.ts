// Test harness: one machine at height 1 with four validators A–D (power 1), fed
// message by message; its own proposals and votes are delivered back to it, as the
// node's driver does.
import { TendermintMachine } from '../machine.js';
import { proposerFor } from '../proposer.js';
import type { ConsensusOptions, Output, ValueId } from '../types.js';

export const VALIDATORS = ['A', 'B', 'C', 'D'].map((id) => ({ id, power: 1 }));
export const TIMEOUTS = { propose: 1000, proposeDelta: 500, prevote: 400, prevoteDelta: 200, precommit: 300, precommitDelta: 100 };

/** A machine for `self` at height 1 plus helpers to feed it messages. */
export function harness(self = 'A', opts: Partial<ConsensusOptions> = {}) {
  const invalid = new Set<ValueId>();
  let made = 0;
  const m = new TendermintMachine({
    height: 1,
    validators: VALIDATORS,
    self,
    timeouts: TIMEOUTS,
    getValue: (_h, r) => `new-${r}-${made++}`,
    isValid: (v) => !invalid.has(v),
    ...opts,
  });
  const out: Output[] = [];
  // Like the node's driver, deliver the machine's own proposals and votes back to it.
  const feed = (...outs: Output[]): Output[] => {
    const all: Output[] = [];
    for (const o of outs) {
      all.push(o);
      out.push(o);
      if (o.type === 'vote')
        all.push(...feed(...m.handle({ type: o.voteType, height: o.height, round: o.round, value: o.value, from: self })));
      if (o.type === 'propose')
        all.push(
          ...feed(
            ...m.handle({ type: 'proposal', height: o.height, round: o.round, value: o.value, validRound: o.validRound, from: self }),
          ),
        );
    }
    return all;
  };
  feed(...m.start());
  return {
    m,
    out,
    invalid,
    proposal: (round: number, value: ValueId, validRound = -1, from = proposerFor(VALIDATORS, 1, round)) =>
      feed(...m.handle({ type: 'proposal', height: 1, round, value, validRound, from })),
    prevote: (round: number, value: ValueId | null, ...from: string[]) =>
      from.flatMap((f) => feed(...m.handle({ type: 'prevote', height: 1, round, value, from: f }))),
    precommit: (round: number, value: ValueId | null, ...from: string[]) =>
      from.flatMap((f) => feed(...m.handle({ type: 'precommit', height: 1, round, value, from: f }))),
    timeout: (step: 'propose' | 'prevote' | 'precommit', round: number) => feed(...m.handle({ type: 'timeout', step, height: 1, round })),
  };
}

export const votes = (outs: Output[]) =>
  outs.filter((o) => o.type === 'vote').map((o) => (o.type === 'vote' ? `${o.voteType}:${o.round}:${o.value}` : ''));
export const decided = (outs: Output[]) => outs.find((o) => o.type === 'decide');

/** The `propose` outputs among `outs`. */
export const proposals = (outs: Output[]) => outs.filter((o) => o.type === 'propose');
