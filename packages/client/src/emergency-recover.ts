// Rebuilding a patient's emergency key from the shares validators posted to a window
// (docs/emergency.md "What the clinician's client does"): each share is opened with the
// clinician's key and checked against the commitment on chain, then any threshold of them are
// combined and the result checked against the window's emergency public key. A re-shared
// split's holders post one sub-share per dealer, each checked and combined first.
import { encryptionPublicKeyFromPrivate, interpolateAtZero, openEnvelope, type Share, toHex, utf8, verifyShare } from '@medledger/crypto';
import type { EmergencyWindow, PostedShare } from './emergency.js';
import { ClientError } from './errors.js';

// The AAD of a share a validator re-sealed to a window's clinician; it must match the rule in
// @medledger/ehr (emergency.ts), which the client may not import.
const postedShareAad = (window: string, validator: string, clinician: string) =>
  utf8(`medledger/emergency-share/v1\nwindow\n${window}\n${validator}\n${clinician}`);

/** What a clinician recovered from a window's posted shares. */
export interface RecoveredEmergencyKey {
  window: EmergencyWindow;
  /** The patient's emergency X25519 private key (hex). Secret: keep in memory only. */
  privateKey: string;
  /** Validators whose posted share did not open or did not match its commitment. */
  badShares: string[];
}

/**
 * Try to rebuild a window's key from the shares posted so far: open each with this client's
 * encryption key, keep those that match their commitment, combine `threshold` of them and
 * check the result against the window's emergency public key. Undefined while too few good
 * shares are posted. Throws ClientError('EMERGENCY_KEY_MISMATCH') if good shares combine
 * to another key (which the commitments make impossible unless the patient's split was bad).
 */
export function recoverEmergencyKey(window: EmergencyWindow, encryptionPrivateKey: string): RecoveredEmergencyKey | undefined {
  const good: Share[] = [];
  const badShares: string[] = [];
  for (const posted of window.shares ?? []) {
    const share = checkedPostedShare(window, posted, encryptionPrivateKey);
    if (share !== undefined) good.push(share);
    else badShares.push(posted.validator);
  }
  if (good.length < window.threshold) return undefined;
  const chosen = good.slice(0, window.threshold);
  const secret = interpolateAtZero(chosen);
  const privateKey = toHex(secret);
  secret.fill(0);
  if (encryptionPublicKeyFromPrivate(privateKey) !== window.emergencyKey)
    throw new ClientError('EMERGENCY_KEY_MISMATCH', `window ${window.id}: the shares do not rebuild the patient's emergency key`);
  return { window, privateKey, badShares };
}

/**
 * A validator's posted share, opened and checked, or undefined when it does not open or does
 * not match its commitment. On a re-shared split the posting holds one sub-share per dealer:
 * each is checked against the commitment its dealer put on chain, then they are combined at
 * the dealers' x into the holder's share (Desmedt–Jajodia), so a holder cannot lie about any.
 */
function checkedPostedShare(window: EmergencyWindow, posted: PostedShare, encryptionPrivateKey: string): Share | undefined {
  const committed = window.commitments.find((c) => c.validator === posted.validator && c.x === posted.x);
  if (committed === undefined) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = openEnvelope(encryptionPrivateKey, posted.sealed, postedShareAad(window.id, posted.validator, window.clinician));
  } catch {
    return undefined;
  }
  try {
    if (window.dealers === undefined) {
      const share = { x: posted.x, y: toHex(bytes) };
      return committed.commitment !== undefined && verifyShare(share, committed.commitment) ? share : undefined;
    }
    const parts = committed.parts ?? [];
    if (parts.length !== window.dealers.length || bytes.length !== SHARE_BYTES * parts.length) return undefined;
    const subShares: Share[] = [];
    for (const [i, commitment] of parts.entries()) {
      const y = toHex(bytes.subarray(i * SHARE_BYTES, (i + 1) * SHARE_BYTES));
      if (!verifyShare({ x: posted.x, y }, commitment)) return undefined;
      subShares.push({ x: window.dealers[i] as number, y });
    }
    const combined = interpolateAtZero(subShares);
    const share = { x: posted.x, y: toHex(combined) };
    combined.fill(0);
    return share;
  } finally {
    bytes.fill(0);
  }
}

/** Bytes of one share of a 32-byte emergency key. */
const SHARE_BYTES = 32;

export function recoverBadCount(window: EmergencyWindow, key: string): number {
  return (window.shares ?? []).filter((posted) => checkedPostedShare(window, posted, key) === undefined).length;
}
