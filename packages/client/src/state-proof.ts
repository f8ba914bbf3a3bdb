// The seam between the verified reader and the state tree's proof format (docs/api.md
// "State proofs"): how an app hash is made from its roots, and how one key's proof is checked.
import { concatBytes, fromHex, isHex, sha256Hex, utf8 } from '@medledger/crypto/browser';

/** What the reader needs from the proof format; tests may inject another. */
export interface StateProofVerifier {
  /** The app hash a header must carry for these roots (hex). */
  appHashOf(stateRoot: string, resultsRoot: string): string;
  /** Does `proof` show that `key` holds `value` (null: is absent) under `stateRoot`? Never throws. */
  verify(stateRoot: string, key: string, value: string | null, proof: unknown): boolean;
}

const APP_HASH_DOMAIN = 'medledger/app/v2\n';

/** SHA-256("medledger/app/v2\n" ‖ stateRoot ‖ resultsRoot), roots as 32 raw bytes each. */
export function appHashOf(stateRoot: string, resultsRoot: string): string {
  if (!isHex(stateRoot, 32) || !isHex(resultsRoot, 32)) return '';
  return sha256Hex(concatBytes(utf8(APP_HASH_DOMAIN), fromHex(stateRoot), fromHex(resultsRoot)));
}

export const defaultStateProofVerifier: StateProofVerifier = {
  appHashOf,
  verify: () => false,
};
