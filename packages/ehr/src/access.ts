// Access events (DESIGN §7): each read a node served or refused, signed by that node and
// committed, so the patient sees every access. Ids make resubmission after a crash harmless.
import { idFromPublicKey } from '@medledger/crypto';
import { arrayField, type Body, enumField, hex16Field, idField, intField, itemObject, onlyFields, stringField } from './body.js';
import { EhrError } from './errors.js';
import { identityOfKey } from './identity.js';
import type { TxKind } from './kinds.js';
import { PURPOSES, type Purpose } from './policy.js';
import { keys, writeJson } from './state.js';

/** Most events in one `access.event` transaction. */
export const MAX_ACCESS_EVENTS = 500;

/** One read as the serving node reports it. */
export interface AccessEventInput {
  /** Unique among this node's events. */
  id: string;
  record: string | null;
  patient: string | null;
  accessor: string | null;
  purpose: Purpose | null;
  decision: 'allowed' | 'denied';
  /** `OK` or the refusal reason (policy DenyReason, or a gatekeeper code). */
  reason: string;
  emergency: boolean;
  /** The serving node's clock when it answered (ms); block time is the authoritative time. */
  at: number;
}

/** An access event as committed: the node's report plus which node and which block. */
export interface AccessEvent extends AccessEventInput {
  node: string;
  height: number;
  time: number;
}

const nullable = <T>(b: Body, field: string, check: (b: Body, f: string) => T): T | null => (b[field] === null ? null : check(b, field));

function parseEvent(x: unknown, path: string): AccessEventInput {
  const e = itemObject(x, path, ['id', 'record', 'patient', 'accessor', 'purpose', 'decision', 'reason', 'emergency', 'at']);
  const field = (f: string) => `${path}.${f}`;
  const at = (f: string) => ({ [field(f)]: e[f] }) as Body;
  if (typeof e.emergency !== 'boolean') throw new EhrError('INVALID_BODY', `body.${field('emergency')} must be a boolean`);
  return {
    id: stringField(at('id'), field('id'), /^[A-Za-z0-9_-]{1,64}$/, 'an event id'),
    record: nullable(at('record'), field('record'), hex16Field),
    patient: nullable(at('patient'), field('patient'), idField),
    accessor: nullable(at('accessor'), field('accessor'), idField),
    purpose: nullable(at('purpose'), field('purpose'), (b, f) => enumField(b, f, PURPOSES)),
    decision: enumField(at('decision'), field('decision'), ['allowed', 'denied'] as const),
    reason: stringField(at('reason'), field('reason'), /^[A-Z_]{1,40}$/, 'a reason code'),
    emergency: e.emergency,
    at: intField(at('at'), field('at')),
  };
}

export const accessEvent: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'access.event', ['events']);
    const events = arrayField(b, 'events', MAX_ACCESS_EVENTS, parseEvent);
    if (identityOfKey(state, tx.signer)?.role !== 'validator')
      throw new EhrError('UNAUTHORIZED', 'only validator nodes record access events');
    const node = idFromPublicKey(tx.signer);
    for (const e of events) {
      const eventKey = `${node}-${e.id}`;
      if (state.getState(keys.accessSeen(eventKey)) !== undefined) continue;
      state.set(keys.accessSeen(eventKey), String(ctx.height));
      const committed: AccessEvent = { ...e, node, height: ctx.height, time: ctx.time };
      writeJson(state, keys.accessEvent(e.patient ?? '-', ctx.height, eventKey), committed);
    }
  },
};
