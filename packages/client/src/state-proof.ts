// The seam between the verified reader and the state tree's proof format (docs/api.md
// "Proven state"): the one browser-safe check the nodes use too (@medledger/ledger/state-proof),
// adapted to answer true/false so the reader names the failed check itself.
import { appHashOf as ledgerAppHashOf, type StateProof, verifyStateProof } from '@medledger/ledger/state-proof';

/** What the reader needs from the proof format; tests may inject another. */
export interface StateProofVerifier {
  /** The app hash a header must carry for these roots (hex); '' for malformed roots. */
  appHashOf(stateRoot: string, resultsRoot: string): string;
  /** Does `proof` show that `key` holds `value` (null: is absent) under `stateRoot`? Never throws. */
  verify(stateRoot: string, key: string, value: string | null, proof: unknown): boolean;
}

export const defaultStateProofVerifier: StateProofVerifier = {
  appHashOf(stateRoot, resultsRoot) {
    try {
      return ledgerAppHashOf(stateRoot, resultsRoot);
    } catch {
      return '';
    }
  },
  verify(stateRoot, key, value, proof) {
    try {
      verifyStateProof(stateRoot, key, value, proof as StateProof);
      return true;
    } catch {
      return false;
    }
  },
};
