// Governance on the client (docs/governance.md, docs/sdk.md): propose, vote, and read proposals,
// members, parameters and the validator-set history. A client with a trusted genesis proves
// each proposal it shows against a header signed by more than 2/3 of the validators.
import { type SigningKeyPair, signEd25519 } from '@medledger/crypto';
import { canonicalJson } from './canonical.js';
import type { NodeConnection } from './connection.js';
import { ClientError } from './errors.js';
import { nextAt, type Page, type PageRequest, pageQuery } from './paging.js';
import { arrayAt, objectAt } from './responses.js';
import { refuse } from './trust.js';
import { rotateProofBytes } from './tx-builders.js';

/** What a proposal asks for; the node checks each field (docs/governance.md "Proposals"). */
export type GovAction =
  | { type: 'org.admit'; kind: string; name: string; adminKey: string; adminEncryptionKey: string }
  | { type: 'org.suspend' | 'org.reinstate' | 'org.remove'; org: string }
  | { type: 'validator.add'; name: string; publicKey: string; encryptionKey: string; power: number }
  | { type: 'validator.remove'; validator: string }
  | { type: 'validator.power'; validator: string; power: number }
  | { type: 'validator.rotate'; validator: string; newPublicKey: string; proof: string; encryptionKey?: string }
  | { type: 'param.set'; param: string; value: number }
  | { type: 'rule.set'; numerator: number; denominator: number };

export interface GovProposeBody {
  action: GovAction;
  votingPeriodMs: number;
}
export interface GovVoteBody {
  proposal: number;
  vote: 'yes' | 'no';
}

declare module './tx-builders.js' {
  interface TxBodies {
    'gov.propose': GovProposeBody;
    'gov.vote': GovVoteBody;
  }
}

/** A proposal as the node shows it: as stored on chain, plus the tally of the current members' votes. */
export interface GovProposal {
  id: number;
  proposer: string;
  tx: string;
  action: GovAction;
  createdAt: { height: number; time: number };
  deadline: number;
  status: 'open' | 'passed' | 'rejected' | 'expired' | 'failed';
  votes: Array<{ org: string; vote: 'yes' | 'no'; height: number; time: number }>;
  closedAt?: { height: number; time: number };
  effectiveHeight?: number;
  reason?: string;
  tally: { yes: number; no: number; members: number; needed: number };
  /** The height this proposal was proven at, when the client holds a trusted genesis. */
  provenAt?: number;
}

/**
 * A `validator.rotate` action: the new key signs the same possession proof as identity.rotate
 * (it agrees to be validator `validator`'s key on chain `chain`), so nobody can rotate a
 * validator onto a key they do not hold.
 */
export function validatorRotateAction(opts: {
  chain: string;
  validator: string;
  newSigning: SigningKeyPair;
  encryptionKey?: string;
}): Extract<GovAction, { type: 'validator.rotate' }> {
  const proof = signEd25519(opts.newSigning.privateKey, rotateProofBytes(opts.chain, opts.validator, opts.newSigning.publicKey));
  return {
    type: 'validator.rotate',
    validator: opts.validator,
    newPublicKey: opts.newSigning.publicKey,
    proof,
    ...(opts.encryptionKey === undefined ? {} : { encryptionKey: opts.encryptionKey }),
  };
}

/** State key of proposal `id` (the node's layout, ehr state.ts `keys.govProposal`). */
export const govProposalKey = (id: number) => `gov/proposal/${String(id).padStart(12, '0')}`;

function proposalAt(x: unknown, what: string): GovProposal {
  const p = objectAt(x, what);
  if (typeof p.id !== 'number' || typeof p.status !== 'string' || !Array.isArray(p.votes) || typeof p.tally !== 'object')
    throw new ClientError('MALFORMED_RESPONSE', `${what} must be a proposal with id, status, votes and tally`);
  return p as unknown as GovProposal;
}

/** Fields of the stored proposal (everything but the node's tally), in a stable order for comparison. */
function storedFields(p: Record<string, unknown>): string {
  const { tally: _tally, provenAt: _provenAt, ...rest } = p;
  return canonicalJson(rest);
}

/**
 * `GET /v1/gov/proposals/:id`. With a trusted genesis, the stored fields the node showed
 * (action, votes, deadline, status) must equal the value proven against a header signed by
 * more than 2/3 of the validators; the tally is the node's count of those proven votes. A
 * vote may commit between the two reads, so a difference is asked again twice before it is
 * refused. Throws ClientError (`PROPOSAL_NOT_FOUND`, `FACT_NOT_PROVEN` and the other trust codes).
 */
export async function govProposal(conn: NodeConnection, id: number): Promise<GovProposal> {
  if (!Number.isSafeInteger(id) || id < 1) throw new ClientError('INVALID_ARGUMENT', 'a proposal id is a positive integer');
  const told = async () => proposalAt(await conn.get(`/v1/gov/proposals/${id}`, { auth: true }), 'proposal');
  if (conn.trusted === undefined) return told();
  const reader = conn.verified('showing a proposal');
  for (let attempt = 1; ; attempt++) {
    const p = await told();
    const state = await reader.read([govProposalKey(id)]);
    const value = state.value(govProposalKey(id));
    if (value === null) refuse('FACT_NOT_PROVEN', `proposal ${id} is not on chain`);
    if (storedFields(JSON.parse(value) as Record<string, unknown>) === storedFields(p as unknown as Record<string, unknown>))
      return { ...p, provenAt: state.height };
    if (attempt === 3) refuse('FACT_NOT_PROVEN', `proposal ${id} as the node showed it differs from the proven chain state`);
  }
}

/** `GET /v1/gov/proposals`: one page, newest first, optionally only one status. Throws ClientError. */
export async function govProposals(
  conn: NodeConnection,
  opts: PageRequest & { status?: GovProposal['status'] } = {},
): Promise<Page<GovProposal>> {
  const answer = objectAt(
    await conn.get(`/v1/gov/proposals${pageQuery(opts, { status: opts.status })}`, { auth: true }),
    'proposals answer',
  );
  return { items: arrayAt(answer, 'proposals', 'answer').map((p, i) => proposalAt(p, `proposals[${i}]`)), next: nextAt(answer, 'answer') };
}

/**
 * As a member organization, propose `action` open for `votingPeriodMs` of block time
 * (`gov.propose`), wait for it to commit and return its number. Throws ClientError with the
 * chain's code (`UNAUTHORIZED`, `INVALID_BODY`, `NOT_FOUND`, `TOO_MANY_PROPOSALS` …).
 */
export async function govPropose(conn: NodeConnection, action: GovAction, votingPeriodMs: number): Promise<GovProposal> {
  const done = await conn.submitAndWait('gov.propose', { action, votingPeriodMs });
  // The number is the chain's counter: find the proposal this transaction made, newest first.
  for (let cursor: string | undefined, pages = 0; pages < 20; pages++) {
    const page = await govProposals(conn, { limit: 100, ...(cursor === undefined ? {} : { cursor }) });
    const mine = page.items.find((p) => p.tx === done.hash);
    if (mine !== undefined) return govProposal(conn, mine.id);
    if (page.next === null) break;
    cursor = page.next;
  }
  throw new ClientError('MALFORMED_RESPONSE', `proposal transaction ${done.hash} committed but the node lists no proposal for it`);
}

/** As a member organization, vote on proposal `id` (`gov.vote`) and wait for it to commit; returns the proposal after the vote. */
export async function govVote(conn: NodeConnection, id: number, yes: boolean): Promise<GovProposal> {
  await conn.submitAndWait('gov.vote', { proposal: id, vote: yes ? 'yes' : 'no' });
  return govProposal(conn, id);
}

/** `GET /v1/gov/members`: one page of the member organizations. Throws ClientError. */
export async function govMembers(
  conn: NodeConnection,
  page: PageRequest = {},
): Promise<Page<{ id: string; name: string | null; kind: string | null; status: string | null }>> {
  const answer = objectAt(await conn.get(`/v1/gov/members${pageQuery(page)}`, { auth: true }), 'members answer');
  return { items: arrayAt(answer, 'members', 'answer') as never, next: nextAt(answer, 'answer') };
}

/** `GET /v1/gov/params`: the passing rule and the parameters in force. Throws ClientError. */
export async function govParams(conn: NodeConnection): Promise<Record<string, unknown>> {
  return objectAt(await conn.get('/v1/gov/params', { auth: true }), 'params answer');
}

/** `GET /v1/gov/validator-sets`: one page of the validator sets governance decided, oldest first. Throws ClientError. */
export async function govValidatorSets(conn: NodeConnection, page: PageRequest = {}): Promise<Page<Record<string, unknown>>> {
  const answer = objectAt(await conn.get(`/v1/gov/validator-sets${pageQuery(page)}`, { auth: true }), 'validator sets answer');
  return { items: arrayAt(answer, 'validatorSets', 'answer') as never, next: nextAt(answer, 'answer') };
}
