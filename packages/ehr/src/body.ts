// Checks for transaction bodies: each names the field it refused and what was expected,
// and returns the checked value, so kinds read typed values after one pass at the boundary.
import { isHex, isLowOrderEncryptionKey } from '@medledger/crypto';
import { EhrError } from './errors.js';

export type Body = Record<string, unknown>;

function bad(field: string, expected: string): never {
  throw new EhrError('INVALID_BODY', `body.${field} must be ${expected}`);
}

/** Refuse any key outside `allowed`: owner or grantee fields cannot be slipped in where not accepted. */
export function onlyFields(body: unknown, kind: string, allowed: readonly string[]): Body {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new EhrError('INVALID_BODY', 'body must be an object');
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k)) throw new EhrError('INVALID_BODY', `body.${k} is not accepted by ${kind}`);
  }
  return body as Body;
}

/** A 20-byte identity id. */
export function idField(b: Body, field: string): string {
  const v = b[field];
  if (!isHex(v, 20)) bad(field, 'a 20-byte hex identity id');
  return v;
}

/** A 32-byte hex value (keys, hashes). */
export function hex32Field(b: Body, field: string): string {
  const v = b[field];
  if (!isHex(v, 32)) bad(field, '32-byte hex');
  return v;
}

/**
 * An X25519 public key someone will seal data keys to. A low-order key is refused as
 * WEAK_KEY: every envelope sealed to it would be unusable (RFC 7748 §6.1), so each later
 * write that must include its holder would fail.
 */
export function encryptionKeyField(b: Body, field: string): string {
  const v = hex32Field(b, field);
  if (isLowOrderEncryptionKey(v)) throw new EhrError('WEAK_KEY', `body.${field} is an X25519 key of low order and cannot be used`);
  return v;
}

/** A 16-byte hex id (records, grants). */
export function hex16Field(b: Body, field: string): string {
  const v = b[field];
  if (!isHex(v, 16)) bad(field, 'a 16-byte hex id');
  return v;
}

export function optional<T>(b: Body, field: string, check: (b: Body, field: string) => T): T | undefined {
  return b[field] === undefined ? undefined : check(b, field);
}

export function enumField<T extends string>(b: Body, field: string, values: readonly T[]): T {
  const v = b[field];
  if (typeof v !== 'string' || !values.includes(v as T)) bad(field, `one of ${values.join(', ')}`);
  return v as T;
}

/** A non-negative safe integer, at most `max`. */
export function intField(b: Body, field: string, max = Number.MAX_SAFE_INTEGER): number {
  const v = b[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) bad(field, `an integer from 0 to ${max}`);
  return v;
}

export function stringField(b: Body, field: string, pattern: RegExp, expected: string): string {
  const v = b[field];
  if (typeof v !== 'string' || !pattern.test(v)) bad(field, expected);
  return v;
}

/** An array of at most `max` items, each checked by `item` (given the item's field path). */
export function arrayField<T>(b: Body, field: string, max: number, item: (x: unknown, path: string) => T): T[] {
  const v = b[field];
  if (!Array.isArray(v) || v.length > max) bad(field, `an array of at most ${max} items`);
  return v.map((x, i) => item(x, `${field}[${i}]`));
}

/** An object item of an array, with only `allowed` keys. */
export function itemObject(x: unknown, path: string, allowed: readonly string[]): Body {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) bad(path, 'an object');
  for (const k of Object.keys(x)) if (!allowed.includes(k)) throw new EhrError('INVALID_BODY', `body.${path}.${k} is not accepted`);
  return x as Body;
}

/** Lowercase token such as a record category: `vital-signs`, `laboratory`. */
export const CATEGORY_RE = /^[a-z][a-z0-9-]{0,39}$/;
/** A FHIR resource type name such as `Observation`. */
export const RESOURCE_TYPE_RE = /^[A-Z][A-Za-z]{1,63}$/;
