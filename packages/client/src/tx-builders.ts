// Unsigned transaction bodies for every kind of docs/records.md, the rotation proof, and
// signing. Optional fields left undefined are omitted, since the rules refuse unknown keys.
import { concatBytes, isHex, type SigningKeyPair, signEd25519, utf8 } from '@medledger/crypto';
import type { SignedTx } from '@medledger/ledger';
import { canonicalJson, signTx, txHash } from './canonical.js';
import { ClientError } from './errors.js';

/** Staff roles an organization admin may register (docs/records.md "Identities"). */
export type StaffRole = 'clinician' | 'pharmacy' | 'insurer' | 'researcher' | 'privacy-officer' | 'device' | 'auditor';
/** HL7 PurposeOfUse values a grant or read may carry (TREAT, HPAYMT, HOPERAT, HRESCH, PATRQT). */
export type Purpose = 'treatment' | 'payment' | 'operations' | 'research' | 'patient-request';
/** What a grant allows: reading covered records, or also anchoring new ones. */
export type Access = 'read' | 'read-write';

/** Every purpose the rules accept, in the order of the doc. */
export const PURPOSES: readonly Purpose[] = ['treatment', 'payment', 'operations', 'research', 'patient-request'];
/** Most envelopes in one record.share (and in one consent.grant or delegate.set). */
export const MAX_SHARE_ENVELOPES = 500;
/** Most envelopes in one record.anchor. */
export const MAX_ANCHOR_ENVELOPES = 64;
/** Domain tag of the identity.rotate proof. */
export const ROTATE_DOMAIN = 'medledger/rotate/v1\n';

export interface IdentityRegisterBody {
  role: 'patient';
  encryptionKey: string;
  emergencyKey?: string;
}
export interface StaffRegisterBody {
  publicKey: string;
  encryptionKey: string;
  role: StaffRole;
  name?: string;
}
export interface StaffRevokeBody {
  id: string;
}
export interface IdentityRotateBody {
  newPublicKey: string;
  proof: string;
  encryptionKey?: string;
}
/** A data-key envelope named in a record.anchor: recipient label and vault hash. */
export interface AnchorEnvelope {
  to: string;
  hash: string;
}
export interface RecordAnchorBody {
  record: string;
  patient: string;
  resourceType: string;
  category: string;
  contentHash: string;
  size: number;
  envelopes: AnchorEnvelope[];
  supersedes?: string;
}
/** An envelope wrapping an existing record's key for the grantee or delegate of the tx. */
export interface RecordEnvelope {
  record: string;
  hash: string;
}
/** An envelope wrapping an existing record's key for `to`. */
export interface ShareEnvelope extends RecordEnvelope {
  to: string;
}
export interface RecordShareBody {
  envelopes: ShareEnvelope[];
}
export interface RecordEraseBody {
  record: string;
}
/** A grant's scope: a union, at least one list non-empty. */
export interface GrantScope {
  categories?: string[];
  resourceTypes?: string[];
  records?: string[];
}
export interface ConsentGrantBody {
  patient: string;
  grantee: string;
  scope: GrantScope;
  access: Access;
  purpose: Purpose;
  expiresAt?: number;
  envelopes?: RecordEnvelope[];
}
export interface ConsentRevokeBody {
  grant: string;
}
export interface DelegateSetBody {
  delegate: string;
}
export interface DelegateAcceptBody {
  patient: string;
}
export interface DelegateRemoveBody {
  patient: string;
  delegate: string;
}

/** The body type of each transaction kind this client builds. */
export interface TxBodies {
  'identity.register': IdentityRegisterBody;
  'staff.register': StaffRegisterBody;
  'staff.revoke': StaffRevokeBody;
  'identity.rotate': IdentityRotateBody;
  'record.anchor': RecordAnchorBody;
  'record.share': RecordShareBody;
  'record.erase': RecordEraseBody;
  'consent.grant': ConsentGrantBody;
  'consent.revoke': ConsentRevokeBody;
  'delegate.set': DelegateSetBody;
  'delegate.accept': DelegateAcceptBody;
  'delegate.remove': DelegateRemoveBody;
}
/** A transaction kind this client builds. */
export type TxKindName = keyof TxBodies;

function invalid(message: string): never {
  throw new ClientError('INVALID_ARGUMENT', message);
}

function hexArg(value: string, what: string, bytes: number): string {
  if (!isHex(value, bytes)) invalid(`${what} must be ${bytes} bytes of lowercase hex`);
  return value;
}

const idArg = (value: string, what: string) => hexArg(value, what, 20);
const recordArg = (value: string, what: string) => hexArg(value, what, 16);
const keyArg = (value: string, what: string) => hexArg(value, what, 32);

/** Copy `o` without its undefined members. */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function envelopeList<E extends RecordEnvelope>(envelopes: E[], max: number, what: string): E[] {
  if (!Array.isArray(envelopes) || envelopes.length > max) invalid(`${what} must be an array of at most ${max} envelopes`);
  for (const e of envelopes) {
    recordArg(e.record, `${what}[].record`);
    keyArg(e.hash, `${what}[].hash`);
  }
  return envelopes;
}

/**
 * identity.register body for a patient: pseudonymous, nothing but the encryption key and
 * an optional emergency key. Throws ClientError('INVALID_ARGUMENT') for a malformed key.
 */
export function identityRegisterBody(opts: { encryptionKey: string; emergencyKey?: string }): IdentityRegisterBody {
  keyArg(opts.encryptionKey, 'encryptionKey');
  if (opts.emergencyKey !== undefined) keyArg(opts.emergencyKey, 'emergencyKey');
  return compact({ role: 'patient', encryptionKey: opts.encryptionKey, emergencyKey: opts.emergencyKey });
}

/** staff.register body, signed by an organization admin. Throws ClientError('INVALID_ARGUMENT'). */
export function staffRegisterBody(opts: { publicKey: string; encryptionKey: string; role: StaffRole; name?: string }): StaffRegisterBody {
  keyArg(opts.publicKey, 'publicKey');
  keyArg(opts.encryptionKey, 'encryptionKey');
  return compact({ publicKey: opts.publicKey, encryptionKey: opts.encryptionKey, role: opts.role, name: opts.name });
}

/** staff.revoke body, signed by the staff member's organization. Throws ClientError('INVALID_ARGUMENT'). */
export function staffRevokeBody(id: string): StaffRevokeBody {
  return { id: idArg(id, 'id') };
}

/** Bytes the new key signs to prove possession: `"medledger/rotate/v1\n"` ‖ JCS `{chain, id, newPublicKey}`. */
export function rotateProofBytes(chain: string, id: string, newPublicKey: string): Uint8Array {
  return concatBytes(utf8(ROTATE_DOMAIN), utf8(canonicalJson({ chain, id, newPublicKey })));
}

/**
 * identity.rotate body, signed by the identity's current key: the new key signs the
 * rotation proof, so nobody can rotate an identity onto a key they do not hold.
 * Throws ClientError('INVALID_ARGUMENT') for a malformed id or encryption key.
 */
export function identityRotateBody(opts: {
  chain: string;
  id: string;
  newSigning: SigningKeyPair;
  encryptionKey?: string;
}): IdentityRotateBody {
  idArg(opts.id, 'id');
  if (opts.encryptionKey !== undefined) keyArg(opts.encryptionKey, 'encryptionKey');
  const newPublicKey = keyArg(opts.newSigning.publicKey, 'newSigning.publicKey');
  const proof = signEd25519(opts.newSigning.privateKey, rotateProofBytes(opts.chain, opts.id, newPublicKey));
  return compact({ newPublicKey, proof, encryptionKey: opts.encryptionKey });
}

/**
 * record.anchor body. Checks the shapes the rules check (ids, hashes, at most 64 distinct
 * envelopes, a lowercase category, a FHIR type name, a non-negative size); membership
 * rules (patient, author, emergency present) are the chain's. Throws ClientError('INVALID_ARGUMENT').
 */
export function recordAnchorBody(opts: RecordAnchorBody): RecordAnchorBody {
  recordArg(opts.record, 'record');
  idArg(opts.patient, 'patient');
  keyArg(opts.contentHash, 'contentHash');
  if (!/^[A-Z][A-Za-z]*$/.test(opts.resourceType)) invalid('resourceType must be a FHIR resource type name');
  if (!/^[a-z][a-z0-9._-]*$/.test(opts.category)) invalid('category must be a lowercase token');
  if (!Number.isSafeInteger(opts.size) || opts.size < 0) invalid('size must be a non-negative integer');
  if (!Array.isArray(opts.envelopes) || opts.envelopes.length > MAX_ANCHOR_ENVELOPES) {
    invalid(`envelopes must be an array of at most ${MAX_ANCHOR_ENVELOPES}`);
  }
  const seen = new Set<string>();
  for (const e of opts.envelopes) {
    if (seen.has(e.to)) invalid(`envelopes name '${e.to}' twice`);
    seen.add(e.to);
    keyArg(e.hash, 'envelopes[].hash');
  }
  if (opts.supersedes !== undefined) recordArg(opts.supersedes, 'supersedes');
  return compact({
    record: opts.record,
    patient: opts.patient,
    resourceType: opts.resourceType,
    category: opts.category,
    contentHash: opts.contentHash,
    size: opts.size,
    envelopes: opts.envelopes.map((e) => ({ to: e.to, hash: e.hash })),
    supersedes: opts.supersedes,
  });
}

/** record.share body: at most 500 existing records' keys wrapped for someone. Throws ClientError('INVALID_ARGUMENT'). */
export function recordShareBody(envelopes: ShareEnvelope[]): RecordShareBody {
  envelopeList(envelopes, MAX_SHARE_ENVELOPES, 'envelopes');
  return { envelopes: envelopes.map((e) => ({ record: e.record, to: e.to, hash: e.hash })) };
}

/** record.erase body. Throws ClientError('INVALID_ARGUMENT') for a malformed record id. */
export function recordEraseBody(record: string): RecordEraseBody {
  return { record: recordArg(record, 'record') };
}

/**
 * consent.grant body. Empty scope lists are dropped; at least one must remain. `access`
 * defaults to 'read'. Throws ClientError('INVALID_ARGUMENT') for an empty scope, an unknown
 * purpose, a non-integer expiry, malformed ids, or more than 500 envelopes.
 */
export function consentGrantBody(opts: {
  patient: string;
  grantee: string;
  scope: GrantScope;
  access?: Access;
  purpose: Purpose;
  expiresAt?: number;
  envelopes?: RecordEnvelope[];
}): ConsentGrantBody {
  idArg(opts.patient, 'patient');
  idArg(opts.grantee, 'grantee');
  const nonEmpty = (l: string[] | undefined) => (l !== undefined && l.length > 0 ? [...l] : undefined);
  const scope = compact({
    categories: nonEmpty(opts.scope.categories),
    resourceTypes: nonEmpty(opts.scope.resourceTypes),
    records: nonEmpty(opts.scope.records),
  });
  if (Object.keys(scope).length === 0) invalid('scope needs at least one non-empty list of categories, resourceTypes or records');
  for (const r of scope.records ?? []) recordArg(r, 'scope.records[]');
  const access = opts.access ?? 'read';
  if (access !== 'read' && access !== 'read-write') invalid("access must be 'read' or 'read-write'");
  if (!PURPOSES.includes(opts.purpose)) invalid(`purpose must be one of ${PURPOSES.join(', ')}`);
  if (opts.expiresAt !== undefined && (!Number.isSafeInteger(opts.expiresAt) || opts.expiresAt <= 0)) {
    invalid('expiresAt must be a block time in integer milliseconds');
  }
  const envelopes = opts.envelopes === undefined ? undefined : envelopeList(opts.envelopes, MAX_SHARE_ENVELOPES, 'envelopes');
  return compact({
    patient: opts.patient,
    grantee: opts.grantee,
    scope,
    access,
    purpose: opts.purpose,
    expiresAt: opts.expiresAt,
    envelopes: envelopes?.map((e) => ({ record: e.record, hash: e.hash })),
  });
}

/** consent.revoke body. Throws ClientError('INVALID_ARGUMENT') for a malformed grant id. */
export function consentRevokeBody(grant: string): ConsentRevokeBody {
  return { grant: hexArg(grant, 'grant', 16) };
}

/** delegate.set body, signed by the patient: an invitation the delegate must accept. Throws ClientError('INVALID_ARGUMENT'). */
export function delegateSetBody(delegate: string): DelegateSetBody {
  return { delegate: idArg(delegate, 'delegate') };
}

/** delegate.accept body, signed by the invited delegate. Throws ClientError('INVALID_ARGUMENT'). */
export function delegateAcceptBody(patient: string): DelegateAcceptBody {
  return { patient: idArg(patient, 'patient') };
}

/** delegate.remove body, signed by the patient or the delegate stepping down. Throws ClientError('INVALID_ARGUMENT'). */
export function delegateRemoveBody(patient: string, delegate: string): DelegateRemoveBody {
  return { patient: idArg(patient, 'patient'), delegate: idArg(delegate, 'delegate') };
}

/** Sign `{v: 1, chain, kind, signer, nonce, body}` with ledger `signTx` (DESIGN §4). Throws TypeError on a malformed seed. */
export function buildTx<K extends TxKindName>(opts: {
  chain: string;
  kind: K;
  signing: SigningKeyPair;
  nonce: number;
  body: TxBodies[K];
}): SignedTx<TxBodies[K]> {
  return signTx(
    { v: 1, chain: opts.chain, kind: opts.kind, signer: opts.signing.publicKey, nonce: opts.nonce, body: opts.body },
    opts.signing.privateKey,
  );
}

/** A grant's id: the first 16 bytes (32 hex) of its consent.grant transaction hash. Does not throw. */
export function grantIdOf(tx: SignedTx): string {
  return txHash(tx).slice(0, 32);
}
