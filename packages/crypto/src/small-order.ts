// Small-order Ed25519 public keys: for such a key one fixed signature verifies every
// message (RFC 8032 verifiers, OpenSSL included, accept it), so a participant must not be
// allowed to register one as their identity. Low-order X25519 keys likewise make every
// envelope sealed to them unusable, so the ledger refuses them as encryption keys.
import { ed25519 } from '@noble/curves/ed25519.js';
import { isHex } from './bytes.js';

const { Point } = ed25519;
const P = 2n ** 255n - 19n;
const L = Point.Fn.ORDER;

/**
 * The y-coordinates of the eight points of small order (orders 1, 2, 4 and 8). Found once
 * at load time: any point's L-multiple lies in the 8-torsion subgroup, and one of order 8
 * generates it.
 */
const TORSION_Y: ReadonlySet<bigint> = (() => {
  for (let k = 2; k < 256; k++) {
    const enc = new Uint8Array(32);
    enc[0] = k;
    let point: InstanceType<typeof Point>;
    try {
      point = Point.fromBytes(enc);
    } catch {
      continue;
    }
    const t = point.multiplyUnsafe(L - 1n).add(point);
    if (t.multiplyUnsafe(4n).equals(Point.ZERO)) continue;
    const ys = new Set<bigint>();
    let q = Point.ZERO;
    for (let i = 0; i < 8; i++) {
      ys.add(q.toAffine().y);
      q = q.add(t);
    }
    return ys;
  }
  throw new Error('no point of order 8 found');
})();

/**
 * True when `publicKeyHex` encodes a point of small order, in canonical form or not (a y at
 * or above p, or either x sign). Cheap: it reads y and compares it with the eight torsion
 * points' y-coordinates, without decompressing the point. Malformed input counts as weak.
 */
export function isWeakSigningKey(publicKeyHex: string): boolean {
  return !isHex(publicKeyHex, 32) || TORSION_Y_HEX.has(maskedTopBit(publicKeyHex));
}

/**
 * Every 32-byte little-endian encoding, top bit clear, of a value congruent mod p to one in
 * `values` (each below p): the value itself and, when it fits in 255 bits, the value plus p.
 * A key matches iff its top-bit-cleared hex is in this set, which is the same test as reading
 * it as a 255-bit number, reducing it mod p once and looking it up, without 32 BigInt steps
 * per key (those were a third of re-checking a registration).
 */
function encodingsOf(values: ReadonlySet<bigint>): ReadonlySet<string> {
  const out = new Set<string>();
  for (const v of values)
    for (const x of [v, v + P])
      if (x < 1n << 255n) {
        const bytes = new Uint8Array(32);
        for (let i = 0, rest = x; i < 32; i++, rest >>= 8n) bytes[i] = Number(rest & 0xffn);
        out.add(Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(''));
      }
  return out;
}

/** Lowercase hex (isHex already held) of a 32-byte key with its top bit (the sign, or RFC 7748's ignored bit) cleared. */
function maskedTopBit(hex: string): string {
  const last = Number.parseInt(hex.slice(62), 16) & 0x7f;
  return hex.slice(0, 62) + last.toString(16).padStart(2, '0');
}

const TORSION_Y_HEX = encodingsOf(TORSION_Y);

/**
 * The u-coordinates (mod p) of every X25519 input of low order, on the curve and on its
 * twist: 0 (order 2, and the all-zero key), 1 (order 4), p − 1 (order 4 on the twist) and
 * the two points of order 8. They are libsodium's blocklist (RFC 7748 §6.1 notes why such a
 * key is useless: X25519 of any clamped scalar with it is all zero). Derived here from the
 * Edwards torsion points by the birational map u = (1 + y) / (1 − y) (RFC 7748 §4.1).
 */
const LOW_ORDER_U: ReadonlySet<bigint> = (() => {
  const inv = (a: bigint) => {
    // Fermat: a^(p-2) mod p.
    let result = 1n;
    let base = ((a % P) + P) % P;
    for (let e = P - 2n; e > 0n; e >>= 1n) {
      if (e & 1n) result = (result * base) % P;
      base = (base * base) % P;
    }
    return result;
  };
  const us = new Set<bigint>([0n, 1n, P - 1n]);
  for (const y of TORSION_Y) if (y !== 1n) us.add(((((1n + y) * inv(1n - y + P)) % P) + P) % P);
  return us;
})();
const LOW_ORDER_U_HEX = encodingsOf(LOW_ORDER_U);

/**
 * True when `publicKeyHex` is an X25519 public key of low order (RFC 7748 §5: the top bit is
 * ignored and u is taken mod p, so non-canonical encodings count too). Sealing a data key to
 * such a key yields no usable envelope (the shared secret is all zero and every sealer
 * refuses it), so the ledger refuses it as anyone's encryption or emergency key. Malformed
 * input counts as low order.
 */
export function isLowOrderEncryptionKey(publicKeyHex: string): boolean {
  return !isHex(publicKeyHex, 32) || LOW_ORDER_U_HEX.has(maskedTopBit(publicKeyHex));
}
