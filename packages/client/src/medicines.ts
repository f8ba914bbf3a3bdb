// Medicines on the client (docs/medicines.md, docs/sdk.md): register products, commission,
// ship, receive, pack, recall and quarantine serialized packages, verify a product identifier,
// read a package's EPCIS trace, and prescribe, transfer, cancel and dispense prescriptions.
import { txHash } from './canonical.js';
import type { NodeConnection } from './connection.js';
import { ClientError } from './errors.js';
import {
  epcisEventKey,
  medicinesKeys,
  type ProductIdentifier,
  type ProvenVerification,
  provenCopies,
  provenVerification,
} from './medicines-proven.js';
import { objectAt } from './responses.js';
import { refuse } from './trust.js';

type Json = Record<string, unknown>;
export interface Epc {
  gtin: string;
  serial: string;
}
/** Only `gtin` and `name` are required; the GTIN's owner adds the rest later with `product.update`. */
export interface ProductRegisterBody {
  gtin: string;
  name: string;
  /** US National Drug Code. */
  ndc?: string;
  strength?: string;
  form?: string;
  /** RxNorm code: without it no prescription can be filled with the product (PRODUCT_NOT_PRESCRIBABLE). */
  rxnorm?: string;
}
/** The GTIN's current owner fills in details still missing (at least one); a given one never changes (PRODUCT_DETAIL_FIXED). */
export interface ProductUpdateBody {
  gtin: string;
  ndc?: string;
  strength?: string;
  form?: string;
  rxnorm?: string;
}
export interface SupplyCommissionBody {
  gtin: string;
  lot: string;
  expiry: string;
  serials: string[];
  eventTime: string;
}
export interface SupplyShipBody {
  to: string;
  epcs?: Epc[];
  cases?: string[];
  eventTime: string;
  transaction: string;
  transactionDate: string;
  /** The DSCSA transaction statement: must be true. */
  statement: true;
}
export interface SupplyReceiveBody {
  epcs?: Epc[];
  cases?: string[];
  eventTime: string;
}
/** Take back a shipment whose addressee was suspended or removed in transit (the sender). */
export type SupplyCancelBody = SupplyReceiveBody;
export interface SupplyPackBody {
  sscc: string;
  epcs: Epc[];
  eventTime: string;
}
export interface SupplyUnpackBody {
  sscc: string;
  eventTime: string;
}
export interface SupplyRecallBody {
  gtin: string;
  lot: string;
  reason: string;
  eventTime: string;
}
export interface SupplyQuarantineBody {
  gtin: string;
  serial?: string;
  lot?: string;
  kind: 'suspect' | 'illegitimate';
  reason: string;
  eventTime: string;
}
export interface ProductTransferBody {
  gtin: string;
  /** The manufacturer organization that takes the GTIN over. */
  to: string;
}
export interface SupplyDecommissionBody {
  epcs: Epc[];
  kind: 'destroy' | 'decommission';
  reason: string;
  eventTime: string;
}
export interface SupplyVerifyBody {
  gtin: string;
  serial: string;
  lot?: string;
  expiry?: string;
}
/** One event of a `supply.capture`: a supply kind that records an EPCIS event, and its body. */
export type CaptureEventBody =
  | { kind: 'supply.commission'; body: SupplyCommissionBody }
  | { kind: 'supply.ship'; body: SupplyShipBody }
  | { kind: 'supply.receive'; body: SupplyReceiveBody }
  | { kind: 'supply.pack'; body: SupplyPackBody }
  | { kind: 'supply.unpack'; body: SupplyUnpackBody }
  | { kind: 'supply.decommission'; body: SupplyDecommissionBody };
/** 1–100 EPCIS events recorded in one transaction, all or none (docs/medicines.md "EPCIS capture"). */
export interface SupplyCaptureBody {
  events: CaptureEventBody[];
}
export interface SupplyNotifyBody {
  notice: string;
}
export interface SupplyTerminateBody {
  notice: string;
  reason: string;
}
export interface RxScheduleBody {
  add: string[];
  remove: string[];
}
export interface RxPrescribeBody {
  requestHash: string;
  patient: string;
  pharmacy: string;
  rxnorm: string;
  quantity: number;
  repeats: number;
  validFrom: string;
  validTo: string;
  minIntervalDays: number;
}
export interface RxTransferBody {
  rx: string;
  pharmacy: string;
}
export interface RxCancelBody {
  rx: string;
}
export interface DispenseItem extends Epc {
  lot: string;
  expiry: string;
}
export interface MedicationDispenseBody {
  rx: string;
  items: DispenseItem[];
  /** The encrypted MedicationDispense record the dispense anchors (medicines-dispense.ts builds it). */
  record: { record: string; contentHash: string; size: number; envelopes: Array<{ to: string; hash: string }> };
}

declare module './tx-builders.js' {
  interface TxBodies {
    'product.register': ProductRegisterBody;
    'supply.commission': SupplyCommissionBody;
    'supply.ship': SupplyShipBody;
    'supply.receive': SupplyReceiveBody;
    'supply.cancel': SupplyCancelBody;
    'supply.pack': SupplyPackBody;
    'supply.unpack': SupplyUnpackBody;
    'supply.recall': SupplyRecallBody;
    'supply.quarantine': SupplyQuarantineBody;
    'product.transfer': ProductTransferBody;
    'product.update': ProductUpdateBody;
    'supply.decommission': SupplyDecommissionBody;
    'supply.capture': SupplyCaptureBody;
    'supply.verify': SupplyVerifyBody;
    'supply.notify': SupplyNotifyBody;
    'supply.terminate': SupplyTerminateBody;
    'rx.schedule': RxScheduleBody;
    'rx.prescribe': RxPrescribeBody;
    'rx.transfer': RxTransferBody;
    'rx.cancel': RxCancelBody;
    'medication.dispense': MedicationDispenseBody;
  }
}

export type MedicinesKind =
  | 'product.register'
  | 'supply.commission'
  | 'supply.ship'
  | 'supply.receive'
  | 'supply.cancel'
  | 'supply.pack'
  | 'supply.unpack'
  | 'supply.recall'
  | 'supply.quarantine'
  | 'product.transfer'
  | 'product.update'
  | 'supply.decommission'
  | 'supply.capture'
  | 'supply.verify'
  | 'supply.notify'
  | 'supply.terminate'
  | 'rx.schedule'
  | 'rx.prescribe'
  | 'rx.transfer'
  | 'rx.cancel'
  | 'medication.dispense';

/** The body of one medicines transaction kind. */
export type MedicinesBody<K extends MedicinesKind> = import('./tx-builders.js').TxBodies[K];

/** What a committed medicines transaction gives back: the id it created (prescriptions), its hash and height. */
export interface MedicinesTxResult {
  id: string;
  txHash: string;
  height: number;
}

/**
 * Submit one medicines transaction and wait for it to commit. Throws ClientError with the
 * chain's stable code (NOT_HOLDER, NOT_VERIFIED, TOO_EARLY, …) if it is refused.
 */
export async function medicinesTx<K extends MedicinesKind>(
  conn: NodeConnection,
  kind: K,
  body: import('./tx-builders.js').TxBodies[K],
): Promise<MedicinesTxResult> {
  const done = await conn.submitAndWait(kind, body);
  return { id: txHash(done.tx).slice(0, 32), txHash: done.hash, height: done.height };
}

/** The current UTC time as an EPCIS eventTime (whole seconds); the chain refuses one more than 5 minutes after block time. */
export const eventTimeNow = () => `${new Date().toISOString().slice(0, 19)}Z`;

const enc = encodeURIComponent;

/** A verification answer, proven against the trusted genesis (see medicines-proven.ts), and the hash of the request logged on chain. */
export type Verification = ProvenVerification & { logTx?: string };

/**
 * Verify a product identifier at the last block time (trading partners). The node's answer is
 * checked against the verification recomputed from proven state: a node that calls a
 * recalled, quarantined, expired, dispensed or never-commissioned serial fine is refused
 * (`FACT_NOT_PROVEN`). Needs a trusted genesis (`NO_TRUSTED_GENESIS`).
 */
export async function verifyProduct(conn: NodeConnection, id: ProductIdentifier, opts: { log?: boolean } = {}): Promise<Verification> {
  const reader = conn.verified('verifying a product');
  // Every verification request is logged on chain for the regulator (supply.verify; it also
  // clears a saleable return the caller holds). It is admitted now and commits with the next block.
  const logged =
    opts.log === false
      ? undefined
      : conn.submit('supply.verify', {
          gtin: id.gtin,
          serial: id.serial,
          ...(id.lot === undefined ? {} : { lot: id.lot }),
          ...(id.expiry === undefined ? {} : { expiry: id.expiry }),
        });
  // Handled here so a refusal below does not leave it unobserved; awaited again at the end.
  void logged?.catch(() => undefined);
  const q = new URLSearchParams();
  if (id.lot !== undefined) q.set('lot', id.lot);
  if (id.expiry !== undefined) q.set('expiry', id.expiry);
  const path = `/v1/packages/${enc(id.gtin)}/${enc(id.serial)}/verify${q.size > 0 ? `?${q}` : ''}`;
  const told = objectAt(await conn.get(path, { auth: true }), 'verification');
  const proven = await provenVerification(reader, id);
  // Both are answered at the last block's time; a block landing between them can change the
  // answer only by a recall, quarantine or dispense in it, and then asking again agrees.
  if (told.verified !== proven.verified || (told.reason ?? undefined) !== proven.reason)
    refuse(
      'FACT_NOT_PROVEN',
      `the node answered ${told.verified === true ? 'verified' : String(told.reason)} for ${id.gtin} serial ${id.serial}, ` +
        `but the proven state at height ${proven.height} says ${proven.verified ? 'verified' : String(proven.reason)}`,
    );
  return logged === undefined ? proven : { ...proven, logTx: (await logged).hash };
}

/** A registered product, proven. */
export async function getProduct(conn: NodeConnection, gtin: string): Promise<Json> {
  const reader = conn.verified('showing a product');
  const told = objectAt(await conn.get(`/v1/products/${enc(gtin)}`, { auth: true }), 'product');
  return (await provenCopies(reader, [{ key: medicinesKeys.product(gtin), value: told }], 'product'))[0] as Json;
}
/** A package and its custody, proven (trading partners). */
export async function getPackage(conn: NodeConnection, gtin: string, serial: string): Promise<Json> {
  const reader = conn.verified('showing a package');
  const told = objectAt(await conn.get(`/v1/packages/${enc(gtin)}/${enc(serial)}`, { auth: true }), 'package');
  return (await provenCopies(reader, [{ key: medicinesKeys.package(gtin, serial), value: told }], 'package'))[0] as Json;
}
/** A prescription with its fills and status, proven (its patient, prescriber and pharmacy). */
export async function getPrescription(conn: NodeConnection, id: string): Promise<Json> {
  const reader = conn.verified('showing a prescription');
  const told = objectAt(await conn.get(`/v1/prescriptions/${enc(id)}`, { auth: true }), 'prescription');
  return (await provenCopies(reader, [{ key: medicinesKeys.prescription(id), value: told }], 'prescription'))[0] as Json;
}

export async function pageOf(conn: NodeConnection, path: string, field: string, opts: { limit?: number; cursor?: string }) {
  const q = new URLSearchParams();
  if (opts.limit !== undefined) q.set('limit', String(opts.limit));
  if (opts.cursor !== undefined) q.set('cursor', opts.cursor);
  const answer = objectAt(await conn.get(`${path}${q.size > 0 ? `?${q}` : ''}`, { auth: true }), 'page');
  const items = answer[field];
  if (!Array.isArray(items)) throw new ClientError('MALFORMED_RESPONSE', `page.${field} must be an array`);
  return { items: items.map((x) => objectAt(x, `page.${field}[]`)), next: typeof answer.next === 'string' ? answer.next : null };
}

/**
 * One page of a package's EPCIS 2.0 events, oldest first, each proven as stored (an altered
 * or invented event is refused). That the page leaves none out is not proven (docs/state.md).
 * The chain indexes a height's events by their ids, so events recorded at one height (one
 * capture, or one block) are put in the order they happened, by `eventTime`.
 */
export async function traceProduct(conn: NodeConnection, epc: Epc, opts: { limit?: number; cursor?: string } = {}) {
  const reader = conn.verified('tracing a package');
  const page = await pageOf(conn, `/v1/packages/${enc(epc.gtin)}/${enc(epc.serial)}/events`, 'events', opts);
  const told = page.items.map((value) => ({ key: epcisEventKey(value), value }));
  const items = await provenCopies(reader, told, 'EPCIS event');
  const at = (e: Json) => [Number(e['medledger:height']), Date.parse(String(e.eventTime))] as const;
  // Array sort is stable: events of one height and one time keep the index's order.
  items.sort((a, b) => at(a)[0] - at(b)[0] || at(a)[1] - at(b)[1]);
  return { items, next: page.next };
}

/**
 * One recorded EPCIS 2.0 event by its GS1 CBV 2.0 Event Hash ID (`ni:///sha-256;<hash>?ver=CBV2.0`),
 * proven as stored, its id recomputed from its content (`EVENT_ID_MISMATCH` otherwise). Trading
 * partners and the regulator; a node that answers another event, or none, is refused.
 */
export async function getEpcisEvent(conn: NodeConnection, eventID: string): Promise<Json> {
  const m = /^ni:\/\/\/sha-256;([0-9a-f]{64})\?ver=CBV2\.0$/.exec(eventID);
  if (m === null)
    throw new ClientError('INVALID_ARGUMENT', `eventID must be an EPCIS Event Hash ID ni:///sha-256;<hex>?ver=CBV2.0: ${eventID}`);
  const reader = conn.verified('showing an EPCIS event');
  const told = objectAt(await conn.get(`/v1/epcis/events/${m[1]}`, { auth: true }), 'event');
  const key = epcisEventKey(told);
  if (told.eventID !== eventID) refuse('FACT_NOT_PROVEN', `asked for EPCIS event ${eventID}, the node answered ${String(told.eventID)}`);
  return (await provenCopies(reader, [{ key, value: told }], 'EPCIS event'))[0] as Json;
}

/** One page of a patient's prescriptions, or of those a pharmacy holds, each proven. */
export async function listPrescriptions(
  conn: NodeConnection,
  opts: { by: 'patients' | 'pharmacies'; id: string; limit?: number; cursor?: string },
) {
  const reader = conn.verified('listing prescriptions');
  const page = await pageOf(conn, `/v1/${opts.by}/${enc(opts.id)}/prescriptions`, 'prescriptions', opts);
  const told = page.items.map((value) => ({ key: medicinesKeys.prescription(String(value.id)), value }));
  return { items: await provenCopies(reader, told, 'prescription'), next: page.next };
}
