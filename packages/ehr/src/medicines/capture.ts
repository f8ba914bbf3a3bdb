// EPCIS 2.0 capture as one transaction (docs/medicines.md "EPCIS capture"): a trading partner's
// EPCISDocument carries many events, and EPCIS 2.0 capture is atomic by default
// (GS1-Capture-Error-Behaviour `rollback`). `supply.capture` runs each event through the very
// rule of its own supply kind, in order, each seeing the writes of the ones before; one refusal
// refuses the whole transaction, and the application then discards every write it made.
import { txBytes } from '@medledger/ledger';
import { type Body, onlyFields } from '../body.js';
import { EhrError } from '../errors.js';
import type { TxKind } from '../kinds.js';
import { supplyDecommission } from './lifecycle.js';
import { supplyCommission, supplyPack, supplyReceive, supplyShip, supplyUnpack } from './supply.js';

/**
 * The kinds a capture may carry: the EPCIS events a trading partner records about the objects
 * it handles. Not recall or quarantine (a manufacturer's or regulator's determination about a
 * lot, and a quarantine's notice takes its id from the transaction hash, which the events of
 * one capture share), not verification requests (GS1 Lightweight Messaging, not EPCIS, and
 * keyed by the transaction hash too), nor products or prescriptions.
 * None of these rules reads the transaction hash or anything of the envelope but its signer.
 */
export const CAPTURE_KINDS: ReadonlyMap<string, TxKind> = new Map([
  ['supply.commission', supplyCommission],
  ['supply.ship', supplyShip],
  ['supply.receive', supplyReceive],
  ['supply.pack', supplyPack],
  ['supply.unpack', supplyUnpack],
  ['supply.decommission', supplyDecommission],
]);

/** How many events one capture carries (EPCIS documents MedLedger accepts hold 1–100). */
export const MAX_CAPTURE_EVENTS = 100;
/**
 * Characters of one event's body as JSON text (its canonical text has the same length, in
 * another key order; measured with the native JSON.stringify, as canonicalising each event
 * again cost more than its rules): a 500-package ship is about 30,000.
 */
export const MAX_CAPTURE_EVENT_CHARS = 64 * 1024;
/**
 * Signed canonical bytes of the whole capture transaction (under the API's 1 MiB request limit),
 * so one transaction's work stays a bounded share of a block; the chain's block byte limit applies too.
 */
export const MAX_CAPTURE_BYTES = 512 * 1024;

/** One checked `events[i]`: a capturable kind and its body object (the kind's own rule checks the body). */
function captureEvent(x: unknown, i: number): { kind: string; rule: TxKind; body: Body } {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new EhrError('INVALID_BODY', `body.events[${i}] must be an object`);
  const e = x as Body;
  for (const k of Object.keys(e))
    if (k !== 'kind' && k !== 'body') throw new EhrError('INVALID_BODY', `body.events[${i}].${k} is not accepted (only kind and body)`);
  const rule = typeof e.kind === 'string' ? CAPTURE_KINDS.get(e.kind) : undefined;
  if (rule === undefined)
    throw new EhrError('INVALID_BODY', `body.events[${i}].kind must be one of ${[...CAPTURE_KINDS.keys()].join(', ')}`);
  if (typeof e.body !== 'object' || e.body === null || Array.isArray(e.body))
    throw new EhrError('INVALID_BODY', `body.events[${i}].body must be an object`);
  if (JSON.stringify(e.body).length > MAX_CAPTURE_EVENT_CHARS)
    throw new EhrError('INVALID_BODY', `body.events[${i}].body is over ${MAX_CAPTURE_EVENT_CHARS} characters of JSON`);
  return { kind: e.kind as string, rule, body: e.body as Body };
}

/**
 * `supply.capture` `{events: [{kind, body}, …]}`: 1–100 EPCIS events under one signer, applied in
 * order by their kinds' rules. Each event is stored, hashed and indexed exactly as if submitted
 * alone, so the same event twice (in this capture or an earlier one) is refused DUPLICATE_EVENT.
 * A refusal names the event, `events[i]: …`, and keeps its code; nothing of the capture is kept.
 */
export const supplyCapture: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'supply.capture', ['events']);
    if (!Array.isArray(b.events) || b.events.length === 0 || b.events.length > MAX_CAPTURE_EVENTS)
      throw new EhrError('INVALID_BODY', `body.events must be an array of 1 to ${MAX_CAPTURE_EVENTS} events`);
    if (txBytes(tx).length > MAX_CAPTURE_BYTES)
      throw new EhrError('INVALID_BODY', `a capture transaction is limited to ${MAX_CAPTURE_BYTES} bytes`);
    const events = b.events.map(captureEvent);
    for (const [i, e] of events.entries()) {
      try {
        // The event's own rule sees the envelope it would have had alone: same signer, its kind and body.
        e.rule.apply(ctx, { ...tx, kind: e.kind, body: e.body }, state);
      } catch (err) {
        if (err instanceof EhrError) throw new EhrError(err.code, `events[${i}]: ${err.message}`);
        throw err;
      }
    }
  },
};
