// What each kind of governance proposal asks for: the body check (once, when proposed) and
// the effect (when it passes). The effect's checks run twice: as a dry run when proposed, so
// a proposal that could never apply is refused up front, and again when it passes, against
// the state of that block (a proposal that no longer applies is recorded as 'failed').
import { idFromPublicKey, isWeakSigningKey, verifyEd25519 } from '@medledger/crypto';
import { type Body, encryptionKeyField, enumField, hex32Field, idField, intField, onlyFields, optional, stringField } from './body.js';
import { EhrError } from './errors.js';
import {
  GOV_PARAM_NAMES,
  GOV_PARAMS,
  type GovAction,
  type GovParamName,
  govParams,
  latestValidatorSet,
  members,
  setMembers,
  VALSET_DELAY,
  type ValidatorEntry,
  type ValidatorSetChange,
} from './governance.js';
import { getIdentity, identityOfKey, isOrganization, putIdentity, roleOfOrgKind } from './identity.js';
import type { TxContext } from './kinds.js';
import { rotateProofBytes } from './staff.js';
import { keys, type StateOverlay, writeJson } from './state.js';

export const GOV_ACTION_TYPES = [
  'org.admit',
  'org.suspend',
  'org.reinstate',
  'org.remove',
  'validator.add',
  'validator.remove',
  'validator.power',
  'validator.rotate',
  'param.set',
  'rule.set',
] as const;

/** Organization kinds a proposal may admit (genesis uses the same words). */
export const ORG_KINDS = ['hospital', 'clinic', 'lab', 'insurer', 'pharmacy', 'manufacturer', 'distributor', 'regulator'] as const;

/** Largest voting power one validator may hold, so sums stay far from unsafe integers. */
export const MAX_VOTING_POWER = 1_000_000;

const NAME_RE = /^[\p{L}\p{N} .,'()&-]{1,100}$/u;
const NAME_EXPECTED = "a name of 1–100 letters, digits, spaces or .,'()&-";

/** Check `body.action` of a `gov.propose`. Throws EhrError INVALID_BODY naming the field. */
export function parseGovAction(raw: unknown): GovAction {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new EhrError('INVALID_BODY', 'body.action must be an object');
  const type = enumField(raw as Body, 'type', GOV_ACTION_TYPES);
  const only = (fields: string[]) => onlyFields(raw, `a ${type} proposal`, ['type', ...fields]);
  const power = (b: Body) => {
    const p = intField(b, 'power', MAX_VOTING_POWER);
    if (p < 1) throw new EhrError('INVALID_BODY', `body.power must be an integer from 1 to ${MAX_VOTING_POWER}`);
    return p;
  };
  switch (type) {
    case 'org.admit': {
      const b = only(['kind', 'name', 'adminKey', 'adminEncryptionKey']);
      return {
        type,
        kind: enumField(b, 'kind', ORG_KINDS),
        name: stringField(b, 'name', NAME_RE, NAME_EXPECTED),
        adminKey: hex32Field(b, 'adminKey'),
        adminEncryptionKey: encryptionKeyField(b, 'adminEncryptionKey'),
      };
    }
    case 'org.suspend':
    case 'org.reinstate':
    case 'org.remove':
      return { type, org: idField(only(['org']), 'org') };
    case 'validator.add': {
      const b = only(['name', 'publicKey', 'encryptionKey', 'power']);
      return {
        type,
        name: stringField(b, 'name', NAME_RE, NAME_EXPECTED),
        publicKey: hex32Field(b, 'publicKey'),
        encryptionKey: encryptionKeyField(b, 'encryptionKey'),
        power: power(b),
      };
    }
    case 'validator.remove':
      return { type, validator: idField(only(['validator']), 'validator') };
    case 'validator.power': {
      const b = only(['validator', 'power']);
      return { type, validator: idField(b, 'validator'), power: power(b) };
    }
    case 'validator.rotate': {
      const b = only(['validator', 'newPublicKey', 'proof', 'encryptionKey']);
      const encryptionKey = optional(b, 'encryptionKey', encryptionKeyField);
      return {
        type,
        validator: idField(b, 'validator'),
        newPublicKey: hex32Field(b, 'newPublicKey'),
        proof: stringField(b, 'proof', /^[0-9a-f]{128}$/, 'a 64-byte hex signature'),
        ...(encryptionKey === undefined ? {} : { encryptionKey }),
      };
    }
    case 'param.set': {
      const b = only(['param', 'value']);
      const param = enumField(b, 'param', GOV_PARAM_NAMES);
      const { min, max } = GOV_PARAMS[param];
      const value = intField(b, 'value', max);
      if (value < min) throw new EhrError('INVALID_BODY', `body.value must be an integer from ${min} to ${max}`);
      return { type, param, value };
    }
    case 'rule.set': {
      const b = only(['numerator', 'denominator']);
      const denominator = intField(b, 'denominator', 100);
      const numerator = intField(b, 'numerator', 100);
      // At least half: a minority must never be able to pass anything; below one: a rule no vote can meet would freeze governance.
      if (denominator < 1 || 2 * numerator < denominator || numerator >= denominator)
        throw new EhrError('INVALID_BODY', 'the passing rule must be a fraction numerator/denominator from 1/2 up to but not including 1');
      return { type, numerator, denominator };
    }
  }
}

/** The genesis block limits: governance may lower them, never raise them (every verifier checks blocks against genesis). */
export interface GenesisLimits {
  maxBlockTxs: number;
  maxBlockBytes: number;
}

function freshKey(state: StateOverlay, publicKey: string, what: string): void {
  if (isWeakSigningKey(publicKey)) throw new EhrError('WEAK_KEY', `${what} is of small order and cannot be used`);
  if (identityOfKey(state, publicKey) !== undefined || getIdentity(state, idFromPublicKey(publicKey)) !== undefined)
    throw new EhrError('ALREADY_REGISTERED', `${what} is already registered`);
}

function memberOrg(state: StateOverlay, id: string) {
  const org = getIdentity(state, id);
  if (org === undefined || !isOrganization(org) || !members(state).includes(id))
    throw new EhrError('NOT_FOUND', `${id} is not a member organization`);
  return org;
}

/**
 * Refuse suspending or removing `org` when no other member would stay active: with no active
 * member nobody can propose or vote again (not even to reinstate), so governance would be
 * frozen for good — the members' counterpart of a validator set that cannot become empty.
 */
function requireAnotherActiveMember(state: StateOverlay, org: string): void {
  if (!members(state).some((id) => id !== org && getIdentity(state, id)?.status === 'active'))
    throw new EhrError('WRONG_STATE', `organization ${org} is the last active member; governance would have no one left to vote`);
}

function validatorIndex(set: readonly ValidatorEntry[], id: string): number {
  const i = set.findIndex((v) => v.id === id);
  if (i < 0) throw new EhrError('NOT_FOUND', `${id} is not in the validator set`);
  return i;
}

/**
 * Record a new validator set decided at this height, effective VALSET_DELAY blocks later.
 * Two changes passed in one block build on each other and share the effective height.
 */
function decideValidatorSet(ctx: TxContext, state: StateOverlay, proposal: number, validators: ValidatorEntry[]): number {
  if (validators.length === 0) throw new EhrError('INVALID_BODY', 'the validator set cannot become empty');
  const change: ValidatorSetChange = { effectiveHeight: ctx.height + VALSET_DELAY, decidedAt: ctx.height, proposal, validators };
  writeJson(state, keys.govValset(change.effectiveHeight), change);
  writeJson(state, keys.govValsetLatest(), change);
  return change.effectiveHeight;
}

/**
 * Apply a passed proposal's action to `state`. Returns the effective height of a validator-set
 * change. Throws EhrError when the action no longer applies (the org is gone, the key is taken,
 * a limit would pass genesis).
 */
export function applyGovAction(
  ctx: TxContext & { limits?: GenesisLimits },
  state: StateOverlay,
  proposal: number,
  action: GovAction,
): number | undefined {
  const at = { height: ctx.height, time: ctx.time };
  switch (action.type) {
    case 'org.admit': {
      freshKey(state, action.adminKey, 'the admin key');
      const id = idFromPublicKey(action.adminKey);
      putIdentity(state, {
        id,
        role: roleOfOrgKind(action.kind),
        publicKey: action.adminKey,
        encryptionKey: action.adminEncryptionKey,
        name: action.name,
        orgKind: action.kind,
        registeredAt: at,
        status: 'active',
      });
      setMembers(state, [...members(state), id]);
      return undefined;
    }
    case 'org.suspend': {
      const org = memberOrg(state, action.org);
      if (org.status !== 'active') throw new EhrError('WRONG_STATE', `organization ${org.id} is not active`);
      requireAnotherActiveMember(state, org.id);
      putIdentity(state, { ...org, status: 'suspended' });
      return undefined;
    }
    case 'org.reinstate': {
      const org = memberOrg(state, action.org);
      if (org.status !== 'suspended') throw new EhrError('WRONG_STATE', `organization ${org.id} is not suspended`);
      putIdentity(state, { ...org, status: 'active' });
      return undefined;
    }
    case 'org.remove': {
      const org = memberOrg(state, action.org);
      requireAnotherActiveMember(state, org.id);
      putIdentity(state, { ...org, status: 'revoked' });
      setMembers(
        state,
        members(state).filter((id) => id !== org.id),
      );
      return undefined;
    }
    case 'validator.add': {
      freshKey(state, action.publicKey, 'the validator key');
      const id = idFromPublicKey(action.publicKey);
      putIdentity(state, {
        id,
        role: 'validator',
        publicKey: action.publicKey,
        encryptionKey: action.encryptionKey,
        name: action.name,
        registeredAt: at,
        status: 'active',
      });
      const entry = { id, name: action.name, publicKey: action.publicKey, encryptionKey: action.encryptionKey, power: action.power };
      return decideValidatorSet(ctx, state, proposal, [...latestValidatorSet(state), entry]);
    }
    case 'validator.remove': {
      const set = latestValidatorSet(state);
      validatorIndex(set, action.validator);
      const next = set.filter((v) => v.id !== action.validator);
      const identity = getIdentity(state, action.validator);
      // A removed validator's key signs nothing on this chain any more (emergency shares included).
      if (identity !== undefined) putIdentity(state, { ...identity, status: 'revoked' });
      return decideValidatorSet(ctx, state, proposal, next);
    }
    case 'validator.power': {
      const set = latestValidatorSet(state);
      const i = validatorIndex(set, action.validator);
      return decideValidatorSet(
        ctx,
        state,
        proposal,
        set.map((v, j) => (j === i ? { ...v, power: action.power } : v)),
      );
    }
    case 'validator.rotate': {
      const set = latestValidatorSet(state);
      const i = validatorIndex(set, action.validator);
      freshKey(state, action.newPublicKey, 'the new validator key');
      // The new key signs the same possession proof as identity.rotate: it agrees to be this validator's key.
      if (!verifyEd25519(action.newPublicKey, rotateProofBytes(ctx.chainId, action.validator, action.newPublicKey), action.proof))
        throw new EhrError('BAD_SIGNATURE', 'action.proof is not the new key’s signature');
      const identity = getIdentity(state, action.validator);
      if (identity === undefined) throw new EhrError('NOT_FOUND', `validator identity ${action.validator} is not registered`);
      const encryptionKey = action.encryptionKey ?? identity.encryptionKey;
      state.delete(keys.signingKey(identity.publicKey));
      putIdentity(state, { ...identity, publicKey: action.newPublicKey, encryptionKey });
      return decideValidatorSet(
        ctx,
        state,
        proposal,
        set.map((v, j) => (j === i ? { ...v, publicKey: action.newPublicKey, encryptionKey } : v)),
      );
    }
    case 'param.set': {
      const limit = blockLimitOf(ctx.limits, action.param);
      if (limit !== undefined && action.value > limit)
        throw new EhrError('INVALID_BODY', `${action.param} may not pass its genesis value ${limit}`);
      writeJson(state, keys.govParams(), sortedParams({ ...govParams(state), [action.param]: action.value }));
      return undefined;
    }
    case 'rule.set':
      writeJson(state, keys.govRule(), { numerator: action.numerator, denominator: action.denominator });
      return undefined;
  }
}

function blockLimitOf(limits: GenesisLimits | undefined, param: GovParamName): number | undefined {
  if (param === 'maxBlockTxs') return limits?.maxBlockTxs;
  if (param === 'maxBlockBytes') return limits?.maxBlockBytes;
  return undefined;
}

/** Parameters in name order, so the stored JSON is the same bytes whatever order they were set in. */
function sortedParams(p: Record<string, number | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of Object.keys(p).sort()) if (p[name] !== undefined) out[name] = p[name];
  return out;
}
