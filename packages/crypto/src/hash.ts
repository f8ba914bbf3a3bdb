// SHA-256 through node:crypto, and the participant id derivation of DESIGN §3.
import { createHash } from 'node:crypto';
import { fromHex, toHex } from './bytes.js';

/** SHA-256 (FIPS 180-4) of the concatenation of `parts`. Does not throw. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  const d = h.digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** Hex SHA-256 (FIPS 180-4) of the concatenation of `parts`. Does not throw. */
export function sha256Hex(...parts: Uint8Array[]): string {
  return toHex(sha256(...parts));
}

/**
 * A participant id: hex of the first 20 bytes of SHA-256 of the Ed25519 public key
 * (DESIGN §3). Throws TypeError unless `publicKeyHex` is 32 bytes of lowercase hex —
 * `Buffer.from(s, 'hex')` would silently truncate bad hex and hand out a wrong id.
 */
export function idFromPublicKey(publicKeyHex: string): string {
  return sha256Hex(fromHex(publicKeyHex, 'public key', 32)).slice(0, 40);
}
