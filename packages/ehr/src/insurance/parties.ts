// Who acts in the insurance rules: the insurer (an insurer organization or its staff), the
// provider (a provider organization or its clinical staff), and the consent a provider needs.
import { EhrError } from '../errors.js';
import { getIdentity, type Identity, isOrganization } from '../identity.js';
import { granteeIdsFor, grantIsActive, grantsFrom, isDelegate } from '../policy.js';
import type { StateReader } from '../state.js';

/** The insurer organization `actor` acts for (itself, or its employer for insurer staff), or undefined. */
export function insurerOf(state: StateReader, actor: Identity): string | undefined {
  if (isOrganization(actor)) return actor.orgKind === 'insurer' ? actor.id : undefined;
  if (actor.role !== 'insurer' || actor.org === undefined) return undefined;
  const org = getIdentity(state, actor.org);
  return org?.status === 'active' && org.orgKind === 'insurer' ? org.id : undefined;
}

/** Throws UNAUTHORIZED unless `actor` acts for `insurer` (the organization or its insurer staff). */
export function requireInsurer(state: StateReader, actor: Identity, insurer: string, what: string): void {
  if (insurerOf(state, actor) !== insurer) throw new EhrError('UNAUTHORIZED', `only insurer ${insurer} or its staff may ${what}`);
}

/**
 * The provider organization `actor` acts for: a non-insurer organization itself, or the
 * organization of its clinician or pharmacy staff. Undefined for anyone else.
 */
export function providerOf(state: StateReader, actor: Identity): string | undefined {
  if (isOrganization(actor)) return actor.orgKind === 'insurer' ? undefined : actor.id;
  if ((actor.role !== 'clinician' && actor.role !== 'pharmacy') || actor.org === undefined) return undefined;
  const org = getIdentity(state, actor.org);
  return org?.status === 'active' && org.orgKind !== 'insurer' ? org.id : undefined;
}

/** Does `patient` have an active `payment` or `treatment` grant to `actor` (or its organization) at block time `time`? */
export function hasBillingConsent(state: StateReader, actor: Identity, patient: string, time: number): boolean {
  return grantsFrom(state, patient, granteeIdsFor(state, actor)).some(
    (g) => (g.purpose === 'payment' || g.purpose === 'treatment') && grantIsActive(g, time),
  );
}

/** The provider organization of `actor`, which must hold the patient's billing consent. Throws UNAUTHORIZED or NO_CONSENT. */
export function requireConsentedProvider(state: StateReader, actor: Identity, patient: string, time: number, what: string): string {
  const provider = providerOf(state, actor);
  if (provider === undefined) throw new EhrError('UNAUTHORIZED', `only a provider organization or its clinical staff may ${what}`);
  if (!hasBillingConsent(state, actor, patient, time))
    throw new EhrError('NO_CONSENT', `patient ${patient} has given no active payment or treatment consent to you or your organization`);
  return provider;
}

/** The patient or their delegate. */
export function managesPatient(state: StateReader, actor: Identity, patient: string): boolean {
  return actor.id === patient || isDelegate(state, patient, actor.id);
}

/**
 * Who sees a prior authorization or a claim: the insurer's own admin and staff, the patient
 * and their delegates, and the provider organization's staff. The /v1 routes and the proof
 * route both ask this, so what is shown and what is proven cannot drift apart.
 */
export function maySeeInsuranceCase(
  state: StateReader,
  actor: Identity,
  c: { insurer: string; patient: string; provider: string },
): boolean {
  return insurerOf(state, actor) === c.insurer || managesPatient(state, actor, c.patient) || providerOf(state, actor) === c.provider;
}

/**
 * Who sees a coverage (and its accumulator): its insurer, the patient and delegates, and a
 * provider holding the patient's payment or treatment consent at block time `time` (the
 * patient shows their coverage to a provider by consenting).
 */
export function maySeeCoverage(state: StateReader, actor: Identity, c: { insurer: string; patient: string }, time: number): boolean {
  return (
    insurerOf(state, actor) === c.insurer ||
    managesPatient(state, actor, c.patient) ||
    (providerOf(state, actor) !== undefined && hasBillingConsent(state, actor, c.patient, time))
  );
}
