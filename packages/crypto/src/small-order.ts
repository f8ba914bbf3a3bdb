// Small-order Ed25519 public keys: for such a key one fixed signature verifies every
// message (RFC 8032 verifiers, OpenSSL included, accept it), so a participant must not be
// allowed to register one as their identity.
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
