// Ending an emergency window early (issue 17 item 4, docs/emergency.md "Ending a window
// early"): the patient, an accepted delegate, or the window's own clinician closes it, and
// from that block on the chain treats it as expired, so no node serves another record
// through it and no validator may post a share for it.
import { hex16Field, onlyFields } from './body.js';
import { type EmergencyWindow, emergencyKeys, getWindow, windowIsActive } from './emergency.js';
import { EhrError } from './errors.js';
import { activeSigner } from './identity.js';
import type { TxKind } from './kinds.js';
import { isDelegate } from './policy.js';
import { writeJson } from './state.js';

/** A window as kept in state once ended early: `expiresAt` is the closing block's time. */
export interface ClosedEmergencyWindow extends EmergencyWindow {
  closedEarly?: { height: number; time: number; by: string };
}

/**
 * `emergency.close` `{window}`: end an active window now. Signer: the window's patient, their
 * accepted delegate, or the window's clinician (done before the time they asked for).
 * Throws NOT_FOUND (no such window), UNAUTHORIZED (anyone else), WINDOW_CLOSED (already over).
 */
export const emergencyClose: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'emergency.close', ['window']);
    const id = hex16Field(b, 'window');
    const actor = activeSigner(state, tx.signer);
    const window = getWindow(state, id);
    if (window === undefined) throw new EhrError('NOT_FOUND', `no emergency window ${id}`);
    const allowed = actor.id === window.patient || actor.id === window.clinician || isDelegate(state, window.patient, actor.id);
    if (!allowed) throw new EhrError('UNAUTHORIZED', 'only the patient, their delegate or the window’s clinician ends an emergency window');
    if (!windowIsActive(window, ctx.time)) throw new EhrError('WINDOW_CLOSED', `emergency window ${id} has already ended`);
    // Expiry is the one rule every reader checks (windowIsActive): moving it to this block's
    // time ends the window everywhere at once, with no second notion of "closed" to forget.
    const closed: ClosedEmergencyWindow = {
      ...window,
      expiresAt: ctx.time,
      closedEarly: { height: ctx.height, time: ctx.time, by: actor.id },
    };
    writeJson(state, emergencyKeys.window(id), closed);
  },
};
