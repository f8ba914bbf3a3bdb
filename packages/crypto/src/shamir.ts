// Shamir secret sharing over GF(2^8) (the AES field, polynomial x^8 + x^4 + x^3 + x + 1),
// byte by byte, with commitments so a wrong share can be told from a right one. The
// emergency-access design splits each patient's emergency key among the validators.
import { randomBytes } from 'node:crypto';
import { concatBytes, fromHex, toHex, utf8 } from './bytes.js';
import { CryptoError } from './errors.js';
import { sha256Hex } from './hash.js';

/** One share: x in 1..255 and the y bytes (hex), as long as the secret. */
export interface Share {
  x: number;
  y: string;
}

// Log and antilog tables for GF(2^8) with generator 3.
const EXP = new Uint8Array(510);
const LOG = new Uint8Array(256);
{
  let v = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = v;
    EXP[i + 255] = v;
    LOG[v] = i;
    // multiply by the generator 3: v * 2 xor v, reduced by the AES polynomial
    v ^= (v << 1) ^ (v & 0x80 ? 0x11b : 0);
    v &= 0xff;
  }
}

function mul(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : (EXP[(LOG[a] as number) + (LOG[b] as number)] as number);
}

function div(a: number, b: number): number {
  if (b === 0) throw new CryptoError('SHAMIR', 'division by zero');
  return a === 0 ? 0 : (EXP[(LOG[a] as number) + 255 - (LOG[b] as number)] as number);
}

/**
 * Split `secret` into `n` shares, any `k` of which recover it (2 ≤ k ≤ n ≤ 255). Each
 * byte gets its own random polynomial of degree k-1 with the byte as constant term.
 * Throws CryptoError('SHAMIR') for bad parameters.
 */
export function splitSecret(
  secret: Uint8Array,
  n: number,
  k: number,
  random: (len: number) => Uint8Array = (len) => new Uint8Array(randomBytes(len)),
): Share[] {
  if (!Number.isInteger(n) || !Number.isInteger(k) || k < 2 || n < k || n > 255)
    throw new CryptoError('SHAMIR', 'need integers 2 ≤ k ≤ n ≤ 255');
  if (secret.length === 0) throw new CryptoError('SHAMIR', 'secret must not be empty');
  const ys = Array.from({ length: n }, () => new Uint8Array(secret.length));
  for (let b = 0; b < secret.length; b++) {
    const coeffs = concatBytes(Uint8Array.of(secret[b] as number), random(k - 1));
    for (let i = 0; i < n; i++) {
      const x = i + 1;
      // Horner's rule from the highest coefficient.
      let y = 0;
      for (let c = k - 1; c >= 0; c--) y = mul(y, x) ^ (coeffs[c] as number);
      (ys[i] as Uint8Array)[b] = y;
    }
  }
  return ys.map((y, i) => ({ x: i + 1, y: toHex(y) }));
}

/**
 * Recover the secret from shares by Lagrange interpolation at 0. With fewer than the
 * threshold the result is an unrelated value, so check it (e.g. against a public key).
 * Throws CryptoError('SHAMIR') for duplicate or malformed shares.
 */
export function combineShares(shares: readonly Share[]): Uint8Array {
  if (shares.length < 2) throw new CryptoError('SHAMIR', 'need at least two shares');
  const xs = shares.map((s) => s.x);
  if (xs.some((x) => !Number.isInteger(x) || x < 1 || x > 255) || new Set(xs).size !== xs.length) {
    throw new CryptoError('SHAMIR', 'share x values must be distinct integers from 1 to 255');
  }
  let ys: Uint8Array[];
  try {
    ys = shares.map((s) => fromHex(s.y, 'share'));
  } catch {
    throw new CryptoError('SHAMIR', 'share y must be hex');
  }
  const len = (ys[0] as Uint8Array).length;
  if (len === 0 || ys.some((y) => y.length !== len)) throw new CryptoError('SHAMIR', 'shares must have the same non-zero length');
  const out = new Uint8Array(len);
  for (let i = 0; i < shares.length; i++) {
    // Lagrange basis at 0: prod over j≠i of x_j / (x_j - x_i); subtraction is xor.
    let basis = 1;
    for (let j = 0; j < shares.length; j++) {
      if (j !== i) basis = mul(basis, div(xs[j] as number, (xs[j] as number) ^ (xs[i] as number)));
    }
    const y = ys[i] as Uint8Array;
    for (let b = 0; b < len; b++) out[b] = (out[b] as number) ^ mul(y[b] as number, basis);
  }
  return out;
}

/** A public commitment to one share: SHA-256 over a domain tag, x and y. */
export function shareCommitment(share: Share): string {
  return sha256Hex(utf8('medledger/shamir-share/v1\n'), Uint8Array.of(share.x), fromHex(share.y, 'share'));
}

/** True when `share` matches `commitment`. Never throws. */
export function verifyShare(share: Share, commitment: string): boolean {
  try {
    return shareCommitment(share) === commitment;
  } catch {
    return false;
  }
}
