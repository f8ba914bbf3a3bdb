// SHA-256 and participant ids with @noble/hashes, for the browser entry (hash.ts uses node:crypto).
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex, toHex, utf8 } from './browser-bytes.js';

/** SHA-256 (FIPS 180-4) of the concatenation of `parts`. Does not throw. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  return nobleSha256(concatBytes(...parts));
}

/** Hex SHA-256 (FIPS 180-4) of the concatenation of `parts`. Does not throw. */
export function sha256Hex(...parts: Uint8Array[]): string {
  return toHex(sha256(...parts));
}

/** Hex SHA-256 of the UTF-8 bytes of `text` (WHATWG encoding: lone surrogates become U+FFFD). Does not throw. */
export function sha256HexOfText(text: string): string {
  return toHex(nobleSha256(utf8(text)));
}

/**
 * A participant id: hex of the first 20 bytes of SHA-256 of the Ed25519 public key
 * (DESIGN §3). Throws TypeError unless `publicKeyHex` is 32 bytes of lowercase hex.
 */
export function idFromPublicKey(publicKeyHex: string): string {
  return sha256Hex(fromHex(publicKeyHex, 'public key', 32)).slice(0, 40);
}
