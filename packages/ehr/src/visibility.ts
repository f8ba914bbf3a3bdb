// Who sees the chain's transaction bodies (docs/records.md "Who sees which metadata"): the
// consortium that must enforce consent, and those who audit it. Everyone else sees block
// headers, commits and leaf hashes, and the transactions they are a party to.
import { idFromPublicKey } from '@medledger/crypto';
import type { SignedTx } from '@medledger/ledger';
import { getIdentity, type Identity, isOrganization } from './identity.js';
import type { StateReader } from './state.js';

/**
 * May `identity` read every block body and transaction? Validators, member organizations'
 * admins, active staff of an active member organization, and the `auditor` and
 * `privacy-officer` roles (themselves staff). Patients and revoked identities may not.
 */
export function seesChainBodies(state: StateReader, identity: Identity): boolean {
  if (identity.status !== 'active') return false;
  if (identity.role === 'validator' || isOrganization(identity)) return true;
  if (identity.org === undefined) return false;
  const org = getIdentity(state, identity.org);
  return org !== undefined && org.status === 'active' && isOrganization(org);
}

/**
 * Is `identity` a party to `tx`: its signer (by the registration key, or the current key),
 * or the patient its body names? A patient may so fetch the anchors, grants and emergency
 * windows about them, never another patient's. Batched `access.event`s name no single
 * patient and are no one's but their node's.
 */
export function isTxParty(tx: SignedTx, identity: Identity): boolean {
  if (tx.signer === identity.publicKey || idFromPublicKey(tx.signer) === identity.id) return true;
  const body = tx.body as { patient?: unknown } | null;
  return tx.kind !== 'access.event' && typeof body?.patient === 'string' && body.patient === identity.id;
}
