// Who a record's data key may be sealed to, and who a new record's must be (docs/records.md
// "Who a record is sealed to"): one rule, decided from state at block time, that the ledger
// enforces on record.anchor and record.share and that nodes use to tell writers whom to seal to.
import { acceptedDelegates } from './delegates.js';
import { EhrError } from './errors.js';
import { getIdentity, type Identity } from './identity.js';
import { grantCoversRecord, grantIsActive, grantsFrom, type RecordMeta, type RecordTarget } from './policy.js';
import { EMERGENCY_RECIPIENT } from './records.js';
import { keys, readJson, type StateReader } from './state.js';

export type RecipientReason = 'patient' | 'author' | 'emergency' | 'delegate' | 'grantee';

/** One required recipient: an identity id (or `emergency`) and why it is one. */
export interface RequiredRecipient {
  to: string;
  why: RecipientReason;
}

/**
 * The recipients every record of `target` for `patient` must be sealed to at block time
 * `time`, each once, in a fixed order: the patient, the emergency key (if registered), the
 * accepted delegates whose identity is active, then every active grantee whose active grant
 * covers the record. The author is added by the caller (it is not a fact of the patient).
 */
export function requiredRecipients(state: StateReader, patient: Identity, target: RecordTarget, time: number): RequiredRecipient[] {
  const out: RequiredRecipient[] = [{ to: patient.id, why: 'patient' }];
  if (patient.emergencyKey !== undefined) out.push({ to: EMERGENCY_RECIPIENT, why: 'emergency' });
  const seen = new Set([patient.id]);
  const add = (to: string, why: RecipientReason) => {
    if (seen.has(to) || getIdentity(state, to)?.status !== 'active') return;
    seen.add(to);
    out.push({ to, why });
  };
  for (const d of acceptedDelegates(state, patient.id)) add(d, 'delegate');
  for (const g of readJson<string[]>(state, keys.grantees(patient.id)) ?? []) {
    if (grantsFrom(state, patient.id, [g]).some((grant) => grantIsActive(grant, time) && grantCoversRecord(grant, target)))
      add(g, 'grantee');
  }
  return out;
}

/**
 * Refuse a new record's envelope labels unless they are exactly the required recipients
 * plus the author: RECIPIENT_NOT_ALLOWED names the first label outside that set (a data key
 * sealed to an arbitrary identity), RECIPIENT_MISSING the first required one left out.
 */
export function requireExactRecipients(
  state: StateReader,
  patient: Identity,
  author: string,
  target: RecordTarget,
  time: number,
  labels: readonly string[],
): void {
  const expected = [...requiredRecipients(state, patient, target, time).map((r) => r.to), author];
  for (const label of labels) {
    if (!expected.includes(label))
      throw new EhrError('RECIPIENT_NOT_ALLOWED', `body.envelopes: ${label} is not a recipient of this record (docs/records.md)`);
  }
  for (const to of expected) {
    if (!labels.includes(to)) throw new EhrError('RECIPIENT_MISSING', `body.envelopes must include one for ${to}`);
  }
}

/**
 * Refuse sealing an existing record's key to anyone but its author and its required
 * recipients at block time `time` (the same set as `requiredRecipients`, checked for `to`
 * alone so a 500-envelope share costs no more than its envelopes).
 */
export function requireAllowedRecipient(state: StateReader, patient: Identity, record: RecordMeta, to: string, time: number): void {
  if (!isRecipient(state, patient, record, to, time))
    throw new EhrError('RECIPIENT_NOT_ALLOWED', `${to} is not a recipient of record ${record.id} (docs/records.md)`);
}

function isRecipient(state: StateReader, patient: Identity, record: RecordMeta, to: string, time: number): boolean {
  if (to === record.author || to === patient.id) return true;
  if (to === EMERGENCY_RECIPIENT) return patient.emergencyKey !== undefined;
  if (getIdentity(state, to)?.status !== 'active') return false;
  if (acceptedDelegates(state, patient.id).includes(to)) return true;
  return grantsFrom(state, patient.id, [to]).some((grant) => grantIsActive(grant, time) && grantCoversRecord(grant, record));
}
