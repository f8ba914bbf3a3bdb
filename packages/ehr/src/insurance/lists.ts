// The insurance lists (an insurer's claims queue, a patient's coverages, a provider's prior
// authorizations, …) as dense, counted indexes: entry n of a list is at a key ending in n, and
// one key holds how many there are. A proven count and the proven entries below it tell a
// client that a page skipped nothing, which a list keyed by height and id cannot
// (docs/insurance.md "Complete lists").
import type { Identity } from '../identity.js';
import { type InsuranceIndex, keys, type StateOverlay, type StateReader } from '../state.js';
import { hasBillingConsent, insurerOf, managesPatient, providerOf } from './parties.js';

/** Number of entries of list `index` of `party` (0 when it has none). */
export function insuranceListCount(state: StateReader, index: InsuranceIndex, party: string): number {
  const raw = state.getState(keys.insuranceIndexCount(index, party));
  return raw === undefined ? 0 : Number(raw);
}

/** The id at `position` of list `index` of `party`, or undefined past its end. */
export function insuranceListEntry(state: StateReader, index: InsuranceIndex, party: string, position: number): string | undefined {
  return state.getState(keys.insuranceIndex(index, party, position));
}

/** Append `id` to list `index` of `party`, in the transaction that creates it. */
export function appendInsuranceList(state: StateOverlay, index: InsuranceIndex, party: string, id: string): void {
  const n = insuranceListCount(state, index, party);
  state.set(keys.insuranceIndex(index, party, n), id);
  state.set(keys.insuranceIndexCount(index, party), String(n + 1));
}

/**
 * May `actor` list (and have the proofs of) list `index` of `party` at block time `time`?
 * Plans: any signed-in identity. An insurer's coverages, preauths and claims: its own admin
 * and staff. A patient's claims and preauths: the patient and delegates; their coverages
 * also a provider holding their payment or treatment consent. A provider's preauths and
 * claims: its own staff. The /v1 list routes and the state-proof route both ask this.
 */
export function mayListInsurance(state: StateReader, actor: Identity, index: InsuranceIndex, party: string, time: number): boolean {
  switch (index) {
    case 'iplan':
      return true;
    case 'icov':
    case 'ipa':
    case 'iclaim':
      return insurerOf(state, actor) === party;
    case 'pclaim':
    case 'ppa':
      return managesPatient(state, actor, party);
    case 'pcov':
      return (
        managesPatient(state, actor, party) || (providerOf(state, actor) !== undefined && hasBillingConsent(state, actor, party, time))
      );
    case 'rclaim':
    case 'rpa':
      return providerOf(state, actor) === party;
  }
}
