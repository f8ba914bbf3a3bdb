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
  if (!isHex(publicKeyHex, 32)) return true;
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(Number.parseInt(publicKeyHex.slice(2 * i, 2 * i + 2), 16));
  y &= (1n << 255n) - 1n;
  if (y >= P) y -= P;
  return TORSION_Y.has(y);
}

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

/**
 * True when `publicKeyHex` is an X25519 public key of low order (RFC 7748 §5: the top bit is
 * ignored and u is taken mod p, so non-canonical encodings count too). Sealing a data key to
 * such a key yields no usable envelope (the shared secret is all zero and every sealer
 * refuses it), so the ledger refuses it as anyone's encryption or emergency key. Malformed
 * input counts as low order.
 */
export function isLowOrderEncryptionKey(publicKeyHex: string): boolean {
  if (!isHex(publicKeyHex, 32)) return true;
  let u = 0n;
  for (let i = 31; i >= 0; i--) u = (u << 8n) | BigInt(Number.parseInt(publicKeyHex.slice(2 * i, 2 * i + 2), 16));
  u &= (1n << 255n) - 1n;
  if (u >= P) u -= P;
  return LOW_ORDER_U.has(u);
}
