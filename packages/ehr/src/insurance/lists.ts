// The insurance lists (an insurer's claims queue, a patient's coverages, a provider's prior
// authorizations, …) as dense, counted indexes: entry n of a list is item n mod 16 of the JSON
// array at a key ending in n div 16 (INSURANCE_LIST_CHUNK), and one key holds how many entries
// there are. A proven count and the proven entries below it tell a client that a page skipped
// nothing, which a list keyed by height and id cannot (docs/insurance.md "Complete lists").
import type { Identity } from '../identity.js';
import { INSURANCE_LIST_CHUNK, type InsuranceIndex, keys, type StateOverlay, type StateReader } from '../state.js';
import { hasBillingConsent, insurerOf, managesPatient, providerOf } from './parties.js';

/** Number of entries of list `index` of `party` (0 when it has none). */
export function insuranceListCount(state: StateReader, index: InsuranceIndex, party: string): number {
  const raw = state.getState(keys.insuranceIndexCount(index, party));
  return raw === undefined ? 0 : Number(raw);
}

/** The ids stored in chunk `chunk` of list `index` of `party` (empty past the end). */
function chunkIds(state: StateReader, index: InsuranceIndex, party: string, chunk: number): string[] {
  const raw = state.getState(keys.insuranceIndex(index, party, chunk));
  return raw === undefined ? [] : (JSON.parse(raw) as string[]);
}

/** The id at `position` of list `index` of `party`, or undefined past its end. */
export function insuranceListEntry(state: StateReader, index: InsuranceIndex, party: string, position: number): string | undefined {
  return chunkIds(state, index, party, Math.floor(position / INSURANCE_LIST_CHUNK))[position % INSURANCE_LIST_CHUNK];
}

/** The ids at positions [from, to) of list `index` of `party` (each chunk read once), stopping at its end. */
export function insuranceListSpan(state: StateReader, index: InsuranceIndex, party: string, from: number, to: number): string[] {
  const ids: string[] = [];
  let chunk = -1;
  let held: string[] = [];
  for (let position = from; position < to; position++) {
    const c = Math.floor(position / INSURANCE_LIST_CHUNK);
    if (c !== chunk) {
      chunk = c;
      held = chunkIds(state, index, party, c);
    }
    const id = held[position % INSURANCE_LIST_CHUNK];
    if (id === undefined) break;
    ids.push(id);
  }
  return ids;
}

/** Append `id` to list `index` of `party`, in the transaction that creates it. */
export function appendInsuranceList(state: StateOverlay, index: InsuranceIndex, party: string, id: string): void {
  const n = insuranceListCount(state, index, party);
  const chunk = Math.floor(n / INSURANCE_LIST_CHUNK);
  const ids = n % INSURANCE_LIST_CHUNK === 0 ? [] : chunkIds(state, index, party, chunk);
  ids.push(id);
  state.set(keys.insuranceIndex(index, party, chunk), JSON.stringify(ids));
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
