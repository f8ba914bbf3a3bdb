// Who may read or write which record (DESIGN §7): grants, delegates and their coverage,
// decided from ledger state and block time only, so every node gives the same answer.
import { getDelegation } from './delegates.js';
import { EhrError } from './errors.js';
import { getIdentity, type Identity } from './identity.js';
import { staffRoleMayUse, staffRoleMayWrite } from './staff-purposes.js';
import { keys, readJson, type StateReader } from './state.js';

/** HL7 PurposeOfUse: TREAT, HPAYMT, HOPERAT, HRESCH, PATRQT. */
export const PURPOSES = ['treatment', 'payment', 'operations', 'research', 'patient-request'] as const;
export type Purpose = (typeof PURPOSES)[number];

export interface GrantScope {
  categories: string[];
  resourceTypes: string[];
  records: string[];
}

/** A consent as kept in state. */
export interface Grant {
  id: string;
  patient: string;
  grantee: string;
  scope: GrantScope;
  access: 'read' | 'read-write';
  purpose: Purpose;
  /** Block time (ms) at which the grant stops working; null: until revoked. */
  expiresAt: number | null;
  grantedBy: string;
  grantedAt: { height: number; time: number };
  revoked: null | { height: number; time: number; by: string };
}

/** A record's anchor as kept in state. Hashes stay after erasure, so the chain still verifies. */
export interface RecordMeta {
  id: string;
  patient: string;
  author: string;
  resourceType: string;
  category: string;
  contentHash: string;
  size: number;
  /** Envelope object hash by recipient id (or `emergency`). */
  envelopes: Record<string, string>;
  supersedes: string | null;
  supersededBy: string | null;
  anchoredAt: { height: number; time: number };
  erased: null | { height: number; time: number; by: string };
}

/** What a grant is checked against: a record, or a record about to be written. */
export interface RecordTarget {
  id: string;
  category: string;
  resourceType: string;
}

export function getRecord(state: StateReader, id: string): RecordMeta | undefined {
  return readJson<RecordMeta>(state, keys.record(id));
}

export function getGrant(state: StateReader, id: string): Grant | undefined {
  return readJson<Grant>(state, keys.grant(id));
}

/** Active at block time `time`: not revoked and not yet expired. */
export function grantIsActive(grant: Grant, time: number): boolean {
  return grant.revoked === null && (grant.expiresAt === null || time < grant.expiresAt);
}

/** The scope is a union: the record's category, its resource type, or its id is listed. */
export function grantCoversRecord(grant: Grant, record: RecordTarget): boolean {
  const s = grant.scope;
  return s.categories.includes(record.category) || s.resourceTypes.includes(record.resourceType) || s.records.includes(record.id);
}

/** Has `id` accepted to be `patient`'s delegate? A pending invitation counts for nothing. */
export function isDelegate(state: StateReader, patient: string, id: string): boolean {
  return getDelegation(state, patient, id)?.status === 'accepted';
}

/** Patient or delegate: those who manage a patient's consent and records. Throws UNAUTHORIZED otherwise. */
export function requirePatientOrDelegate(state: StateReader, actor: Identity, patient: string): void {
  if (actor.id !== patient && !isDelegate(state, patient, actor.id)) {
    throw new EhrError('UNAUTHORIZED', `only patient ${patient} or their delegate may do this`);
  }
}

/**
 * The ids whose grants apply to `actor`: itself, and its organization while both are
 * active (a grant to an organization covers its staff).
 */
export function granteeIdsFor(state: StateReader, actor: Identity): string[] {
  if (actor.org === undefined) return [actor.id];
  const org = getIdentity(state, actor.org);
  return org?.status === 'active' ? [actor.id, org.id] : [actor.id];
}

/** Every grant `patient` made to any of `grantees`, oldest first. */
export function grantsFrom(state: StateReader, patient: string, grantees: readonly string[]): Grant[] {
  const out: Grant[] = [];
  for (const grantee of grantees) {
    for (const id of readJson<string[]>(state, keys.grantsOf(patient, grantee)) ?? []) {
      const g = getGrant(state, id);
      if (g !== undefined) out.push(g);
    }
  }
  return out;
}

/**
 * May `author` write (anchor, or supersede) `target` for `patient` at block time `time`? A
 * grant to the author's organization serves staff only within their role's categories
 * (staff-purposes.ts `staffRoleMayWrite`): an auditor or privacy officer writes no chart
 * entry, a device no laboratory result, under the hospital's grant.
 */
export function mayWrite(state: StateReader, author: Identity, patient: string, target: RecordTarget, time: number): boolean {
  if (author.status !== 'active') return false;
  if (author.id === patient || isDelegate(state, patient, author.id)) return true;
  return grantsFrom(state, patient, granteeIdsFor(state, author)).some(
    (g) =>
      g.access === 'read-write' &&
      grantIsActive(g, time) &&
      grantCoversRecord(g, target) &&
      (g.grantee === author.id || staffRoleMayWrite(author.role, target)),
  );
}

/** Why a read was refused; stable codes shown in the access log. */
export type DenyReason =
  | 'NOT_REGISTERED'
  | 'IDENTITY_REVOKED'
  | 'UNKNOWN_RECORD'
  | 'NO_GRANT'
  | 'OUT_OF_SCOPE'
  | 'EXPIRED'
  | 'REVOKED'
  | 'PURPOSE_MISMATCH'
  | 'ROLE_NOT_PERMITTED'
  | 'NO_ENVELOPE'
  | 'ERASED';

export type ReadDecision =
  | {
      allowed: true;
      record: RecordMeta;
      via: 'patient' | 'delegate' | 'grant';
      envelopeFor: string;
      purpose: Purpose;
      grant: string | null;
    }
  | { allowed: false; record: RecordMeta | undefined; reason: DenyReason; purpose: Purpose | null };

/**
 * Decide a read of `recordId` by `accessor` from committed state at block time `time`.
 * A grantee must state a purpose that one of its active, covering grants names (or none,
 * and the first such grant's purpose is taken). An erased record is refused as ERASED only
 * to those who could otherwise read it; to anyone else it looks like any refusal.
 */
export function decideRead(
  state: StateReader,
  accessor: Identity | undefined,
  recordId: string,
  purpose: Purpose | undefined,
  time: number,
): ReadDecision {
  const record = getRecord(state, recordId);
  const deny = (reason: DenyReason): ReadDecision => ({ allowed: false, record, reason, purpose: purpose ?? null });
  if (accessor === undefined) return deny('NOT_REGISTERED');
  if (accessor.status !== 'active') return deny('IDENTITY_REVOKED');
  if (record === undefined) return deny('UNKNOWN_RECORD');
  let decision: ReadDecision;
  if (accessor.id === record.patient || isDelegate(state, record.patient, accessor.id)) {
    decision = {
      allowed: true,
      record,
      via: accessor.id === record.patient ? 'patient' : 'delegate',
      envelopeFor: accessor.id,
      purpose: purpose ?? 'patient-request',
      grant: null,
    };
  } else {
    const grants = grantsFrom(state, record.patient, granteeIdsFor(state, accessor));
    if (grants.length === 0) return deny('NO_GRANT');
    const covering = grants.filter((g) => grantCoversRecord(g, record));
    if (covering.length === 0) return deny('OUT_OF_SCOPE');
    const active = covering.filter((g) => grantIsActive(g, time));
    if (active.length === 0) return deny(covering.some((g) => g.revoked === null) ? 'EXPIRED' : 'REVOKED');
    const forPurpose = active.filter((g) => purpose === undefined || g.purpose === purpose);
    if (forPurpose.length === 0) return deny('PURPOSE_MISMATCH');
    // A grant to the organization serves each staff member only within their role
    // (staff-purposes.ts): a researcher does not read charts under a treatment grant.
    // Prefer a grant to the accessor itself (its own envelope) over one to its organization.
    const fitting = forPurpose
      .filter((g) => g.grantee === accessor.id || staffRoleMayUse(accessor.role, g.purpose, record))
      .sort((a, b) => Number(b.grantee === accessor.id) - Number(a.grantee === accessor.id));
    const grant = fitting[0];
    if (grant === undefined) return deny('ROLE_NOT_PERMITTED');
    decision = { allowed: true, record, via: 'grant', envelopeFor: grant.grantee, purpose: grant.purpose, grant: grant.id };
  }
  if (record.erased !== null) return { allowed: false, record, reason: 'ERASED', purpose: decision.purpose };
  if (record.envelopes[decision.envelopeFor] === undefined)
    return { allowed: false, record, reason: 'NO_ENVELOPE', purpose: decision.purpose };
  return decision;
}
