// Signed transactions (DESIGN §4): the envelope, its domain-separated signature, its
// hash, and the boundary check that turns untrusted JSON into a typed SignedTx.
import { concatBytes, isHex, sha256Hex, signEd25519, utf8, verifyEd25519 } from '@medledger/crypto';
import { canonicalJson } from './canonical.js';
import { LedgerError } from './errors.js';
import type { SignedTx, TxEnvelope } from './types.js';

/** Domain tag prefixed to the signed bytes, so a tx signature can never pass as a vote's. */
export const TX_DOMAIN = 'medledger/tx/v1\n';
const TX_DOMAIN_BYTES = utf8(TX_DOMAIN);

const TX_KEYS = ['body', 'chain', 'kind', 'nonce', 'signer', 'sig', 'v'];
const KIND_RE = /^[a-z]+(\.[a-z_]+)+$/;

/** Bytes a transaction's signature covers: the domain tag then JCS of the six envelope fields. */
export function txSignBytes(env: TxEnvelope): Uint8Array {
  return concatBytes(TX_DOMAIN_BYTES, utf8(envelopeJson(env, undefined)));
}

// RFC 8785 serialises an object's members in key order: body, chain, kind, nonce, (sig,)
// signer, v. Only the body needs the general canonicaliser; the other members are strings
// (which JCS writes exactly as JSON.stringify does) and a safe integer. Building the
// text here saves most of the canonicalisation cost on the hot path; the tests check it
// byte for byte against the library.
const bodyJsonCache = new WeakMap<object, string>();

function envelopeJson(env: TxEnvelope, sig: string | undefined): string {
  let body = bodyJsonCache.get(env);
  if (body === undefined) {
    body = canonicalJson(env.body);
    bodyJsonCache.set(env, body);
  }
  if (env.v !== 1 || !Number.isSafeInteger(env.nonce)) throw new LedgerError('NOT_CANONICAL', 'transaction envelope is malformed');
  const sigPart = sig === undefined ? '' : `"sig":${JSON.stringify(sig)},`;
  return `{"body":${body},"chain":${JSON.stringify(env.chain)},"kind":${JSON.stringify(env.kind)},"nonce":${env.nonce},${sigPart}"signer":${JSON.stringify(env.signer)},"v":1}`;
}

/** Sign an envelope with the signer's Ed25519 seed (hex). */
export function signTx<B>(env: TxEnvelope<B>, privateKeyHex: string): SignedTx<B> {
  const { v, chain, kind, signer, nonce, body } = env;
  return { v, chain, kind, signer, nonce, body, sig: signEd25519(privateKeyHex, txSignBytes(env)) };
}

/** True when `tx.sig` is the signer's Ed25519 signature over txSignBytes. Never throws. */
export function verifyTxSignature(tx: SignedTx): boolean {
  try {
    return verifyEd25519(tx.signer, txSignBytes(tx), tx.sig);
  } catch {
    return false;
  }
}

// Nodes hash each transaction several times (admission, Merkle root, block checks), so
// the canonical bytes are computed once per object. Objects are treated as immutable.
const bytesCache = new WeakMap<object, Uint8Array>();
const hashCache = new WeakMap<object, string>();

/** The signed canonical bytes: JCS of all seven fields. Merkle leaves are built from these. */
export function txBytes(tx: SignedTx): Uint8Array {
  let bytes = bytesCache.get(tx);
  if (bytes === undefined) {
    bytes = utf8(envelopeJson(tx, tx.sig));
    bytesCache.set(tx, bytes);
  }
  return bytes;
}

/** Transaction hash: hex SHA-256 of txBytes (DESIGN §4). */
export function txHash(tx: SignedTx): string {
  let hash = hashCache.get(tx);
  if (hash === undefined) {
    hash = sha256Hex(txBytes(tx));
    hashCache.set(tx, hash);
  }
  return hash;
}

function malformed(message: string): never {
  throw new LedgerError('MALFORMED_TX', message);
}

/**
 * Check untrusted input is a well-formed signed transaction and return it typed. Checks
 * shape only (not the signature). Throws LedgerError('MALFORMED_TX') naming the field.
 */
export function parseSignedTx(x: unknown): SignedTx {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) malformed('transaction must be a JSON object');
  const o = x as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!TX_KEYS.includes(k)) malformed(`unknown field '${k}'`);
  if (o.v !== 1) malformed('v must be 1');
  if (typeof o.chain !== 'string' || o.chain.length === 0 || o.chain.length > 64) malformed('chain must be a string of 1 to 64 characters');
  if (typeof o.kind !== 'string' || !KIND_RE.test(o.kind) || o.kind.length > 64) malformed("kind must look like 'area.action'");
  if (!isHex(o.signer, 32)) malformed('signer must be a 32-byte Ed25519 public key in lowercase hex');
  if (typeof o.nonce !== 'number' || !Number.isSafeInteger(o.nonce) || o.nonce < 0) malformed('nonce must be a non-negative integer');
  if (typeof o.body !== 'object' || o.body === null || Array.isArray(o.body)) malformed('body must be a JSON object');
  if (!isHex(o.sig, 64)) malformed('sig must be a 64-byte signature in lowercase hex');
  let bodyJson: string;
  try {
    bodyJson = canonicalJson(o.body);
  } catch {
    malformed('body must be representable as canonical JSON');
  }
  const tx = { v: 1, chain: o.chain, kind: o.kind, signer: o.signer, nonce: o.nonce, body: o.body, sig: o.sig } as SignedTx;
  bodyJsonCache.set(tx, bodyJson);
  return tx;
}
