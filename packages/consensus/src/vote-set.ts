// Votes of one type in one round. A value's tally counts the distinct validators that
// voted for it; the round's total counts each validator once whatever it voted.
//
// A validator that equivocates is counted towards each value it voted for, as the paper
// counts "2f+1 ⟨PREVOTE, h, r, id(v)⟩ messages" from distinct senders. This stays safe
// (two quorums for different values still share f+1 validators, so an honest one would
// have to vote twice) and keeps the protocol live: with relaying, every correct node
// ends up with the same tallies even when a Byzantine validator showed different votes
// to different peers. CometBFT reaches the same end with its peer-claimed majorities.
import type { ValueId, VoteMsg } from './types.js';

const NIL = '\u0000nil';
const keyOf = (value: ValueId | null) => (value === null ? NIL : value);

export class VoteSet {
  private readonly byValidator = new Map<string, Map<string, VoteMsg>>();
  private readonly powerByValue = new Map<string, number>();
  private totalPower = 0;

  constructor(private readonly powerOf: (id: string) => number) {}

  /**
   * Count a vote. Returns an earlier vote of the same validator for a different value
   * (equivocation evidence), else undefined. A repeated identical vote changes nothing.
   */
  add(vote: VoteMsg): VoteMsg | undefined {
    const key = keyOf(vote.value);
    const power = this.powerOf(vote.from);
    let votes = this.byValidator.get(vote.from);
    if (votes === undefined) {
      votes = new Map();
      this.byValidator.set(vote.from, votes);
      this.totalPower += power;
    }
    if (votes.has(key)) return undefined;
    const prior = votes.values().next().value as VoteMsg | undefined;
    votes.set(key, vote);
    this.powerByValue.set(key, (this.powerByValue.get(key) ?? 0) + power);
    return prior;
  }

  /** Power of the distinct validators that voted for `value` (null = nil). */
  powerFor(value: ValueId | null): number {
    return this.powerByValue.get(keyOf(value)) ?? 0;
  }

  /** Power of every validator that voted, each counted once. */
  get power(): number {
    return this.totalPower;
  }

  /** The votes for `value`, one per validator. */
  votesFor(value: ValueId | null): VoteMsg[] {
    const key = keyOf(value);
    const out: VoteMsg[] = [];
    for (const votes of this.byValidator.values()) {
      const v = votes.get(key);
      if (v !== undefined) out.push(v);
    }
    return out;
  }

  /** Values (not nil) with any votes. */
  values(): ValueId[] {
    return [...this.powerByValue.keys()].filter((k) => k !== NIL);
  }
}
