// Governance on chain (docs/governance.md): the member organizations, the passing rule, the
// chain parameters governance may change, the validator-set history, and proposals with their
// votes. Everything here is a function of committed state and block time, so every validator
// tallies the same votes to the same outcome.
import { EhrError } from './errors.js';
import { getIdentity, type Identity, isOrganization } from './identity.js';
import { keys, prefixes, readJson, type StateOverlay, type StateReader, writeJson } from './state.js';

/** More than `numerator/denominator` of the members must vote yes; the default is 2/3. */
export interface PassingRule {
  numerator: number;
  denominator: number;
}
export const DEFAULT_PASSING_RULE: PassingRule = { numerator: 2, denominator: 3 };

/**
 * The largest transaction (canonical signed bytes) a node admits: 1 MiB, the API's default
 * request body limit (`config.bodyLimitBytes`). Admission refuses anything larger
 * (TX_TOO_LARGE), from a client or a peer, whatever a node's body limit, so a block of at
 * least this many bytes can hold any admitted transaction. Governance may therefore not vote
 * `maxBlockBytes` below it: a transaction larger than the block limit would never be
 * included, and the proposer, which takes the mempool in order, would include nothing after it.
 */
export const MAX_TX_BYTES = 1_048_576;

/** The chain parameters a proposal may change, and the bounds a new value must keep. */
export const GOV_PARAMS = {
  /** Longest emergency window a clinician may open (ms of block time). */
  emergencyMaxDurationMs: { min: 1_000, max: 7 * 24 * 60 * 60_000 },
  /** Transactions per block; at most the genesis value, which every verifier knows. */
  maxBlockTxs: { min: 1, max: Number.MAX_SAFE_INTEGER },
  /** Bytes of transactions per block; at most the genesis value, at least MAX_TX_BYTES (any admitted transaction fits). */
  maxBlockBytes: { min: MAX_TX_BYTES, max: Number.MAX_SAFE_INTEGER },
  /** Vault quotas every node enforces (docs/records.md "Vault ownership and quotas"). */
  vaultPendingBytesPerIdentity: { min: 1_024, max: Number.MAX_SAFE_INTEGER },
  vaultPendingObjectsPerIdentity: { min: 1, max: Number.MAX_SAFE_INTEGER },
  vaultAnchoredBytesPerIdentity: { min: 1_024, max: Number.MAX_SAFE_INTEGER },
} as const;
export type GovParamName = keyof typeof GOV_PARAMS;
export const GOV_PARAM_NAMES = Object.keys(GOV_PARAMS) as GovParamName[];

/** Parameter values governance has set; a name absent here keeps its genesis (or node) value. */
export type GovParams = Partial<Record<GovParamName, number>>;

/** One validator as the set history keeps it (the shape of `meta/validators`). */
export interface ValidatorEntry {
  id: string;
  name: string;
  publicKey: string;
  encryptionKey: string;
  power: number;
}

/** A validator set decided at `decidedAt` by `proposal`, effective from `effectiveHeight` (decidedAt + 2). */
export interface ValidatorSetChange {
  effectiveHeight: number;
  decidedAt: number;
  proposal: number;
  validators: ValidatorEntry[];
}

/** Blocks between a validator-set change being decided and taking effect, as in CometBFT. */
export const VALSET_DELAY = 2;

export type ProposalStatus = 'open' | 'passed' | 'rejected' | 'expired' | 'failed';

export interface Vote {
  org: string;
  vote: 'yes' | 'no';
  height: number;
  time: number;
}

/** A proposal as kept in state, votes included, so one proven key shows all of it. */
export interface Proposal {
  id: number;
  /** The proposing member organization's id. */
  proposer: string;
  /** Hash of the gov.propose transaction, so its sender finds the number it got. */
  tx: string;
  action: GovAction;
  createdAt: { height: number; time: number };
  /** Block time from which the proposal no longer takes votes and expires if it has not passed. */
  deadline: number;
  status: ProposalStatus;
  votes: Vote[];
  /** When it passed, was rejected, expired or failed. */
  closedAt?: { height: number; time: number };
  /** For a passed validator change: the height the new set is effective from. */
  effectiveHeight?: number;
  /** Why a passed proposal could not be applied (status 'failed'). */
  reason?: string;
}

/** What a proposal asks for (governance-actions.ts checks and applies each). */
export type GovAction =
  | { type: 'org.admit'; kind: string; name: string; adminKey: string; adminEncryptionKey: string }
  | { type: 'org.suspend'; org: string }
  | { type: 'org.reinstate'; org: string }
  | { type: 'org.remove'; org: string }
  | { type: 'validator.add'; name: string; publicKey: string; encryptionKey: string; power: number }
  | { type: 'validator.remove'; validator: string }
  | { type: 'validator.power'; validator: string; power: number }
  | { type: 'validator.rotate'; validator: string; newPublicKey: string; proof: string; encryptionKey?: string }
  | { type: 'param.set'; param: GovParamName; value: number }
  | { type: 'rule.set'; numerator: number; denominator: number };

/** Most proposals open at once, so the per-block expiry pass stays small. */
export const MAX_OPEN_PROPOSALS = 100;
/**
 * Most proposals one member may have open at once, so no single member can hold every open
 * slot (and keep refilling it) to stop the others proposing — say, its own suspension.
 */
export const MAX_OPEN_PROPOSALS_PER_MEMBER = 10;

/** The member organizations' ids, sorted. */
export function members(state: StateReader): string[] {
  return readJson<string[]>(state, keys.govMembers()) ?? [];
}

export function setMembers(state: StateOverlay, ids: readonly string[]): void {
  writeJson(state, keys.govMembers(), [...new Set(ids)].sort());
}

/** The active member organization `identity` is, or undefined. */
export function isMember(state: StateReader, identity: Identity): boolean {
  return identity.status === 'active' && isOrganization(identity) && members(state).includes(identity.id);
}

/**
 * Who may see governance (proposals, votes, the parameters and validator-set history): member
 * organizations, whatever their status, their staff, and validators. Not patients.
 */
export function seesGovernance(state: StateReader, caller: Identity): boolean {
  if (caller.role === 'validator') return true;
  if (isOrganization(caller)) return true;
  if (caller.org === undefined) return false;
  const org = getIdentity(state, caller.org);
  return org !== undefined && isOrganization(org);
}

export function passingRule(state: StateReader): PassingRule {
  return readJson<PassingRule>(state, keys.govRule()) ?? DEFAULT_PASSING_RULE;
}

export function govParams(state: StateReader): GovParams {
  return readJson<GovParams>(state, keys.govParams()) ?? {};
}

/** The block limits in force: the genesis ones, lowered where governance lowered them. */
export function effectiveBlockLimits(state: StateReader, genesis: { maxBlockTxs: number; maxBlockBytes: number }) {
  const p = govParams(state);
  return {
    maxBlockTxs: Math.min(genesis.maxBlockTxs, p.maxBlockTxs ?? genesis.maxBlockTxs),
    maxBlockBytes: Math.min(genesis.maxBlockBytes, p.maxBlockBytes ?? genesis.maxBlockBytes),
  };
}

/** Vault quotas governance set (they replace each node's configured quota while set). */
export function vaultQuotaParams(state: StateReader): {
  pendingBytesPerIdentity?: number;
  pendingObjectsPerIdentity?: number;
  anchoredBytesPerIdentity?: number;
} {
  const p = govParams(state);
  return {
    ...(p.vaultPendingBytesPerIdentity === undefined ? {} : { pendingBytesPerIdentity: p.vaultPendingBytesPerIdentity }),
    ...(p.vaultPendingObjectsPerIdentity === undefined ? {} : { pendingObjectsPerIdentity: p.vaultPendingObjectsPerIdentity }),
    ...(p.vaultAnchoredBytesPerIdentity === undefined ? {} : { anchoredBytesPerIdentity: p.vaultAnchoredBytesPerIdentity }),
  };
}

/** The latest validator set decided (possibly not yet effective), or the genesis set. */
export function latestValidatorSet(state: StateReader): ValidatorEntry[] {
  const latest = readJson<ValidatorSetChange>(state, keys.govValsetLatest());
  if (latest !== undefined) return latest.validators;
  return readJson<{ validators: ValidatorEntry[] }>(state, keys.validatorSet())?.validators ?? [];
}

/**
 * The validator set in effect at `height` given the recorded changes `history` (ascending),
 * else the genesis set. Kept for callers that already hold the history; with a scanning state,
 * use `validatorSetEffectiveAt`, the rule the engine runs.
 */
export function validatorSetAt(state: StateReader, height: number, history: readonly ValidatorSetChange[]): ValidatorEntry[] {
  let set = readJson<{ validators: ValidatorEntry[] }>(state, keys.validatorSet())?.validators ?? [];
  for (const change of history) if (change.effectiveHeight <= height) set = change.validators;
  return set;
}

/** Committed state with ordered prefix scans (NodeStore `scanState`; `after` is exclusive, in scan order). */
export interface ScanningStateReader extends StateReader {
  scanState(prefix: string, opts?: { after?: string; limit?: number; reverse?: boolean }): Array<[string, string]>;
}

/**
 * The validator set in effect at `height` from committed state: the latest change recorded
 * with an effective height at or below `height`, else the genesis set. This is the one
 * function every engine (the embedded one in chain.ts, CometBFT's validator updates) asks.
 * `state` must be committed through at least `height - VALSET_DELAY` (a change takes effect
 * VALSET_DELAY blocks after the block that decided it), so the tip state answers for the
 * tip's next two heights and, since records are never removed, for every earlier height.
 */
export function validatorSetEffectiveAt(state: ScanningStateReader, height: number): ValidatorEntry[] {
  const [newest] = state.scanState(prefixes.govValsets(), { reverse: true, after: keys.govValset(height + 1), limit: 1 });
  if (newest !== undefined) return (JSON.parse(newest[1]) as ValidatorSetChange).validators;
  return readJson<{ validators: ValidatorEntry[] }>(state, keys.validatorSet())?.validators ?? [];
}

/**
 * The validator set a block at `height` decided, from that block's state writes: the change
 * it recorded for `height + VALSET_DELAY` (the last write of that key, as two changes passed
 * in one block build on each other), or undefined when the block changed no set. What an
 * engine that applies set changes itself (CometBFT's validator updates) is told.
 */
export function validatorSetDecidedIn(
  writes: ReadonlyArray<{ key: string; value: string | null }>,
  height: number,
): ValidatorEntry[] | undefined {
  const key = keys.govValset(height + VALSET_DELAY);
  let decided: ValidatorEntry[] | undefined;
  for (const w of writes) if (w.key === key && w.value !== null) decided = (JSON.parse(w.value) as ValidatorSetChange).validators;
  return decided;
}

/**
 * Every key that has been a validator: the genesis set's and each set governance decided (in
 * effect or not yet), from committed state. What an engine that names offenders by address
 * (CometBFT's misbehaviour) maps them back to keys with, so a validator added by vote is
 * named too. Deduplicated, genesis first, then in the order the sets were decided.
 */
export function validatorKeysEver(state: ScanningStateReader): string[] {
  const keysSeen = new Set<string>();
  for (const v of readJson<{ validators: ValidatorEntry[] }>(state, keys.validatorSet())?.validators ?? []) keysSeen.add(v.publicKey);
  for (const [, raw] of state.scanState(prefixes.govValsets()))
    for (const v of (JSON.parse(raw) as ValidatorSetChange).validators) keysSeen.add(v.publicKey);
  return [...keysSeen];
}

export function getProposal(state: StateReader, id: number): Proposal | undefined {
  return readJson<Proposal>(state, keys.govProposal(id));
}

export function putProposal(state: StateOverlay, proposal: Proposal): void {
  writeJson(state, keys.govProposal(proposal.id), proposal);
}

export function openProposals(state: StateReader): number[] {
  return readJson<number[]>(state, keys.govOpen()) ?? [];
}

export function setOpenProposals(state: StateOverlay, ids: readonly number[]): void {
  writeJson(state, keys.govOpen(), ids);
}

/**
 * Where the votes of the current members leave a proposal: 'passed' once yes votes are more
 * than the rule's share of the members, 'rejected' once so many members voted no that it can
 * no longer pass, otherwise 'open'. Integer arithmetic: yes·d > n·members. Votes of former
 * or suspended members do not count, and neither do the members that cast them.
 */
export function tally(
  state: StateReader,
  proposal: Proposal,
): { status: 'open' | 'passed' | 'rejected'; yes: number; no: number; members: number } {
  const current = members(state).filter((id) => getIdentity(state, id)?.status === 'active');
  const counted = new Set(current);
  let yes = 0;
  let no = 0;
  for (const v of proposal.votes) {
    if (!counted.has(v.org)) continue;
    if (v.vote === 'yes') yes++;
    else no++;
  }
  const { numerator: n, denominator: d } = passingRule(state);
  const m = current.length;
  if (m > 0 && yes * d > n * m) return { status: 'passed', yes, no, members: m };
  if ((m - no) * d <= n * m) return { status: 'rejected', yes, no, members: m };
  return { status: 'open', yes, no, members: m };
}

/** Refuse unless `identity` is an active member organization. */
export function requireMember(state: StateReader, identity: Identity, what: string): void {
  if (!isMember(state, identity)) throw new EhrError('UNAUTHORIZED', `only an active member organization ${what}`);
}
