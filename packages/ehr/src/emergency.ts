// Emergency ("break-glass") access (DESIGN §7, docs/emergency.md): each patient's emergency
// key is split among the validators; a privileged clinician opens a time-boxed window with a
// stated reason, the validators post their shares re-sealed to that clinician, and every read
// in the window is served from the `emergency` envelope and tagged as emergency access.
import { type Envelope, isHex } from '@medledger/crypto';
import { txHash } from '@medledger/ledger';
import { arrayField, type Body, encryptionKeyField, hex16Field, hex32Field, idField, intField, itemObject, onlyFields } from './body.js';
import { checkReasonRecipients, type SealedReason, sealedReasonField } from './emergency-reason.js';
import {
  type EmergencySplit,
  emergencyHolders,
  emergencyHoldersHash,
  sealedShareField,
  type WindowCommitment,
  windowCommitment,
} from './emergency-split.js';
import { EhrError } from './errors.js';
import { activeIdentity, activeSigner, getIdentity, type Identity, isOrganization, putIdentity } from './identity.js';
import type { TxContext, TxKind } from './kinds.js';
import { claimObject, releaseObject } from './objects.js';
import { getRecord, type ReadDecision, type RecordMeta } from './policy.js';
import { EMERGENCY_RECIPIENT, MAX_SHARE_ENVELOPES } from './records.js';
import { keys, readJson, type StateReader, writeJson } from './state.js';

/** Longest emergency window when genesis `params.emergencyMaxDurationMs` is absent: 4 hours. */
export const DEFAULT_EMERGENCY_MAX_DURATION_MS = 4 * 60 * 60_000;
/** Shortest window a clinician may ask for: one second (block time is coarse anyway). */
export const MIN_EMERGENCY_DURATION_MS = 1_000;

/** What the emergency rules need from genesis: the validators (by id, in genesis order) and the cap. */
export interface EmergencyParams {
  validators: readonly string[];
  maxDurationMs: number;
}

/** Shares needed to recover a key split among `n` validators: more than 2/3 of them. */
export function emergencyThreshold(n: number): number {
  return Math.floor((2 * n) / 3) + 1;
}

/** An emergency window as kept in state. */
export interface EmergencyWindow {
  id: string;
  patient: string;
  clinician: string;
  org: string;
  /** The stated reason, encrypted to the patient and the organization (emergency-reason.ts). */
  reason: SealedReason;
  durationMs: number;
  openedAt: { height: number; time: number };
  /** Block time (ms) at which the window closes. */
  expiresAt: number;
  emergencyKey: string;
  threshold: number;
  /** The split's commitments at opening, by validator, so the clinician can check each posted share. */
  commitments: WindowCommitment[];
  /** The split's `dealers` when it was re-shared: each posted share is then one sub-share per dealer. */
  dealers?: number[];
}

/** A share a validator posted for a window, sealed to the requesting clinician. */
export interface PostedShare {
  window: string;
  validator: string;
  x: number;
  sealed: Envelope;
  at: { height: number; time: number };
}

const pad = (height: number) => String(height).padStart(12, '0');

/** State keys of emergency access (all under `emergency/`). */
export const emergencyKeys = {
  split: (patient: string) => `emergency/split/${patient}`,
  /** Re-sharing in progress for a patient's split (emergency-reshare.ts). */
  reshare: (patient: string) => `emergency/reshare/${patient}`,
  privilege: (clinician: string) => `emergency/privilege/${clinician}`,
  window: (id: string) => `emergency/window/${id}`,
  /** The latest window opened for a patient (active or not). */
  latest: (patient: string) => `emergency/latest/${patient}`,
  share: (window: string, validator: string) => `emergency/share/${window}/${validator}`,
  byPatient: (patient: string, height: number, id: string) => `emergency/bypatient/${patient}/${pad(height)}/${id}`,
  byOrg: (org: string, height: number, id: string) => `emergency/byorg/${org}/${pad(height)}/${id}`,
  byClinician: (clinician: string, height: number, id: string) => `emergency/byclinician/${clinician}/${pad(height)}/${id}`,
};

/** Key prefixes the node scans to list windows (in opening order) and live windows. */
export const emergencyPrefixes = {
  byPatient: (patient: string) => `emergency/bypatient/${patient}/`,
  byOrg: (org: string) => `emergency/byorg/${org}/`,
  byClinician: (clinician: string) => `emergency/byclinician/${clinician}/`,
  latest: () => 'emergency/latest/',
  /** Every patient's split, in patient-id order (validators page through it to re-share). */
  splits: () => 'emergency/split/',
};

/** AAD of a share sealed by the patient to a validator. */
export function registeredShareAad(patient: string, validator: string, emergencyKey: string): string {
  return `medledger/emergency-share/v1\n${patient}\n${validator}\n${emergencyKey}`;
}

/** AAD of a share re-sealed by a validator to the clinician of a window. */
export function postedShareAad(window: string, validator: string, clinician: string): string {
  return `medledger/emergency-share/v1\nwindow\n${window}\n${validator}\n${clinician}`;
}

export function getSplit(state: StateReader, patient: string): EmergencySplit | undefined {
  return readJson<EmergencySplit>(state, emergencyKeys.split(patient));
}

export function getWindow(state: StateReader, id: string): EmergencyWindow | undefined {
  return readJson<EmergencyWindow>(state, emergencyKeys.window(id));
}

export function getPostedShare(state: StateReader, window: string, validator: string): PostedShare | undefined {
  return readJson<PostedShare>(state, emergencyKeys.share(window, validator));
}

/** The organization that granted `clinician` the emergency privilege, if it holds it. */
export function privilegeOf(state: StateReader, clinician: string): { org: string; at: { height: number; time: number } } | undefined {
  return readJson(state, emergencyKeys.privilege(clinician));
}

/** Open at block time `time`: opened and not yet expired. */
export function windowIsActive(window: EmergencyWindow, time: number): boolean {
  return time < window.expiresAt;
}

/** The patient's window that is active at block time `time`, if any. */
export function activeWindowFor(state: StateReader, patient: string, time: number): EmergencyWindow | undefined {
  const id = state.getState(emergencyKeys.latest(patient));
  const window = id === undefined ? undefined : getWindow(state, id);
  return window !== undefined && windowIsActive(window, time) ? window : undefined;
}

/** The shares posted so far for a window, in the split's validator order. */
export function postedShares(state: StateReader, window: EmergencyWindow): PostedShare[] {
  return window.commitments.flatMap((c) => getPostedShare(state, window.id, c.validator) ?? []);
}

/**
 * The window through which `accessor` may use the emergency envelope of `patient`'s records
 * at block time `time`: its own active window, while it is an active clinician who still
 * holds the privilege from an active organization. Revoking the privilege ends access at once.
 */
export function emergencyWindowOf(
  state: StateReader,
  accessor: Identity | undefined,
  patient: string,
  time: number,
): EmergencyWindow | undefined {
  if (accessor === undefined || accessor.status !== 'active' || accessor.role !== 'clinician') return undefined;
  const window = activeWindowFor(state, patient, time);
  if (window === undefined || window.clinician !== accessor.id) return undefined;
  const privilege = privilegeOf(state, accessor.id);
  if (privilege === undefined || privilege.org !== accessor.org) return undefined;
  const org = getIdentity(state, privilege.org);
  return org?.status === 'active' && isCareOrganization(org) ? window : undefined;
}

/**
 * Decide an emergency read: for the clinician of an active window over the record's patient,
 * the `emergency` envelope is served (purpose treatment). Undefined when no window applies,
 * so the caller keeps the ordinary decision. An erased record stays refused as ERASED.
 */
export function decideEmergencyRead(
  state: StateReader,
  accessor: Identity | undefined,
  recordId: string,
  time: number,
): ReadDecision | undefined {
  const record = getRecord(state, recordId);
  if (record === undefined || emergencyWindowOf(state, accessor, record.patient, time) === undefined) return undefined;
  if (record.erased !== null) return { allowed: false, record, reason: 'ERASED', purpose: 'treatment' };
  if (record.envelopes[EMERGENCY_RECIPIENT] === undefined) return { allowed: false, record, reason: 'NO_ENVELOPE', purpose: 'treatment' };
  return { allowed: true, record, via: 'grant', envelopeFor: EMERGENCY_RECIPIENT, purpose: 'treatment', grant: null };
}

export function requireParams(ctx: TxContext): EmergencyParams {
  if (ctx.emergency === undefined) throw new EhrError('INVALID_BODY', 'this chain has no emergency access configured');
  return ctx.emergency;
}

function activePatient(state: StateReader, signer: string): Identity {
  const patient = activeSigner(state, signer);
  if (patient.role !== 'patient') throw new EhrError('UNAUTHORIZED', 'only a patient registers their emergency key');
  return patient;
}

/**
 * `emergency.split` (patient): register — or rotate to — an emergency key split among every
 * validator, one share each sealed to its encryption key, with a commitment to each share.
 * A different `emergencyKey` than the identity's is a rotation: later records are sealed to
 * it, and `emergency.rewrap` replaces the old envelopes. Refused while a window is active.
 */
export const emergencySplit: TxKind = {
  apply(ctx, tx, state) {
    requireParams(ctx);
    const b = onlyFields(tx.body, 'emergency.split', ['emergencyKey', 'threshold', 'shares']);
    const emergencyKey = encryptionKeyField(b, 'emergencyKey');
    const threshold = intField(b, 'threshold', 255);
    const shares = arrayField(b, 'shares', 255, (x, path) => {
      const s = itemObject(x, path, ['validator', 'x', 'commitment', 'sealed']);
      const at = (f: string) => ({ [`${path}.${f}`]: s[f] }) as Body;
      return {
        validator: idField(at('validator'), `${path}.validator`),
        x: intField(at('x'), `${path}.x`, 255),
        commitment: hex32Field(at('commitment'), `${path}.commitment`),
        sealed: sealedShareField(at('sealed'), `${path}.sealed`),
      };
    });
    const patient = activePatient(state, tx.signer);
    // The current holders: the genesis validators until governance changes the set, then the
    // latest set decided (re-sharing moves existing splits there: emergency-reshare.ts).
    const holders = emergencyHolders(state);
    const ids = holders.map((h) => h.id);
    const n = ids.length;
    if (threshold !== emergencyThreshold(n))
      throw new EhrError('INVALID_BODY', `body.threshold must be ${emergencyThreshold(n)} (more than 2/3 of ${n} validators)`);
    // Exactly the current validators hold shares: a share sealed to anyone else would hand
    // them part of the key that opens every record (issue 11: a lying node names itself).
    const stranger = shares.find((s) => !ids.includes(s.validator));
    if (stranger !== undefined)
      throw new EhrError('RECIPIENT_NOT_ALLOWED', `body.shares: ${stranger.validator} is not a current validator`);
    const missing = ids.find((v) => !shares.some((s) => s.validator === v));
    if (missing !== undefined) throw new EhrError('RECIPIENT_MISSING', `body.shares must include one for validator ${missing}`);
    if (shares.length !== n || shares.some((s, i) => s.validator !== ids[i] || s.x !== i + 1))
      throw new EhrError('INVALID_BODY', 'body.shares must hold one share per validator, in validator-set order, with x = 1, 2, …');
    if (activeWindowFor(state, patient.id, ctx.time) !== undefined)
      throw new EhrError('WINDOW_ACTIVE', 'an emergency window is open; rotate the key after it closes');
    writeJson(state, emergencyKeys.split(patient.id), {
      patient: patient.id,
      emergencyKey,
      threshold,
      shares,
      at: { height: ctx.height, time: ctx.time },
      holders: emergencyHoldersHash(holders),
    } satisfies EmergencySplit);
    // A fresh split replaces whatever re-sharing of the old one was under way.
    state.delete(emergencyKeys.reshare(patient.id));
    if (patient.emergencyKey !== emergencyKey) putIdentity(state, { ...patient, emergencyKey });
  },
};

/**
 * `emergency.rewrap` (patient): after a rotation, replace records' `emergency` envelopes with
 * ones sealed to the new key. `old` must be the envelope on chain now; nodes then delete it.
 * The new hash becomes the record's own (OBJECT_IN_USE if anything ever named it), so a
 * rewrap can neither adopt nor, by a later rewrap, delete another record's object.
 */
export const emergencyRewrap: TxKind = {
  apply(_ctx, tx, state) {
    const b = onlyFields(tx.body, 'emergency.rewrap', ['envelopes']);
    const items = arrayField(b, 'envelopes', MAX_SHARE_ENVELOPES, (x, path) => {
      const e = itemObject(x, path, ['record', 'hash', 'old']);
      const at = (f: string) => ({ [`${path}.${f}`]: e[f] }) as Body;
      return {
        record: hex16Field(at('record'), `${path}.record`),
        hash: hex32Field(at('hash'), `${path}.hash`),
        old: hex32Field(at('old'), `${path}.old`),
      };
    });
    const patient = activePatient(state, tx.signer);
    for (const item of items) {
      const record: RecordMeta | undefined = getRecord(state, item.record);
      if (record === undefined || record.patient !== patient.id)
        throw new EhrError('NOT_FOUND', `no record ${item.record} of this patient`);
      if (record.erased !== null) throw new EhrError('RECORD_ERASED', `record ${item.record} has been erased`);
      if (record.envelopes[EMERGENCY_RECIPIENT] !== item.old || item.old === item.hash)
        throw new EhrError('INVALID_BODY', `record ${item.record}: old must be its current emergency envelope`);
      claimObject(state, item.hash, record.id);
      releaseObject(state, item.old, record.id);
      writeJson(state, keys.record(record.id), { ...record, envelopes: { ...record.envelopes, [EMERGENCY_RECIPIENT]: item.hash } });
    }
  },
};

/**
 * May `org` hold the emergency privilege for its clinicians? Only a care organization: one of
 * the kinds whose role is `organization` (hospital, clinic, lab). An insurer, pharmacy,
 * manufacturer, distributor or regulator may register clinician staff, but must not be able to
 * break the glass on every patient's records.
 */
export function isCareOrganization(org: Identity): boolean {
  return isOrganization(org) && org.role === 'organization';
}

/** `emergency.privilege` (organization admin): grant (`grant: true`) or revoke the privilege of one of its clinicians. */
export const emergencyPrivilege: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'emergency.privilege', ['clinician', 'grant']);
    const clinicianId = idField(b, 'clinician');
    if (typeof b.grant !== 'boolean') throw new EhrError('INVALID_BODY', 'body.grant must be a boolean');
    const org = activeSigner(state, tx.signer);
    if (!isOrganization(org)) throw new EhrError('UNAUTHORIZED', 'only an organization grants the emergency privilege');
    const key = emergencyKeys.privilege(clinicianId);
    if (!b.grant) {
      if (privilegeOf(state, clinicianId)?.org !== org.id)
        throw new EhrError('NOT_FOUND', `clinician ${clinicianId} holds no emergency privilege from this organization`);
      state.delete(key);
      return;
    }
    if (!isCareOrganization(org))
      throw new EhrError('UNAUTHORIZED', 'only a care organization (hospital, clinic, lab) grants the emergency privilege');
    const clinician = activeIdentity(state, clinicianId, 'clinician');
    if (clinician.role !== 'clinician' || clinician.org !== org.id)
      throw new EhrError('UNAUTHORIZED', `${clinicianId} is not a clinician of this organization`);
    writeJson(state, key, { org: org.id, at: { height: ctx.height, time: ctx.time } });
  },
};

/**
 * `emergency.access` (privileged clinician): open a window on a patient's records for a stated
 * reason (sealed: only the patient and the organization's reviewers read it) and a duration capped by genesis. The window id is the first 16 bytes of the tx hash.
 */
export const emergencyAccess: TxKind = {
  apply(ctx, tx, state) {
    const params = requireParams(ctx);
    const b = onlyFields(tx.body, 'emergency.access', ['patient', 'reason', 'durationMs']);
    const patientId = idField(b, 'patient');
    const reason = sealedReasonField(b);
    const durationMs = intField(b, 'durationMs');
    if (durationMs < MIN_EMERGENCY_DURATION_MS || durationMs > params.maxDurationMs)
      throw new EhrError('INVALID_BODY', `body.durationMs must be from ${MIN_EMERGENCY_DURATION_MS} to ${params.maxDurationMs} ms`);
    const clinician = activeSigner(state, tx.signer);
    const privilege = privilegeOf(state, clinician.id);
    if (clinician.role !== 'clinician' || privilege === undefined || privilege.org !== clinician.org)
      throw new EhrError('UNAUTHORIZED', 'only a clinician holding the emergency privilege opens an emergency window');
    if (!isCareOrganization(activeIdentity(state, privilege.org, 'organization')))
      throw new EhrError('UNAUTHORIZED', 'only a clinician of a care organization opens an emergency window');
    checkReasonRecipients(state, reason, { patient: patientId, clinician: clinician.id, org: privilege.org });
    const patient = getIdentity(state, patientId);
    if (patient === undefined || patient.role !== 'patient' || patient.status !== 'active')
      throw new EhrError('NOT_FOUND', `no active patient ${patientId}`);
    const split = getSplit(state, patientId);
    if (split === undefined || split.emergencyKey !== patient.emergencyKey)
      throw new EhrError('NO_EMERGENCY_KEY', `patient ${patientId} has no emergency key registered with the validators`);
    if (activeWindowFor(state, patientId, ctx.time) !== undefined)
      throw new EhrError('WINDOW_ACTIVE', `an emergency window on patient ${patientId} is already open`);
    const id = txHash(tx).slice(0, 32);
    const window: EmergencyWindow = {
      id,
      patient: patientId,
      clinician: clinician.id,
      org: privilege.org,
      reason,
      durationMs,
      openedAt: { height: ctx.height, time: ctx.time },
      expiresAt: ctx.time + durationMs,
      emergencyKey: split.emergencyKey,
      threshold: split.threshold,
      commitments: split.shares.map(windowCommitment),
      ...(split.dealers === undefined ? {} : { dealers: split.dealers }),
    };
    writeJson(state, emergencyKeys.window(id), window);
    state.set(emergencyKeys.latest(patientId), id);
    state.set(emergencyKeys.byPatient(patientId, ctx.height, id), '');
    state.set(emergencyKeys.byOrg(privilege.org, ctx.height, id), '');
    state.set(emergencyKeys.byClinician(clinician.id, ctx.height, id), '');
  },
};

/**
 * `emergency.share` (validator node): post this validator's share of a window's key, sealed
 * to the clinician. The chain cannot read it; the clinician checks it against the commitment.
 */
export const emergencyShare: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'emergency.share', ['window', 'x', 'sealed']);
    const windowId = hex16Field(b, 'window');
    const x = intField(b, 'x', 255);
    const node = activeSigner(state, tx.signer);
    if (node.role !== 'validator') throw new EhrError('UNAUTHORIZED', 'only validator nodes post emergency shares');
    const window = getWindow(state, windowId);
    if (window === undefined) throw new EhrError('NOT_FOUND', `no emergency window ${windowId}`);
    if (!windowIsActive(window, ctx.time)) throw new EhrError('WINDOW_CLOSED', `emergency window ${windowId} has closed`);
    const mine = window.commitments.find((c) => c.validator === node.id);
    if (mine === undefined || mine.x !== x) throw new EhrError('UNAUTHORIZED', 'this validator holds no share with that x for this window');
    if (getPostedShare(state, windowId, node.id) !== undefined)
      throw new EhrError('SHARE_POSTED', 'this validator already posted its share for this window');
    // A re-shared split's holder posts its sub-share from each dealer, so the clinician can
    // check every one against its commitment before combining.
    const sealed = sealedShareField(b, 'sealed', window.dealers?.length ?? 1);
    writeJson(state, emergencyKeys.share(windowId, node.id), {
      window: windowId,
      validator: node.id,
      x,
      sealed,
      at: { height: ctx.height, time: ctx.time },
    } satisfies PostedShare);
  },
};

/** Is `s` a window id (16-byte hex)? */
export const isWindowId = (s: unknown): s is string => isHex(s, 16);
