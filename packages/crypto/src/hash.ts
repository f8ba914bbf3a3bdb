// SHA-256 through node:crypto, and the participant id derivation of DESIGN §3.
import * as nodeCrypto from 'node:crypto';
import { fromHex, toHex } from './bytes.js';

const { createHash } = nodeCrypto;
/**
 * node:crypto's one-shot `hash` (Node 20.12+), undefined on older Node 20. For one short input
 * it costs about half of createHash/update/digest (2 µs against 3.5 µs for a 65-byte state
 * tree node), and a block's state tree update hashes tens of thousands of nodes.
 */
const oneShot = (nodeCrypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'buffer') => Buffer }).hash;
/**
 * The same one-shot hash with a hex answer: no Buffer (a new off-heap allocation) per digest,
 * about half the cost again when the caller wants hex anyway (docs/state.md).
 */
const oneShotHex = (nodeCrypto as { hash?: (algorithm: string, data: Uint8Array | string, encoding: 'hex') => string }).hash;

/** SHA-256 (FIPS 180-4) of the concatenation of `parts`. Does not throw. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1 && oneShot !== undefined) {
    const d = oneShot('sha256', parts[0] as Uint8Array, 'buffer');
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  }
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  const d = h.digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** Hex SHA-256 (FIPS 180-4) of the concatenation of `parts`. Does not throw. */
export function sha256Hex(...parts: Uint8Array[]): string {
  if (parts.length === 1 && oneShotHex !== undefined) return oneShotHex('sha256', parts[0] as Uint8Array, 'hex');
  return toHex(sha256(...parts));
}

/**
 * Hex SHA-256 of the UTF-8 bytes of `text`, without encoding it first. Node encodes a lone
 * surrogate as U+FFFD like TextEncoder (`utf8`) does; hash.test.ts checks. Does not throw.
 */
export function sha256HexOfText(text: string): string {
  if (oneShotHex !== undefined) return oneShotHex('sha256', text, 'hex');
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * A participant id: hex of the first 20 bytes of SHA-256 of the Ed25519 public key
 * (DESIGN §3). Throws TypeError unless `publicKeyHex` is 32 bytes of lowercase hex —
 * `Buffer.from(s, 'hex')` would silently truncate bad hex and hand out a wrong id.
 */
export function idFromPublicKey(publicKeyHex: string): string {
  return sha256Hex(fromHex(publicKeyHex, 'public key', 32)).slice(0, 40);
}
