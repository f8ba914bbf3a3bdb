// The shapes the node's API answers (docs/records.md "Gatekeeper API", DESIGN §8), and the
// checks that turn an untrusted answer into them: each names the field it refused.
import { isHex } from '@medledger/crypto';
import { ClientError } from './errors.js';
import type { Access, GrantScope, Purpose, RecordAnchorBody } from './tx-builders.js';

/** A FHIR R4 resource: any JSON object with a `resourceType`. */
export interface FhirResource {
  resourceType: string;
  [field: string]: unknown;
}

/** `GET /v1/status`: the fields this client uses; the node sends more. */
export interface NodeStatus {
  chainId: string;
  /** The node's Ed25519 public key, bound into session signatures. */
  publicKey: string;
  height: number;
  [field: string]: unknown;
}

/** An identity as the ledger holds it (`GET /v1/identities/:id`). */
export interface Identity {
  id: string;
  role: string;
  publicKey: string;
  encryptionKey: string;
  status: string;
  org?: string;
  [field: string]: unknown;
}

/** `GET /v1/accounts/:publicKey`. */
export interface Account {
  publicKey: string;
  id: string;
  nonce: number;
  /** The nonce to sign next, counting this node's mempool. */
  nextNonce: number;
  identity: Identity | null;
}

/** `POST /v1/auth/session`. */
export interface Session {
  token: string;
  expiresAt: number;
  idleTimeoutMs: number;
  identity: Identity;
}

/** An RFC 9162 inclusion proof of a transaction in its block. */
export interface InclusionProof {
  leafIndex: number;
  treeSize: number;
  root: string;
  path: string[];
}

/** Where a committed transaction landed. */
export interface TxInclusion {
  height: number;
  index: number;
  blockHash: string;
  proof: InclusionProof;
}

/** Someone the data key of a new record must be sealed to (`GET /v1/patients/:id/recipients`). */
export interface Recipient {
  /** Identity id, or 'emergency'. */
  to: string;
  encryptionKey: string;
  /** Why they are a recipient (patient, delegate, grant id, emergency …), for display. */
  why: string;
}

/** A delegation (`GET /v1/patients/:id/delegates`, `GET /v1/me/delegations`): pending until the delegate accepts. */
export interface Delegation {
  patient: string;
  delegate: string;
  status: 'pending' | 'accepted';
  invitedAt: { height: number; time: number };
  acceptedAt: { height: number; time: number } | null;
  /** The height the SDK proved this delegation at (docs/sdk.md "Heights"). */
  provenAt?: number;
}

/** A record's on-chain metadata: the anchor's fields, plus whatever state the node adds. */
export interface RecordMeta extends Omit<RecordAnchorBody, 'envelopes'> {
  status?: string;
  /** The height the SDK proved this record's anchor at (docs/sdk.md "Heights"). */
  provenAt?: number;
  [field: string]: unknown;
}

/** A consent grant as the node lists it. */
export interface Grant {
  id: string;
  patient: string;
  grantee: string;
  scope: GrantScope;
  access: Access;
  purpose: Purpose;
  expiresAt?: number;
  /** Who made the grant: the patient, or a delegate acting for them (proven with the grant). */
  grantedBy?: string;
  /** The height the SDK proved this grant at (docs/sdk.md "Heights"). */
  provenAt?: number;
  [field: string]: unknown;
}

/**
 * One committed access event (docs/records.md "Access log"). `accessor` is null for an
 * attempt without a valid session; `count` is how many reads it stands for (repeated denials
 * of one record by one accessor for one reason in one hour of block time), `last` the block of the latest.
 */
export interface AccessEvent {
  id: string;
  record: string | null;
  patient: string | null;
  accessor: string | null;
  purpose: string | null;
  decision: string;
  reason: string;
  emergency: boolean;
  at: number;
  node: string;
  height: number;
  time: number;
  count: number;
  last: { height: number; time: number };
  /** The height the SDK proved this event at (docs/sdk.md "Heights"). */
  provenAt?: number;
  [field: string]: unknown;
}

/** A page of a patient's access log: the whole log newest first, and its emergency reads apart. */
export interface AccessLogPage {
  /** The newest emergency reads (first page of their own list, whatever page `events` is). */
  emergency: AccessEvent[];
  /** Cursor for more emergency reads (`accessLogEmergencyPage`), or null. */
  emergencyNext: string | null;
  events: AccessEvent[];
  next: string | null;
}

/** `GET /v1/records/:id`: metadata, the vault object (base64) and the caller's envelope. */
export interface RecordReadAnswer {
  record: RecordMeta;
  ciphertext: string;
  envelope: unknown;
  /** The recipient label the envelope was sealed for; absent on nodes that do not send it. */
  envelopeFor?: string;
  event?: unknown;
}

function malformed(what: string, expected: string): never {
  throw new ClientError('MALFORMED_RESPONSE', `${what} must be ${expected}`);
}

/** `x` as a JSON object, or throw ClientError('MALFORMED_RESPONSE') naming `what`. */
export function objectAt(x: unknown, what: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) malformed(what, 'an object');
  return x as Record<string, unknown>;
}

/** `o[field]` as an array, or throw ClientError('MALFORMED_RESPONSE'). */
export function arrayAt(o: Record<string, unknown>, field: string, what: string): unknown[] {
  const v = o[field];
  if (!Array.isArray(v)) malformed(`${what}.${field}`, 'an array');
  return v;
}

function stringAt(o: Record<string, unknown>, field: string, what: string): string {
  const v = o[field];
  if (typeof v !== 'string') malformed(`${what}.${field}`, 'a string');
  return v;
}

function hexAt(o: Record<string, unknown>, field: string, what: string, bytes: number): string {
  const v = o[field];
  if (!isHex(v, bytes)) malformed(`${what}.${field}`, `${bytes} bytes of lowercase hex`);
  return v;
}

function integerAt(o: Record<string, unknown>, field: string, what: string): number {
  const v = o[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) malformed(`${what}.${field}`, 'a non-negative integer');
  return v;
}

/** Check `GET /v1/status`. Throws ClientError('MALFORMED_RESPONSE'). */
export function parseStatus(x: unknown): NodeStatus {
  const o = objectAt(x, 'status');
  stringAt(o, 'chainId', 'status');
  hexAt(o, 'publicKey', 'status', 32);
  return o as NodeStatus;
}

/** Check an identity. Throws ClientError('MALFORMED_RESPONSE'). */
export function parseIdentity(x: unknown, what = 'identity'): Identity {
  const o = objectAt(x, what);
  hexAt(o, 'id', what, 20);
  hexAt(o, 'encryptionKey', what, 32);
  return o as unknown as Identity;
}

/** Check `GET /v1/accounts/:publicKey`. Throws ClientError('MALFORMED_RESPONSE'). */
export function parseAccount(x: unknown): Account {
  const o = objectAt(x, 'account');
  integerAt(o, 'nextNonce', 'account');
  if (o.identity !== null && o.identity !== undefined) parseIdentity(o.identity, 'account.identity');
  return { ...(o as unknown as Account), identity: (o.identity ?? null) as Identity | null };
}

/** Check `POST /v1/auth/session`. Throws ClientError('MALFORMED_RESPONSE'). */
export function parseSession(x: unknown): Session {
  const o = objectAt(x, 'session');
  stringAt(o, 'token', 'session');
  return o as unknown as Session;
}

/** Check one recipient of a new record. Throws ClientError('MALFORMED_RESPONSE'). */
export function parseRecipient(x: unknown): Recipient {
  const o = objectAt(x, 'recipient');
  const to = stringAt(o, 'to', 'recipient');
  if (to !== 'emergency' && !isHex(to, 20)) malformed('recipient.to', "an identity id or 'emergency'");
  return { to, encryptionKey: hexAt(o, 'encryptionKey', 'recipient', 32), why: typeof o.why === 'string' ? o.why : '' };
}

/** Check one delegation. Throws ClientError('MALFORMED_RESPONSE'). */
export function parseDelegation(x: unknown): Delegation {
  const o = objectAt(x, 'delegation');
  hexAt(o, 'patient', 'delegation', 20);
  hexAt(o, 'delegate', 'delegation', 20);
  if (o.status !== 'pending' && o.status !== 'accepted') malformed('delegation.status', "'pending' or 'accepted'");
  return o as unknown as Delegation;
}

/** Check a record's metadata. Throws ClientError('MALFORMED_RESPONSE'). */
export function parseRecordMeta(x: unknown): RecordMeta {
  const o = objectAt(x, 'record');
  hexAt(o, 'record', 'record', 16);
  hexAt(o, 'patient', 'record', 20);
  hexAt(o, 'contentHash', 'record', 32);
  stringAt(o, 'category', 'record');
  stringAt(o, 'resourceType', 'record');
  return o as RecordMeta;
}

/** Check one grant of a listing. Throws ClientError('MALFORMED_RESPONSE'). */
export function parseGrant(x: unknown): Grant {
  const o = objectAt(x, 'grant');
  hexAt(o, 'id', 'grant', 16);
  hexAt(o, 'patient', 'grant', 20);
  hexAt(o, 'grantee', 'grant', 20);
  objectAt(o.scope, 'grant.scope');
  return o as unknown as Grant;
}

/** Check `GET /v1/records/:id`. Throws ClientError('MALFORMED_RESPONSE'). */
export function parseRecordRead(x: unknown): RecordReadAnswer {
  const o = objectAt(x, 'answer');
  const envelopeFor = o.envelopeFor;
  if (envelopeFor !== undefined && typeof envelopeFor !== 'string') malformed('answer.envelopeFor', 'a string');
  return {
    record: parseRecordMeta(o.record),
    ciphertext: stringAt(o, 'ciphertext', 'answer'),
    envelope: o.envelope,
    ...(envelopeFor === undefined ? {} : { envelopeFor }),
    ...(o.event === undefined ? {} : { event: o.event }),
  };
}

/** Check a committed transaction's status answer. Throws ClientError('MALFORMED_RESPONSE'). */
export function parseInclusion(o: Record<string, unknown>): TxInclusion {
  const proof = objectAt(o.proof, 'tx.proof');
  const path = arrayAt(proof, 'path', 'tx.proof');
  if (!path.every((p) => isHex(p, 32))) malformed('tx.proof.path', 'an array of 32-byte hex hashes');
  return {
    height: integerAt(o, 'height', 'tx'),
    index: integerAt(o, 'index', 'tx'),
    blockHash: hexAt(o, 'blockHash', 'tx', 32),
    proof: {
      leafIndex: integerAt(proof, 'leafIndex', 'tx.proof'),
      treeSize: integerAt(proof, 'treeSize', 'tx.proof'),
      root: hexAt(proof, 'root', 'tx.proof', 32),
      path: path as string[],
    },
  };
}

/** Decode standard base64 (RFC 4648 §4). Throws ClientError('MALFORMED_RESPONSE') naming `what`. */
export function decodeBase64(s: string, what: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) malformed(what, 'base64');
  const binary = atob(s);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
