// Who sees the chain's transaction bodies (docs/records.md "Who sees which metadata"): the
// consortium that must enforce consent, and those who audit it. Everyone else sees block
// headers, commits and leaf hashes, and the transactions they are a party to.
import { idFromPublicKey } from '@medledger/crypto';
import type { SignedTx } from '@medledger/ledger';
import { getIdentity, type Identity, inactiveReason, isOrganization } from './identity.js';
import { getClaim } from './insurance/claims.js';
import { getCoverage, getPlanHead } from './insurance/plans.js';
import { getPreauth } from './insurance/preauth.js';
import { isDelegate } from './policy.js';
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
 * Insurance transactions about one member's coverage, prior authorization or claim carry their
 * service and diagnosis codes, dates, charges and dispute reasons: the /v1 routes show a claim
 * only to its insurer, patient and provider (docs/insurance.md "Visibility"), so the blocks do
 * the same. A plan (`plan.publish`) names no patient and stays consortium metadata.
 */
const INSURANCE_CASE_KINDS: ReadonlySet<string> = new Set([
  'coverage.add',
  'coverage.death',
  'preauth.request',
  'preauth.decide',
  'claim.submit',
  'claim.review',
  'claim.pay',
  'claim.dispute',
  'claim.resolve',
]);

const ID16 = /^[0-9a-f]{32}$/;
const id16 = (x: unknown) => (typeof x === 'string' && ID16.test(x) ? x : undefined);

/** The insurer, patient and provider organization an insurance transaction is about, from its body and state (those found). */
function insuranceParties(state: StateReader, tx: SignedTx): { insurer?: string; patient?: string; provider?: string } {
  const b = (typeof tx.body === 'object' && tx.body !== null ? tx.body : {}) as Record<string, unknown>;
  const patient = typeof b.patient === 'string' ? b.patient : undefined;
  const coverage = () => {
    const c = id16(b.coverage) === undefined ? undefined : getCoverage(state, b.coverage as string);
    // A coverage of someone else than the patient named (a refused transaction) makes its insurer no party.
    return c !== undefined && (patient === undefined || c.patient === patient) ? c : undefined;
  };
  const claimCase = (x: { insurer: string; patient: string; provider: string } | undefined) =>
    x === undefined ? {} : { insurer: x.insurer, patient: x.patient, provider: x.provider };
  switch (tx.kind) {
    case 'coverage.add': {
      const plan = id16(b.plan);
      const insurer = plan === undefined ? undefined : getPlanHead(state, plan)?.insurer;
      return { ...(insurer === undefined ? {} : { insurer }), ...(patient === undefined ? {} : { patient }) };
    }
    case 'coverage.death':
    case 'preauth.request':
    case 'claim.submit': {
      const c = coverage();
      // The provider of a request or claim is the signer's organization (the signer's rule below).
      return { ...(c === undefined ? {} : { insurer: c.insurer, patient: c.patient }), ...(patient === undefined ? {} : { patient }) };
    }
    case 'preauth.decide':
      return claimCase(id16(b.preauth) === undefined ? undefined : getPreauth(state, b.preauth as string));
    default:
      return claimCase(id16(b.claim) === undefined ? undefined : getClaim(state, b.claim as string));
  }
}

/**
 * May `identity` see `tx`'s body? Validators see all; a prescription transaction otherwise only
 * its parties (signer, the patient it names, the pharmacy it names, and the signer's organization
 * and its staff); an insurance transaction about a member's case only its parties (signer, the
 * signer's organization and its staff, the patient and delegates, the insurer and the provider
 * organization and their staff); any other transaction whoever `seesChainBodies` or is its party.
 */
export function seesTxBody(state: StateReader, tx: SignedTx, identity: Identity): boolean {
  if (identity.status === 'active' && identity.role === 'validator') return true;
  if (isTxParty(tx, identity)) return true;
  const prescription = PRESCRIPTION_KINDS.has(tx.kind);
  const insurance = INSURANCE_CASE_KINDS.has(tx.kind);
  if (!prescription && !insurance) return seesChainBodies(state, identity);
  if (inactiveReason(state, identity) !== undefined) return false;
  const mine = (org: unknown) => typeof org === 'string' && (org === identity.id || org === identity.org);
  const signer = getIdentity(state, idFromPublicKey(tx.signer));
  if (mine(signer?.org) || mine(signer?.id)) return true;
  if (prescription) return mine((tx.body as { pharmacy?: unknown } | null)?.pharmacy);
  const parties = insuranceParties(state, tx);
  return (
    mine(parties.insurer) ||
    mine(parties.provider) ||
    (parties.patient !== undefined && (parties.patient === identity.id || isDelegate(state, parties.patient, identity.id)))
  );
}
