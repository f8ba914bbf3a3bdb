// Hex of a range of bytes and hex decoded into a range, without a copy or a new array: the
// state tree's batch update converts tens of thousands of hashes a block, each a slice of a
// 65-byte node (docs/state.md). Plain JavaScript, shared by the Node and browser entries:
// measured faster on Node than the Buffer codecs, whose view and call cost more than the work.

const DIGITS = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
/** Char code → nibble, -1 for anything that is not a lowercase hex digit. */
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) NIBBLE[DIGITS[i] as number] = i;

// TextDecoder makes one flat one-byte string (a string built by `+=` is a rope that V8
// flattens again before hashing it as a Map key). One scratch buffer: encoding is synchronous.
const ASCII = new TextDecoder();
const HASH_SCRATCH = new Uint8Array(64);
let scratch = new Uint8Array(64);

/**
 * Lowercase hex (RFC 4648 §8, lower case) of `bytes[start, start + length)`. Throws
 * RangeError when the range is not inside `bytes`.
 */
export function hexAt(bytes: Uint8Array, start: number, length: number): string {
  if (!(start >= 0 && length >= 0 && start + length <= bytes.length)) throw new RangeError('hex range is outside the bytes');
  // A hash's 64 digits fill HASH_SCRATCH exactly: no view to allocate for the common case.
  let out = HASH_SCRATCH;
  if (length !== 32) {
    if (scratch.length < 2 * length) scratch = new Uint8Array(2 * length);
    out = scratch.subarray(0, 2 * length);
  }
  for (let i = 0; i < length; i++) {
    const b = bytes[start + i] as number;
    out[2 * i] = DIGITS[b >> 4] as number;
    out[2 * i + 1] = DIGITS[b & 15] as number;
  }
  return ASCII.decode(out);
}

/**
 * Decode lowercase hex into `out` from `offset` on. Throws RangeError when it does not fit
 * (nothing written), TypeError when `hex` is not even-length lowercase hex (the range may
 * then be partly written: one pass, for speed; callers write into their own fresh arrays).
 */
export function writeHexAt(hex: string, out: Uint8Array, offset: number): void {
  const n = hex.length >> 1;
  if ((hex.length & 1) !== 0) throw new TypeError('hex must be lowercase hex');
  if (!(offset >= 0 && offset + n <= out.length)) throw new RangeError('hex does not fit at that offset');
  // A bad digit sets a bit above the nibble: its code is 128 or more, or its NIBBLE is -1.
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const a = hex.charCodeAt(2 * i);
    const b = hex.charCodeAt(2 * i + 1);
    const hi = NIBBLE[a & 127] as number;
    const lo = NIBBLE[b & 127] as number;
    bad |= ((a | b) & ~127) | hi | lo;
    out[offset + i] = (hi << 4) | (lo & 15);
  }
  if ((bad & ~15) !== 0) throw new TypeError('hex must be lowercase hex');
}
