// Prescriptions and the dispense (docs/medicines.md): a clinician prescribes to a chosen
// pharmacy; the patient may move an unfilled prescription; the prescriber may cancel it; and
// one atomic `medication.dispense` checks the prescription and every serial together.
import { txHash } from '@medledger/ledger';
import { arrayField, type Body, hex16Field, hex32Field, idField, intField, itemObject, onlyFields, stringField } from '../body.js';
import { EhrError } from '../errors.js';
import type { Identity } from '../identity.js';
import { activeIdentity, activeSigner, getIdentity, inactiveReason } from '../identity.js';
import { DAY_MS, dateField, dateOf } from '../insurance/model.js';
import { managesPatient } from '../insurance/parties.js';
import type { TxKind } from '../kinds.js';
import { mayWrite } from '../policy.js';
import { anchorNewRecord, anchorObjectFields } from '../records.js';
import { keys, readJson, type StateReader, writeJson } from '../state.js';
import { recordEvent, sgtinUri } from './events.js';
import {
  gtinField,
  heldSinceHeight,
  type Package,
  type Prescription,
  partnerKindOf,
  partnerOf,
  RXNORM_RE,
  requirePartner,
  SERIAL_RE,
} from './model.js';
import { getPackage, getProduct, verifyPackage } from './verify.js';

const MAX_QUANTITY = 100;
const MAX_REPEATS = 12;

export const getPrescription = (s: StateReader, id: string) => readJson<Prescription>(s, keys.prescription(id));
/**
 * Who may see a prescription (its /v1 route and its state proof alike): the patient or a
 * delegate, the prescriber, and the staff or admin of the pharmacy holding it now.
 */
export function maySeePrescription(state: StateReader, caller: Identity, rx: Prescription): boolean {
  return managesPatient(state, caller, rx.patient) || caller.id === rx.prescriber || partnerOf(state, caller)?.org === rx.pharmacy;
}
export const isControlled = (s: StateReader, rxnorm: string) => s.getState(keys.controlled(rxnorm)) !== undefined;

/**
 * Why the prescriber of `rx` no longer stands behind it, or undefined while they do: a
 * prescription is filled on its prescriber's authority, so once their identity is revoked
 * (staff.revoke) or their organization suspended or removed by governance (in which case
 * they could not even cancel it), it is not filled; a reinstated organization's fill again.
 */
export function prescriberLapsed(state: StateReader, rx: Prescription): string | undefined {
  const prescriber = getIdentity(state, rx.prescriber);
  return prescriber === undefined ? `prescriber ${rx.prescriber} is unknown` : inactiveReason(state, prescriber);
}

function mustRx(state: StateReader, b: Body): Prescription {
  const id = hex16Field(b, 'rx');
  const rx = getPrescription(state, id);
  if (rx === undefined) throw new EhrError('NOT_FOUND', `no prescription ${id}`);
  return rx;
}

/** The regulator lists (or delists) RxNorm codes as controlled substances: they get no repeats. */
export const rxSchedule: TxKind = {
  apply(_ctx, tx, state) {
    const b = onlyFields(tx.body, 'rx.schedule', ['add', 'remove']);
    requirePartner(state, activeSigner(state, tx.signer), 'list controlled substances', ['regulator']);
    const code = (x: unknown, p: string) => stringField({ [p]: x }, p, RXNORM_RE, 'an RxNorm code');
    for (const c of arrayField(b, 'add', 1000, code)) state.set(keys.controlled(c), '');
    for (const c of arrayField(b, 'remove', 1000, code)) state.delete(keys.controlled(c));
  },
};

export const rxPrescribe: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'rx.prescribe', [
      'requestHash',
      'patient',
      'pharmacy',
      'rxnorm',
      'quantity',
      'repeats',
      'validFrom',
      'validTo',
      'minIntervalDays',
    ]);
    const actor = activeSigner(state, tx.signer);
    if (actor.role !== 'clinician' || actor.org === undefined || getIdentity(state, actor.org)?.status !== 'active')
      throw new EhrError('UNAUTHORIZED', 'only a clinician of an active organization may prescribe');
    const patient = idField(b, 'patient');
    if (activeIdentity(state, patient, 'patient').role !== 'patient') throw new EhrError('INVALID_BODY', 'body.patient is not a patient');
    const id = txHash(tx).slice(0, 32);
    // A prescription is the patient's MedicationRequest: the prescriber needs the consent that
    // writing that record needs (read-write covering it, to them or their organization). Without
    // it a clinician anywhere could name any patient, and the pharmacy holding the prescription
    // would then see whom the patient shares with and anchor a record in their chart (the dispense).
    if (!mayWrite(state, actor, patient, { id, category: 'medications', resourceType: 'MedicationRequest' }, ctx.time))
      throw new EhrError(
        'NO_CONSENT',
        `patient ${patient} has given you or your organization no active read-write consent covering a MedicationRequest`,
      );
    const pharmacy = idField(b, 'pharmacy');
    if (partnerKindOf(getIdentity(state, pharmacy)) !== 'dispenser')
      throw new EhrError('INVALID_BODY', 'body.pharmacy is not an active pharmacy');
    const rxnorm = stringField(b, 'rxnorm', RXNORM_RE, 'an RxNorm code (digits)');
    const quantity = intField(b, 'quantity', MAX_QUANTITY);
    if (quantity < 1) throw new EhrError('INVALID_BODY', 'body.quantity must be at least 1');
    const repeats = intField(b, 'repeats', MAX_REPEATS);
    const controlled = isControlled(state, rxnorm);
    if (controlled && repeats > 0) throw new EhrError('CONTROLLED_NO_REPEATS', `RxNorm ${rxnorm} is a controlled substance: no repeats`);
    const validFrom = dateField(b, 'validFrom');
    const validTo = dateField(b, 'validTo');
    if (validTo < validFrom) throw new EhrError('INVALID_BODY', 'body.validTo is before body.validFrom');
    const rx: Prescription = {
      id,
      requestHash: hex32Field(b, 'requestHash'),
      patient,
      prescriber: actor.id,
      pharmacy,
      rxnorm,
      quantity,
      repeats,
      fills: 0,
      validFrom,
      validTo,
      minIntervalDays: intField(b, 'minIntervalDays', 365),
      lastFillTime: null,
      dispensed: [],
      status: 'active',
      controlled,
      createdAt: { height: ctx.height, time: ctx.time },
    };
    writeJson(state, keys.prescription(rx.id), rx);
    state.set(keys.rxIndex('p', patient, ctx.height, rx.id), '');
    state.set(keys.rxIndex('d', pharmacy, ctx.height, rx.id), '');
  },
};

/**
 * The patient moves an unfilled prescription to another pharmacy: it leaves the old pharmacy's
 * index and joins the new one's at this height, so each pharmacy lists what it holds, once,
 * in the order it arrived (a prescription moved away and back is listed once, last).
 */
export const rxTransfer: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'rx.transfer', ['rx', 'pharmacy']);
    const actor = activeSigner(state, tx.signer);
    const rx = mustRx(state, b);
    if (actor.id !== rx.patient) throw new EhrError('UNAUTHORIZED', 'only the patient may move their prescription');
    if (rx.status !== 'active') throw new EhrError('RX_INACTIVE', `prescription ${rx.id} is ${rx.status}`);
    if (rx.fills > 0) throw new EhrError('WRONG_STATE', `prescription ${rx.id} has been filled and stays at its pharmacy`);
    const pharmacy = idField(b, 'pharmacy');
    if (partnerKindOf(getIdentity(state, pharmacy)) !== 'dispenser')
      throw new EhrError('INVALID_BODY', 'body.pharmacy is not an active pharmacy');
    if (pharmacy === rx.pharmacy) throw new EhrError('INVALID_BODY', 'the prescription is already at that pharmacy');
    state.delete(keys.rxIndex('d', rx.pharmacy, heldSinceHeight(rx), rx.id));
    writeJson(state, keys.prescription(rx.id), { ...rx, pharmacy, transferredAt: { height: ctx.height, time: ctx.time } });
    state.set(keys.rxIndex('d', pharmacy, ctx.height, rx.id), '');
  },
};

export const rxCancel: TxKind = {
  apply(_ctx, tx, state) {
    const b = onlyFields(tx.body, 'rx.cancel', ['rx']);
    const actor = activeSigner(state, tx.signer);
    const rx = mustRx(state, b);
    if (actor.id !== rx.prescriber) throw new EhrError('UNAUTHORIZED', 'only the prescriber may cancel a prescription');
    if (rx.status !== 'active') throw new EhrError('RX_INACTIVE', `prescription ${rx.id} is ${rx.status}`);
    writeJson(state, keys.prescription(rx.id), { ...rx, status: 'cancelled' });
  },
};

/** The FHIR resource type and record category of the record every dispense writes. */
export const DISPENSE_RECORD = { resourceType: 'MedicationDispense', category: 'medications' } as const;

/**
 * The whole dispense in one transaction: the prescription (active, in its validity period,
 * fills left, interval respected, held by this pharmacy, its prescriber still active) and
 * every serial (commissioned, in this pharmacy's custody, of the prescribed product, verified
 * at block time) are checked before anything is written; then the serials are
 * decommissioned, a fill is counted, and the pharmacy's encrypted FHIR MedicationDispense
 * (`body.record`) is anchored in the patient's records, sealed exactly as any record of theirs
 * must be (the patient, the grantees their consent allows, the emergency key, the author), and
 * named on the fill.
 */
export const medicationDispense: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'medication.dispense', ['rx', 'items', 'record']);
    const actor = activeSigner(state, tx.signer);
    if (actor.role !== 'pharmacy') throw new EhrError('UNAUTHORIZED', 'only pharmacy staff dispense');
    const me = requirePartner(state, actor, 'dispense', ['dispenser']);
    const rx = mustRx(state, b);
    if (rx.status !== 'active') throw new EhrError('RX_INACTIVE', `prescription ${rx.id} is ${rx.status}`);
    if (rx.pharmacy !== me.org) throw new EhrError('NOT_HOLDER', `prescription ${rx.id} is held by another pharmacy`);
    const lapsed = prescriberLapsed(state, rx);
    if (lapsed !== undefined) throw new EhrError('RX_INACTIVE', `prescription ${rx.id} is no longer backed by its prescriber: ${lapsed}`);
    const today = dateOf(ctx.time);
    if (today < rx.validFrom || today > rx.validTo)
      throw new EhrError('RX_INACTIVE', `prescription ${rx.id} is valid ${rx.validFrom} to ${rx.validTo}`);
    if (rx.fills >= 1 + rx.repeats) throw new EhrError('RX_NO_FILLS', `prescription ${rx.id} has no fills left`);
    if (rx.lastFillTime !== null && ctx.time < rx.lastFillTime + rx.minIntervalDays * DAY_MS)
      throw new EhrError(
        'TOO_EARLY',
        `prescription ${rx.id} may be filled again from ${new Date(rx.lastFillTime + rx.minIntervalDays * DAY_MS).toISOString()}`,
      );
    const items = arrayField(b, 'items', rx.quantity, (x, p) => {
      const o = itemObject(x, p, ['gtin', 'serial', 'lot', 'expiry']);
      return {
        gtin: gtinField(o, 'gtin'),
        serial: stringField(o, 'serial', SERIAL_RE, 'a serial'),
        lot: stringField(o, 'lot', SERIAL_RE, 'a lot'),
        expiry: dateField(o, 'expiry'),
      };
    });
    if (items.length === 0) throw new EhrError('INVALID_BODY', 'body.items must list the dispensed packages');
    if (new Set(items.map((i) => `${i.gtin}/${i.serial}`)).size !== items.length)
      throw new EhrError('INVALID_BODY', 'a package is listed twice');
    if (b.record === undefined) throw new EhrError('INVALID_BODY', 'body.record must carry the encrypted MedicationDispense record');
    const r = itemObject(b.record, 'record', ['record', 'contentHash', 'size', 'envelopes']);
    const record = { id: hex16Field(r, 'record'), ...anchorObjectFields(r) };
    const pkgs: Package[] = items.map((item) => {
      const v = verifyPackage(state, item, ctx.time);
      if (!v.verified) throw new EhrError('NOT_VERIFIED', `package ${item.gtin} serial ${item.serial} does not verify: ${v.reason}`);
      const pkg = getPackage(state, item.gtin, item.serial) as Package;
      if (pkg.holder !== me.org || pkg.inTransitTo !== null)
        throw new EhrError('NOT_HOLDER', `package ${item.gtin} serial ${item.serial} is not in this pharmacy's custody`);
      if (pkg.returnPending)
        throw new EhrError(
          'RETURN_NOT_VERIFIED',
          `package ${item.gtin} serial ${item.serial} is a return: verify it (supply.verify) first`,
        );
      // A prescription names its medicine by RxNorm: a product registered without a code cannot fill one.
      const productRxnorm = getProduct(state, item.gtin)?.rxnorm ?? null;
      if (productRxnorm === null)
        throw new EhrError(
          'PRODUCT_NOT_PRESCRIBABLE',
          `product ${item.gtin} has no RxNorm code, so it cannot fill a prescription: its manufacturer adds one with product.update`,
        );
      if (productRxnorm !== rx.rxnorm)
        throw new EhrError('WRONG_PRODUCT', `package ${item.gtin} is not the prescribed product (RxNorm ${rx.rxnorm})`);
      return pkg;
    });
    // The dispense itself authorizes the record: the pharmacy holds this prescription of this patient.
    anchorNewRecord(ctx, state, actor, { ...record, patient: rx.patient, ...DISPENSE_RECORD, supersedes: null }, () => true);
    recordEvent(
      ctx,
      state,
      me.org,
      {
        type: 'ObjectEvent',
        eventTime: new Date(ctx.time).toISOString(),
        action: 'DELETE',
        bizStep: 'dispensing',
        disposition: 'dispensed',
        epcList: items.map((i) => sgtinUri(i.gtin, i.serial)),
      },
      pkgs,
    );
    // Trading partners read packages and their events: neither names the prescription, so no
    // partner can follow a pack to a patient. Only the prescription (its parties) lists the pack.
    for (const p of pkgs) writeJson(state, keys.package(p.gtin, p.serial), { ...p, status: 'dispensed' });
    writeJson(state, keys.prescription(rx.id), {
      ...rx,
      fills: rx.fills + 1,
      lastFillTime: ctx.time,
      dispensed: [
        ...rx.dispensed,
        ...pkgs.map((p) => ({ gtin: p.gtin, serial: p.serial, lot: p.lot, height: ctx.height, record: record.id })),
      ],
    });
  },
};
