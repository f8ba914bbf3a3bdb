// Shamir secret sharing over GF(2^8) (the AES field, polynomial x^8 + x^4 + x^3 + x + 1),
// byte by byte, with commitments so a wrong share can be told from a right one. The
// emergency-access design splits each patient's emergency key among the validators.
// Field arithmetic uses log/exp tables, which are not constant time; splitting and
// combining are rare, local operations, never driven by a remote party's timing probes.
// No Node built-ins, so the browser entry shares this file: a patient's browser splits the key.
import { concatBytes, fromHex, isHex, toHex, utf8 } from './browser-bytes.js';
import { sha256Hex } from './browser-hash.js';
import { CryptoError } from './errors.js';

const randomBytes = (n: number): Uint8Array => globalThis.crypto.getRandomValues(new Uint8Array(n));

/** One share: x in 1..255 and the y bytes (lowercase hex), as long as the secret. */
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
 * Split `secret` into `n` shares, any `k` of which recover it (Shamir 1979, "How to share a
 * secret", over GF(2^8) byte by byte; 2 ≤ k ≤ n ≤ 255). Each byte gets its own random
 * polynomial of degree k-1 with the byte as constant term; share i is its value at x = i.
 * `random(len)` must return `len` uniformly random bytes (default: the OS CSPRNG); tests
 * may inject a seeded one. Throws CryptoError('SHAMIR') for bad parameters, an empty
 * secret, or a `random` that returns the wrong number of bytes.
 */
export function splitSecret(
  secret: Uint8Array,
  n: number,
  k: number,
  random: (len: number) => Uint8Array = (len) => new Uint8Array(randomBytes(len)),
): Share[] {
  if (!Number.isInteger(n) || !Number.isInteger(k) || k < 2 || n < k || n > 255)
    throw new CryptoError('SHAMIR', 'need integers 2 ≤ k ≤ n ≤ 255');
  if (!(secret instanceof Uint8Array) || secret.length === 0) throw new CryptoError('SHAMIR', 'secret must be non-empty bytes');
  const ys = Array.from({ length: n }, () => new Uint8Array(secret.length));
  for (let b = 0; b < secret.length; b++) {
    const draw = random(k - 1);
    if (!(draw instanceof Uint8Array) || draw.length !== k - 1)
      throw new CryptoError('SHAMIR', `random(${k - 1}) returned the wrong length`);
    const coeffs = concatBytes(Uint8Array.of(secret[b] as number), draw);
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

// The checked y bytes of one share; x must be a field element other than 0 (x = 0 is the secret).
function shareBytes(share: Share): Uint8Array {
  if (typeof share !== 'object' || share === null) throw new CryptoError('SHAMIR', 'share must be an object');
  if (!Number.isInteger(share.x) || share.x < 1 || share.x > 255)
    throw new CryptoError('SHAMIR', 'share.x must be an integer from 1 to 255');
  if (!isHex(share.y) || share.y.length === 0) throw new CryptoError('SHAMIR', 'share.y must be non-empty lowercase hex');
  return fromHex(share.y, 'share.y');
}

/**
 * Recover the secret from shares by Lagrange interpolation at x = 0 over GF(2^8). Any k
 * shares of a k-of-n split give the secret; fewer give an unrelated value without any error,
 * so check the result (e.g. that it yields the expected public key) and check each share
 * against its commitment first. Throws CryptoError('SHAMIR') for fewer than two shares,
 * duplicate x, or malformed or unequal-length shares.
 */
export function combineShares(shares: readonly Share[]): Uint8Array {
  if (!Array.isArray(shares) || shares.length < 2) throw new CryptoError('SHAMIR', 'need at least two shares');
  const ys = shares.map(shareBytes);
  const xs = shares.map((s) => s.x);
  if (new Set(xs).size !== xs.length) throw new CryptoError('SHAMIR', 'share x values must be distinct');
  const len = (ys[0] as Uint8Array).length;
  if (ys.some((y) => y.length !== len)) throw new CryptoError('SHAMIR', 'shares must all have the same length');
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

const COMMITMENT_TAG = utf8('medledger/shamir-share/v1\n');

/**
 * A public commitment to one share: SHA-256 (FIPS 180-4) of a domain tag ‖ x (one byte) ‖ y.
 * Published on chain at split time, it lets anyone check a share posted later. It hides the
 * share only because y is uniformly random and the secret is a high-entropy key: with k-1
 * shares of a low-entropy secret, commitments would let an attacker test guesses offline.
 * Throws CryptoError('SHAMIR') for a malformed share.
 */
export function shareCommitment(share: Share): string {
  const y = shareBytes(share);
  return sha256Hex(COMMITMENT_TAG, Uint8Array.of(share.x), y);
}

/** True when `share` is well formed and matches `commitment` (hex). Never throws. */
export function verifyShare(share: Share, commitment: string): boolean {
  try {
    return shareCommitment(share) === commitment;
  } catch {
    return false;
  }
}

/**
 * Deal `secret` to `n` holders so that any `k` recover it: `splitSecret`, except that k = 1
 * (a single holder, a one-validator network) gives every holder the secret itself, the
 * degree-0 polynomial. Proactive re-sharing (Desmedt–Jajodia 1997) deals an old share this
 * way to the new holders. Throws CryptoError('SHAMIR') as `splitSecret` does.
 */
export function dealSecret(secret: Uint8Array, n: number, k: number, random?: (len: number) => Uint8Array): Share[] {
  if (k === 1 && Number.isInteger(n) && n >= 1 && n <= 255 && secret instanceof Uint8Array && secret.length > 0)
    return Array.from({ length: n }, (_, i) => ({ x: i + 1, y: toHex(secret) }));
  return splitSecret(secret, n, k, random);
}

/**
 * Interpolate at x = 0 like `combineShares`, but one share is allowed and is the result (a
 * threshold-1 split). A new holder of a re-shared secret computes its share this way from the
 * sub-shares the old holders dealt it, each taken at the dealer's old x: the Lagrange
 * combination of the dealers' polynomials is a fresh polynomial through the same secret
 * (Desmedt–Jajodia 1997, §3). Throws CryptoError('SHAMIR') as `combineShares` does.
 */
export function interpolateAtZero(shares: readonly Share[]): Uint8Array {
  if (Array.isArray(shares) && shares.length === 1) return shareBytes(shares[0] as Share);
  return combineShares(shares);
}
