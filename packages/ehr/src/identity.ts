// Identities (DESIGN §3): participants, their roles, and the ids derived from their keys.
import { idFromPublicKey } from '@medledger/crypto';
import type { Genesis } from '@medledger/ledger';
import { encryptionKeyField } from './body.js';
import { EhrError } from './errors.js';
import { keys, readJson, type StateOverlay, type StateReader } from './state.js';

/** Every role a participant can hold (DESIGN §3). */
export const ROLES = [
  'patient',
  'clinician',
  'organization',
  'insurer',
  'pharmacy',
  'manufacturer',
  'distributor',
  'regulator',
  'researcher',
  'device',
  'validator',
  'privacy-officer',
  'auditor',
] as const;
export type Role = (typeof ROLES)[number];

/** A registered participant as kept in state. Patients carry no name or MRN. */
export interface Identity {
  id: string;
  role: Role;
  /** Current Ed25519 signing key. */
  publicKey: string;
  /** X25519 key that records' data keys are sealed to. */
  encryptionKey: string;
  /** Display name; only for institutions and validators, never for patients. */
  name?: string;
  /** Organization kind (hospital, clinic, insurer, …) for organizations. */
  orgKind?: string;
  /** For staff: the id of the organization that registered them. */
  org?: string;
  /** For patients: the X25519 public key every record's data key is also sealed to (emergency access). */
  emergencyKey?: string;
  registeredAt: { height: number; time: number };
  /** 'suspended': an organization suspended by governance (docs/governance.md); it may be reinstated. */
  status: 'active' | 'suspended' | 'revoked';
}

const ORG_KIND_ROLES: Record<string, Role> = {
  insurer: 'insurer',
  pharmacy: 'pharmacy',
  manufacturer: 'manufacturer',
  distributor: 'distributor',
  regulator: 'regulator',
};

/** The role an organization of `kind` holds: insurers, pharmacies and the like their own, the rest 'organization'. */
export function roleOfOrgKind(kind: string): Role {
  return ORG_KIND_ROLES[kind] ?? 'organization';
}

/** Look up an identity by id. */
export function getIdentity(state: StateReader, id: string): Identity | undefined {
  return readJson<Identity>(state, keys.identity(id));
}

/** Look up the identity a signing key currently belongs to. */
export function identityOfKey(state: StateReader, publicKey: string): Identity | undefined {
  const id = state.getState(keys.signingKey(publicKey));
  return id === undefined ? undefined : getIdentity(state, id);
}

/** True for a founding organization's admin identity (only those register staff). */
export function isOrganization(identity: Identity): boolean {
  return identity.orgKind !== undefined;
}

/**
 * The active identity a transaction's signer key belongs to. Throws UNKNOWN_SIGNER for an
 * unregistered (or rotated-away) key and REVOKED for a revoked identity.
 */
export function activeSigner(state: StateReader, publicKey: string): Identity {
  const identity = identityOfKey(state, publicKey);
  if (identity === undefined) throw new EhrError('UNKNOWN_SIGNER', 'the signing key is not a registered identity');
  const reason = inactiveReason(state, identity);
  if (reason !== undefined) throw new EhrError('REVOKED', reason);
  return identity;
}

/**
 * Why `identity` may not act now, or undefined when it may: its own status, or, for staff,
 * their organization's (staff act for it: while governance has it suspended or removed,
 * they neither sign nor sign in). The one rule transactions and sessions both apply.
 */
export function inactiveReason(state: StateReader, identity: Identity): string | undefined {
  if (identity.status !== 'active') return `identity ${identity.id} is ${identity.status}`;
  if (identity.org === undefined) return undefined;
  const org = getIdentity(state, identity.org);
  return org !== undefined && org.status !== 'active' ? `organization ${org.id} is ${org.status}` : undefined;
}

/** An active identity by id, or throws NOT_FOUND naming `what`. */
export function activeIdentity(state: StateReader, id: string, what: string): Identity {
  const identity = getIdentity(state, id);
  if (identity === undefined || identity.status !== 'active') throw new EhrError('NOT_FOUND', `${what} ${id} is not an active identity`);
  return identity;
}

/** Store an identity and index its signing key. */
export function putIdentity(state: StateOverlay, identity: Identity): void {
  state.set(keys.identity(identity.id), JSON.stringify(identity));
  state.set(keys.signingKey(identity.publicKey), identity.id);
}

/** The founding organizations and validators of genesis, as identities at height 0. */
export function genesisIdentities(genesis: Genesis): Identity[] {
  const at = { height: 0, time: genesis.genesisTime };
  const orgs = genesis.organizations.map<Identity>((o) => ({
    id: idFromPublicKey(o.adminKey),
    role: roleOfOrgKind(o.kind),
    publicKey: o.adminKey,
    encryptionKey: o.adminEncryptionKey,
    name: o.name,
    orgKind: o.kind,
    registeredAt: at,
    status: 'active',
  }));
  const validators = genesis.validators.map<Identity>((v) => ({
    id: idFromPublicKey(v.publicKey),
    role: 'validator',
    publicKey: v.publicKey,
    encryptionKey: v.encryptionKey,
    name: v.name,
    registeredAt: at,
    status: 'active',
  }));
  return [...orgs, ...validators];
}

/** Body of `identity.register`: a patient registers themself, pseudonymously. */
export interface RegisterBody {
  role: 'patient';
  encryptionKey: string;
  emergencyKey?: string;
}

/**
 * Check an `identity.register` body. Only `role` and `encryptionKey` are accepted, so a
 * name, MRN or any other identifying field is refused rather than written on chain.
 */
export function parseRegisterBody(body: Record<string, unknown>): RegisterBody {
  const allowed = new Set(['role', 'encryptionKey', 'emergencyKey']);
  for (const k of Object.keys(body)) {
    if (!allowed.has(k)) throw new EhrError('INVALID_BODY', `body.${k} is not accepted by identity.register`);
  }
  if (body.role !== 'patient') throw new EhrError('INVALID_BODY', "body.role must be 'patient'");
  const encryptionKey = encryptionKeyField(body, 'encryptionKey');
  if (body.emergencyKey === undefined) return { role: 'patient', encryptionKey };
  return { role: 'patient', encryptionKey, emergencyKey: encryptionKeyField(body, 'emergencyKey') };
}
