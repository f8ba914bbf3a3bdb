// Deterministic proposer selection: weighted round robin over the validator list.
import type { ValidatorInfo } from './types.js';

/**
 * The proposer of (height, round): position (height + round) mod total power, walking the
 * validators in list order with each taking `power` consecutive slots. With equal powers
 * this is (height + round) mod n. Every node computes the same answer.
 */
export function proposerFor(validators: readonly ValidatorInfo[], height: number, round: number): string {
  const total = validators.reduce((s, v) => s + v.power, 0);
  let slot = (height + round) % total;
  for (const v of validators) {
    if (slot < v.power) return v.id;
    slot -= v.power;
  }
  throw new Error('empty validator set');
}
