// Governance on the client (docs/governance.md, docs/sdk.md): propose, vote, and read proposals,
// members, parameters and the validator-set history. A client with a trusted genesis proves
// each proposal it shows against a header signed by more than 2/3 of the validators.
import { idFromPublicKey, type SigningKeyPair, signEd25519 } from '@medledger/crypto';
import { canonicalJson } from './canonical.js';
import type { NodeConnection } from './connection.js';
import { ClientError } from './errors.js';
import { nextAt, type Page, type PageRequest, pageQuery } from './paging.js';
import { provenIds, provenValue, stateKeys } from './proven-facts.js';
import { arrayAt, objectAt } from './responses.js';
import { refuse } from './trust.js';
import { rotateProofBytes } from './tx-builders.js';
import type { ProvenState } from './verified-reader.js';

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

/** State keys of the member list, the passing rule and the parameters (ehr state.ts `keys.govMembers`, `govRule`, `govParams`). */
export const govMembersKey = 'gov/members';
export const govRuleKey = 'gov/rule';
export const govParamsKey = 'gov/params';
const DEFAULT_RULE = { numerator: 2, denominator: 3 };

function provenRule(state: ProvenState): { numerator: number; denominator: number } {
  const rule = (provenValue(state, govRuleKey) ?? DEFAULT_RULE) as { numerator: number; denominator: number };
  if (!Number.isSafeInteger(rule.numerator) || !Number.isSafeInteger(rule.denominator) || rule.denominator < 1)
    refuse('STATE_PROOF_INVALID', 'the proven passing rule is malformed');
  return rule;
}

function provenMemberIds(state: ProvenState): string[] {
  return provenIds(state, govMembersKey);
}

function provenStatus(state: ProvenState | undefined, id: string): string | undefined {
  if (state === undefined) return undefined;
  return (provenValue(state, stateKeys.identity(id)) as { status?: string } | undefined)?.status;
}

/**
 * Governance state before block 1 is the trusted genesis itself: its organizations are the
 * members, active, and nothing else is set. No header proves anything then, so a node
 * answers NO_COMMITTED_BLOCK; a client that has verified a later height refuses that answer.
 */
function genesisGovState(conn: NodeConnection): ProvenState {
  type GenesisOrg = { name: string; kind: string; adminKey: string };
  const genesis = (conn.trusted?.genesis ?? {}) as { organizations?: GenesisOrg[]; genesisTime?: number };
  const identities = new Map(
    (genesis.organizations ?? []).map((o) => [idFromPublicKey(o.adminKey), { name: o.name, orgKind: o.kind, status: 'active' }]),
  );
  const genesisTime = genesis.genesisTime ?? 0;
  return {
    height: 0,
    time: genesisTime,
    blockHash: '',
    value(key: string) {
      if (key === govMembersKey) return identities.size === 0 ? null : JSON.stringify([...identities.keys()].sort());
      const org = key.startsWith('identity/') ? identities.get(key.slice('identity/'.length)) : undefined;
      return org === undefined ? null : JSON.stringify({ id: key.slice('identity/'.length), ...org });
    },
  };
}

/** Prove `keys` at the node's latest height, or take them from genesis before block 1. */
async function readGov(conn: NodeConnection, what: string, keys: readonly string[]): Promise<ProvenState> {
  const reader = conn.verified(what);
  try {
    return await reader.read(keys);
  } catch (err) {
    if (!(err instanceof ClientError && err.code === 'NO_COMMITTED_BLOCK')) throw err;
    if (reader.highestHeight > 0)
      refuse('STALE_HEIGHT', `the node says no block is committed, but height ${reader.highestHeight} was verified before`);
    return genesisGovState(conn);
  }
}

/**
 * Check proposals the node showed against proven state, and replace its tallies with ones
 * counted from proven state (ehr governance.ts `tally`): the votes of the active members of
 * the proven member list, against the proven passing rule. `fetch` is asked again (three
 * times in all) when a vote commits between the node's answer and the proof.
 */
async function provenProposals<T extends { items: GovProposal[] }>(conn: NodeConnection, fetch: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const told = await fetch();
    const state = await readGov(conn, 'showing a proposal', [...told.items.map((p) => govProposalKey(p.id)), govMembersKey, govRuleKey]);
    const differs = told.items.find((p) => {
      const proven = provenValue(state, govProposalKey(p.id));
      return (
        proven === undefined || storedFields(proven as Record<string, unknown>) !== storedFields(p as unknown as Record<string, unknown>)
      );
    });
    if (differs === undefined) {
      const memberIds = provenMemberIds(state);
      const identities =
        memberIds.length === 0
          ? undefined
          : await readGov(
              conn,
              'showing a proposal',
              memberIds.map((id) => stateKeys.identity(id)),
            );
      const active = new Set(memberIds.filter((id) => provenStatus(identities, id) === 'active'));
      const { numerator: n, denominator: d } = provenRule(state);
      const m = active.size;
      const provenAt = Math.min(state.height, identities?.height ?? state.height);
      const items = told.items.map((p) => {
        const counted = p.votes.filter((v) => active.has(v.org));
        const yes = counted.filter((v) => v.vote === 'yes').length;
        return { ...p, tally: { yes, no: counted.length - yes, members: m, needed: Math.floor((n * m) / d) + 1 }, provenAt };
      });
      return { ...told, items };
    }
    if (attempt === 3) {
      const why =
        provenValue(state, govProposalKey(differs.id)) === undefined
          ? 'is not on chain'
          : 'as the node showed it differs from the proven chain state';
      refuse('FACT_NOT_PROVEN', `proposal ${differs.id} ${why}`);
    }
  }
}

/**
 * `GET /v1/gov/proposals/:id`. With a trusted genesis, the stored fields the node showed
 * (action, votes, deadline, status) must equal the value proven against a header signed by
 * more than 2/3 of the validators, and the tally is counted from proven state (the member
 * list, their status, the passing rule), not taken from the node. A vote may commit between
 * the two reads, so a difference is asked again twice before it is refused. Throws ClientError
 * (`PROPOSAL_NOT_FOUND`, `FACT_NOT_PROVEN` and the other trust codes).
 */
export async function govProposal(conn: NodeConnection, id: number): Promise<GovProposal> {
  if (!Number.isSafeInteger(id) || id < 1) throw new ClientError('INVALID_ARGUMENT', 'a proposal id is a positive integer');
  const told = async () => proposalAt(await conn.get(`/v1/gov/proposals/${id}`, { auth: true }), 'proposal');
  if (conn.trusted === undefined) return told();
  const { items } = await provenProposals(conn, async () => {
    const p = await told();
    if (p.id !== id) refuse('FACT_NOT_PROVEN', `the node answered proposal ${p.id} for proposal ${id}`);
    return { items: [p] };
  });
  return items[0] as GovProposal;
}

/**
 * `GET /v1/gov/proposals`: one page, newest first, optionally only one status. With a trusted
 * genesis each proposal on the page is proven and its tally counted as govProposal does (that
 * the page leaves none out is not proven). Throws ClientError.
 */
export async function govProposals(
  conn: NodeConnection,
  opts: PageRequest & { status?: GovProposal['status'] } = {},
): Promise<Page<GovProposal>> {
  const told = async (): Promise<Page<GovProposal>> => {
    const answer = objectAt(
      await conn.get(`/v1/gov/proposals${pageQuery(opts, { status: opts.status })}`, { auth: true }),
      'proposals answer',
    );
    const items = arrayAt(answer, 'proposals', 'answer').map((p, i) => proposalAt(p, `proposals[${i}]`));
    const wrong = opts.status === undefined ? undefined : items.find((p) => p.status !== opts.status);
    if (wrong !== undefined)
      refuse('FACT_NOT_PROVEN', `the node lists proposal ${wrong.id} (${wrong.status}) among the ${opts.status} ones`);
    return { items, next: nextAt(answer, 'answer') };
  };
  if (conn.trusted === undefined) return told();
  return provenProposals(conn, told);
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

/** A member organization as governance shows it. */
export interface GovMember {
  id: string;
  name: string | null;
  kind: string | null;
  status: string | null;
  /** The height this entry was proven at, when the client holds a trusted genesis. */
  provenAt?: number;
}

/**
 * `GET /v1/gov/members`: one page of the member organizations. With a trusted genesis each
 * entry must be on the proven member list with its proven name, kind and status, and a
 * single page holding the whole list must hold every proven member (`FACT_NOT_PROVEN`
 * otherwise). Before block 1 the members are the trusted genesis's organizations. Throws
 * ClientError.
 */
export async function govMembers(conn: NodeConnection, page: PageRequest = {}): Promise<Page<GovMember>> {
  const answer = objectAt(await conn.get(`/v1/gov/members${pageQuery(page)}`, { auth: true }), 'members answer');
  const items = arrayAt(answer, 'members', 'answer') as GovMember[];
  const next = nextAt(answer, 'answer');
  if (conn.trusted === undefined) return { items, next };
  const state = await readGov(conn, 'showing the members', [govMembersKey, ...items.map((m) => stateKeys.identity(m.id))]);
  const ids = provenMemberIds(state);
  if (state.height === 0) {
    // Before block 1 a node has no committed member list to page through: the trusted genesis names them.
    return {
      items: ids.map((id) => {
        const org = provenValue(state, stateKeys.identity(id)) as { name: string; orgKind: string; status: string };
        return { id, name: org.name, kind: org.orgKind, status: org.status, provenAt: 0 };
      }),
      next: null,
    };
  }
  for (const m of items) {
    if (!ids.includes(m.id)) refuse('FACT_NOT_PROVEN', `the node lists ${m.id} as a member; the proven member list does not`);
    const org = provenValue(state, stateKeys.identity(m.id)) as { name?: string; orgKind?: string; status?: string } | undefined;
    if ((org?.name ?? null) !== m.name || (org?.orgKind ?? null) !== m.kind || (org?.status ?? null) !== m.status)
      refuse('FACT_NOT_PROVEN', `member ${m.id}: the node's name, kind or status is not the proven one`);
  }
  if (page.cursor === undefined && next === null) {
    const left = ids.find((id) => !items.some((m) => m.id === id));
    if (left !== undefined) refuse('FACT_NOT_PROVEN', `the node left member ${left} out of the member list`);
  }
  return { items: items.map((m) => ({ ...m, provenAt: state.height })), next };
}

/**
 * `GET /v1/gov/params`: the passing rule and the parameters in force. With a trusted genesis
 * the rule and the parameters governance set must be the proven ones, and the block limits in
 * force are recomputed from them and the trusted genesis (the vault quotas are the node's own
 * settings, not chain state). Throws ClientError.
 */
export async function govParams(conn: NodeConnection): Promise<Record<string, unknown>> {
  const answer = objectAt(await conn.get('/v1/gov/params', { auth: true }), 'params answer');
  if (conn.trusted === undefined) return answer;
  const state = await readGov(conn, 'showing the parameters', [govRuleKey, govParamsKey]);
  const rule = provenRule(state);
  const set = (provenValue(state, govParamsKey) ?? {}) as Record<string, number>;
  if (canonicalJson(answer.rule) !== canonicalJson(rule)) refuse('FACT_NOT_PROVEN', "the node's passing rule is not the proven one");
  if (canonicalJson(answer.set) !== canonicalJson(set)) refuse('FACT_NOT_PROVEN', "the node's parameters are not the proven ones");
  const genesis = conn.trusted.genesis.params as { maxBlockTxs: number; maxBlockBytes: number };
  const inForce = objectAt(answer.inForce, 'params answer.inForce');
  const limits = {
    maxBlockTxs: Math.min(genesis.maxBlockTxs, set.maxBlockTxs ?? genesis.maxBlockTxs),
    maxBlockBytes: Math.min(genesis.maxBlockBytes, set.maxBlockBytes ?? genesis.maxBlockBytes),
  };
  if (inForce.maxBlockTxs !== limits.maxBlockTxs || inForce.maxBlockBytes !== limits.maxBlockBytes)
    refuse('FACT_NOT_PROVEN', "the node's block limits in force are not the proven ones");
  const cap = set.emergencyMaxDurationMs ?? (conn.trusted.genesis.params as { emergencyMaxDurationMs?: number }).emergencyMaxDurationMs;
  if (cap !== undefined && inForce.emergencyMaxDurationMs !== cap)
    refuse('FACT_NOT_PROVEN', "the node's emergency window cap is not the proven one");
  return { ...answer, provenAt: state.height };
}

/** `GET /v1/gov/validator-sets`: one page of the validator sets governance decided, oldest first. Throws ClientError. */
export async function govValidatorSets(conn: NodeConnection, page: PageRequest = {}): Promise<Page<Record<string, unknown>>> {
  const answer = objectAt(await conn.get(`/v1/gov/validator-sets${pageQuery(page)}`, { auth: true }), 'validator sets answer');
  return { items: arrayAt(answer, 'validatorSets', 'answer') as never, next: nextAt(answer, 'answer') };
}
