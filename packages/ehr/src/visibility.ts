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

/**
 * Prescription transactions name a patient (rx.prescribe) or tie a prescription to the serials
 * handed over (medication.dispense): together they link a pack to a patient, which issue 14 lets
 * only the patient and the pharmacy (and the prescriber who wrote it) know. So their bodies are
 * not consortium metadata: only validators and their parties see them.
 */
const PRESCRIPTION_KINDS: ReadonlySet<string> = new Set(['rx.prescribe', 'rx.transfer', 'rx.cancel', 'medication.dispense']);

/**
 * May `identity` see `tx`'s body? Validators see all; a prescription transaction otherwise only
 * its parties (signer, the patient it names, the pharmacy it names, and the signer's organization
 * and its staff); any other transaction whoever `seesChainBodies` or is its party.
 */
export function seesTxBody(state: StateReader, tx: SignedTx, identity: Identity): boolean {
  if (identity.status === 'active' && identity.role === 'validator') return true;
  if (isTxParty(tx, identity)) return true;
  if (!PRESCRIPTION_KINDS.has(tx.kind)) return seesChainBodies(state, identity);
  if (identity.status !== 'active') return false;
  const mine = (org: unknown) => typeof org === 'string' && (org === identity.id || org === identity.org);
  const signer = getIdentity(state, idFromPublicKey(tx.signer));
  return mine((tx.body as { pharmacy?: unknown } | null)?.pharmacy) || mine(signer?.org) || mine(signer?.id);
}
