// Verification (GS1 Lightweight Messaging for verification): is this product identifier one
// the ledger commissioned, and may it be sold or dispensed at this block time? A pure
// function of state and block time, so every node answers the same.
import { dateOf } from '../insurance/model.js';
import { keys, readJson, type StateReader } from '../state.js';
import type { Package, Product, Quarantine, Recall } from './model.js';

/**
 * GS1 LMv verification failure reasons, plus `Dispensed` (decommissioned to a patient, EU FMD)
 * and `Decommissioned` (destroyed or otherwise taken out of the supply chain).
 */
export type VerifyReason =
  | 'No_match_GTIN'
  | 'No_match_GTIN_Serial'
  | 'No_match_GTIN_Serial_Lot'
  | 'No_match_GTIN_Serial_Expiry'
  | 'Illegitimate'
  | 'Suspect'
  | 'Recalled'
  | 'Dispensed'
  | 'Decommissioned'
  | 'Expired';

export type Verification = { verified: true } | { verified: false; reason: VerifyReason };

export interface ProductIdentifier {
  gtin: string;
  serial: string;
  lot?: string;
  expiry?: string;
}

export const getProduct = (s: StateReader, gtin: string) => readJson<Product>(s, keys.product(gtin));
export const getPackage = (s: StateReader, gtin: string, serial: string) => readJson<Package>(s, keys.package(gtin, serial));
export const getRecall = (s: StateReader, gtin: string, lot: string) => readJson<Recall>(s, keys.recall(gtin, lot));
export const getLotQuarantine = (s: StateReader, gtin: string, lot: string) => readJson<Quarantine>(s, keys.lotQuarantine(gtin, lot));

/** A package is expired once the block's UTC date is after its expiry date. */
export const isExpired = (pkg: Package, time: number) => dateOf(time) > pkg.expiry;

/**
 * Verify a product identifier at block time `time`. Identity mismatches come first (a
 * counterfeit answers No_match_…), then the determinations that stop sale, most serious first.
 */
export function verifyPackage(state: StateReader, id: ProductIdentifier, time: number): Verification {
  if (getProduct(state, id.gtin) === undefined) return { verified: false, reason: 'No_match_GTIN' };
  const pkg = getPackage(state, id.gtin, id.serial);
  if (pkg === undefined) return { verified: false, reason: 'No_match_GTIN_Serial' };
  if (id.lot !== undefined && id.lot !== pkg.lot) return { verified: false, reason: 'No_match_GTIN_Serial_Lot' };
  if (id.expiry !== undefined && id.expiry !== pkg.expiry) return { verified: false, reason: 'No_match_GTIN_Serial_Expiry' };
  const lotQ = getLotQuarantine(state, pkg.gtin, pkg.lot);
  const kinds = [pkg.quarantine?.kind, lotQ?.kind];
  if (kinds.includes('illegitimate')) return { verified: false, reason: 'Illegitimate' };
  if (kinds.includes('suspect')) return { verified: false, reason: 'Suspect' };
  if (getRecall(state, pkg.gtin, pkg.lot) !== undefined) return { verified: false, reason: 'Recalled' };
  if (pkg.status === 'dispensed') return { verified: false, reason: 'Dispensed' };
  if (pkg.status !== 'active') return { verified: false, reason: 'Decommissioned' };
  if (isExpired(pkg, time)) return { verified: false, reason: 'Expired' };
  return { verified: true };
}
