// Facts the SDK acts on, each read from proven state (verified-reader.ts) rather than taken
// from a node's word: identities and their keys, the recipients of a new record, grants and
// record anchors. Every fact carries the height it was proven at.
import { canonicalJson } from './canonical.js';
import { ClientError } from './errors.js';
import type { Delegation, Grant, Recipient, RecordMeta } from './responses.js';
import { refuse } from './trust.js';
import type { ProvenState, VerifiedReader } from './verified-reader.js';

/**
 * The committed-state keys the client proves (the layout of @medledger/ehr `keys`, which the
 * client may not import; proven-facts.test.ts checks both agree).
 */
export const stateKeys = {
  identity: (id: string) => `identity/${id}`,
  delegate: (patient: string, delegate: string) => `delegate/${patient}/${delegate}`,
  grantsOf: (patient: string, grantee: string) => `grants/${patient}/${grantee}`,
  /** Sorted JSON array of the patient's accepted delegates (pending invitations are not in it). */
  acceptedDelegates: (patient: string) => `delegatelist/${patient}`,
  /** Sorted JSON array of every identity the patient ever granted something. */
  grantees: (patient: string) => `granteelist/${patient}`,
  grant: (id: string) => `grant/${id}`,
  record: (id: string) => `record/${id}`,
  emergencyWindow: (id: string) => `emergency/window/${id}`,
  /** The latest validator set governance decided (absent: the genesis set holds). */
  validatorSetLatest: () => 'gov/valset-latest',
  accessEvent: (patient: string, height: number, eventKey: string) => `access/${patient}/${String(height).padStart(12, '0')}/${eventKey}`,
};

/** A value and the height it was proven at. */
export interface Proven<T> {
  value: T;
  height: number;
}

/** An identity as committed state holds it (the fields the client relies on). */
export interface ProvenIdentity {
  id: string;
  role: string;
  publicKey: string;
  encryptionKey: string;
  status: string;
  emergencyKey?: string;
  org?: string;
  [field: string]: unknown;
}

/** A grant as committed state holds it. */
interface StateGrant {
  id: string;
  patient: string;
  grantee: string;
  scope: { categories: string[]; resourceTypes: string[]; records: string[] };
  expiresAt: number | null;
  revoked: unknown;
  [field: string]: unknown;
}

/** The proven JSON value of `key` (undefined: proven absent). Throws STATE_PROOF_INVALID for a value that is not JSON. */
export function provenValue<T>(state: ProvenState, key: string): T | undefined {
  const raw = state.value(key);
  if (raw === null) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return refuse('STATE_PROOF_INVALID', `the proven value of ${key} is not JSON`);
  }
}

/** Active at block time `time`: not revoked and not yet expired (ehr `grantIsActive`). */
function grantActiveAt(g: StateGrant, time: number): boolean {
  return g.revoked === null && (g.expiresAt === null || time < g.expiresAt);
}

/** The scope is a union of categories, resource types and record ids (ehr `grantCoversRecord`). */
function grantCovers(g: StateGrant, target: { id?: string; category: string; resourceType: string }): boolean {
  const s = g.scope;
  return (
    s.categories.includes(target.category) ||
    s.resourceTypes.includes(target.resourceType) ||
    (target.id !== undefined && s.records.includes(target.id))
  );
}

/**
 * The identity `id` and its keys, proven. Throws ClientError `IDENTITY_NOT_FOUND` when the
 * proven state has no such identity, `FACT_NOT_PROVEN` when it is not active, or the reader's codes.
 */
export async function provenIdentity(reader: VerifiedReader, id: string): Promise<Proven<ProvenIdentity>> {
  const proven = await provenIdentityAnyStatus(reader, id);
  if (proven.value.status !== 'active') refuse('FACT_NOT_PROVEN', `identity ${id} is ${proven.value.status} at height ${proven.height}`);
  return proven;
}

/**
 * The identity `id` and its keys, proven, whatever its status (a name to show beside a past
 * reader, say). Throws ClientError `IDENTITY_NOT_FOUND` (404) when the proven state has no such
 * identity, `STATE_PROOF_INVALID` when the value is not that identity, or the reader's codes.
 */
export async function provenIdentityAnyStatus(reader: VerifiedReader, id: string): Promise<Proven<ProvenIdentity>> {
  const key = stateKeys.identity(id);
  const state = await reader.read([key]);
  const identity = provenValue<ProvenIdentity>(state, key);
  if (identity === undefined)
    throw new ClientError('IDENTITY_NOT_FOUND', `no identity ${id} in the proven state at height ${state.height}`, 404);
  if (identity.id !== id) refuse('STATE_PROOF_INVALID', `the proven identity under ${key} is ${identity.id}`);
  return { value: identity, height: state.height };
}

/**
 * Several identities and their keys, proven in one answer. Throws ClientError
 * `IDENTITY_NOT_FOUND` (404) when one is proven absent, `FACT_NOT_PROVEN` when one is not
 * active, or the reader's codes.
 */
export async function provenIdentities(reader: VerifiedReader, ids: readonly string[]): Promise<Proven<Map<string, ProvenIdentity>>> {
  const state = await reader.read(ids.map(stateKeys.identity));
  const out = new Map<string, ProvenIdentity>();
  for (const id of ids) {
    const identity = provenValue<ProvenIdentity>(state, stateKeys.identity(id));
    // Proven absent: the identity does not exist (as the node's own IDENTITY_NOT_FOUND says).
    if (identity === undefined)
      throw new ClientError('IDENTITY_NOT_FOUND', `no identity ${id} in the proven state at height ${state.height}`, 404);
    if (identity.id !== id || identity.status !== 'active')
      refuse('FACT_NOT_PROVEN', `${id} is not an active identity in the proven state at height ${state.height}`);
    out.set(id, identity);
  }
  return { value: out, height: state.height };
}

/**
 * The recipients of a new record of `patient` of kind `target`, computed from proven state
 * alone (docs/records.md "Who a record is sealed to", ehr `requiredRecipients`): the patient,
 * the patient's emergency key, every accepted delegate (`delegatelist/<patient>`) whose
 * identity is active, and every active grantee (`granteelist/<patient>`) holding an active
 * grant that covers the record at the proven block time, each with the encryption key of its
 * proven identity. The node's own list (`told`) must be a subset of that set, with the
 * same keys; a name or key it adds is refused with `FACT_NOT_PROVEN`, never sealed to.
 * Throws ClientError (`FACT_NOT_PROVEN` or the reader's codes).
 */
export async function provenRecipients(
  reader: VerifiedReader,
  patient: string,
  target: { id?: string; category: string; resourceType: string },
  told: readonly Recipient[] = [],
): Promise<Proven<Recipient[]>> {
  const patientKey = stateKeys.identity(patient);
  const first = await reader.read([patientKey, stateKeys.acceptedDelegates(patient), stateKeys.grantees(patient)]);
  const patientIdentity = provenValue<ProvenIdentity>(first, patientKey);
  if (patientIdentity === undefined || patientIdentity.role !== 'patient' || patientIdentity.status !== 'active')
    refuse('FACT_NOT_PROVEN', `${patient} is not an active patient at height ${first.height}`);
  const delegates = provenIds(first, stateKeys.acceptedDelegates(patient));
  const grantees = provenIds(first, stateKeys.grantees(patient)).filter((g) => !delegates.includes(g));
  const people = [...new Set([...delegates, ...grantees])];
  const second =
    people.length === 0
      ? undefined
      : await reader.read([...people.map(stateKeys.identity), ...grantees.map((g) => stateKeys.grantsOf(patient, g))]);
  const grantIds = new Map<string, string[]>(
    grantees.map((g) => [g, second === undefined ? [] : provenIds(second, stateKeys.grantsOf(patient, g))]),
  );
  const allGrantIds = [...grantIds.values()].flat();
  const third = allGrantIds.length === 0 ? undefined : await reader.read(allGrantIds.map(stateKeys.grant));

  const proven = new Map<string, Recipient>();
  proven.set(patient, { to: patient, encryptionKey: patientIdentity.encryptionKey, why: 'patient' });
  if (patientIdentity.emergencyKey !== undefined)
    proven.set('emergency', { to: 'emergency', encryptionKey: patientIdentity.emergencyKey, why: 'emergency' });
  const activeIdentity = (id: string) => {
    const identity = second === undefined ? undefined : provenValue<ProvenIdentity>(second, stateKeys.identity(id));
    return identity?.status === 'active' && identity.id === id ? identity : undefined;
  };
  for (const d of delegates) {
    const identity = activeIdentity(d);
    if (identity !== undefined) proven.set(d, { to: d, encryptionKey: identity.encryptionKey, why: 'delegate' });
  }
  for (const g of grantees) {
    const identity = activeIdentity(g);
    const covering = (grantIds.get(g) ?? []).some((gid) => {
      const grant = third === undefined ? undefined : provenValue<StateGrant>(third, stateKeys.grant(gid));
      return grant?.patient === patient && grant.grantee === g && grantActiveAt(grant, third?.time ?? 0) && grantCovers(grant, target);
    });
    if (identity !== undefined && covering && !proven.has(g))
      proven.set(g, { to: g, encryptionKey: identity.encryptionKey, why: 'grantee' });
  }

  for (const r of told) {
    const p = proven.get(r.to);
    if (p === undefined) refuse('FACT_NOT_PROVEN', `the node names ${r.to} as a recipient, but the proven state does not make it one`);
    if (p.encryptionKey !== r.encryptionKey)
      refuse('FACT_NOT_PROVEN', `the node gives recipient ${r.to} an encryption key that is not its proven key`);
  }
  const heights = [first, second, third].filter((x) => x !== undefined).map((x) => x.height);
  return { value: [...proven.values()], height: Math.min(...heights) };
}

/** The proven list of ids at `key` ([] when absent). Throws STATE_PROOF_INVALID for anything else. */
export function provenIds(state: ProvenState, key: string): string[] {
  const list = provenValue<unknown>(state, key);
  if (list === undefined) return [];
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string'))
    refuse('STATE_PROOF_INVALID', `the proven value of ${key} is not a list of ids`);
  return list as string[];
}

/**
 * Check grants the node listed against proven state: each must exist under its id with the
 * same patient, grantee, scope, access, purpose, expiry and revocation. Returns the proven
 * grants (with the node's extra fields, such as `active`, recomputed from proven block time).
 * Throws ClientError `FACT_NOT_PROVEN` or the reader's codes.
 */
export async function provenGrants(reader: VerifiedReader, listed: readonly Grant[]): Promise<Proven<Grant[]>> {
  if (listed.length === 0) return { value: [], height: reader.highestHeight };
  const state = await reader.read(listed.map((g) => stateKeys.grant(g.id)));
  const out = listed.map((g) => {
    const proven = provenValue<StateGrant>(state, stateKeys.grant(g.id));
    if (proven === undefined) refuse('FACT_NOT_PROVEN', `grant ${g.id} is not in the proven state at height ${state.height}`);
    for (const field of ['patient', 'grantee', 'access', 'purpose'] as const) {
      if (proven[field] !== g[field]) refuse('FACT_NOT_PROVEN', `grant ${g.id}: the node's ${field} is not the proven one`);
    }
    if (JSON.stringify(proven.scope) !== JSON.stringify(normalScope(g.scope)) || (proven.expiresAt ?? null) !== (g.expiresAt ?? null))
      refuse('FACT_NOT_PROVEN', `grant ${g.id}: the node's scope or expiry is not the proven one`);
    return {
      ...g,
      ...proven,
      active: grantActiveAt(proven, state.time),
      expiresAt: proven.expiresAt ?? undefined,
      provenAt: state.height,
    } as Grant;
  });
  return { value: out, height: state.height };
}

/**
 * The grants of `patient` the node's complete listing left out, from the proven indexes
 * (`granteelist/<patient>`, then `grants/<patient>/<grantee>` for each grantee, then each
 * unlisted grant): the ids of proven grants that `listed` lacks, active ones only unless `all`
 * (less those expiring within GRANT_EXPIRY_SKEW_MS, which the node's clock may count expired).
 * A node that hides a grant from the patient (so they never see, and never revoke, someone's
 * access) is caught here. Throws the reader's codes.
 */
export async function grantsLeftOut(reader: VerifiedReader, patient: string, listed: readonly Grant[], all: boolean): Promise<string[]> {
  const first = await reader.read([stateKeys.grantees(patient)]);
  const grantees = provenIds(first, stateKeys.grantees(patient));
  if (grantees.length === 0) return [];
  const second = await reader.read(grantees.map((g) => stateKeys.grantsOf(patient, g)));
  const shown = new Set(listed.map((g) => g.id));
  const unlisted = grantees.flatMap((g) => provenIds(second, stateKeys.grantsOf(patient, g))).filter((id) => !shown.has(id));
  if (unlisted.length === 0 || all) return unlisted;
  // An unlisted grant is left out of the active list only if it is still active. The node
  // judges expiry by its clock, which runs ahead of the last block's time, so a grant that
  // expires within GRANT_EXPIRY_SKEW_MS of the proven time may be missing from that list.
  const third = await reader.read(unlisted.map(stateKeys.grant));
  return unlisted.filter((id) => {
    const grant = provenValue<StateGrant>(third, stateKeys.grant(id));
    return (
      grant !== undefined &&
      grant.patient === patient &&
      grantActiveAt(grant, third.time) &&
      (grant.expiresAt === null || grant.expiresAt > third.time + GRANT_EXPIRY_SKEW_MS)
    );
  });
}

/**
 * The accepted delegates of `patient` (proven `delegatelist/<patient>`) that `listed` lacks:
 * a node that hides someone who may act for the patient is caught. Pending invitations give
 * no power and have no such index. Throws the reader's codes.
 */
export async function delegatesLeftOut(reader: VerifiedReader, patient: string, listed: readonly Delegation[]): Promise<string[]> {
  const state = await reader.read([stateKeys.acceptedDelegates(patient)]);
  const shown = new Set(listed.filter((d) => d.patient === patient && d.status === 'accepted').map((d) => d.delegate));
  return provenIds(state, stateKeys.acceptedDelegates(patient)).filter((d) => !shown.has(d));
}

/** How far a node's clock may run ahead of the proven block time when it filters active grants. */
export const GRANT_EXPIRY_SKEW_MS = 5 * 60_000;

function normalScope(s: Grant['scope']) {
  return { categories: s.categories ?? [], resourceTypes: s.resourceTypes ?? [], records: s.records ?? [] };
}

/**
 * Anchor fields the SDK shows (who added a record and when, its size, what it replaces and
 * what replaced it, its erasure) that are taken from the committed anchor, never from the
 * node: a node stating one that differs is refused, one it leaves out is filled in.
 */
const ANCHOR_SHOWN_FIELDS = ['author', 'size', 'anchoredAt', 'supersedes', 'supersededBy', 'erased'] as const;

/**
 * A record's anchor from proven state, checked against what the node said of it (patient,
 * content hash, type, category and erasure, and every field of ANCHOR_SHOWN_FIELDS it
 * states); those fields are returned as committed. Throws ClientError `FACT_NOT_PROVEN` or the reader's codes.
 */
export async function provenRecords(reader: VerifiedReader, listed: readonly RecordMeta[]): Promise<Proven<RecordMeta[]>> {
  if (listed.length === 0) return { value: [], height: reader.highestHeight };
  const state = await reader.read(listed.map((r) => stateKeys.record(r.record)));
  const out = listed.map((r) => {
    const proven = provenValue<Record<string, unknown>>(state, stateKeys.record(r.record));
    if (proven === undefined) refuse('FACT_NOT_PROVEN', `record ${r.record} is not anchored in the proven state at height ${state.height}`);
    for (const field of ['patient', 'contentHash', 'resourceType', 'category'] as const) {
      if (proven[field] !== r[field]) refuse('FACT_NOT_PROVEN', `record ${r.record}: the node's ${field} is not the anchored one`);
    }
    const erased = proven.erased !== null && proven.erased !== undefined;
    if (erased !== (r.status === 'erased') && r.status !== undefined)
      refuse(
        'FACT_NOT_PROVEN',
        `record ${r.record}: the node says it is ${String(r.status)}, the proven state says ${erased ? 'erased' : 'not erased'}`,
      );
    const shown: Record<string, unknown> = {};
    for (const field of ANCHOR_SHOWN_FIELDS) {
      const committed = proven[field] ?? null;
      if (r[field] !== undefined && canonicalJson(r[field] ?? null) !== canonicalJson(committed))
        refuse('FACT_NOT_PROVEN', `record ${r.record}: the node's ${field} is not the anchored one`);
      if (proven[field] !== undefined) shown[field] = proven[field];
    }
    return { ...r, ...shown, provenAt: state.height };
  });
  return { value: out, height: state.height };
}

/** The parts of an emergency window a client acts on or shows (ehr `EmergencyWindow`). */
interface WindowFacts {
  id: string;
  patient: string;
  clinician: string;
  org: string;
  /** The reason as committed (sealed to its readers since issue 12; compared as JSON). */
  reason: unknown;
  durationMs: number;
  openedAt: { height: number; time: number };
  expiresAt: number;
  emergencyKey: string;
  threshold: number;
  commitments: Array<{ validator: string; x: number; commitment?: string; parts?: string[] }>;
  /** On a re-shared split: the dealers' x, one sub-share each per posted share. */
  dealers?: number[];
  /** Set when the window was ended early (`emergency.close`): the block and who ended it. */
  closedEarly?: { height: number; time: number; by: string };
  /** The node's view: open now, and pending/ready/closed (recomputed from the proven state, below). */
  active?: boolean;
  status?: string;
}

const WINDOW_FIELDS = [
  'id',
  'patient',
  'clinician',
  'org',
  'reason',
  'durationMs',
  'openedAt',
  'expiresAt',
  'emergencyKey',
  'threshold',
  'commitments',
  'dealers',
  'closedEarly',
] as const;

/**
 * Emergency windows as the node showed them, each checked against its committed entry
 * (`emergency/window/<id>`) before it is shown or a key is rebuilt from it: patient,
 * clinician, organization, reason, times, emergency key, threshold and share commitments.
 * The posted shares need no proof of their own: each is checked against its proven
 * commitment, and the rebuilt key against the proven emergency key. Returns the windows with
 * `provenAt`. Throws ClientError `FACT_NOT_PROVEN` or the reader's codes.
 */
export async function provenEmergencyWindows<W extends WindowFacts>(
  reader: VerifiedReader,
  windows: readonly W[],
): Promise<Array<W & { provenAt: number }>> {
  if (windows.length === 0) return [];
  const state = await reader.read(windows.map((w) => stateKeys.emergencyWindow(w.id)));
  return windows.map((window) => {
    const proven = provenValue<WindowFacts>(state, stateKeys.emergencyWindow(window.id));
    if (proven === undefined)
      refuse('FACT_NOT_PROVEN', `emergency window ${window.id} is not in the proven state at height ${state.height}`);
    for (const field of WINDOW_FIELDS) {
      // An absent field (`dealers` on a split the patient sealed) must be absent on both sides.
      if (canonicalJson(proven[field] ?? null) !== canonicalJson(window[field] ?? null))
        refuse('FACT_NOT_PROVEN', `emergency window ${window.id}: the node's ${field} is not the committed one`);
    }
    // Open or ended is the proven expiry against the proven block time (ehr `windowIsActive`),
    // never the node's word: a node must not show a patient a window still open as ended.
    const active = state.time < proven.expiresAt;
    const status = !active ? 'closed' : window.status === 'ready' ? 'ready' : 'pending';
    return {
      ...window,
      ...(window.active === undefined ? {} : { active }),
      ...(window.status === undefined ? {} : { status }),
      provenAt: state.height,
    };
  });
}

/**
 * Delegations the node listed (pending or accepted), each checked against its committed entry
 * `delegate/<patient>/<delegate>`: the proven delegation is returned with `provenAt`. Throws
 * ClientError `FACT_NOT_PROVEN` or the reader's codes.
 */
export async function provenDelegations(reader: VerifiedReader, listed: readonly Delegation[]): Promise<Proven<Delegation[]>> {
  if (listed.length === 0) return { value: [], height: reader.highestHeight };
  const state = await reader.read(listed.map((d) => stateKeys.delegate(d.patient, d.delegate)));
  const out = listed.map((d) => {
    const proven = provenValue<Delegation>(state, stateKeys.delegate(d.patient, d.delegate));
    if (proven === undefined || canonicalJson(proven) !== canonicalJson(d))
      refuse('FACT_NOT_PROVEN', `the delegation of ${d.delegate} by ${d.patient} is not the committed one`);
    return { ...proven, provenAt: state.height };
  });
  return { value: out, height: state.height };
}
