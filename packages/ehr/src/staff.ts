// Staff and keys (DESIGN §3): organizations register and revoke their staff; any identity
// rotates its signing key, proving it holds the new one.

import { concatBytes, idFromPublicKey, isWeakSigningKey, utf8, verifyEd25519 } from '@medledger/crypto';
import { canonicalBytes, type SignedTx } from '@medledger/ledger';
import { encryptionKeyField, enumField, hex32Field, onlyFields, optional, stringField } from './body.js';
import { EhrError } from './errors.js';
import { activeSigner, getIdentity, identityOfKey, isOrganization, putIdentity } from './identity.js';
import type { TxKind } from './kinds.js';
import { keys } from './state.js';

/** Roles an organization may give its staff. */
export const STAFF_ROLES = ['clinician', 'pharmacy', 'insurer', 'researcher', 'privacy-officer', 'device', 'auditor'] as const;

/** Domain of the new key's proof in `identity.rotate`. */
export const ROTATE_DOMAIN = 'medledger/rotate/v1\n';

/** Bytes the new key signs to prove possession: the domain, then JCS of {chain, id, newPublicKey}. */
export function rotateProofBytes(chain: string, id: string, newPublicKey: string): Uint8Array {
  return concatBytes(utf8(ROTATE_DOMAIN), canonicalBytes({ chain, id, newPublicKey }));
}

function requireFreshKey(state: Parameters<TxKind['apply']>[2], publicKey: string): void {
  if (isWeakSigningKey(publicKey)) throw new EhrError('WEAK_KEY', 'this signing key is of small order and cannot be registered');
  if (identityOfKey(state, publicKey) !== undefined || getIdentity(state, idFromPublicKey(publicKey)) !== undefined) {
    throw new EhrError('ALREADY_REGISTERED', 'this signing key is already registered');
  }
}

export const staffRegister: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'staff.register', ['publicKey', 'encryptionKey', 'role', 'name']);
    const publicKey = hex32Field(b, 'publicKey');
    const encryptionKey = encryptionKeyField(b, 'encryptionKey');
    const role = enumField(b, 'role', STAFF_ROLES);
    const name = optional(b, 'name', (x, f) => stringField(x, f, /^[\p{L}\p{N} .,'()-]{1,100}$/u, 'a name of 1–100 characters'));
    const org = activeSigner(state, tx.signer);
    if (!isOrganization(org)) throw new EhrError('UNAUTHORIZED', 'only an organization registers staff');
    requireFreshKey(state, publicKey);
    const id = idFromPublicKey(publicKey);
    putIdentity(state, {
      id,
      role,
      publicKey,
      encryptionKey,
      ...(name === undefined ? {} : { name }),
      org: org.id,
      registeredAt: { height: ctx.height, time: ctx.time },
      status: 'active',
    });
    state.set(keys.staff(org.id, id), '');
  },
};

export const staffRevoke: TxKind = {
  apply(_ctx, tx, state) {
    const b = onlyFields(tx.body, 'staff.revoke', ['id']);
    const id = stringField(b, 'id', /^[0-9a-f]{40}$/, 'a 20-byte hex identity id');
    const org = activeSigner(state, tx.signer);
    const member = getIdentity(state, id);
    if (member === undefined || member.org !== org.id)
      throw new EhrError('UNAUTHORIZED', `identity ${id} is not staff of this organization`);
    if (member.status !== 'active') throw new EhrError('REVOKED', `identity ${id} is already revoked`);
    putIdentity(state, { ...member, status: 'revoked' });
  },
};

export const identityRotate: TxKind = {
  apply(ctx: Parameters<TxKind['apply']>[0], tx: SignedTx, state) {
    const b = onlyFields(tx.body, 'identity.rotate', ['newPublicKey', 'proof', 'encryptionKey']);
    const newPublicKey = hex32Field(b, 'newPublicKey');
    const proof = stringField(b, 'proof', /^[0-9a-f]{128}$/, 'a 64-byte hex signature');
    const encryptionKey = optional(b, 'encryptionKey', encryptionKeyField);
    const identity = activeSigner(state, tx.signer);
    // A validator's signing key is also its consensus key in the validator set: moving only the
    // identity would leave the set signing with a key no identity holds, so its equivocation
    // evidence would name no validator and be dropped. Validators rotate by governance
    // (`validator.rotate`), which moves both.
    if (identity.role === 'validator')
      throw new EhrError('UNAUTHORIZED', 'a validator rotates its key by a governance proposal (validator.rotate), not identity.rotate');
    requireFreshKey(state, newPublicKey);
    if (!verifyEd25519(newPublicKey, rotateProofBytes(ctx.chainId, identity.id, newPublicKey), proof)) {
      throw new EhrError('BAD_SIGNATURE', 'body.proof is not the new key’s signature');
    }
    state.delete(keys.signingKey(identity.publicKey));
    putIdentity(state, { ...identity, publicKey: newPublicKey, ...(encryptionKey === undefined ? {} : { encryptionKey }) });
  },
};
