// The medicines records kept in state (docs/medicines.md): products, serialized packages,
// cases, recalls, quarantines, prescriptions, and the field checks the rules share.
// Dates are UTC calendar dates 'YYYY-MM-DD'; every time is block time.
import { type Body, itemObject, stringField } from '../body.js';
import { EhrError } from '../errors.js';
import { getIdentity, type Identity, isOrganization } from '../identity.js';
import type { StateReader } from '../state.js';

/** Trading-partner kinds of the supply chain, mapped from genesis organization kinds. */
export type PartnerKind = 'manufacturer' | 'wholesaler' | 'dispenser' | 'regulator';

/** Genesis `kind` → partner kind. `distributor` and `wholesaler` are the same DSCSA trading partner. */
const PARTNER_OF_ORG_KIND: Record<string, PartnerKind> = {
  manufacturer: 'manufacturer',
  distributor: 'wholesaler',
  wholesaler: 'wholesaler',
  pharmacy: 'dispenser',
  dispenser: 'dispenser',
  regulator: 'regulator',
};

export interface Partner {
  org: string;
  kind: PartnerKind;
}

/** The partner kind of an active organization identity, or undefined. */
export function partnerKindOf(org: Identity | undefined): PartnerKind | undefined {
  if (org === undefined || org.status !== 'active' || org.orgKind === undefined) return undefined;
  return PARTNER_OF_ORG_KIND[org.orgKind];
}

/**
 * The trading partner `actor` acts for: a partner organization itself, or (for a dispenser)
 * its pharmacy staff. Undefined for anyone else.
 */
export function partnerOf(state: StateReader, actor: Identity): Partner | undefined {
  if (isOrganization(actor)) {
    const kind = partnerKindOf(actor);
    return kind === undefined ? undefined : { org: actor.id, kind };
  }
  if (actor.role !== 'pharmacy' || actor.org === undefined) return undefined;
  const org = getIdentity(state, actor.org);
  return partnerKindOf(org) === 'dispenser' ? { org: actor.org, kind: 'dispenser' } : undefined;
}

/** Throws UNAUTHORIZED unless `actor` acts for a trading partner (of one of `kinds`, if given). */
export function requirePartner(state: StateReader, actor: Identity, what: string, kinds?: readonly PartnerKind[]): Partner {
  const p = partnerOf(state, actor);
  if (p === undefined || (kinds !== undefined && !kinds.includes(p.kind)))
    throw new EhrError('UNAUTHORIZED', `only a ${kinds?.join(' or ') ?? 'trading partner'} may ${what}`);
  return p;
}

/** True when `gtin` is 14 digits whose last is the GS1 mod-10 check digit of the first 13. */
export function gtinValid(gtin: string): boolean {
  if (!/^\d{14}$/.test(gtin)) return false;
  let sum = 0;
  // From the right, excluding the check digit, weights alternate 3, 1, 3, … — for 14 digits
  // that puts weight 3 on even positions counted from the left.
  for (let i = 0; i < 13; i++) sum += Number(gtin[i]) * (i % 2 === 0 ? 3 : 1);
  return (10 - (sum % 10)) % 10 === Number(gtin[13]);
}

/** One `{gtin, serial}` of a body's package list. */
export function epcItem(x: unknown, path: string): { gtin: string; serial: string } {
  const o = itemObject(x, path, ['gtin', 'serial']);
  return { gtin: gtinField(o, 'gtin'), serial: stringField(o, 'serial', SERIAL_RE, 'a serial') };
}

export function gtinField(b: Body, field: string): string {
  const v = stringField(b, field, /^\d{14}$/, 'a GTIN-14 of 14 digits');
  if (!gtinValid(v)) throw new EhrError('INVALID_BODY', `body.${field} has a wrong GS1 check digit`);
  return v;
}

/** Serial (AI 21) and lot (AI 10): up to 20 characters; restricted to URI-safe ones (no '/', they appear in keys). */
export const SERIAL_RE = /^[A-Za-z0-9-]{1,20}$/;
export const serialField = (b: Body, f: string) => stringField(b, f, SERIAL_RE, 'up to 20 letters, digits or "-"');
/** SSCC (AI 00) of a case: 18 digits with a GS1 mod-10 check digit. */
export function ssccField(b: Body, field: string): string {
  const v = stringField(b, field, /^\d{18}$/, 'an SSCC of 18 digits');
  // An SSCC takes the same mod-10 as a GTIN-14, over its 17 data digits (weight 3 on the rightmost).
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(v[i]) * (i % 2 === 0 ? 3 : 1);
  if ((10 - (sum % 10)) % 10 !== Number(v[17])) throw new EhrError('INVALID_BODY', `body.${field} has a wrong GS1 check digit`);
  return v;
}
/** NDC in one of the FDA's 10-digit layouts (4-4-2, 5-3-2, 5-4-1) or the 11-digit 5-4-2 billing form. */
export const NDC_RE = /^(\d{4}-\d{4}-\d{2}|\d{5}-\d{3}-\d{2}|\d{5}-\d{4}-\d{1,2})$/;
export const RXNORM_RE = /^\d{1,10}$/;
export const TEXT_RE = /^\P{Cc}{1,200}$/u;

export interface Product {
  gtin: string;
  /** US National Drug Code; null for a product sold without one (outside the US). */
  ndc: string | null;
  name: string;
  /** Strength and dosage form, as the DSCSA transaction information shows them; null until the owner gives them. */
  strength: string | null;
  form: string | null;
  /**
   * RxNorm concept the product dispenses as; a prescription names this code. Null: registered
   * without one, so no prescription can be filled with it (PRODUCT_NOT_PRESCRIBABLE) until the
   * owner adds it with `product.update`.
   */
  rxnorm: string | null;
  /** The company that owns the GTIN now: it commissions, recalls and updates the details. */
  manufacturer: string;
  registeredAt: { height: number; time: number };
  /** Every transfer of the GTIN to another company, oldest first (its history is kept). */
  transfers: Array<{ from: string; to: string; height: number; time: number }>;
  /** Every `product.update`, oldest first; absent until the first one. */
  updates?: ProductUpdate[];
}

/** A product's details besides its GTIN, as `product.register` takes them. */
export const PRODUCT_DETAILS = ['name', 'ndc', 'strength', 'form', 'rxnorm'] as const;
export type ProductDetail = (typeof PRODUCT_DETAILS)[number];
/**
 * The details a `product.update` may fill in while they are null, in the order its history
 * lists them. None is ever changed once given: a different name, NDC, strength, form or
 * RxNorm concept is a different product and needs its own GTIN (GS1 GTIN Management
 * Standard), and a changed RxNorm code would let packs already made fill other prescriptions.
 */
export const FILLABLE_DETAILS = ['ndc', 'strength', 'form', 'rxnorm'] as const;

/** One `product.update`: who made it, when, and each detail it filled in (`from` is null). */
export interface ProductUpdate {
  by: string;
  height: number;
  time: number;
  changes: Array<{ field: ProductDetail; from: string | null; to: string }>;
}

/** `decommissioned` and `destroyed` leave the supply chain otherwise than to a patient (EPCIS 2.0 / CBV 2.0). */
export type SerialStatus = 'active' | 'dispensed' | 'decommissioned' | 'destroyed';

/** One serialized package (SGTIN). */
export interface Package {
  gtin: string;
  serial: string;
  lot: string;
  expiry: string;
  /** Organization holding custody, or the addressee-pending shipper while in transit. */
  holder: string;
  /** Set while shipped and not yet received. */
  inTransitTo: string | null;
  /** SSCC of the case it is packed in. */
  parent: string | null;
  status: SerialStatus;
  /** Quarantine of this serial: GS1 reason and free text. */
  quarantine: Quarantine | null;
  commissionedAt: { height: number; time: number };
  /** Every organization that has held it, sorted: receiving it back makes it a return. */
  heldBy: string[];
  /**
   * A saleable return not yet verified by its holder (DSCSA §582(c)(4)(D)): it may not be
   * shipped, packed or dispensed until a logged `supply.verify` of the holder verifies it.
   */
  returnPending: boolean;
}

export interface Case {
  sscc: string;
  holder: string;
  inTransitTo: string | null;
  /** `gtin/serial` of each packed package, sorted. */
  children: string[];
}

export const QUARANTINE_KINDS = ['suspect', 'illegitimate'] as const;
export interface Quarantine {
  kind: (typeof QUARANTINE_KINDS)[number];
  reason: string;
  by: string;
  at: { height: number; time: number };
}

export interface Recall {
  gtin: string;
  lot: string;
  reason: string;
  by: string;
  at: { height: number; time: number };
}

export type RxStatus = 'active' | 'cancelled';

export interface Prescription {
  id: string;
  /** SHA-256 of the encrypted FHIR MedicationRequest. */
  requestHash: string;
  patient: string;
  prescriber: string;
  pharmacy: string;
  rxnorm: string;
  /** Packages per fill. */
  quantity: number;
  /** Fills allowed after the first. */
  repeats: number;
  fills: number;
  validFrom: string;
  validTo: string;
  minIntervalDays: number;
  lastFillTime: number | null;
  /**
   * The packages dispensed against it: what links a recall of their lot to this patient, and
   * `record`, the id of the encrypted MedicationDispense record of the fill in the patient's records.
   */
  dispensed: Array<{ gtin: string; serial: string; lot: string; height: number; record: string }>;
  status: RxStatus;
  controlled: boolean;
  createdAt: { height: number; time: number };
  /**
   * The last `rx.transfer`: when the pharmacy holding it now received it (absent until the
   * first). It names no earlier pharmacy: the one holding it now learns only that it moved.
   */
  transferredAt?: { height: number; time: number };
}

/**
 * The height of a prescription's entry in its pharmacy's index (`rxd/<pharmacy>/<height>/<id>`):
 * the block it reached that pharmacy in, by prescription or by its last transfer.
 */
export const heldSinceHeight = (rx: Prescription) => (rx.transferredAt ?? rx.createdAt).height;

export const pkgRef = (gtin: string, serial: string) => `${gtin}/${serial}`;
