// Tendermint consensus for one height: Algorithm 1 of Buchman, Kwon and Milosevic, "The
// latest gossip on BFT consensus" (arXiv 1807.04938), as a pure state machine. Inputs
// are verified proposals, votes and expired timeouts; outputs are what to sign and
// broadcast, timeouts to schedule, the decision, and equivocation evidence. Line numbers
// in comments refer to Algorithm 1 of the paper.
import { proposerFor } from './proposer.js';
import type { ConsensusOptions, Input, LockState, Output, ProposalMsg, Step, ValueId, VoteMsg, VoteType } from './types.js';
import { VoteSet } from './vote-set.js';

/** Rounds further ahead than this are ignored, bounding what a Byzantine peer can make us store. */
const MAX_ROUND_AHEAD = 1_000;

interface RoundState {
  proposal?: ProposalMsg;
  prevotes: VoteSet;
  precommits: VoteSet;
  /** Distinct validators heard from in this round (any message), for round skipping. */
  senders: Set<string>;
  senderPower: number;
  /** "for the first time" guards of lines 34, 36 and 47. */
  prevoteTimeoutScheduled: boolean;
  polkaSeen: boolean;
  precommitTimeoutScheduled: boolean;
  evidenced: Set<string>;
}

export class TendermintMachine {
  private readonly opts: ConsensusOptions;
  private readonly power = new Map<string, number>();
  private readonly quorum: number;
  private readonly skipThreshold: number;
  private readonly rounds = new Map<number, RoundState>();
  private readonly validity = new Map<ValueId, boolean>();
  private readonly proposerOf: (height: number, round: number) => string;
  private _round = 0;
  private _step: Step = 'propose';
  private lockedRound = -1;
  private lockedValue: ValueId | null = null;
  private validRound = -1;
  private validValue: ValueId | null = null;
  private decided = false;
  private started = false;
  private out: Output[] = [];

  constructor(opts: ConsensusOptions) {
    this.opts = opts;
    let total = 0;
    for (const v of opts.validators) {
      if (!Number.isSafeInteger(v.power) || v.power < 1) throw new RangeError(`validator ${v.id} has invalid power`);
      this.power.set(v.id, v.power);
      total += v.power;
    }
    if (total === 0) throw new RangeError('empty validator set');
    this.quorum = Math.floor((2 * total) / 3) + 1; // more than 2/3: "2f + 1"
    this.skipThreshold = Math.floor(total / 3) + 1; // more than 1/3: "f + 1"
    this.proposerOf = opts.proposer ?? ((h, r) => proposerFor(opts.validators, h, r));
    const r = opts.restored;
    if (r !== undefined && r.height === opts.height) {
      this._round = r.round;
      this.lockedRound = r.lockedRound;
      this.lockedValue = r.lockedValue;
      this.validRound = r.validRound;
      this.validValue = r.validValue;
    }
  }

  get height(): number {
    return this.opts.height;
  }
  get round(): number {
    return this._round;
  }
  get step(): Step {
    return this._step;
  }
  get hasDecided(): boolean {
    return this.decided;
  }

  /** State to persist so a restart resumes this round with the same locks. */
  lockState(): LockState {
    return {
      height: this.opts.height,
      round: this._round,
      lockedRound: this.lockedRound,
      lockedValue: this.lockedValue,
      validRound: this.validRound,
      validValue: this.validValue,
    };
  }

  /** Line 10: StartRound(0), or the restored round after a restart. */
  start(): Output[] {
    if (this.started) return [];
    this.started = true;
    this.startRound(this._round);
    this.evaluate();
    return this.flush();
  }

  /** Feed one input; returns the outputs it caused, in order. */
  handle(input: Input): Output[] {
    if (!this.started || this.decided || input.height !== this.opts.height) return [];
    if (input.type === 'timeout') this.onTimeout(input.step, input.round);
    else if (input.type === 'proposal') this.onProposal(input);
    else this.onVote(input);
    this.evaluate();
    return this.flush();
  }

  private flush(): Output[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private roundState(round: number): RoundState {
    let rs = this.rounds.get(round);
    if (rs === undefined) {
      const powerOf = (id: string) => this.power.get(id) ?? 0;
      rs = {
        prevotes: new VoteSet(powerOf),
        precommits: new VoteSet(powerOf),
        senders: new Set(),
        senderPower: 0,
        prevoteTimeoutScheduled: false,
        polkaSeen: false,
        precommitTimeoutScheduled: false,
        evidenced: new Set(),
      };
      this.rounds.set(round, rs);
    }
    return rs;
  }

  private acceptRound(round: number): boolean {
    return Number.isSafeInteger(round) && round >= 0 && round <= this._round + MAX_ROUND_AHEAD;
  }

  private noteSender(rs: RoundState, from: string): void {
    if (!rs.senders.has(from)) {
      rs.senders.add(from);
      rs.senderPower += this.power.get(from) ?? 0;
    }
  }

  private evidence(
    rs: RoundState,
    kind: 'duplicate-vote' | 'duplicate-proposal',
    first: ProposalMsg | VoteMsg,
    second: ProposalMsg | VoteMsg,
  ): void {
    const tag = `${kind}/${first.type}/${first.from}`;
    if (rs.evidenced.has(tag)) return;
    rs.evidenced.add(tag);
    this.out.push({ type: 'evidence', kind, validator: first.from, height: this.opts.height, round: first.round, first, second });
  }

  private onProposal(p: ProposalMsg): void {
    if (!this.acceptRound(p.round) || p.from !== this.proposerOf(this.opts.height, p.round)) return;
    if (p.validRound < -1 || p.validRound >= p.round) return;
    const rs = this.roundState(p.round);
    if (rs.proposal !== undefined) {
      if (rs.proposal.value !== p.value || rs.proposal.validRound !== p.validRound) this.evidence(rs, 'duplicate-proposal', rs.proposal, p);
      return;
    }
    rs.proposal = p;
    this.noteSender(rs, p.from);
  }

  private onVote(v: VoteMsg): void {
    if (!this.acceptRound(v.round) || !this.power.has(v.from)) return;
    const rs = this.roundState(v.round);
    const set = v.type === 'prevote' ? rs.prevotes : rs.precommits;
    const conflict = set.add(v);
    if (conflict !== undefined) this.evidence(rs, 'duplicate-vote', conflict, v);
    this.noteSender(rs, v.from);
  }

  private isValid(value: ValueId): boolean {
    let ok = this.validity.get(value);
    if (ok === undefined) {
      ok = this.opts.isValid(value);
      this.validity.set(value, ok);
    }
    return ok;
  }

  private timeout(step: Step, round: number): number {
    const t = this.opts.timeouts;
    if (step === 'propose') return t.propose + round * t.proposeDelta;
    if (step === 'prevote') return t.prevote + round * t.prevoteDelta;
    return t.precommit + round * t.precommitDelta;
  }

  private schedule(step: Step, round: number): void {
    this.out.push({ type: 'scheduleTimeout', step, height: this.opts.height, round, durationMs: this.timeout(step, round) });
  }

  private vote(voteType: VoteType, value: ValueId | null): void {
    if (this.opts.self === null) return;
    this.out.push({ type: 'vote', voteType, height: this.opts.height, round: this._round, value });
  }

  /** Lines 11–21: StartRound. */
  private startRound(round: number): void {
    this._round = round;
    this._step = 'propose';
    const h = this.opts.height;
    if (this.opts.self !== null && this.proposerOf(h, round) === this.opts.self) {
      const value = this.validValue ?? this.opts.getValue(h, round);
      this.out.push({ type: 'propose', height: h, round, value, validRound: this.validRound });
    } else {
      this.schedule('propose', round);
    }
  }

  /** Lines 57–66: the three timeouts; stale ones (other round or step) do nothing. */
  private onTimeout(step: Step, round: number): void {
    if (round !== this._round) return;
    if (step === 'propose' && this._step === 'propose') {
      this.vote('prevote', null);
      this._step = 'prevote';
    } else if (step === 'prevote' && this._step === 'prevote') {
      this.vote('precommit', null);
      this._step = 'precommit';
    } else if (step === 'precommit') {
      this.startRound(round + 1);
    }
  }

  /** Apply every rule whose condition holds, until none does (rules only move forward). */
  private evaluate(): void {
    for (let changed = true; changed && !this.decided; ) changed = this.applyOneRule();
  }

  private applyOneRule(): boolean {
    // Line 49: decide on a proposal from ANY round with 2f+1 precommits for it.
    for (const [r, rs] of this.rounds) {
      const p = rs.proposal;
      if (p !== undefined && rs.precommits.powerFor(p.value) >= this.quorum && this.isValid(p.value)) {
        this.decided = true;
        this.out.push({ type: 'decide', height: this.opts.height, round: r, value: p.value, precommits: rs.precommits.votesFor(p.value) });
        return false;
      }
    }
    // Line 55: f+1 messages from a higher round ⇒ skip to it (the highest such round).
    let skipTo = -1;
    for (const [r, rs] of this.rounds) if (r > this._round && r > skipTo && rs.senderPower >= this.skipThreshold) skipTo = r;
    if (skipTo > this._round) {
      this.startRound(skipTo);
      return true;
    }
    const r = this._round;
    const rs = this.roundState(r);
    const p = rs.proposal;
    if (this._step === 'propose' && p !== undefined) {
      // Line 22: a fresh proposal (vr = -1).
      if (p.validRound === -1) {
        const ok = this.isValid(p.value) && (this.lockedRound === -1 || this.lockedValue === p.value);
        this.vote('prevote', ok ? p.value : null);
        this._step = 'prevote';
        return true;
      }
      // Line 28: a re-proposal backed by a polka in round vr < r.
      const vr = this.rounds.get(p.validRound);
      if (vr !== undefined && vr.prevotes.powerFor(p.value) >= this.quorum) {
        const ok = this.isValid(p.value) && (this.lockedRound <= p.validRound || this.lockedValue === p.value);
        this.vote('prevote', ok ? p.value : null);
        this._step = 'prevote';
        return true;
      }
    }
    // Line 34: 2f+1 prevotes of any kind ⇒ prevote timeout, once per round.
    if (this._step === 'prevote' && !rs.prevoteTimeoutScheduled && rs.prevotes.power >= this.quorum) {
      rs.prevoteTimeoutScheduled = true;
      this.schedule('prevote', r);
      return true;
    }
    // Line 36: proposal + polka for it while step ≥ prevote, first time: lock (if still in
    // prevote) and always update validValue/validRound.
    if (
      this._step !== 'propose' &&
      !rs.polkaSeen &&
      p !== undefined &&
      rs.prevotes.powerFor(p.value) >= this.quorum &&
      this.isValid(p.value)
    ) {
      rs.polkaSeen = true;
      if (this._step === 'prevote') {
        this.lockedValue = p.value;
        this.lockedRound = r;
        this.vote('precommit', p.value);
        this._step = 'precommit';
      }
      this.validValue = p.value;
      this.validRound = r;
      return true;
    }
    // Line 44: a nil polka ⇒ precommit nil.
    if (this._step === 'prevote' && rs.prevotes.powerFor(null) >= this.quorum) {
      this.vote('precommit', null);
      this._step = 'precommit';
      return true;
    }
    // Line 47: 2f+1 precommits of any kind ⇒ precommit timeout, once per round.
    if (!rs.precommitTimeoutScheduled && rs.precommits.power >= this.quorum) {
      rs.precommitTimeoutScheduled = true;
      this.schedule('precommit', r);
      return true;
    }
    return false;
  }
}
