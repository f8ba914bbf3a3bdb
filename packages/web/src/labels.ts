// Plain-language words for the chain's codes: categories, purposes, refusal reasons and
// errors, so no screen has to show a code to someone who has never seen one.
import type { Purpose } from '@medledger/client';

/**
 * Record categories, with the words a patient sees: the ones the UI writes and the CLI's FHIR
 * import files records under (packages/cli/src/fhir-bundle.ts). `common` ones are offered
 * first when sharing.
 */
export const CATEGORIES: ReadonlyArray<{ code: string; label: string; hint: string; common: boolean }> = [
  { code: 'vital-signs', label: 'Vital signs', hint: 'blood pressure, weight, heart rate, temperature', common: true },
  { code: 'laboratory', label: 'Lab results', hint: 'blood tests such as glucose or cholesterol', common: true },
  { code: 'problems', label: 'Diagnoses', hint: 'conditions a clinician has recorded', common: true },
  { code: 'medications', label: 'Medications', hint: 'medicines you take or were prescribed', common: true },
  { code: 'immunizations', label: 'Vaccinations', hint: 'vaccines you have had', common: true },
  { code: 'allergies', label: 'Allergies', hint: 'allergies and intolerances', common: true },
  { code: 'encounters', label: 'Visits', hint: 'appointments and hospital stays', common: true },
  { code: 'procedures', label: 'Procedures', hint: 'operations and other procedures', common: true },
  { code: 'documents', label: 'Notes and documents', hint: 'notes and letters written by a clinician', common: true },
  { code: 'diagnostics', label: 'Test reports', hint: 'reports that explain test results', common: false },
  { code: 'imaging', label: 'Scans and X-rays', hint: 'imaging studies', common: false },
  { code: 'care-plans', label: 'Care plans', hint: 'plans, goals and care teams', common: false },
  { code: 'social-history', label: 'Lifestyle', hint: 'smoking, alcohol and similar', common: false },
  { code: 'observations', label: 'Other measurements', hint: 'measurements without a category', common: false },
  { code: 'devices', label: 'Medical devices', hint: 'implants and devices you use', common: false },
  { code: 'billing', label: 'Bills and insurance', hint: 'claims and coverage', common: false },
  { code: 'demographics', label: 'Personal details', hint: 'name, date of birth, address', common: false },
  { code: 'administrative', label: 'Administrative', hint: 'organizations and practitioners named in your records', common: false },
  { code: 'other', label: 'Other records', hint: 'anything else', common: false },
];

export function categoryLabel(code: string): string {
  return CATEGORIES.find((c) => c.code === code)?.label ?? code.replace(/-/g, ' ');
}

export const PURPOSE_LABELS: Record<Purpose, string> = {
  treatment: 'My treatment and care',
  payment: 'Billing and insurance',
  operations: 'Running the clinic or hospital',
  research: 'Medical research',
  'patient-request': 'My own request',
};

export function purposeLabel(p: string): string {
  return (PURPOSE_LABELS as Record<string, string>)[p] ?? p;
}

/** Why a read was refused, as the access log explains it. */
const DENY_REASONS: Record<string, string> = {
  NO_GRANT: 'they had no access to your records',
  OUT_OF_SCOPE: 'this record was not part of what you shared',
  EXPIRED: 'their access had expired',
  REVOKED: 'you had stopped sharing with them',
  PURPOSE_MISMATCH: 'they asked for a reason you did not allow',
  ROLE_NOT_PERMITTED: 'their job at the organization does not allow this use of your records',
  NOT_REGISTERED: 'they are not a registered MedLedger user',
  IDENTITY_REVOKED: 'their account has been closed by their organization',
  UNKNOWN_RECORD: 'the record does not exist',
  NO_ENVELOPE: 'the record was not shared with them yet',
  ERASED: 'the record had been erased',
  UNAUTHENTICATED: 'they were not signed in',
  SESSION_EXPIRED: 'their sign-in had expired',
  MALFORMED_REQUEST: 'the request was malformed',
  ORGANIZATION_KEY: 'the record is shared with their organization, not with them',
  OBJECT_UNAVAILABLE: 'the server could not serve it at that moment',
  OK: 'access was allowed',
};

export function denyReasonLabel(code: string): string {
  return DENY_REASONS[code] ?? code;
}

export const ROLE_LABELS: Record<string, string> = {
  patient: 'Patient',
  clinician: 'Clinician',
  organization: 'Organization',
  pharmacy: 'Pharmacy',
  insurer: 'Insurer',
  researcher: 'Researcher',
  'privacy-officer': 'Privacy officer',
  auditor: 'Auditor',
  validator: 'Validator',
};

/** GS1 Lightweight Messaging verification reasons (docs/medicines.md "Verification") in plain words. */
export const GS1_REASON_WORDS: Record<string, string> = {
  No_match_GTIN: 'no product with this code is registered — do not dispense',
  No_match_GTIN_Serial: 'this serial number was never made by the manufacturer (possible counterfeit) — do not dispense',
  No_match_GTIN_Serial_Lot: 'the lot printed on the pack does not match the manufacturer’s record — do not dispense',
  No_match_GTIN_Serial_Expiry: 'the expiry printed on the pack does not match the manufacturer’s record — do not dispense',
  Illegitimate: 'this pack has been found illegitimate — do not dispense',
  Suspect: 'this pack is under investigation as suspect — do not dispense',
  Recalled: 'this lot has been recalled — do not dispense',
  Dispensed: 'this pack was already dispensed to a patient',
  Decommissioned: 'this pack was destroyed or taken out of the supply chain',
  Expired: 'this pack has expired',
};

const PACK_STATE_WORDS: Record<string, string> = {
  dispensed: 'was already dispensed to a patient',
  destroyed: 'was already destroyed',
  decommissioned: 'was already taken out of the supply chain',
};

/**
 * A medicines refusal that names a pack, in words: which pack, and why — for one that does not
 * verify, its GS1 reason. Read from the chain's message (packages/ehr/src/medicines), whose
 * wording names the package; undefined when it names none.
 */
function packRefusal(code: unknown, message: string): string | undefined {
  const pack = /package \d{14} serial ([A-Za-z0-9-]{1,20})/.exec(message)?.[1];
  const sscc = /case (\d{18})/.exec(message)?.[1];
  if (code === 'NOT_VERIFIED' && pack !== undefined) {
    const reason = /does not verify: (\w+)/.exec(message)?.[1] ?? '';
    return `Pack ${pack} does not verify: ${GS1_REASON_WORDS[reason] ?? reason}. Do not use it.`;
  }
  if (code === 'WRONG_STATE' && pack !== undefined) {
    const state = /is already (\w+)/.exec(message)?.[1] ?? '';
    return `Pack ${pack} ${PACK_STATE_WORDS[state] ?? `is already ${state}`}: nothing was changed.`;
  }
  if (code === 'NOT_FOUND' && /^no package /.test(message) && pack !== undefined)
    return `Pack ${pack}: ${GS1_REASON_WORDS.No_match_GTIN_Serial}. Check the serial number and the product code; nothing was changed.`;
  if (code === 'NOT_HOLDER' && pack !== undefined)
    return `Pack ${pack} is not in your pharmacy’s or company’s custody (not received yet, or held by someone else): nothing was changed.`;
  if (code === 'NOT_ADDRESSEE')
    return `${pack === undefined ? `Case ${sscc ?? ''}`.trim() : `Pack ${pack}`} was not shipped to you, or was already received: nothing was changed.`;
  if (code === 'PACKED' && pack !== undefined)
    return `Pack ${pack} is packed in case ${sscc ?? ''}: receive or unpack the whole case first. Nothing was changed.`;
  return undefined;
}

/** An error from the SDK or the browser as a sentence that says what to do next. */
export function friendlyError(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  // A form's own check, already written for the person using it (supply-forms.ts FormProblem).
  const plain = (err as { plainWords?: unknown })?.plainWords;
  if (typeof plain === 'string') return plain;
  const pack = packRefusal(code, String((err as { message?: unknown })?.message ?? ''));
  if (pack !== undefined) return pack;
  const messages: Record<string, string> = {
    NETWORK: 'MedLedger could not be reached. Check your internet connection, then try again.',
    BAD_PASSPHRASE: 'That passphrase does not open this account. Check it and try again (passphrases are case-sensitive).',
    KEYSTORE_FORMAT: 'This file is not a MedLedger recovery file. Choose the file you downloaded when you created your account.',
    ACCESS_DENIED: 'You do not have access to this record. Ask the patient to share it with you.',
    RECORD_ERASED: 'This record was erased by the patient and can no longer be opened.',
    ORGANIZATION_KEY:
      'This record is shared with your organization as a whole. Open MedLedger on your organization’s own server, which unlocks it for you, or ask the patient to share it with you.',
    OBJECT_UNAVAILABLE: 'This record is temporarily unavailable on this server. Wait a minute and try again.',
    UNAUTHENTICATED: 'You are signed out. Sign in again to continue.',
    SESSION_EXPIRED: 'Your session ended. Sign in again to continue.',
    IDENTITY_NOT_FOUND: 'No MedLedger user has that sharing code. Check the code and try again.',
    UNAUTHORIZED: 'You are not allowed to do this. If you are a clinician, ask the patient for permission to add records.',
    TX_TIMEOUT: 'The network did not confirm this in time. Wait a moment and check again before retrying.',
    INVALID_ARGUMENT: 'Some details are missing or not valid. Check the form and try again.',
    INVALID_BODY: 'Some details are missing or not valid. Check the form and try again.',
    GRANT_NOT_FOUND: 'That sharing was not found. Reload the page to see the current list.',
    CONTENT_HASH_MISMATCH: 'This record failed its safety check and was not opened. Try again later or on another server.',
    RECORD_MISLABELED:
      'This record is filed under a different kind than it was written as, so it was not opened. Tell the patient or the author: it may have been filed wrongly on purpose.',
    DELEGATE_PENDING: 'You already invited them. They become your delegate when they accept from their account page.',
    DELEGATE_EXISTS: 'They are already your delegate.',
    BAD_PROOF: 'The network sent a confirmation that did not check out. Try again later.',
    // Medicines (docs/medicines.md "Refusals"): the chain's reason, in words.
    NOT_HOLDER: 'You do not hold this pack or case (or this prescription is at another pharmacy). Check the serial numbers.',
    NOT_ADDRESSEE: 'These packs were not shipped to you, so you cannot receive them.',
    PACKED: 'This pack is packed in a case: ship, receive or destroy the case, or unpack it first.',
    CASE_BROKEN: 'A pack of this case was dispensed: unpack the case before shipping the rest.',
    NOT_VERIFIED: 'A pack does not verify (recalled, quarantined, expired, already dispensed, or never made). Do not use it.',
    WRONG_PRODUCT: 'This pack is not the prescribed medicine.',
    RX_INACTIVE: 'This prescription is cancelled or outside its dates.',
    RX_NO_FILLS: 'This prescription has no fills left.',
    TOO_EARLY: 'It is too early to fill this prescription again.',
    WRONG_STATE: 'This was already done (recalled, decommissioned, notified or terminated), or must wait for an earlier step.',
    RETURN_NOT_VERIFIED: 'This pack came back to you: verify it first, then it may be sold again.',
    DUPLICATE_EVENT: 'This exact event is already recorded.',
    ALREADY_REGISTERED: 'This is already registered.',
    NOT_FOUND: 'Nothing with that number is on the ledger. Check it and try again.',
    GENESIS_MISMATCH:
      'This server now presents a different network than the one you confirmed when you created your account (GENESIS_MISMATCH). MedLedger stopped here and sent nothing. Use a server you trust, or ask your care provider.',
  };
  // A node whose answer fails a check against the network you confirmed: nothing was used or sent.
  const trust = [
    'UNTRUSTED_COMMIT',
    'HEADER_MISMATCH',
    'APP_HASH_MISMATCH',
    'STATE_PROOF_INVALID',
    'STALE_HEIGHT',
    'FACT_NOT_PROVEN',
    'EVENT_ID_MISMATCH',
  ];
  if (typeof code === 'string' && trust.includes(code))
    return `This server sent an answer that the network's signatures do not back (${code}). MedLedger refused it and nothing was sent. Try again later, or use another server you trust.`;
  if (typeof code === 'string' && messages[code] !== undefined) return messages[code];
  if (code === 'DECRYPT_FAILED') return 'This record could not be unlocked with your keys. Ask the author to share it again.';
  return 'Something went wrong. Try again; if it keeps happening, reload the page.';
}
