// Byte helpers shared by every package: hex codecs, concatenation, constant-time compare.

/** Encode bytes as lowercase hex. */
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
  const buf = Buffer.from(hex, 'hex');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** True when `s` is lowercase hex of exactly `bytes` bytes. */
export function isHex(s: unknown, bytes?: number): s is string {
  return typeof s === 'string' && HEX_RE.test(s) && (bytes === undefined || s.length === bytes * 2);
}

/** Concatenate byte arrays. */
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

/** UTF-8 encode a string. */
export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** Compare two byte arrays in time independent of where they differ. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
