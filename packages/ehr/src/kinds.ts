// The transaction kinds the application understands, each a body parser plus a rule.
import { idFromPublicKey, isWeakSigningKey } from '@medledger/crypto';
import type { SignedTx } from '@medledger/ledger';
import { accessEvent } from './access.js';
import { consentGrant, consentRevoke } from './consent.js';
import { delegateAccept, delegateRemove, delegateSet } from './delegates.js';
import { type EmergencyParams, emergencyAccess, emergencyPrivilege, emergencyRewrap, emergencyShare, emergencySplit } from './emergency.js';
import { emergencyClose } from './emergency-close.js';
import { emergencyReshare } from './emergency-reshare.js';
import { EhrError } from './errors.js';
import { evidenceEquivocation } from './evidence.js';
import { govPropose, govVote } from './governance-kinds.js';
import { getIdentity, identityOfKey, parseRegisterBody, putIdentity } from './identity.js';
import { INSURANCE_KINDS } from './insurance/kinds.js';
import { MEDICINES_KINDS } from './medicines/kinds.js';
import { recordAnchor, recordErase, recordShare } from './records.js';
import { identityRotate, staffRegister, staffRevoke } from './staff.js';
import type { StateOverlay } from './state.js';

/** What a rule may know about where it runs: block height and block time, never a wall clock. */
export interface TxContext {
  chainId: string;
  height: number;
  /** Block time (ms since epoch) of the block being applied. */
  time: number;
  /** The validators and window cap from genesis; without it emergency kinds are refused. */
  emergency?: EmergencyParams;
}

/** A transaction kind: `apply` checks the body against state and writes its effects, or throws EhrError. */
export interface TxKind {
  apply(ctx: TxContext, tx: SignedTx, state: StateOverlay): void;
}

const identityRegister: TxKind = {
  apply(ctx, tx, state) {
    const body = parseRegisterBody(tx.body as Record<string, unknown>);
    // A small-order key verifies one fixed signature for every message: anyone could act as it.
    if (isWeakSigningKey(tx.signer)) throw new EhrError('WEAK_KEY', 'this signing key is of small order and cannot be registered');
    const id = idFromPublicKey(tx.signer);
    if (getIdentity(state, id) !== undefined || identityOfKey(state, tx.signer) !== undefined) {
      throw new EhrError('ALREADY_REGISTERED', `identity ${id} is already registered`);
    }
    putIdentity(state, {
      id,
      role: body.role,
      publicKey: tx.signer,
      encryptionKey: body.encryptionKey,
      ...(body.emergencyKey === undefined ? {} : { emergencyKey: body.emergencyKey }),
      registeredAt: { height: ctx.height, time: ctx.time },
      status: 'active',
    });
  },
};

/** Registry of every transaction kind, by name. */
export const TX_KINDS: ReadonlyMap<string, TxKind> = new Map([
  ['identity.register', identityRegister],
  ['evidence.equivocation', evidenceEquivocation],
  ['staff.register', staffRegister],
  ['staff.revoke', staffRevoke],
  ['identity.rotate', identityRotate],
  ['record.anchor', recordAnchor],
  ['record.share', recordShare],
  ['record.erase', recordErase],
  ['consent.grant', consentGrant],
  ['consent.revoke', consentRevoke],
  ['delegate.set', delegateSet],
  ['delegate.accept', delegateAccept],
  ['delegate.remove', delegateRemove],
  ['access.event', accessEvent],
  ['emergency.split', emergencySplit],
  ['emergency.rewrap', emergencyRewrap],
  ['emergency.privilege', emergencyPrivilege],
  ['emergency.access', emergencyAccess],
  ['emergency.share', emergencyShare],
  ['emergency.close', emergencyClose],
  ['emergency.reshare', emergencyReshare],
  ['gov.propose', govPropose],
  ['gov.vote', govVote],
  ...INSURANCE_KINDS,
  ...MEDICINES_KINDS,
]);
