// The session sign-in message of docs/records.md "Gatekeeper API": domain tag, then JCS of
// the chain, the serving node and the challenge, so a signature is good for one node only.
import { concatBytes, signEd25519, utf8 } from '@medledger/crypto';
import { canonicalJson } from './canonical.js';

/** Domain tag of the session challenge signature. */
export const AUTH_DOMAIN = 'medledger/auth/v1\n';

/** What a client signs to open a session: the chain, the node's public key, the challenge and its own key. */
export interface AuthChallenge {
  chainId: string;
  /** The serving node's Ed25519 public key, from `/v1/status`. */
  node: string;
  challenge: string;
  publicKey: string;
}

/** `"medledger/auth/v1\n"` ‖ JCS `{chainId, node, challenge, publicKey}`. Throws LedgerError('NOT_CANONICAL') for non-JSON input. */
export function authSignBytes(c: AuthChallenge): Uint8Array {
  return concatBytes(
    utf8(AUTH_DOMAIN),
    utf8(canonicalJson({ chainId: c.chainId, node: c.node, challenge: c.challenge, publicKey: c.publicKey })),
  );
}

/** Ed25519 signature (hex) over `authSignBytes(c)`. Throws TypeError on a malformed seed. */
export function signAuthChallenge(c: AuthChallenge, privateKeyHex: string): string {
  return signEd25519(privateKeyHex, authSignBytes(c));
}
