// Custody (docs/medicines.md): a manufacturer commissions serials of its products (products.ts);
// partners ship to a named partner, the addressee receives, cases move their contents;
// manufacturers and the regulator recall lots; partners quarantine suspect product.

import { txHash } from '@medledger/ledger';
import { arrayField, type Body, enumField, idField, onlyFields, optional, stringField } from '../body.js';
import { EhrError } from '../errors.js';
import { activeSigner, getIdentity } from '../identity.js';
import { dateField } from '../insurance/model.js';
import type { TxContext, TxKind } from '../kinds.js';
import { keys, readJson, type StateOverlay, writeJson } from '../state.js';
import { type EpcisEventBody, eventTimeField, lotClassUri, recordEvent, sgtinUri, ssccUri } from './events.js';
import { openNotice } from './lifecycle.js';
import {
  type Case,
  epcItem,
  gtinField,
  type Package,
  type Partner,
  type Product,
  partnerKindOf,
  pkgRef,
  QUARANTINE_KINDS,
  type Quarantine,
  requirePartner,
  serialField,
  ssccField,
  TEXT_RE,
} from './model.js';
import { getLotQuarantine, getPackage, getProduct, getRecall, verifyPackage } from './verify.js';

const MAX_ITEMS = 500;
const textField = (b: Body, f: string) => stringField(b, f, TEXT_RE, 'text of 1–200 characters');

export const getCase = (s: Parameters<typeof readJson>[0], sscc: string) => readJson<Case>(s, keys.case(sscc));

function noDuplicates(refs: string[], what: string): void {
  if (new Set(refs).size !== refs.length) throw new EhrError('INVALID_BODY', `a ${what} is listed twice`);
}

/** A package that must exist. */
function mustPackage(state: StateOverlay, gtin: string, serial: string): Package {
  const pkg = getPackage(state, gtin, serial);
  if (pkg === undefined) throw new EhrError('NOT_FOUND', `no package ${gtin} serial ${serial}`);
  return pkg;
}

function mustCase(state: StateOverlay, sscc: string): Case {
  const c = getCase(state, sscc);
  if (c === undefined) throw new EhrError('NOT_FOUND', `no case ${sscc}`);
  return c;
}

const putPackage = (state: StateOverlay, p: Package) => writeJson(state, keys.package(p.gtin, p.serial), p);
const splitRef = (ref: string) => {
  const [gtin, serial] = ref.split('/') as [string, string];
  return { gtin, serial };
};

export const supplyCommission: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'supply.commission', ['gtin', 'lot', 'expiry', 'serials', 'eventTime']);
    const maker = requirePartner(state, activeSigner(state, tx.signer), 'commission serials', ['manufacturer']);
    const gtin = gtinField(b, 'gtin');
    const product = getProduct(state, gtin);
    if (product === undefined) throw new EhrError('NOT_FOUND', `no product ${gtin}`);
    if (product.manufacturer !== maker.org) throw new EhrError('UNAUTHORIZED', `GTIN ${gtin} belongs to another manufacturer`);
    const lot = serialField(b, 'lot');
    const expiry = dateField(b, 'expiry');
    const serials = arrayField(b, 'serials', MAX_ITEMS, (x, p) => serialField({ [p]: x }, p));
    if (serials.length === 0) throw new EhrError('INVALID_BODY', 'body.serials must list at least one serial');
    noDuplicates(serials, 'serial');
    const event: EpcisEventBody = {
      type: 'ObjectEvent',
      eventTime: eventTimeField(ctx, b),
      action: 'ADD',
      bizStep: 'commissioning',
      disposition: 'active',
      epcList: serials.map((s) => sgtinUri(gtin, s)),
      ilmd: { 'cbvmda:lotNumber': lot, 'cbvmda:itemExpirationDate': expiry },
    };
    const packages = serials.map((serial) => ({ gtin, serial }));
    recordEvent(ctx, state, maker.org, event, packages);
    for (const serial of serials) {
      if (getPackage(state, gtin, serial) !== undefined)
        throw new EhrError('ALREADY_REGISTERED', `serial ${serial} of ${gtin} is already commissioned`);
      putPackage(state, {
        gtin,
        serial,
        lot,
        expiry,
        holder: maker.org,
        inTransitTo: null,
        parent: null,
        status: 'active',
        quarantine: null,
        commissionedAt: { height: ctx.height, time: ctx.time },
        heldBy: [maker.org],
        returnPending: false,
      });
    }
  },
};

/** Packages and cases named by a ship, receive or pack body. */
function listed(b: Body): { epcs: Array<{ gtin: string; serial: string }>; cases: string[] } {
  const epcs = optional(b, 'epcs', (x, f) => arrayField(x, f, MAX_ITEMS, epcItem)) ?? [];
  const cases = optional(b, 'cases', (x, f) => arrayField(x, f, MAX_ITEMS, (y, p) => ssccField({ [p]: y }, p))) ?? [];
  if (epcs.length + cases.length === 0) throw new EhrError('INVALID_BODY', 'name at least one package (epcs) or case (cases)');
  noDuplicates(
    epcs.map((e) => pkgRef(e.gtin, e.serial)),
    'package',
  );
  noDuplicates(cases, 'case');
  return { epcs, cases };
}

/**
 * A package the sender may ship, pack or dispense: held, not in transit, verified at block
 * time, and not a saleable return awaiting its verification.
 */
export function shippable(ctx: TxContext, state: StateOverlay, sender: string, pkg: Package): void {
  if (pkg.holder !== sender || pkg.inTransitTo !== null)
    throw new EhrError('NOT_HOLDER', `package ${pkg.gtin} serial ${pkg.serial} is not in your custody`);
  const v = verifyPackage(state, pkg, ctx.time);
  if (!v.verified) throw new EhrError('NOT_VERIFIED', `package ${pkg.gtin} serial ${pkg.serial} does not verify: ${v.reason}`);
  if (pkg.returnPending)
    throw new EhrError('RETURN_NOT_VERIFIED', `package ${pkg.gtin} serial ${pkg.serial} is a return: verify it (supply.verify) first`);
}

/** DSCSA transaction information: per product and lot, what was sold, derived from the ledger's own records. */
function transactionInformation(state: StateOverlay, pkgs: Package[]) {
  const byLot = new Map<string, { gtin: string; lot: string; expiry: string; count: number }>();
  for (const p of pkgs) {
    const k = `${p.gtin}/${p.lot}`;
    const entry = byLot.get(k) ?? { gtin: p.gtin, lot: p.lot, expiry: p.expiry, count: 0 };
    entry.count += 1;
    byLot.set(k, entry);
  }
  return [...byLot.keys()].sort().map((k) => {
    const e = byLot.get(k) as { gtin: string; lot: string; expiry: string; count: number };
    const prod = getProduct(state, e.gtin) as Product;
    // A detail the manufacturer has not given is absent, never null or "undefined".
    return {
      ...e,
      ...(prod.ndc === null ? {} : { ndc: prod.ndc }),
      name: prod.name,
      ...(prod.strength === null ? {} : { strength: prod.strength }),
      ...(prod.form === null ? {} : { form: prod.form }),
    };
  });
}

export const supplyShip: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'supply.ship', ['to', 'epcs', 'cases', 'eventTime', 'transaction', 'transactionDate', 'statement']);
    const sender = requirePartner(state, activeSigner(state, tx.signer), 'ship product', ['manufacturer', 'wholesaler', 'dispenser']);
    const to = idField(b, 'to');
    const toKind = partnerKindOf(getIdentity(state, to));
    if (toKind === undefined || toKind === 'regulator') throw new EhrError('INVALID_BODY', 'body.to is not an active trading partner');
    if (to === sender.org) throw new EhrError('INVALID_BODY', 'body.to is yourself');
    // DSCSA transaction statement: the seller attests it is authorized and the product is legitimate.
    if (b.statement !== true) throw new EhrError('INVALID_BODY', 'body.statement must be true (the DSCSA transaction statement)');
    const transaction = stringField(b, 'transaction', /^[A-Za-z0-9-]{1,40}$/, 'an invoice or order number');
    const transactionDate = dateField(b, 'transactionDate');
    const { epcs, cases } = listed(b);
    const moved: Package[] = [];
    const movedCases: Case[] = [];
    for (const e of epcs) {
      const pkg = mustPackage(state, e.gtin, e.serial);
      if (pkg.parent !== null)
        throw new EhrError('PACKED', `package ${e.gtin} serial ${e.serial} is packed in case ${pkg.parent}; ship the case`);
      shippable(ctx, state, sender.org, pkg);
      moved.push(pkg);
    }
    for (const sscc of cases) {
      const c = mustCase(state, sscc);
      if (c.holder !== sender.org || c.inTransitTo !== null) throw new EhrError('NOT_HOLDER', `case ${sscc} is not in your custody`);
      for (const ref of c.children) {
        const pkg = mustPackage(state, splitRef(ref).gtin, splitRef(ref).serial);
        if (pkg.status === 'dispensed') throw new EhrError('CASE_BROKEN', `case ${sscc} holds ${ref}, already dispensed; unpack it first`);
        shippable(ctx, state, sender.org, pkg);
        moved.push(pkg);
      }
      movedCases.push(c);
    }
    const event: EpcisEventBody = {
      type: 'ObjectEvent',
      eventTime: eventTimeField(ctx, b),
      action: 'OBSERVE',
      bizStep: 'shipping',
      disposition: 'in_transit',
      epcList: [...epcs.map((e) => sgtinUri(e.gtin, e.serial)), ...cases.map(ssccUri)],
      bizTransactionList: [{ type: 'inv', bizTransaction: `urn:medledger:inv:${sender.org}:${transaction}` }],
      sourceList: [{ type: 'owning_party', source: `urn:medledger:org:${sender.org}` }],
      destinationList: [{ type: 'owning_party', destination: `urn:medledger:org:${to}` }],
      'medledger:transactionDate': transactionDate,
      'medledger:transactionInformation': transactionInformation(state, moved),
      'medledger:transactionStatement': true,
    };
    recordEvent(ctx, state, sender.org, event, moved);
    for (const p of moved) putPackage(state, { ...p, inTransitTo: to });
    for (const c of movedCases) writeJson(state, keys.case(c.sscc), { ...c, inTransitTo: to });
  },
};

export const supplyReceive: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'supply.receive', ['epcs', 'cases', 'eventTime']);
    const me = requirePartner(state, activeSigner(state, tx.signer), 'receive product', ['manufacturer', 'wholesaler', 'dispenser']);
    const { epcs, cases } = listed(b);
    const moved: Package[] = [];
    const notAddressee = (what: string) => new EhrError('NOT_ADDRESSEE', `${what} is not in transit to you`);
    for (const e of epcs) {
      const pkg = mustPackage(state, e.gtin, e.serial);
      if (pkg.parent !== null)
        throw new EhrError('PACKED', `package ${e.gtin} serial ${e.serial} is packed in case ${pkg.parent}; receive the case`);
      if (pkg.inTransitTo !== me.org) throw notAddressee(`package ${e.gtin} serial ${e.serial}`);
      moved.push(pkg);
    }
    const movedCases: Case[] = [];
    for (const sscc of cases) {
      const c = mustCase(state, sscc);
      if (c.inTransitTo !== me.org) throw notAddressee(`case ${sscc}`);
      for (const ref of c.children) moved.push(mustPackage(state, splitRef(ref).gtin, splitRef(ref).serial));
      movedCases.push(c);
    }
    // Every shipper of what arrives (one receive may take several shipments), in a stable order.
    const from = [...new Set([...moved.map((p) => p.holder), ...movedCases.map((c) => c.holder)])].sort();
    recordEvent(
      ctx,
      state,
      me.org,
      {
        type: 'ObjectEvent',
        eventTime: eventTimeField(ctx, b),
        action: 'OBSERVE',
        bizStep: 'receiving',
        disposition: 'in_progress',
        epcList: [...epcs.map((e) => sgtinUri(e.gtin, e.serial)), ...cases.map(ssccUri)],
        sourceList: from.map((org) => ({ type: 'owning_party', source: `urn:medledger:org:${org}` })),
        destinationList: [{ type: 'owning_party', destination: `urn:medledger:org:${me.org}` }],
      },
      moved,
    );
    // A package coming back to someone who held it before is a return: it must be verified
    // (a logged supply.verify) before it can be sold on.
    for (const p of moved)
      putPackage(state, {
        ...p,
        holder: me.org,
        inTransitTo: null,
        returnPending: p.heldBy.includes(me.org),
        heldBy: p.heldBy.includes(me.org) ? p.heldBy : [...p.heldBy, me.org].sort(),
      });
    for (const c of movedCases) writeJson(state, keys.case(c.sscc), { ...c, holder: me.org, inTransitTo: null });
  },
};

/**
 * The sender takes back a shipment its addressee can no longer receive: one suspended or
 * removed by governance (or otherwise no longer an active trading partner) while it was in
 * transit. Without this, packages shipped to such an organization stayed in transit for good:
 * the addressee cannot sign, and the sender no longer holds them to ship, destroy or sell.
 * A shipment to an active partner is that partner's to receive (and ship back), so it is not
 * cancelled. What comes back was out of the sender's control: it is a saleable return,
 * verified (a logged supply.verify) before it is shipped, packed or dispensed again.
 */
export const supplyCancel: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'supply.cancel', ['epcs', 'cases', 'eventTime']);
    const me = requirePartner(state, activeSigner(state, tx.signer), 'cancel a shipment', ['manufacturer', 'wholesaler', 'dispenser']);
    const { epcs, cases } = listed(b);
    const addressees = new Set<string>();
    const sentByMe = (what: string, x: { holder: string; inTransitTo: string | null }) => {
      if (x.holder !== me.org || x.inTransitTo === null) throw new EhrError('NOT_HOLDER', `${what} is not in transit from you`);
      if (partnerKindOf(getIdentity(state, x.inTransitTo)) !== undefined)
        throw new EhrError(
          'WRONG_STATE',
          `${what} is in transit to ${x.inTransitTo}, an active trading partner that can still receive it; only a shipment to a suspended or removed organization is cancelled`,
        );
      addressees.add(x.inTransitTo);
    };
    const moved: Package[] = [];
    for (const e of epcs) {
      const pkg = mustPackage(state, e.gtin, e.serial);
      if (pkg.parent !== null)
        throw new EhrError('PACKED', `package ${e.gtin} serial ${e.serial} is packed in case ${pkg.parent}; cancel the case`);
      sentByMe(`package ${e.gtin} serial ${e.serial}`, pkg);
      moved.push(pkg);
    }
    const movedCases: Case[] = [];
    for (const sscc of cases) {
      const c = mustCase(state, sscc);
      sentByMe(`case ${sscc}`, c);
      for (const ref of c.children) moved.push(mustPackage(state, splitRef(ref).gtin, splitRef(ref).serial));
      movedCases.push(c);
    }
    recordEvent(
      ctx,
      state,
      me.org,
      {
        type: 'ObjectEvent',
        eventTime: eventTimeField(ctx, b),
        action: 'OBSERVE',
        bizStep: 'void_shipping',
        disposition: 'in_progress',
        epcList: [...epcs.map((e) => sgtinUri(e.gtin, e.serial)), ...cases.map(ssccUri)],
        sourceList: [{ type: 'owning_party', source: `urn:medledger:org:${me.org}` }],
        destinationList: [...addressees].sort().map((org) => ({ type: 'owning_party', destination: `urn:medledger:org:${org}` })),
      },
      moved,
    );
    for (const p of moved) putPackage(state, { ...p, inTransitTo: null, returnPending: true });
    for (const c of movedCases) writeJson(state, keys.case(c.sscc), { ...c, inTransitTo: null });
  },
};

export const supplyPack: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'supply.pack', ['sscc', 'epcs', 'eventTime']);
    const me = requirePartner(state, activeSigner(state, tx.signer), 'pack cases', ['manufacturer', 'wholesaler', 'dispenser']);
    const sscc = ssccField(b, 'sscc');
    const epcs = arrayField(b, 'epcs', MAX_ITEMS, epcItem);
    if (epcs.length === 0) throw new EhrError('INVALID_BODY', 'body.epcs must list at least one package');
    noDuplicates(
      epcs.map((e) => pkgRef(e.gtin, e.serial)),
      'package',
    );
    const existing = getCase(state, sscc);
    if (existing !== undefined && (existing.holder !== me.org || existing.inTransitTo !== null))
      throw new EhrError('NOT_HOLDER', `case ${sscc} is not in your custody`);
    const pkgs = epcs.map((e) => {
      const pkg = mustPackage(state, e.gtin, e.serial);
      if (pkg.parent !== null) throw new EhrError('PACKED', `package ${e.gtin} serial ${e.serial} is already packed in case ${pkg.parent}`);
      shippable(ctx, state, me.org, pkg);
      return pkg;
    });
    recordEvent(
      ctx,
      state,
      me.org,
      {
        type: 'AggregationEvent',
        eventTime: eventTimeField(ctx, b),
        action: 'ADD',
        bizStep: 'packing',
        disposition: 'in_progress',
        parentID: ssccUri(sscc),
        childEPCs: epcs.map((e) => sgtinUri(e.gtin, e.serial)),
      },
      pkgs,
    );
    for (const p of pkgs) putPackage(state, { ...p, parent: sscc });
    const children = [...(existing?.children ?? []), ...epcs.map((e) => pkgRef(e.gtin, e.serial))].sort();
    writeJson(state, keys.case(sscc), { sscc, holder: me.org, inTransitTo: null, children } satisfies Case);
  },
};

/** Unpack a whole case: its packages stand alone again (dispensed ones included) and the case is gone. */
export const supplyUnpack: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'supply.unpack', ['sscc', 'eventTime']);
    const me = requirePartner(state, activeSigner(state, tx.signer), 'unpack cases', ['manufacturer', 'wholesaler', 'dispenser']);
    const sscc = ssccField(b, 'sscc');
    const c = mustCase(state, sscc);
    if (c.holder !== me.org || c.inTransitTo !== null) throw new EhrError('NOT_HOLDER', `case ${sscc} is not in your custody`);
    const pkgs = c.children.map((ref) => mustPackage(state, splitRef(ref).gtin, splitRef(ref).serial));
    recordEvent(
      ctx,
      state,
      me.org,
      {
        type: 'AggregationEvent',
        eventTime: eventTimeField(ctx, b),
        action: 'DELETE',
        bizStep: 'unpacking',
        disposition: 'in_progress',
        parentID: ssccUri(sscc),
        childEPCs: c.children.map((ref) => sgtinUri(splitRef(ref).gtin, splitRef(ref).serial)),
      },
      pkgs,
    );
    for (const p of pkgs) putPackage(state, { ...p, parent: null });
    state.delete(keys.case(sscc));
  },
};

/** May `who` act on product `gtin` as its manufacturer or as the regulator? */
function makerOrRegulator(who: Partner, gtin: string, state: StateOverlay): boolean {
  return who.kind === 'regulator' || getProduct(state, gtin)?.manufacturer === who.org;
}

export const supplyRecall: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'supply.recall', ['gtin', 'lot', 'reason', 'eventTime']);
    const who = requirePartner(state, activeSigner(state, tx.signer), 'recall a lot', ['manufacturer', 'regulator']);
    const gtin = gtinField(b, 'gtin');
    if (getProduct(state, gtin) === undefined) throw new EhrError('NOT_FOUND', `no product ${gtin}`);
    if (!makerOrRegulator(who, gtin, state))
      throw new EhrError('UNAUTHORIZED', `only the manufacturer of ${gtin} or the regulator may recall it`);
    const lot = serialField(b, 'lot');
    if (getRecall(state, gtin, lot) !== undefined) throw new EhrError('WRONG_STATE', `lot ${lot} of ${gtin} is already recalled`);
    const reason = textField(b, 'reason');
    recordEvent(
      ctx,
      state,
      who.org,
      {
        type: 'ObjectEvent',
        eventTime: eventTimeField(ctx, b),
        action: 'OBSERVE',
        bizStep: 'holding',
        disposition: 'recalled',
        quantityList: [{ epcClass: lotClassUri(gtin, lot) }],
        'medledger:reason': reason,
      },
      [],
    );
    writeJson(state, keys.recall(gtin, lot), { gtin, lot, reason, by: who.org, at: { height: ctx.height, time: ctx.time } });
  },
};

/**
 * A quarantine only escalates: a suspect serial or lot may be determined illegitimate, but no
 * quarantine replaces an illegitimate determination or repeats a suspect one. Otherwise a holder
 * could overwrite the regulator's (or a manufacturer its lot's) `illegitimate` with its own
 * `suspect`, and the pack would verify as merely `Suspect`, by another partner, for another reason.
 */
function requireEscalation(existing: Quarantine | undefined | null, kind: Quarantine['kind'], what: string): void {
  if (existing === undefined || existing === null) return;
  if (existing.kind === 'illegitimate' || kind === 'suspect')
    throw new EhrError('WRONG_STATE', `${what} is already quarantined as ${existing.kind} by ${existing.by}`);
}

/**
 * Quarantine a serial (its holder, its manufacturer or the regulator) or a whole lot (the
 * manufacturer or the regulator) as suspect or illegitimate; verification then fails. A
 * quarantine in place is only ever escalated from suspect to illegitimate (requireEscalation).
 */
export const supplyQuarantine: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'supply.quarantine', ['gtin', 'serial', 'lot', 'kind', 'reason', 'eventTime']);
    const who = requirePartner(state, activeSigner(state, tx.signer), 'quarantine product');
    const gtin = gtinField(b, 'gtin');
    if (getProduct(state, gtin) === undefined) throw new EhrError('NOT_FOUND', `no product ${gtin}`);
    if ((b.serial === undefined) === (b.lot === undefined)) throw new EhrError('INVALID_BODY', 'give body.serial or body.lot, exactly one');
    const quarantine = {
      kind: enumField(b, 'kind', QUARANTINE_KINDS),
      reason: textField(b, 'reason'),
      by: who.org,
      at: { height: ctx.height, time: ctx.time },
    };
    const base = { type: 'ObjectEvent', eventTime: eventTimeField(ctx, b), action: 'OBSERVE', bizStep: 'holding' } as const;
    const ext = { disposition: 'non_sellable_other', 'medledger:quarantine': quarantine.kind, 'medledger:reason': quarantine.reason };
    if (b.serial !== undefined) {
      const pkg = mustPackage(state, gtin, serialField(b, 'serial'));
      if (pkg.holder !== who.org && !makerOrRegulator(who, gtin, state))
        throw new EhrError('UNAUTHORIZED', 'only the holder, the manufacturer or the regulator may quarantine this serial');
      requireEscalation(pkg.quarantine, quarantine.kind, `serial ${pkg.serial} of ${gtin}`);
      recordEvent(ctx, state, who.org, { ...base, ...ext, epcList: [sgtinUri(gtin, pkg.serial)] }, [pkg]);
      putPackage(state, { ...pkg, quarantine });
      if (quarantine.kind === 'illegitimate')
        openNotice(ctx, state, txHash(tx).slice(0, 32), {
          gtin,
          serial: pkg.serial,
          lot: null,
          reason: quarantine.reason,
          determinedBy: who.org,
        });
      return;
    }
    const lot = serialField(b, 'lot');
    if (!makerOrRegulator(who, gtin, state))
      throw new EhrError('UNAUTHORIZED', 'only the manufacturer or the regulator may quarantine a lot');
    requireEscalation(getLotQuarantine(state, gtin, lot), quarantine.kind, `lot ${lot} of ${gtin}`);
    recordEvent(ctx, state, who.org, { ...base, ...ext, quantityList: [{ epcClass: lotClassUri(gtin, lot) }] }, []);
    writeJson(state, keys.lotQuarantine(gtin, lot), quarantine);
    if (quarantine.kind === 'illegitimate')
      openNotice(ctx, state, txHash(tx).slice(0, 32), { gtin, serial: null, lot, reason: quarantine.reason, determinedBy: who.org });
  },
};
