// Inputs and outputs of the Tendermint state machine. The machine does no I/O: the
// node's driver verifies signatures before messages go in, and signs what comes out.

/** A proposed value's id: the block hash (hex). */
export type ValueId = string;
export type VoteType = 'prevote' | 'precommit';
export type Step = 'propose' | 'prevote' | 'precommit';

/** A validator and its voting power (integer ≥ 1). `id` is its Ed25519 public key. */
export interface ValidatorInfo {
  id: string;
  power: number;
}

/** Timeouts in ms; the timeout of round r is base + r · delta, so they grow with the round. */
export interface TimeoutConfig {
  propose: number;
  proposeDelta: number;
  prevote: number;
  prevoteDelta: number;
  precommit: number;
  precommitDelta: number;
}

/** ⟨PROPOSAL, h, r, v, vr⟩ from `from`; `signed` is carried through untouched (for evidence). */
export interface ProposalMsg {
  type: 'proposal';
  height: number;
  round: number;
  value: ValueId;
  validRound: number;
  from: string;
  signed?: unknown;
}

/** ⟨PREVOTE|PRECOMMIT, h, r, id(v) or nil⟩ from `from`. */
export interface VoteMsg {
  type: VoteType;
  height: number;
  round: number;
  value: ValueId | null;
  from: string;
  signed?: unknown;
}

export interface TimeoutMsg {
  type: 'timeout';
  step: Step;
  height: number;
  round: number;
}

export type Input = ProposalMsg | VoteMsg | TimeoutMsg;

export type Output =
  | { type: 'propose'; height: number; round: number; value: ValueId; validRound: number }
  | { type: 'vote'; voteType: VoteType; height: number; round: number; value: ValueId | null }
  | { type: 'scheduleTimeout'; step: Step; height: number; round: number; durationMs: number }
  | { type: 'decide'; height: number; round: number; value: ValueId; precommits: VoteMsg[] }
  | {
      type: 'evidence';
      kind: 'duplicate-vote' | 'duplicate-proposal';
      validator: string;
      height: number;
      round: number;
      first: ProposalMsg | VoteMsg;
      second: ProposalMsg | VoteMsg;
    };

/** What survives a restart besides the signer guard: the round and the paper's locks. */
export interface LockState {
  height: number;
  round: number;
  lockedRound: number;
  lockedValue: ValueId | null;
  validRound: number;
  validValue: ValueId | null;
}

export interface ConsensusOptions {
  height: number;
  validators: ValidatorInfo[];
  /** This node's validator id, or null for an observer that never votes. */
  self: string | null;
  timeouts: TimeoutConfig;
  /** The paper's getValue(): the proposer asks the driver for a new block. */
  getValue: (height: number, round: number) => ValueId;
  /** The paper's valid(v): the driver has checked the block behind `value`. */
  isValid: (value: ValueId) => boolean;
  /** Proposer selection; default `proposerFor`. */
  proposer?: (height: number, round: number) => string;
  /** Locks and round persisted before a restart at this height. */
  restored?: LockState;
}
