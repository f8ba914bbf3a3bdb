// The stated reason of an emergency window, sealed on the clinician's device (docs/emergency.md
// "The reason"): AES-256-GCM under a fresh data key, the key sealed to the patient, the
// clinician, the organization and its privacy officers. The chain checks only the shape and
// the recipients (@medledger/ehr emergency-reason.ts); it never sees the text.
import {
  aeadDecrypt,
  aeadEncrypt,
  type Envelope,
  fromHex,
  generateDataKey,
  openEnvelope,
  sealToPublicKey,
  toHex,
  utf8,
} from '@medledger/crypto';
import { ClientError } from './errors.js';

/** Longest reason, in characters (the chain bounds the ciphertext to 4 bytes a character). */
export const MAX_EMERGENCY_REASON = 500;

/** `reason` of an `emergency.access` body as it travels and is kept on chain. */
export interface SealedReason {
  iv: string;
  ct: string;
  tag: string;
  keys: Array<{ to: string; sealed: Envelope }>;
}

const reasonAad = (patient: string, clinician: string) => utf8(`medledger/emergency-reason/v1\n${patient}\n${clinician}`);
const keyAad = (patient: string, clinician: string, to: string) =>
  utf8(`medledger/emergency-reason-key/v1\n${patient}\n${clinician}\n${to}`);

/**
 * Check a stated reason (trimmed, 1–500 characters, one line) and return it trimmed.
 * Throws ClientError `INVALID_ARGUMENT`.
 */
export function checkEmergencyReason(reason: string): string {
  const why = reason.trim();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a reason is one line of text
  if (why.length === 0 || why.length > MAX_EMERGENCY_REASON || /[\u0000-\u001f\u007f]/.test(why))
    throw new ClientError('INVALID_ARGUMENT', `state a reason of 1–${MAX_EMERGENCY_REASON} characters on one line`);
  return why;
}

/**
 * Encrypt `reason` for a window on `patient` by `clinician`, readable by each of `recipients`
 * (ids with their X25519 keys; the chain requires the patient and the organization). Throws
 * ClientError `INVALID_ARGUMENT` for an empty or over-long reason.
 */
export function sealEmergencyReason(
  reason: string,
  w: { patient: string; clinician: string },
  recipients: ReadonlyArray<{ id: string; encryptionKey: string }>,
): SealedReason {
  const text = checkEmergencyReason(reason);
  const key = generateDataKey();
  try {
    const box = aeadEncrypt(key, utf8(text), reasonAad(w.patient, w.clinician));
    const seen = new Set<string>();
    const keys = recipients.flatMap((r) => {
      if (seen.has(r.id)) return [];
      seen.add(r.id);
      return [{ to: r.id, sealed: sealToPublicKey(r.encryptionKey, key, keyAad(w.patient, w.clinician, r.id)) }];
    });
    return { iv: toHex(box.iv), ct: toHex(box.ct), tag: toHex(box.tag), keys };
  } finally {
    key.fill(0);
  }
}

/**
 * Open a window's sealed reason as identity `me` with its X25519 private key. Returns
 * undefined when the reason was not sealed to `me` (a delegate, or a privacy officer
 * registered after the window opened) or does not open. Never throws.
 */
export function openEmergencyReason(
  window: { patient: string; clinician: string; reason: unknown },
  me: string,
  encryptionPrivateKey: string,
): string | undefined {
  const sealed = window.reason as SealedReason | undefined;
  const mine = Array.isArray(sealed?.keys) ? sealed.keys.find((k) => k?.to === me) : undefined;
  if (sealed === undefined || mine === undefined) return undefined;
  let key: Uint8Array | undefined;
  try {
    key = openEnvelope(encryptionPrivateKey, mine.sealed, keyAad(window.patient, window.clinician, me));
    const box = { iv: fromHex(sealed.iv), ct: fromHex(sealed.ct), tag: fromHex(sealed.tag) };
    return new TextDecoder('utf-8', { fatal: true }).decode(aeadDecrypt(key, box, reasonAad(window.patient, window.clinician)));
  } catch {
    return undefined;
  } finally {
    key?.fill(0);
  }
}
