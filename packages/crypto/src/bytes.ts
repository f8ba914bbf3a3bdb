// Byte helpers shared by every package: hex codecs, concatenation, constant-time compare.

/** Encode bytes as lowercase hex (RFC 4648 §8 alphabet, lower case). Does not throw. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

const HEX_RE = /^(?:[0-9a-f]{2})*$/;

/**
 * Decode lowercase hex. Throws `TypeError` naming `what` when the input is not
 * even-length lowercase hex, or when `expectedBytes` is given and the length differs.
 */
export function fromHex(hex: string, what = 'hex', expectedBytes?: number): Uint8Array {
  if (typeof hex !== 'string' || !HEX_RE.test(hex)) {
    throw new TypeError(`${what} must be lowercase hex`);
  }
  if (expectedBytes !== undefined && hex.length !== expectedBytes * 2) {
    throw new TypeError(`${what} must be ${expectedBytes} bytes (${expectedBytes * 2} hex chars)`);
  }
  // Decode into memory this array owns: Buffer.from(hex) returns a view of Node's shared
  // 8 KiB pool, which would leave secrets there and expose unrelated bytes via `.buffer`.
  const out = new Uint8Array(hex.length / 2);
  Buffer.from(out.buffer, out.byteOffset, out.byteLength).write(hex, 'hex');
  return out;
}

/** True when `s` is lowercase hex (of exactly `bytes` bytes, when given). Does not throw. */
export function isHex(s: unknown, bytes?: number): s is string {
  return typeof s === 'string' && HEX_RE.test(s) && (bytes === undefined || s.length === bytes * 2);
}

/** Concatenate byte arrays into a new array. Does not throw. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** One encoder for every call: `encode` keeps no state, and a new TextEncoder per key hashed showed in the state tree's profile. */
const ENCODER = new TextEncoder();

/** UTF-8 encode a string (WHATWG Encoding; lone surrogates become U+FFFD). Does not throw. */
export function utf8(s: string): Uint8Array {
  return ENCODER.encode(s);
}

/** Compare two byte arrays in time independent of where they differ (lengths are not secret). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
