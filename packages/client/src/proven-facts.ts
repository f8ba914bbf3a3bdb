// Facts the SDK acts on, each read from proven state (verified-reader.ts) rather than taken
// from a node's word: identities and their keys, the recipients of a new record, grants and
// record anchors. Every fact carries the height it was proven at.
import { canonicalJson } from './canonical.js';
import { ClientError } from './errors.js';
import type { AccessEvent, Grant, Recipient, RecordMeta } from './responses.js';
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
  grant: (id: string) => `grant/${id}`,
  record: (id: string) => `record/${id}`,
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

function json<T>(state: ProvenState, key: string): T | undefined {
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
  const key = stateKeys.identity(id);
  const state = await reader.read([key]);
  const identity = json<ProvenIdentity>(state, key);
  if (identity === undefined)
    throw new ClientError('IDENTITY_NOT_FOUND', `no identity ${id} in the proven state at height ${state.height}`, 404);
  if (identity.id !== id) refuse('STATE_PROOF_INVALID', `the proven identity under ${key} is ${identity.id}`);
  if (identity.status !== 'active') refuse('FACT_NOT_PROVEN', `identity ${id} is ${identity.status} at height ${state.height}`);
  return { value: identity, height: state.height };
}

/**
 * Check the node's recipient list for a new record of `patient` against proven state and
 * return it with the proven keys: each entry must be the patient, the patient's emergency
 * key, an active delegate, or a grantee whose active grant covers `target`, and every key
 * is taken from the proven identity, never from the node's list. Throws ClientError
 * `FACT_NOT_PROVEN` naming the first recipient the proven state does not back, or the
 * reader's codes. Recipients the node leaves out are the chain's to refuse (it requires all).
 */
export async function provenRecipients(
  reader: VerifiedReader,
  patient: string,
  target: { id?: string; category: string; resourceType: string },
  listed: readonly Recipient[],
): Promise<Proven<Recipient[]>> {
  const people = [...new Set(listed.map((r) => r.to).filter((to) => to !== 'emergency' && to !== patient))];
  const first = await reader.read([
    stateKeys.identity(patient),
    ...people.flatMap((to) => [stateKeys.identity(to), stateKeys.delegate(patient, to), stateKeys.grantsOf(patient, to)]),
  ]);
  const patientIdentity = json<ProvenIdentity>(first, stateKeys.identity(patient));
  if (patientIdentity === undefined || patientIdentity.role !== 'patient' || patientIdentity.status !== 'active')
    refuse('FACT_NOT_PROVEN', `${patient} is not an active patient at height ${first.height}`);
  const grantIds = new Map<string, string[]>();
  for (const to of people) {
    if (first.value(stateKeys.delegate(patient, to)) !== null) continue;
    grantIds.set(to, json<string[]>(first, stateKeys.grantsOf(patient, to)) ?? []);
  }
  const allGrants = [...grantIds.values()].flat();
  const second = allGrants.length === 0 ? undefined : await reader.read(allGrants.map(stateKeys.grant));

  const out: Recipient[] = [];
  for (const r of listed) {
    if (r.to === 'emergency') {
      if (patientIdentity.emergencyKey === undefined)
        refuse('FACT_NOT_PROVEN', `the node lists an emergency recipient but patient ${patient} has no proven emergency key`);
      out.push({ to: 'emergency', encryptionKey: patientIdentity.emergencyKey, why: 'emergency' });
      continue;
    }
    if (r.to === patient) {
      out.push({ to: patient, encryptionKey: patientIdentity.encryptionKey, why: 'patient' });
      continue;
    }
    const identity = json<ProvenIdentity>(first, stateKeys.identity(r.to));
    if (identity === undefined || identity.status !== 'active')
      refuse('FACT_NOT_PROVEN', `recipient ${r.to} is not an active identity at height ${first.height}`);
    const ids = grantIds.get(r.to);
    if (ids === undefined) {
      out.push({ to: r.to, encryptionKey: identity.encryptionKey, why: 'delegate' });
      continue;
    }
    const covering = ids.some((gid) => {
      const g = second === undefined ? undefined : json<StateGrant>(second, stateKeys.grant(gid));
      return (
        g !== undefined && g.patient === patient && g.grantee === r.to && grantActiveAt(g, second?.time ?? 0) && grantCovers(g, target)
      );
    });
    if (!covering)
      refuse('FACT_NOT_PROVEN', `recipient ${r.to} is neither a delegate of ${patient} nor holds an active grant covering this record`);
    out.push({ to: r.to, encryptionKey: identity.encryptionKey, why: 'grantee' });
  }
  const height = second === undefined ? first.height : Math.min(first.height, second.height);
  return { value: out, height };
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
    const proven = json<StateGrant>(state, stateKeys.grant(g.id));
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

function normalScope(s: Grant['scope']) {
  return { categories: s.categories ?? [], resourceTypes: s.resourceTypes ?? [], records: s.records ?? [] };
}

/**
 * A record's anchor from proven state, checked against what the node said of it (patient,
 * content hash, type, category and erasure). Throws ClientError `FACT_NOT_PROVEN` or the reader's codes.
 */
export async function provenRecords(reader: VerifiedReader, listed: readonly RecordMeta[]): Promise<Proven<RecordMeta[]>> {
  if (listed.length === 0) return { value: [], height: reader.highestHeight };
  const state = await reader.read(listed.map((r) => stateKeys.record(r.record)));
  const out = listed.map((r) => {
    const proven = json<Record<string, unknown>>(state, stateKeys.record(r.record));
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
    return { ...r, provenAt: state.height };
  });
  return { value: out, height: state.height };
}

/**
 * Access events the node listed, each checked against its committed entry (key
 * `access/<patient>/<height>/<node>-<id>`): the proven event is returned, never the node's
 * copy. Throws ClientError `FACT_NOT_PROVEN` or the reader's codes.
 */
export async function provenAccessEvents(reader: VerifiedReader, listed: readonly AccessEvent[]): Promise<Proven<AccessEvent[]>> {
  if (listed.length === 0) return { value: [], height: reader.highestHeight };
  const keyOf = (e: AccessEvent) =>
    stateKeys.accessEvent(typeof e.patient === 'string' ? e.patient : '-', Number(e.height), `${String(e.node)}-${e.id}`);
  const state = await reader.read(listed.map(keyOf));
  const out = listed.map((e) => {
    const proven = json<AccessEvent>(state, keyOf(e));
    if (proven === undefined || canonicalJson(proven) !== canonicalJson(e))
      refuse('FACT_NOT_PROVEN', `access event ${e.id} at height ${String(e.height)} is not the committed one`);
    return { ...proven, provenAt: state.height };
  });
  return { value: out, height: state.height };
}
