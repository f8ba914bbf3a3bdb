// Consent (DESIGN §7): a patient (or their delegate) grants, scopes, time-limits and
// revokes access, and names delegates who act for them.
import { txHash } from '@medledger/ledger';
import {
  type Body,
  CATEGORY_RE,
  enumField,
  hex16Field,
  idField,
  intField,
  itemObject,
  onlyFields,
  optional,
  RESOURCE_TYPE_RE,
} from './body.js';
import { EhrError } from './errors.js';
import { activeIdentity, activeSigner } from './identity.js';
import type { TxKind } from './kinds.js';
import { type Grant, type GrantScope, getGrant, grantCoversRecord, PURPOSES, requirePatientOrDelegate } from './policy.js';
import { addEnvelopes, parseRecordEnvelopes } from './records.js';
import { keys, readJson, writeJson } from './state.js';

const MAX_SCOPE_ITEMS = 64;

function scopeList(s: Body, field: string, check: (v: unknown) => boolean, expected: string): string[] {
  const v = s[field];
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > MAX_SCOPE_ITEMS || !v.every(check)) {
    throw new EhrError('INVALID_BODY', `body.scope.${field} must be an array of at most ${MAX_SCOPE_ITEMS} ${expected}`);
  }
  return [...new Set(v as string[])].sort();
}

function parseScope(b: Body): GrantScope {
  const s = itemObject(b.scope, 'scope', ['categories', 'resourceTypes', 'records']);
  const isStr = (re: RegExp) => (x: unknown) => typeof x === 'string' && re.test(x);
  const scope = {
    categories: scopeList(s, 'categories', isStr(CATEGORY_RE), 'category tokens'),
    resourceTypes: scopeList(s, 'resourceTypes', isStr(RESOURCE_TYPE_RE), 'FHIR resource types'),
    records: scopeList(s, 'records', isStr(/^[0-9a-f]{32}$/), 'record ids'),
  };
  if (scope.categories.length + scope.resourceTypes.length + scope.records.length === 0) {
    throw new EhrError('INVALID_BODY', 'body.scope must list at least one category, resource type or record');
  }
  return scope;
}

export const consentGrant: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'consent.grant', ['patient', 'grantee', 'scope', 'access', 'purpose', 'expiresAt', 'envelopes']);
    const patient = idField(b, 'patient');
    const granteeId = idField(b, 'grantee');
    const scope = parseScope(b);
    const access = enumField(b, 'access', ['read', 'read-write'] as const);
    const purpose = enumField(b, 'purpose', PURPOSES);
    const expiresAt = optional(b, 'expiresAt', intField) ?? null;
    const envelopes = parseRecordEnvelopes(b);

    const actor = activeSigner(state, tx.signer);
    requirePatientOrDelegate(state, actor, patient);
    if (activeIdentity(state, patient, 'patient').role !== 'patient') throw new EhrError('INVALID_BODY', 'body.patient is not a patient');
    if (granteeId === patient) throw new EhrError('INVALID_BODY', 'a patient does not grant access to themself');
    activeIdentity(state, granteeId, 'grantee');
    if (expiresAt !== null && expiresAt <= ctx.time) throw new EhrError('INVALID_BODY', 'body.expiresAt is not after the block time');

    const grant: Grant = {
      id: txHash(tx).slice(0, 32),
      patient,
      grantee: granteeId,
      scope,
      access,
      purpose,
      expiresAt,
      grantedBy: actor.id,
      grantedAt: { height: ctx.height, time: ctx.time },
      revoked: null,
    };
    writeJson(state, keys.grant(grant.id), grant);
    const grantees = readJson<string[]>(state, keys.grantees(patient)) ?? [];
    if (!grantees.includes(granteeId)) writeJson(state, keys.grantees(patient), [...grantees, granteeId].sort());
    const list = readJson<string[]>(state, keys.grantsOf(patient, granteeId)) ?? [];
    writeJson(state, keys.grantsOf(patient, granteeId), [...list, grant.id]);
    state.set(keys.sharedWith(granteeId, patient), '');
    addEnvelopes(
      state,
      actor,
      ctx.time,
      envelopes.map((e) => ({ ...e, to: granteeId })),
      (record) => record.patient === patient && grantCoversRecord(grant, record),
    );
  },
};

export const consentRevoke: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'consent.revoke', ['grant']);
    const id = hex16Field(b, 'grant');
    const actor = activeSigner(state, tx.signer);
    const grant = getGrant(state, id);
    if (grant === undefined) throw new EhrError('NOT_FOUND', `no grant ${id}`);
    requirePatientOrDelegate(state, actor, grant.patient);
    if (grant.revoked !== null) throw new EhrError('GRANT_INACTIVE', `grant ${id} is already revoked`);
    writeJson(state, keys.grant(id), { ...grant, revoked: { height: ctx.height, time: ctx.time, by: actor.id } });
  },
};
