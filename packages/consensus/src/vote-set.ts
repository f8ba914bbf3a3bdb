// Votes of one type in one round, counted by distinct validator and voting power.
import type { ValueId, VoteMsg } from './types.js';

const NIL = '\u0000nil';
const keyOf = (value: ValueId | null) => (value === null ? NIL : value);

export class VoteSet {
  private readonly byValidator = new Map<string, VoteMsg>();
  private readonly powerByValue = new Map<string, number>();
  private totalPower = 0;

  constructor(private readonly powerOf: (id: string) => number) {}

  /**
   * Count a vote. Returns the earlier conflicting vote when this validator already voted
   * differently (equivocation: the second vote is not counted), else undefined.
   */
  add(vote: VoteMsg): VoteMsg | undefined {
    const prior = this.byValidator.get(vote.from);
    if (prior !== undefined) return prior.value === vote.value ? undefined : prior;
    const power = this.powerOf(vote.from);
    this.byValidator.set(vote.from, vote);
    this.powerByValue.set(keyOf(vote.value), (this.powerByValue.get(keyOf(vote.value)) ?? 0) + power);
    this.totalPower += power;
    return undefined;
  }

  /** Power of the validators that voted for `value` (null = nil). */
  powerFor(value: ValueId | null): number {
    return this.powerByValue.get(keyOf(value)) ?? 0;
  }

  /** Power of every validator that voted, whatever for. */
  get power(): number {
    return this.totalPower;
  }

  /** The votes for `value`. */
  votesFor(value: ValueId | null): VoteMsg[] {
    return [...this.byValidator.values()].filter((v) => v.value === value);
  }

  /** Values (not nil) with any votes. */
  values(): ValueId[] {
    return [...this.powerByValue.keys()].filter((k) => k !== NIL);
  }
}
