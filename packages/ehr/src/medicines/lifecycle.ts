// The rest of a package's life (docs/medicines.md): packages are decommissioned or destroyed; every verification
// request is logged on chain for the regulator (and verifies a saleable return); a
// determination of illegitimate product is notified within 24 hours of block time, and the
// notification is terminated.
import { txHash } from '@medledger/ledger';
import { arrayField, type Body, enumField, hex16Field, onlyFields, optional, stringField } from '../body.js';
import { EhrError } from '../errors.js';
import { activeSigner, getIdentity } from '../identity.js';
import { dateField } from '../insurance/model.js';
import type { TxContext, TxKind } from '../kinds.js';
import { keys, readJson, type StateOverlay, type StateReader, writeJson } from '../state.js';
import { eventTimeField, recordEvent, sgtinUri } from './events.js';
import { epcItem, gtinField, type Package, partnerKindOf, pkgRef, requirePartner, serialField, TEXT_RE } from './model.js';
import { getPackage, getProduct, verifyPackage } from './verify.js';

/** DSCSA §582: an illegitimate-product determination is notified to the FDA and partners within 24 hours. */
export const NOTIFY_WITHIN_MS = 24 * 60 * 60_000;
const MAX_ITEMS = 500;

/** A determination of illegitimate product, and its notification. */
export interface IllegitimateNotice {
  id: string;
  gtin: string;
  serial: string | null;
  lot: string | null;
  reason: string;
  determinedBy: string;
  determinedAt: { height: number; time: number };
  /** Block time by which it must be notified. */
  notifyBy: number;
  notifiedAt: { height: number; time: number } | null;
  terminated: { by: string; reason: string; height: number; time: number } | null;
}

/** Where a notification stands at block time `time`: `overdue` once 24 hours pass un-notified. */
export type NoticeStatus = 'open' | 'overdue' | 'notified' | 'notified-late' | 'terminated';
export function noticeStatus(n: IllegitimateNotice, time: number): NoticeStatus {
  if (n.terminated !== null) return 'terminated';
  if (n.notifiedAt !== null) return n.notifiedAt.time > n.notifyBy ? 'notified-late' : 'notified';
  return time > n.notifyBy ? 'overdue' : 'open';
}

export const getNotice = (s: StateReader, id: string) => readJson<IllegitimateNotice>(s, keys.illegitimateNotice(id));

/** Who sees a notification: the regulator, the product's manufacturer and the partner that determined it. */
export function maySeeNotice(state: StateReader, org: string | undefined, n: IllegitimateNotice): boolean {
  if (org === undefined) return false;
  return (
    partnerKindOf(getIdentity(state, org)) === 'regulator' || org === n.determinedBy || getProduct(state, n.gtin)?.manufacturer === org
  );
}

/** Open a notification for an illegitimate determination (called by supply.quarantine). */
export function openNotice(
  ctx: TxContext,
  state: StateOverlay,
  id: string,
  what: Pick<IllegitimateNotice, 'gtin' | 'serial' | 'lot' | 'reason' | 'determinedBy'>,
): void {
  const notice: IllegitimateNotice = {
    id,
    ...what,
    determinedAt: { height: ctx.height, time: ctx.time },
    notifyBy: ctx.time + NOTIFY_WITHIN_MS,
    notifiedAt: null,
    terminated: null,
  };
  writeJson(state, keys.illegitimateNotice(id), notice);
  state.set(keys.illegitimateNoticeIndex(ctx.height, id), '');
}

const DECOMMISSION = {
  destroy: { bizStep: 'destroying', disposition: 'destroyed', status: 'destroyed' },
  decommission: { bizStep: 'decommissioning', disposition: 'inactive', status: 'decommissioned' },
} as const;

/**
 * The holder destroys packages or decommissions them (samples, exports, theft): they leave
 * the supply chain and verify as `Decommissioned`. Recalled, quarantined and expired product
 * may be destroyed (that is what it is for); a packed package is unpacked first.
 */
export const supplyDecommission: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'supply.decommission', ['epcs', 'kind', 'reason', 'eventTime']);
    const me = requirePartner(state, activeSigner(state, tx.signer), 'decommission product', ['manufacturer', 'wholesaler', 'dispenser']);
    const how = DECOMMISSION[enumField(b, 'kind', ['destroy', 'decommission'] as const)];
    const reason = stringField(b, 'reason', TEXT_RE, 'text of 1–200 characters');
    const epcs = arrayField(b, 'epcs', MAX_ITEMS, epcItem);
    if (epcs.length === 0) throw new EhrError('INVALID_BODY', 'body.epcs must list at least one package');
    if (new Set(epcs.map((e) => pkgRef(e.gtin, e.serial))).size !== epcs.length)
      throw new EhrError('INVALID_BODY', 'a package is listed twice');
    const pkgs = epcs.map((e) => {
      const pkg = getPackage(state, e.gtin, e.serial);
      if (pkg === undefined) throw new EhrError('NOT_FOUND', `no package ${e.gtin} serial ${e.serial}`);
      if (pkg.holder !== me.org || pkg.inTransitTo !== null)
        throw new EhrError('NOT_HOLDER', `package ${e.gtin} serial ${e.serial} is not in your custody`);
      if (pkg.parent !== null)
        throw new EhrError('PACKED', `package ${e.gtin} serial ${e.serial} is packed in case ${pkg.parent}; unpack it`);
      if (pkg.status !== 'active') throw new EhrError('WRONG_STATE', `package ${e.gtin} serial ${e.serial} is already ${pkg.status}`);
      return pkg;
    });
    recordEvent(
      ctx,
      state,
      me.org,
      {
        type: 'ObjectEvent',
        eventTime: eventTimeField(ctx, b),
        action: 'DELETE',
        bizStep: how.bizStep,
        disposition: how.disposition,
        epcList: epcs.map((e) => sgtinUri(e.gtin, e.serial)),
        'medledger:reason': reason,
      },
      pkgs,
    );
    for (const p of pkgs) writeJson(state, keys.package(p.gtin, p.serial), { ...p, status: how.status } satisfies Package);
  },
};

/** A logged verification request (GS1 Lightweight Messaging for verification), as the regulator reads it. */
export interface VerificationLog {
  id: string;
  requester: string;
  gtin: string;
  serial: string;
  lot: string | null;
  expiry: string | null;
  verified: boolean;
  reason: string | null;
  height: number;
  time: number;
}

/**
 * A trading partner's verification request, answered at block time and logged on chain. When
 * the requester holds the package and it is a saleable return that verifies, the return is
 * cleared for sale again.
 */
export const supplyVerify: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'supply.verify', ['gtin', 'serial', 'lot', 'expiry']);
    const me = requirePartner(state, activeSigner(state, tx.signer), 'verify product');
    const gtin = gtinField(b, 'gtin');
    const serial = serialField(b, 'serial');
    const lot = optional(b, 'lot', (x, f) => serialField(x, f)) ?? null;
    const expiry = optional(b, 'expiry', (x, f) => dateField(x, f)) ?? null;
    const v = verifyPackage(state, { gtin, serial, ...(lot === null ? {} : { lot }), ...(expiry === null ? {} : { expiry }) }, ctx.time);
    const id = txHash(tx).slice(0, 32);
    const log: VerificationLog = {
      id,
      requester: me.org,
      gtin,
      serial,
      lot,
      expiry,
      verified: v.verified,
      reason: v.verified ? null : v.reason,
      height: ctx.height,
      time: ctx.time,
    };
    writeJson(state, keys.verification(ctx.height, id), log);
    const pkg = getPackage(state, gtin, serial);
    if (v.verified && pkg?.returnPending && pkg.holder === me.org && pkg.inTransitTo === null)
      writeJson(state, keys.package(gtin, serial), { ...pkg, returnPending: false } satisfies Package);
  },
};

function mustNotice(state: StateReader, b: Body): IllegitimateNotice {
  const id = hex16Field(b, 'notice');
  const n = getNotice(state, id);
  if (n === undefined) throw new EhrError('NOT_FOUND', `no notification ${id}`);
  return n;
}

/** The determining partner records that it notified the FDA and its trading partners. */
export const supplyNotify: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'supply.notify', ['notice']);
    const me = requirePartner(state, activeSigner(state, tx.signer), 'notify illegitimate product');
    const n = mustNotice(state, b);
    if (n.determinedBy !== me.org) throw new EhrError('UNAUTHORIZED', 'only the partner that determined it notifies');
    if (n.notifiedAt !== null) throw new EhrError('WRONG_STATE', `notification ${n.id} was already made`);
    writeJson(state, keys.illegitimateNotice(n.id), { ...n, notifiedAt: { height: ctx.height, time: ctx.time } });
  },
};

/** The determining partner or the regulator terminates a notification once it has been made. */
export const supplyTerminate: TxKind = {
  apply(ctx, tx, state) {
    const b = onlyFields(tx.body, 'supply.terminate', ['notice', 'reason']);
    const me = requirePartner(state, activeSigner(state, tx.signer), 'terminate a notification');
    const n = mustNotice(state, b);
    if (n.determinedBy !== me.org && me.kind !== 'regulator')
      throw new EhrError('UNAUTHORIZED', 'only the partner that determined it or the regulator terminates a notification');
    if (n.notifiedAt === null) throw new EhrError('WRONG_STATE', `notification ${n.id} has not been made yet`);
    if (n.terminated !== null) throw new EhrError('WRONG_STATE', `notification ${n.id} is already terminated`);
    const reason = stringField(b, 'reason', TEXT_RE, 'text of 1–200 characters');
    writeJson(state, keys.illegitimateNotice(n.id), { ...n, terminated: { by: me.org, reason, height: ctx.height, time: ctx.time } });
  },
};
