// The sealed reason of an emergency window (docs/emergency.md "The reason"): the clinician's
// client encrypts the free text under a fresh data key (AES-256-GCM) and seals that key to the
// patient, the organization and its reviewers, so the chain — and anyone reading blocks —
// holds ciphertext only. The rules here check its shape and who it is sealed to; the
// encryption and its AADs are the client's (@medledger/client emergency-reason.ts).
import { type Envelope, isHex, validateEnvelope } from '@medledger/crypto';
import { type Body, idField } from './body.js';
import { EhrError } from './errors.js';
import { getIdentity } from './identity.js';
import type { StateReader } from './state.js';

/** Longest stated reason, in characters (the client's limit; UTF-8 may take up to 4 bytes each). */
export const MAX_EMERGENCY_REASON = 500;
/** Longest reason ciphertext in bytes: 500 characters of UTF-8. */
export const MAX_EMERGENCY_REASON_BYTES = 4 * MAX_EMERGENCY_REASON;
/** Most recipients one reason is sealed to (patient, clinician, organization, privacy officers). */
export const MAX_REASON_RECIPIENTS = 32;

/** `body.reason` of `emergency.access`: AES-256-GCM ciphertext and the data key sealed to each reader. */
export interface SealedReason {
  iv: string;
  ct: string;
  tag: string;
  keys: Array<{ to: string; sealed: Envelope }>;
}

/**
 * Check `body.reason`: a non-empty ciphertext of at most MAX_EMERGENCY_REASON_BYTES, a
 * 12-byte IV and 16-byte tag, and 2–32 distinct recipients each with a sealed 32-byte key.
 * Throws EhrError INVALID_BODY naming the field.
 */
export function sealedReasonField(b: Body): SealedReason {
  const bad = (what: string): never => {
    throw new EhrError('INVALID_BODY', `body.reason${what}`);
  };
  const r = b.reason;
  if (typeof r !== 'object' || r === null || Array.isArray(r))
    bad(' must be the sealed reason {iv, ct, tag, keys}: the stated reason is encrypted by the client');
  const o = r as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['iv', 'ct', 'tag', 'keys'].includes(k)) bad(`.${k} is not accepted`);
  if (!isHex(o.iv, 12)) bad('.iv must be 12-byte hex');
  if (!isHex(o.tag, 16)) bad('.tag must be 16-byte hex');
  const ct = o.ct;
  if (typeof ct !== 'string' || !/^(?:[0-9a-f]{2})+$/.test(ct) || ct.length > 2 * MAX_EMERGENCY_REASON_BYTES)
    bad(`.ct must be the encrypted reason: 1–${MAX_EMERGENCY_REASON_BYTES} bytes of lowercase hex (a reason is required)`);
  if (!Array.isArray(o.keys) || o.keys.length < 2 || o.keys.length > MAX_REASON_RECIPIENTS)
    bad(`.keys must seal the reason's key to 2–${MAX_REASON_RECIPIENTS} recipients`);
  const keys = (o.keys as unknown[]).map((x, i) => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) return bad(`.keys[${i}] must be {to, sealed}`);
    const item = x as Record<string, unknown>;
    if (Object.keys(item).some((k) => k !== 'to' && k !== 'sealed')) bad(`.keys[${i}] accepts only to and sealed`);
    const to = idField(item, 'to');
    let sealed: Envelope;
    try {
      sealed = validateEnvelope(item.sealed);
    } catch {
      return bad(`.keys[${i}].sealed must be a sealed envelope`);
    }
    if (sealed.ct.length !== 64) bad(`.keys[${i}].sealed must seal a 32-byte key`);
    return { to, sealed };
  });
  if (new Set(keys.map((k) => k.to)).size !== keys.length) bad('.keys names a recipient twice');
  return { iv: o.iv as string, ct: ct as string, tag: o.tag as string, keys };
}

/**
 * Who a window's reason must and may be sealed to: it must reach the patient and the
 * organization (whose admin reviews its staff); it may also reach the clinician and the
 * organization's active privacy officers, and nobody else. Throws EhrError INVALID_BODY.
 */
export function checkReasonRecipients(
  state: StateReader,
  reason: SealedReason,
  w: { patient: string; clinician: string; org: string },
): void {
  const to = new Set(reason.keys.map((k) => k.to));
  if (!to.has(w.patient)) throw new EhrError('INVALID_BODY', 'body.reason must be sealed to the patient');
  if (!to.has(w.org)) throw new EhrError('INVALID_BODY', "body.reason must be sealed to the clinician's organization");
  for (const id of to) {
    if (id === w.patient || id === w.org || id === w.clinician) continue;
    const reviewer = getIdentity(state, id);
    if (reviewer?.status !== 'active' || reviewer.role !== 'privacy-officer' || reviewer.org !== w.org)
      throw new EhrError(
        'INVALID_BODY',
        `body.reason may be sealed only to the patient, the clinician, the organization and its privacy officers, not ${id}`,
      );
  }
}
