// The envelope wire format and the AES-GCM/HKDF parameters both entries must agree on.
// No Node built-ins, so the Node and browser entries share it and stay byte-compatible.
import { concatBytes, isHex, utf8 } from './browser-bytes.js';
import { CryptoError } from './errors.js';

/** The one envelope algorithm: ephemeral X25519, HKDF-SHA256, AES-256-GCM. */
export const ENVELOPE_ALG = 'X25519-HKDF-SHA256-A256GCM';
/** HKDF info label of envelope keys; a caller's context bytes are appended to it. */
export const ENVELOPE_INFO = 'medledger/envelope/v1';
/** Envelopes wrap keys and small secrets; anything larger is refused unread. */
export const MAX_ENVELOPE_PLAINTEXT_BYTES = 1024 * 1024;

/** AES-256-GCM sizes used everywhere here: 256-bit key, 96-bit IV, 128-bit tag (SP 800-38D). */
export const AES_KEY_BYTES = 32;
export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;

/** AES-256-GCM output: 12-byte IV, ciphertext (as long as the plaintext) and 16-byte tag. */
export interface AeadBox {
  iv: Uint8Array;
  ct: Uint8Array;
  tag: Uint8Array;
}

/** True when `box` has the IV and tag sizes this package writes; anything else is refused. */
export function hasGcmShape(box: AeadBox): boolean {
  return (
    typeof box === 'object' &&
    box !== null &&
    box.iv instanceof Uint8Array &&
    box.iv.length === GCM_IV_BYTES &&
    box.tag instanceof Uint8Array &&
    box.tag.length === GCM_TAG_BYTES &&
    box.ct instanceof Uint8Array
  );
}

/**
 * HKDF info for an envelope key: the fixed label, then the caller's context bytes. The label
 * has a fixed length, so distinct contexts always give distinct info strings.
 */
export function envelopeInfo(context: Uint8Array = new Uint8Array()): Uint8Array {
  return concatBytes(utf8(ENVELOPE_INFO), context);
}

/**
 * HKDF salt for an envelope key: ephemeral public key ‖ recipient public key. Binding both
 * keys means an envelope cannot be re-targeted or its ephemeral key swapped unnoticed.
 */
export function envelopeSalt(epk: Uint8Array, recipientPublicKey: Uint8Array): Uint8Array {
  return concatBytes(epk, recipientPublicKey);
}

/**
 * A secret sealed to one recipient's X25519 key: ephemeral public key, AES-GCM IV,
 * ciphertext and tag, all lowercase hex. Plain JSON, so it travels and is stored as is.
 */
export interface Envelope {
  v: 1;
  alg: typeof ENVELOPE_ALG;
  epk: string;
  iv: string;
  ct: string;
  tag: string;
}

/**
 * Exact size in bytes of a record key envelope as kept in the vault: the RFC 8785 canonical
 * JSON of an Envelope sealing one 256-bit data key. Every field has a fixed length (hex of a
 * 32-byte key, 32-byte epk, 12-byte IV, 16-byte tag), so every such envelope is exactly this
 * long; nodes refuse a larger object named as an envelope (docs/records.md, vault quotas).
 */
export const KEY_ENVELOPE_BYTES = canonicalEnvelopeLength(AES_KEY_BYTES);

/** Length of the canonical JSON of an envelope sealing `plaintextBytes`: keys sorted, ASCII only. */
function canonicalEnvelopeLength(plaintextBytes: number): number {
  const hex = (bytes: number) => '0'.repeat(2 * bytes);
  // Inserted in sorted key order, so JSON.stringify writes exactly the JCS form.
  return JSON.stringify({ alg: ENVELOPE_ALG, ct: hex(plaintextBytes), epk: hex(32), iv: hex(GCM_IV_BYTES), tag: hex(GCM_TAG_BYTES), v: 1 })
    .length;
}

/**
 * Check that untrusted input (an HTTP body, a vault object) is a version-1 envelope and
 * return a copy holding only its fields. Throws CryptoError('BAD_ENVELOPE') whose message
 * names the first bad field. Checks shape only: whether it opens is `openEnvelope`'s job.
 */
export function validateEnvelope(x: unknown): Envelope {
  const bad = (m: string): never => {
    throw new CryptoError('BAD_ENVELOPE', m);
  };
  if (typeof x !== 'object' || x === null || Array.isArray(x)) bad('envelope must be an object');
  const e = x as Record<string, unknown>;
  if (e.v !== 1) bad('envelope.v must be 1');
  if (e.alg !== ENVELOPE_ALG) bad(`envelope.alg must be ${ENVELOPE_ALG}`);
  if (!isHex(e.epk, 32)) bad('envelope.epk must be 32-byte lowercase hex');
  if (!isHex(e.iv, GCM_IV_BYTES)) bad('envelope.iv must be 12-byte lowercase hex');
  if (typeof e.ct !== 'string' || e.ct.length > 2 * MAX_ENVELOPE_PLAINTEXT_BYTES || !isHex(e.ct)) {
    bad(`envelope.ct must be lowercase hex of at most ${MAX_ENVELOPE_PLAINTEXT_BYTES} bytes`);
  }
  if (!isHex(e.tag, GCM_TAG_BYTES)) bad('envelope.tag must be 16-byte lowercase hex');
  return { v: 1, alg: ENVELOPE_ALG, epk: e.epk as string, iv: e.iv as string, ct: e.ct as string, tag: e.tag as string };
}
