// Byte helpers with no Node built-ins (no Buffer), for the browser entry and the shared wire
// formats. Same names and behaviour as bytes.ts, which keeps Buffer for speed on the server.

const HEX_RE = /^(?:[0-9a-f]{2})*$/;

/** Encode bytes as lowercase hex (RFC 4648 §8 alphabet, lower case). Does not throw. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/**
 * Decode lowercase hex. Throws `TypeError` naming `what` when the input is not
 * even-length lowercase hex, or when `expectedBytes` is given and the length differs.
 */
export function fromHex(hex: string, what = 'hex', expectedBytes?: number): Uint8Array {
  if (typeof hex !== 'string' || !HEX_RE.test(hex)) throw new TypeError(`${what} must be lowercase hex`);
  if (expectedBytes !== undefined && hex.length !== expectedBytes * 2) {
    throw new TypeError(`${what} must be ${expectedBytes} bytes (${expectedBytes * 2} hex chars)`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** True when `s` is lowercase hex (of exactly `bytes` bytes, when given). Does not throw. */
export function isHex(s: unknown, bytes?: number): s is string {
  return typeof s === 'string' && HEX_RE.test(s) && (bytes === undefined || s.length === bytes * 2);
}

/** UTF-8 encode a string (WHATWG Encoding; lone surrogates become U+FFFD). Does not throw. */
export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** Concatenate byte arrays into a new array. Does not throw. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Compare two byte arrays in time independent of where they differ (lengths are not secret). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/**
 * `n` bytes from the platform CSPRNG (WebCrypto getRandomValues, available in browsers even
 * outside secure contexts, and in Node ≥ 19). Throws Error when there is none, rather than
 * ever falling back to a weak generator.
 */
export function randomBytes(n: number): Uint8Array {
  const c = globalThis.crypto;
  if (c === undefined || typeof c.getRandomValues !== 'function') throw new Error('no WebCrypto getRandomValues in this environment');
  const out = new Uint8Array(n);
  // getRandomValues fills at most 65536 bytes per call.
  for (let off = 0; off < n; off += 65536) c.getRandomValues(out.subarray(off, Math.min(n, off + 65536)));
  return out;
}
