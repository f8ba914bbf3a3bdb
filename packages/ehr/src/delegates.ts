// Delegates (DESIGN §7, docs/records.md "Delegates"): a patient names a delegate, who must
// accept before the delegation takes effect. Until then the delegate manages nothing, is no
// recipient of any record, and reads nothing.
import { idField, onlyFields } from './body.js';
import { EhrError } from './errors.js';
import { activeIdentity, activeSigner } from './identity.js';
import type { TxKind } from './kinds.js';
import { keys, readJson, type StateOverlay, type StateReader, writeJson } from './state.js';

/** A delegation as kept in state under `delegate/<patient>/<delegate>`. */
export interface Delegation {
  patient: string;
  delegate: string;
  status: 'pending' | 'accepted';
  invitedAt: { height: number; time: number };
  acceptedAt: { height: number; time: number } | null;
}

export function getDelegation(state: StateReader, patient: string, delegate: string): Delegation | undefined {
  return readJson<Delegation>(state, keys.delegate(patient, delegate));
}

/** The ids of a patient's accepted delegates, sorted (whatever their identity's status). */
export function acceptedDelegates(state: StateReader, patient: string): string[] {
  return readJson<string[]>(state, keys.acceptedDelegates(patient)) ?? [];
}

function setAccepted(state: StateOverlay, patient: string, ids: string[]): void {
  if (ids.length === 0) state.delete(keys.acceptedDelegates(patient));
  else writeJson(state, keys.acceptedDelegates(patient), [...ids].sort());
}

/**
 * `delegate.set` (patient): invite a delegate. The delegation stays pending until the
 * delegate signs `delegate.accept`; no envelopes travel with it, because the chain lets only
 * accepted delegates be recipients (records.md "Who a record is sealed to").
 */
export const delegateSet: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'delegate.set', ['delegate']);
    const delegate = idField(b, 'delegate');
    const patient = activeSigner(state, tx.signer);
    if (patient.role !== 'patient') throw new EhrError('UNAUTHORIZED', 'only a patient names their delegates');
    if (delegate === patient.id) throw new EhrError('INVALID_BODY', 'a patient is not their own delegate');
    activeIdentity(state, delegate, 'delegate');
    const existing = getDelegation(state, patient.id, delegate);
    if (existing !== undefined) {
      throw new EhrError(
        existing.status === 'pending' ? 'DELEGATE_PENDING' : 'DELEGATE_EXISTS',
        `${delegate} is already ${existing.status}`,
      );
    }
    writeJson(state, keys.delegate(patient.id, delegate), {
      patient: patient.id,
      delegate,
      status: 'pending',
      invitedAt: { height: ctx.height, time: ctx.time },
      acceptedAt: null,
    } satisfies Delegation);
    state.set(keys.delegating(delegate, patient.id), '');
  },
};

/** `delegate.accept` (the invited delegate): the delegation takes effect from this block. */
export const delegateAccept: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'delegate.accept', ['patient']);
    const patient = idField(b, 'patient');
    const delegate = activeSigner(state, tx.signer);
    const delegation = getDelegation(state, patient, delegate.id);
    if (delegation === undefined) throw new EhrError('NOT_FOUND', `patient ${patient} has not named you as a delegate`);
    if (delegation.status === 'accepted') throw new EhrError('DELEGATE_EXISTS', `you are already a delegate of ${patient}`);
    activeIdentity(state, patient, 'patient');
    writeJson(state, keys.delegate(patient, delegate.id), {
      ...delegation,
      status: 'accepted',
      acceptedAt: { height: ctx.height, time: ctx.time },
    } satisfies Delegation);
    setAccepted(state, patient, [...acceptedDelegates(state, patient), delegate.id]);
  },
};

/** `delegate.remove` (patient, or the delegate stepping down or declining): ends a delegation, pending or accepted. */
export const delegateRemove: TxKind = {
  apply(_ctx, tx, state) {
    const b = onlyFields(tx.body, 'delegate.remove', ['patient', 'delegate']);
    const patient = idField(b, 'patient');
    const delegate = idField(b, 'delegate');
    const actor = activeSigner(state, tx.signer);
    if (actor.id !== patient && actor.id !== delegate)
      throw new EhrError('UNAUTHORIZED', 'only the patient or the delegate removes a delegate');
    if (getDelegation(state, patient, delegate) === undefined)
      throw new EhrError('NOT_FOUND', `${delegate} is not a delegate of ${patient}`);
    state.delete(keys.delegate(patient, delegate));
    state.delete(keys.delegating(delegate, patient));
    setAccepted(
      state,
      patient,
      acceptedDelegates(state, patient).filter((d) => d !== delegate),
    );
  },
};
