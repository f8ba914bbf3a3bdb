// Canonical JSON (RFC 8785, through `canonicalize`) and transaction signing and hashing,
// byte for byte as @medledger/ledger does them (canonical.test.ts checks), without
// @medledger/ledger's Node-only crypto, so the whole SDK runs in browsers.
import { concatBytes, sha256Hex, signEd25519, utf8 } from '@medledger/crypto';
import type { SignedTx, TxEnvelope } from '@medledger/ledger';
import canonicalize from 'canonicalize';
import { ClientError } from './errors.js';

/** Domain tag before a transaction's signed bytes (ledger tx.ts TX_DOMAIN). */
export const TX_DOMAIN = 'medledger/tx/v1\n';

/**
 * Canonical JSON text of `value` (RFC 8785). Throws ClientError('INVALID_ARGUMENT') for
 * values JSON cannot carry (NaN, Infinity, undefined at the top level, bigints, cycles).
 */
export function canonicalJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (err) {
    throw new ClientError('INVALID_ARGUMENT', `value cannot be canonicalised: ${(err as Error).message}`);
  }
  if (typeof text !== 'string') throw new ClientError('INVALID_ARGUMENT', 'value has no JSON representation');
  return text;
}

/** UTF-8 bytes of the canonical JSON of `value`. Throws like canonicalJson. */
export function canonicalBytes(value: unknown): Uint8Array {
  return utf8(canonicalJson(value));
}

/** Sign an envelope: Ed25519 over the domain tag and the JCS of the six envelope fields (DESIGN §4). */
export function signTx<B>(env: TxEnvelope<B>, privateKeyHex: string): SignedTx<B> {
  const { v, chain, kind, signer, nonce, body } = env;
  const unsigned = { v, chain, kind, signer, nonce, body };
  return { ...unsigned, sig: signEd25519(privateKeyHex, concatBytes(utf8(TX_DOMAIN), canonicalBytes(unsigned))) };
}

/** Transaction hash: hex SHA-256 of the JCS of all seven fields (the Merkle leaf data). */
export function txHash(tx: SignedTx): string {
  const { v, chain, kind, signer, nonce, body, sig } = tx;
  return sha256Hex(canonicalBytes({ v, chain, kind, signer, nonce, body, sig }));
}
