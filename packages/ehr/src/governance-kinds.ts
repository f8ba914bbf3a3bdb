// The governance transactions (docs/governance.md): a member organization proposes, members
// vote once each, and a proposal passes the moment its yes votes pass the rule, or expires at
// its deadline in block time (closeExpiredProposals runs before each block's transactions).
import { txHash } from '@medledger/ledger';
import { enumField, intField, onlyFields } from './body.js';
import { EhrError } from './errors.js';
import {
  getProposal,
  MAX_OPEN_PROPOSALS,
  MAX_OPEN_PROPOSALS_PER_MEMBER,
  openProposals,
  type Proposal,
  putProposal,
  requireMember,
  setOpenProposals,
  tally,
} from './governance.js';
import { applyGovAction, type GenesisLimits, parseGovAction } from './governance-actions.js';
import { activeSigner } from './identity.js';
import type { TxContext, TxKind } from './kinds.js';
import { keys, readJson, type StateOverlay, type StateReader } from './state.js';

/** Shortest voting period: a minute of block time (tests and emergencies); longest: 90 days. */
export const MIN_VOTING_PERIOD_MS = 60_000;
export const MAX_VOTING_PERIOD_MS = 90 * 24 * 60 * 60_000;

/** The genesis block limits initChain recorded, which governance may lower but not raise. */
export function genesisLimits(state: StateReader): GenesisLimits | undefined {
  return readJson<GenesisLimits>(state, keys.govGenesisLimits());
}

/**
 * Close a proposal that just passed: apply its action in a nested overlay (kept only if it
 * applies), and record the outcome. A passed proposal whose action no longer applies is
 * 'failed' with the reason, and changes nothing else.
 */
function enact(ctx: TxContext, state: StateOverlay, proposal: Proposal): Proposal {
  const closedAt = { height: ctx.height, time: ctx.time };
  const scratch = state.fork();
  try {
    const limits = genesisLimits(state);
    const effectiveHeight = applyGovAction({ ...ctx, ...(limits === undefined ? {} : { limits }) }, scratch, proposal.id, proposal.action);
    state.absorb(scratch);
    return { ...proposal, status: 'passed', closedAt, ...(effectiveHeight === undefined ? {} : { effectiveHeight }) };
  } catch (err) {
    if (!(err instanceof EhrError)) throw err;
    return { ...proposal, status: 'failed', closedAt, reason: `${err.code}: ${err.message}` };
  }
}

function closeOpen(state: StateOverlay, id: number): void {
  setOpenProposals(
    state,
    openProposals(state).filter((x) => x !== id),
  );
}

/** `gov.propose` (a member organization): body `{action, votingPeriodMs}`; the proposal id is the next number. */
export const govPropose: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'gov.propose', ['action', 'votingPeriodMs']);
    const action = parseGovAction(b.action);
    const period = intField(b, 'votingPeriodMs', MAX_VOTING_PERIOD_MS);
    if (period < MIN_VOTING_PERIOD_MS)
      throw new EhrError('INVALID_BODY', `body.votingPeriodMs must be from ${MIN_VOTING_PERIOD_MS} to ${MAX_VOTING_PERIOD_MS}`);
    const org = activeSigner(state, tx.signer);
    requireMember(state, org, 'makes proposals');
    const open = openProposals(state);
    if (open.length >= MAX_OPEN_PROPOSALS)
      throw new EhrError('TOO_MANY_PROPOSALS', `${MAX_OPEN_PROPOSALS} proposals are already open; vote on them or let them expire first`);
    if (open.filter((id) => getProposal(state, id)?.proposer === org.id).length >= MAX_OPEN_PROPOSALS_PER_MEMBER)
      throw new EhrError(
        'TOO_MANY_PROPOSALS',
        `this organization already has ${MAX_OPEN_PROPOSALS_PER_MEMBER} proposals open; let them be decided or expire first`,
      );
    const id = Number(state.getState(keys.govNext()) ?? '1');
    // Dry run: a proposal whose action cannot apply to today's state is refused now, not after a vote.
    const limits = genesisLimits(state);
    applyGovAction({ ...ctx, ...(limits === undefined ? {} : { limits }) }, state.fork(), id, action);
    state.set(keys.govNext(), String(id + 1));
    putProposal(state, {
      id,
      proposer: org.id,
      tx: txHash(tx),
      action,
      createdAt: { height: ctx.height, time: ctx.time },
      deadline: ctx.time + period,
      status: 'open',
      votes: [],
    });
    setOpenProposals(state, [...open, id]);
  },
};

/** `gov.vote` (a member organization): body `{proposal, vote: 'yes'|'no'}`, once per organization, before the deadline. */
export const govVote: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'gov.vote', ['proposal', 'vote']);
    const id = intField(b, 'proposal');
    const vote = enumField(b, 'vote', ['yes', 'no'] as const);
    const org = activeSigner(state, tx.signer);
    requireMember(state, org, 'votes');
    const proposal = getProposal(state, id);
    if (proposal === undefined) throw new EhrError('NOT_FOUND', `no proposal ${id}`);
    if (proposal.status !== 'open' || ctx.time >= proposal.deadline)
      throw new EhrError('PROPOSAL_CLOSED', `proposal ${id} is ${proposal.status === 'open' ? 'past its deadline' : proposal.status}`);
    if (proposal.votes.some((v) => v.org === org.id))
      throw new EhrError('ALREADY_VOTED', `organization ${org.id} already voted on proposal ${id}`);
    const voted: Proposal = { ...proposal, votes: [...proposal.votes, { org: org.id, vote, height: ctx.height, time: ctx.time }] };
    const outcome = tally(state, voted).status;
    if (outcome === 'open') return putProposal(state, voted);
    closeOpen(state, id);
    if (outcome === 'rejected')
      return putProposal(state, { ...voted, status: 'rejected', closedAt: { height: ctx.height, time: ctx.time } });
    putProposal(state, enact(ctx, state, voted));
  },
};

/**
 * Before a block's transactions: every open proposal whose deadline has come (deadline ≤ block
 * time) expires. Runs in finalizeBlock only, so it is the same on every validator.
 */
export function closeExpiredProposals(ctx: Pick<TxContext, 'height' | 'time'>, state: StateOverlay): void {
  const open = openProposals(state);
  const still: number[] = [];
  for (const id of open) {
    const p = getProposal(state, id);
    if (p === undefined) continue;
    if (ctx.time >= p.deadline) putProposal(state, { ...p, status: 'expired', closedAt: { height: ctx.height, time: ctx.time } });
    else still.push(id);
  }
  if (still.length !== open.length) setOpenProposals(state, still);
}
