// Record anchors (DESIGN §7): a record's ciphertext and key envelopes live in the vault;
// the chain holds their hashes, who wrote the record for whom, and who may open it.
import type { SignedTx } from '@medledger/ledger';
import {
  arrayField,
  type Body,
  CATEGORY_RE,
  hex16Field,
  hex32Field,
  idField,
  intField,
  itemObject,
  onlyFields,
  optional,
  RESOURCE_TYPE_RE,
  stringField,
} from './body.js';
import { EhrError } from './errors.js';
import { activeIdentity, activeSigner, type Identity } from './identity.js';
import type { TxContext, TxKind } from './kinds.js';
import { claimObject, releaseObject } from './objects.js';
import { getRecord, mayWrite, type RecordMeta, requirePatientOrDelegate } from './policy.js';
import { requireAllowedRecipient, requireExactRecipients } from './recipients.js';
import { keys, type StateOverlay, type StateReader, writeJson } from './state.js';

/** Largest record ciphertext a node accepts. */
export const MAX_RECORD_BYTES = 4 * 1024 * 1024;
/** Most key envelopes on one anchor. */
export const MAX_ANCHOR_ENVELOPES = 64;
/** Most envelopes in one share (or grant, or delegate) transaction. */
export const MAX_SHARE_ENVELOPES = 500;
/** Recipient label of the envelope sealed to the patient's emergency key. */
export const EMERGENCY_RECIPIENT = 'emergency';

function recipientField(b: Body, field: string): string {
  return b[field] === EMERGENCY_RECIPIENT ? EMERGENCY_RECIPIENT : idField(b, field);
}

function storeRecord(state: StateOverlay, record: RecordMeta): void {
  writeJson(state, keys.record(record.id), record);
}

/** The patient of an existing, not erased record that `actor` manages. */
function managedRecord(state: StateReader, actor: Identity, id: string): RecordMeta {
  const record = getRecord(state, id);
  if (record === undefined) throw new EhrError('NOT_FOUND', `no record ${id}`);
  requirePatientOrDelegate(state, actor, record.patient);
  if (record.erased !== null) throw new EhrError('RECORD_ERASED', `record ${id} has been erased`);
  return record;
}

/** The fields of a new record's anchor, as checked from a transaction body. */
export interface NewRecordAnchor {
  id: string;
  patient: string;
  resourceType: string;
  category: string;
  contentHash: string;
  size: number;
  envelopes: Array<{ to: string; hash: string }>;
  supersedes: string | null;
}

/** The ciphertext and key envelope fields every anchor carries (record.anchor, and the record a dispense writes). */
export function anchorObjectFields(b: Body): Pick<NewRecordAnchor, 'contentHash' | 'size' | 'envelopes'> {
  return {
    contentHash: hex32Field(b, 'contentHash'),
    size: intField(b, 'size', MAX_RECORD_BYTES),
    envelopes: arrayField(b, 'envelopes', MAX_ANCHOR_ENVELOPES, (x, path) => {
      const e = itemObject(x, path, ['to', 'hash']);
      return { to: recipientField(e, 'to'), hash: hex32Field(e, 'hash') };
    }),
  };
}

/**
 * Anchor a new record written by `author` (one path for record.anchor and for the
 * MedicationDispense a dispense writes): the id is fresh, the patient active, the envelopes
 * exactly the required recipients plus the author, every object claimed by this record alone.
 * `mayAuthor` is the caller's write authorization: a consent or staff rule for record.anchor,
 * the prescription held by the pharmacy for a dispense.
 */
export function anchorNewRecord(
  ctx: TxContext,
  state: StateOverlay,
  author: Identity,
  r: NewRecordAnchor,
  mayAuthor: () => boolean,
): RecordMeta {
  if (getRecord(state, r.id) !== undefined) throw new EhrError('RECORD_EXISTS', `record ${r.id} already exists`);
  const patient = activeIdentity(state, r.patient, 'patient');
  if (patient.role !== 'patient') throw new EhrError('INVALID_BODY', `body.patient ${r.patient} is not a patient`);
  if (!mayAuthor()) throw new EhrError('UNAUTHORIZED', 'the author holds no write access covering this record');
  const byRecipient: Record<string, string> = {};
  for (const e of r.envelopes) {
    if (byRecipient[e.to] !== undefined) throw new EhrError('INVALID_BODY', `body.envelopes names ${e.to} twice`);
    byRecipient[e.to] = e.hash;
  }
  const target = { id: r.id, category: r.category, resourceType: r.resourceType };
  requireExactRecipients(
    state,
    patient,
    author.id,
    target,
    ctx.time,
    r.envelopes.map((e) => e.to),
  );
  if (r.supersedes !== null) {
    const prior = getRecord(state, r.supersedes);
    if (prior === undefined || prior.patient !== r.patient)
      throw new EhrError('INVALID_BODY', 'body.supersedes is not a record of this patient');
    if (prior.erased !== null) throw new EhrError('RECORD_ERASED', `record ${r.supersedes} has been erased`);
    if (prior.supersededBy !== null) throw new EhrError('INVALID_BODY', `record ${r.supersedes} was already superseded`);
    if (!mayWrite(state, author, r.patient, prior, ctx.time))
      throw new EhrError('UNAUTHORIZED', 'the author may not write the superseded record');
    storeRecord(state, { ...prior, supersededBy: r.id });
  }
  for (const hash of [r.contentHash, ...Object.values(byRecipient)]) claimObject(state, hash, r.id);
  const record: RecordMeta = {
    id: r.id,
    patient: r.patient,
    author: author.id,
    resourceType: r.resourceType,
    category: r.category,
    contentHash: r.contentHash,
    size: r.size,
    envelopes: byRecipient,
    supersedes: r.supersedes,
    supersededBy: null,
    anchoredAt: { height: ctx.height, time: ctx.time },
    erased: null,
  };
  storeRecord(state, record);
  state.set(keys.patientRecord(r.patient, r.id), '');
  // The patient's dense list of records, in anchor order (proven complete to the patient: docs/records.md).
  const n = Number(state.getState(keys.recordCount(r.patient)) ?? '0');
  state.set(keys.recordIndex(r.patient, n), r.id);
  state.set(keys.recordCount(r.patient), String(n + 1));
  return record;
}

export const recordAnchor: TxKind = {
  apply(ctx: TxContext, tx: SignedTx, state: StateOverlay) {
    const b = onlyFields(tx.body, 'record.anchor', [
      'record',
      'patient',
      'resourceType',
      'category',
      'contentHash',
      'size',
      'envelopes',
      'supersedes',
    ]);
    const r: NewRecordAnchor = {
      id: hex16Field(b, 'record'),
      patient: idField(b, 'patient'),
      resourceType: stringField(b, 'resourceType', RESOURCE_TYPE_RE, 'a FHIR resource type name'),
      category: stringField(b, 'category', CATEGORY_RE, 'a lowercase category token'),
      ...anchorObjectFields(b),
      supersedes: optional(b, 'supersedes', hex16Field) ?? null,
    };
    const author = activeSigner(state, tx.signer);
    anchorNewRecord(ctx, state, author, r, () =>
      mayWrite(state, author, r.patient, { id: r.id, category: r.category, resourceType: r.resourceType }, ctx.time),
    );
  },
};

/** `{record, hash}` items sealing existing records' keys to one recipient (grant, delegate). */
export function parseRecordEnvelopes(b: Body): Array<{ record: string; hash: string }> {
  if (b.envelopes === undefined) return [];
  return arrayField(b, 'envelopes', MAX_SHARE_ENVELOPES, (x, path) => {
    const e = itemObject(x, path, ['record', 'hash']);
    return { record: hex16Field(e, 'record'), hash: hex32Field(e, 'hash') };
  });
}

/**
 * Add envelopes to existing records for `to`, after checking `actor` manages each and
 * `covers` allows it and `to` may hold the key (recipients.ts). Used by record.share and consent.grant.
 * Each new hash becomes the record's own (OBJECT_IN_USE if anything ever named it); an
 * envelope it replaces is released, so nodes delete it. One (record, recipient) pair per
 * transaction: a repeat would only churn objects.
 */
export function addEnvelopes(
  state: StateOverlay,
  actor: Identity,
  time: number,
  items: ReadonlyArray<{ record: string; to: string; hash: string }>,
  covers: (record: RecordMeta) => boolean = () => true,
): void {
  const seen = new Set<string>();
  for (const item of items) {
    const pair = `${item.record}/${item.to}`;
    if (seen.has(pair)) throw new EhrError('INVALID_BODY', `body.envelopes names record ${item.record} for ${item.to} twice`);
    seen.add(pair);
    const record = managedRecord(state, actor, item.record);
    if (!covers(record)) throw new EhrError('INVALID_BODY', `record ${item.record} is outside the grant's scope`);
    const patient = activeIdentity(state, record.patient, 'patient');
    requireAllowedRecipient(state, patient, record, item.to, time);
    claimObject(state, item.hash, record.id);
    const replaced = record.envelopes[item.to];
    if (replaced !== undefined) releaseObject(state, replaced, record.id);
    storeRecord(state, { ...record, envelopes: { ...record.envelopes, [item.to]: item.hash } });
  }
}

export const recordShare: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'record.share', ['envelopes']);
    const items = arrayField(b, 'envelopes', MAX_SHARE_ENVELOPES, (x, path) => {
      const e = itemObject(x, path, ['record', 'to', 'hash']);
      return { record: hex16Field(e, 'record'), to: recipientField(e, 'to'), hash: hex32Field(e, 'hash') };
    });
    addEnvelopes(state, activeSigner(state, tx.signer), ctx.time, items);
  },
};

export const recordErase: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'record.erase', ['record']);
    const id = hex16Field(b, 'record');
    const actor = activeSigner(state, tx.signer);
    const record = managedRecord(state, actor, id);
    // Only what this record owns is deleted: nothing another record names can go with it.
    for (const hash of recordObjectHashes(record)) releaseObject(state, hash, id);
    storeRecord(state, { ...record, erased: { height: ctx.height, time: ctx.time, by: actor.id } });
  },
};

/** Every vault object hash a record refers to: its ciphertext and each envelope. */
export function recordObjectHashes(record: RecordMeta): string[] {
  return [record.contentHash, ...Object.values(record.envelopes)];
}
