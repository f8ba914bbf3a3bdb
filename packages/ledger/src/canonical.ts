// RFC 8785 JSON Canonicalization Scheme, through the `canonicalize` library.
import { sha256Hex, utf8 } from '@medledger/crypto';
import canonicalize from 'canonicalize';
import { LedgerError } from './errors.js';

/**
 * Canonical JSON text of `value` (RFC 8785: sorted keys by UTF-16 code units, ECMAScript
 * number formatting, no whitespace). Throws LedgerError('NOT_CANONICAL') for values JSON
 * cannot carry: NaN, Infinity, undefined at the top level, functions, bigints.
 */
export function canonicalJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (err) {
    throw new LedgerError('NOT_CANONICAL', `value cannot be canonicalised: ${(err as Error).message}`);
  }
  if (typeof text !== 'string') throw new LedgerError('NOT_CANONICAL', 'value has no JSON representation');
  return text;
}

/** UTF-8 bytes of the canonical JSON of `value` (RFC 8785 §3.2.4). */
export function canonicalBytes(value: unknown): Uint8Array {
  return utf8(canonicalJson(value));
}

/** Hex SHA-256 of the canonical JSON of `value`. */
export function hashCanonical(value: unknown): string {
  return sha256Hex(canonicalBytes(value));
}
