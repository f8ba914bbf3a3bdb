// Who may have a proof of which medicines state key (docs/medicines.md "Proven answers"), so
// a client acts on a verification, a custody record or a prescription only once it has
// proven it against the genesis. The same people as the medicines /v1 routes: products,
// recalls and the controlled-substance list to anyone signed in; custody, quarantines and
// EPCIS events to trading partners and the regulator; a prescription to those who may see it;
// an illegitimate-product notification to those the /v1 route shows it to; the verification log to the regulator.
import { getNotice, getPrescription, type Identity, maySeeNotice, maySeePrescription, partnerOf, type StateReader } from '@medledger/ehr';
import type { KeyAccess } from './state-access.js';

const GTIN = '[0-9]{14}';
const TOKEN = '[A-Za-z0-9-]{1,20}';
const HASH = '[0-9a-f]{64}';

/** The medicines key families' access, or undefined for a key outside them. */
export function medicinesKeyAccess(state: StateReader, key: string): KeyAccess | undefined {
  const only = (allowed: (caller: Identity) => boolean): KeyAccess => ({ public: false, allowed });
  const match = (re: string) => new RegExp(`^${re}$`).exec(key);
  const signedIn = only(() => true);
  const partners = only((caller) => partnerOf(state, caller) !== undefined);

  // A recall is public safety information: a patient proves the recall behind a notice.
  if (match(`product/${GTIN}`) || match(`recall/${GTIN}/${TOKEN}`) || match('controlled/[0-9]{1,10}')) return signedIn;
  if (
    match(`pkg/${GTIN}/${TOKEN}`) ||
    match(`lotq/${GTIN}/${TOKEN}`) ||
    match('case/[0-9]{18}') ||
    match(`epcis/${HASH}`) ||
    match(`pkgev/${GTIN}/${TOKEN}/[0-9]{12}/${HASH}`)
  )
    return partners;
  let m = match('rx/([0-9a-f]{32})');
  if (m !== null) {
    const rx = getPrescription(state, m[1] as string);
    return only((caller) => rx !== undefined && maySeePrescription(state, caller, rx));
  }
  m = match('ilnotice/([0-9a-f]{32})');
  if (m !== null) {
    const notice = getNotice(state, m[1] as string);
    return only((caller) => notice !== undefined && maySeeNotice(state, partnerOf(state, caller)?.org, notice));
  }
  if (match('verifylog/[0-9]{12}/[0-9a-f]{32}')) return only((caller) => partnerOf(state, caller)?.kind === 'regulator');
  return undefined;
}

/** The medicines key families served, for error messages and docs. */
export const MEDICINES_KEY_FAMILIES = [
  'product/<gtin>',
  'recall/<gtin>/<lot>',
  'controlled/<rxnorm>',
  'pkg/<gtin>/<serial>',
  'lotq/<gtin>/<lot>',
  'case/<sscc>',
  'epcis/<eventHash>',
  'pkgev/<gtin>/<serial>/<height>/<eventHash>',
  'rx/<id>',
  'ilnotice/<id>',
  'verifylog/<height>/<id>',
];
