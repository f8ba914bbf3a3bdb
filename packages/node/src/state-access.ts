// Who may have a proof of which state key (docs/api.md "Proven state"). Identities, keys and
// the validator set are public; a patient's metadata (grants, recipients, delegates, access
// log, records, emergency windows) goes only to those the /v1 routes already show it to.
// One function decides, for the single and the batch proof routes alike.
import {
  emergencyKeys,
  emergencyWindowOf,
  getClaim,
  getCoverage,
  getGrant,
  getIdentity,
  getPreauth,
  getRecord,
  getWindow,
  grantCoversRecord,
  granteeIdsFor,
  grantIsActive,
  grantsFrom,
  type Identity,
  type InsuranceIndex,
  isDelegate,
  keys,
  mayListInsurance,
  maySeeCoverage,
  maySeeInsuranceCase,
  type StateReader,
  seesGovernance,
} from '@medledger/ehr';
// ---- medicines (issue 14): their own block, in state-access-medicines.ts ----
import { MEDICINES_KEY_FAMILIES, medicinesKeyAccess } from './state-access-medicines.js';

// ---- end medicines ----

const ID = '[0-9a-f]{40}';
const ID16 = '[0-9a-f]{32}';
const KEY32 = '[0-9a-f]{64}';
const INS_INDEX = 'iplan|icov|pcov|ipa|ppa|rpa|iclaim|pclaim|rclaim';

/** How a key may be served: to anyone, to callers `allowed` admits, or not at all (undefined). */
export type KeyAccess = { public: true } | { public: false; allowed: (caller: Identity) => boolean };

const PUBLIC: KeyAccess = { public: true };

/** The proof-serving rules, by key family; see docs/api.md for the list. */
export function keyAccess(
  state: StateReader,
  key: string,
  time: number,
  /** Pharmacy staff about to anchor a dispense's record for the patient (dispense-writers.ts); none: nobody. */
  dispensesFor: (caller: Identity, patient: string) => boolean = () => false,
): KeyAccess | undefined {
  const granteeIds = (caller: Identity) => granteeIdsFor(state, caller);
  const manages = (caller: Identity, patient: string) => caller.id === patient || isDelegate(state, patient, caller.id);
  // Those who may write for the patient (mayWrite without a target, or a dispense's record): they need the recipient set.
  const writesFor = (caller: Identity, patient: string) =>
    manages(caller, patient) ||
    grantsFrom(state, patient, granteeIds(caller)).some((g) => g.access === 'read-write' && grantIsActive(g, time)) ||
    dispensesFor(caller, patient);
  const only = (allowed: (caller: Identity) => boolean): KeyAccess => ({ public: false, allowed });
  const match = (re: string) => new RegExp(`^${re}$`).exec(key);

  if (key === keys.chainMeta() || key === keys.validatorSet() || key === keys.emergencyParams()) return PUBLIC;
  // The latest validator set is public like the genesis one: every header commits to it, and a
  // patient seals emergency shares to it (docs/emergency.md "When the validator set changes").
  if (key === keys.govValsetLatest()) return PUBLIC;
  if (match(`identity/${ID}`) || match(`key/${KEY32}`) || match(`nonce/${KEY32}`)) return PUBLIC;

  let m = match(`delegate/(${ID})/(${ID})`);
  if (m !== null) {
    // An invited delegate sees their own invitation, as GET /v1/me/delegations shows it.
    const [, patient, delegate] = m as unknown as [string, string, string];
    return only((caller) => caller.id === delegate || writesFor(caller, patient));
  }
  m = match(`(?:granteelist|delegatelist)/(${ID})`);
  m ??= match(`emergency/(?:split|latest)/(${ID})`);
  if (m !== null) {
    const patient = m[1] as string;
    return only((caller) => writesFor(caller, patient));
  }
  m = match(`grants/(${ID})/(${ID})`);
  if (m !== null) {
    const [, patient, grantee] = m as unknown as [string, string, string];
    return only((caller) => granteeIds(caller).includes(grantee) || writesFor(caller, patient));
  }
  m = match(`grant/(${ID16})`);
  if (m !== null) {
    const grant = getGrant(state, m[1] as string);
    return only((caller) => grant !== undefined && (granteeIds(caller).includes(grant.grantee) || writesFor(caller, grant.patient)));
  }
  // A patient's list of records (proven complete to the patient): to those who manage the patient.
  m = match(`recordidx/(${ID})/[0-9]{12}`);
  m ??= match(`recordcount/(${ID})`);
  if (m !== null) {
    const patient = m[1] as string;
    return only((caller) => manages(caller, patient));
  }
  m = match(`access/(${ID}|-)/[0-9]{12}/.+`);
  // The log's dense list (a page proven complete): to the same readers as its events.
  m ??= match(`accessidx/(?:all|emergency)/(${ID}|-)/[0-9]{12}`);
  m ??= match(`accesscount/(?:all|emergency)/(${ID}|-)`);
  if (m !== null) {
    const patient = m[1] as string;
    return only((caller) => patient !== '-' && manages(caller, patient));
  }
  m = match(`record/(${ID16})`);
  if (m !== null) {
    const record = getRecord(state, m[1] as string);
    return only(
      (caller) =>
        record !== undefined &&
        (manages(caller, record.patient) ||
          caller.id === record.author ||
          // As GET /v1/patients/:id/records lists it: to a grantee while an active grant covers it.
          // An envelope alone is no permission: a revoked grantee keeps theirs, and would go on
          // learning whom the record is shared with later.
          grantsFrom(state, record.patient, granteeIds(caller)).some((g) => grantIsActive(g, time) && grantCoversRecord(g, record)) ||
          // A break-glass clinician reads through the emergency envelope and proves what it read,
          // while the window is theirs to use (the same test as the read gate's).
          emergencyWindowOf(state, caller, record.patient, time) !== undefined),
    );
  }
  // Governance is the consortium's business: member organizations, their staff and validators see all of it.
  if (match('gov/(?:members|rule|params|genesis-limits|next|open)') || match('gov/(?:proposal|valset)/[0-9]{12}'))
    return only((caller) => seesGovernance(state, caller));
  m = match(`emergency/window/(${ID16})`);
  if (m !== null) {
    const window = getWindow(state, m[1] as string);
    return only(
      (caller) =>
        window !== undefined &&
        (caller.id === window.clinician ||
          manages(caller, window.patient) ||
          caller.id === window.org ||
          (caller.org === window.org && caller.role === 'privacy-officer' && getIdentity(state, window.org)?.status === 'active')),
    );
  }
  // Insurance (docs/insurance.md "Visibility"): the same rules as the /v1 insurance routes.
  if (match(`pametrics/${ID}`)) return PUBLIC; // CMS-0057-F decision times are public.
  if (match(`plan/${ID16}`) || match(`planv/${ID16}/[0-9]{6}`)) return only(() => true); // any signed-in identity
  m = match(`(?:coverage|accum)/(${ID16})`);
  if (m !== null) {
    const coverage = getCoverage(state, m[1] as string);
    return only((caller) => coverage !== undefined && maySeeCoverage(state, caller, coverage, time));
  }
  m = match(`preauth/(${ID16})`);
  if (m !== null) {
    const preauth = getPreauth(state, m[1] as string);
    return only((caller) => preauth !== undefined && maySeeInsuranceCase(state, caller, preauth));
  }
  m = match(`claim/(${ID16})`);
  if (m !== null) {
    const claim = getClaim(state, m[1] as string);
    return only((caller) => claim !== undefined && maySeeInsuranceCase(state, caller, claim));
  }
  // A list's count and entries, to whoever may list it (complete lists, docs/insurance.md).
  m = match(`(?:ins-(${INS_INDEX})/(${ID})/[0-9]{12}|inscount/(${INS_INDEX})/(${ID}))`);
  if (m !== null) {
    const index = (m[1] ?? m[3]) as InsuranceIndex;
    const party = (m[2] ?? m[4]) as string;
    return only((caller) => mayListInsurance(state, caller, index, party, time));
  }
  // ---- medicines (issue 14) ----
  const medicines = medicinesKeyAccess(state, key);
  if (medicines !== undefined) return medicines;
  // ---- end medicines ----
  return undefined;
}

/** The key families served, for error messages and docs. */
export const SERVED_KEY_FAMILIES = [
  'meta/chain',
  'meta/validators',
  'meta/emergency',
  'identity/<id>',
  'key/<publicKey>',
  'nonce/<publicKey>',
  'granteelist/<patient>',
  'grants/<patient>/<grantee>',
  'grant/<id>',
  'delegatelist/<patient>',
  'delegate/<patient>/<delegate>',
  'record/<id>',
  'recordidx/<patient>/<position>',
  'recordcount/<patient>',
  'access/<patient>/<height>/<event>',
  'accessidx/<all|emergency>/<patient>/<position>',
  'accesscount/<all|emergency>/<patient>',
  `${emergencyKeys.split('<patient>')}`,
  `${emergencyKeys.latest('<patient>')}`,
  `${emergencyKeys.window('<id>')}`,
  // ---- medicines (issue 14) ----
  ...MEDICINES_KEY_FAMILIES,
  // ---- end medicines ----
  'gov/valset-latest',
  'gov/members, gov/rule, gov/params, gov/genesis-limits, gov/next, gov/open',
  'gov/proposal/<id>',
  'gov/valset/<height>',
  'plan/<id>',
  'planv/<plan>/<version>',
  'coverage/<id>',
  'accum/<coverage>',
  'preauth/<id>',
  'claim/<id>',
  'ins-<list>/<party>/<chunk>',
  'inscount/<list>/<party>',
  'pametrics/<insurer>',
];
