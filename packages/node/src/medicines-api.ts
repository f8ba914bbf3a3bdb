// HTTP routes of medicines (docs/medicines.md): products, package custody, verification and
// EPCIS traces for trading partners; prescriptions for their patient, prescriber and the
// pharmacy holding them. Read from committed state at the last block's time; every list pages.
import {
  getNotice,
  getPackage,
  getPrescription,
  getProduct,
  type Identity,
  type IllegitimateNotice,
  keys,
  managesPatient,
  maySeeNotice,
  maySeePrescription,
  noticeStatus,
  type Prescription,
  partnerOf,
  prefixes,
  type VerificationLog,
  verifyPackage,
} from '@medledger/ehr';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';
import type { Gatekeeper } from './gatekeeper.js';
import { medicinesSchemas as schemas } from './medicines-schemas.js';
import type { RouteDeps } from './route-deps.js';

const DEFAULT_PAGE = 100;
const MAX_PAGE = 500;
const CURSOR_RE = /^[0-9]{12}\/[0-9a-f]{32,64}$/;

interface PageQuery {
  limit?: string;
  cursor?: string;
}
type PkgParams = { gtin: string; serial: string };

export function registerMedicinesRoutes(app: FastifyInstance, node: RouteDeps, gate: Gatekeeper): void {
  const state = node.chain.state;
  const who = (req: FastifyRequest) => gate.authenticate(req.headers.authorization);

  /** One page of an index `<prefix><height>/<id>`, oldest first, keeping what `load` (given the id and the key) returns. */
  function page<T>(prefix: string, q: PageQuery, load: (id: string, key: string) => T | undefined) {
    const limit = q.limit === undefined ? DEFAULT_PAGE : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)
      throw new ApiError('INVALID_PARAM', `limit must be an integer from 1 to ${MAX_PAGE}`);
    if (q.cursor !== undefined && !CURSOR_RE.test(q.cursor))
      throw new ApiError('INVALID_PARAM', 'cursor must be a `next` value from a previous page');
    const items: T[] = [];
    let after = q.cursor === undefined ? undefined : prefix + q.cursor;
    for (;;) {
      const batch = node.chain.store.scanState(prefix, { limit: limit + 1, ...(after === undefined ? {} : { after }) });
      for (const [key] of batch) {
        if (items.length === limit) return { items, next: (after as string).slice(prefix.length) };
        after = key;
        const x = load(key.slice(key.lastIndexOf('/') + 1), key);
        if (x !== undefined) items.push(x);
      }
      if (batch.length < limit + 1) return { items, next: null };
    }
  }

  const requirePartnerCaller = (caller: Identity) => {
    if (partnerOf(state, caller) === undefined)
      throw new ApiError('ACCESS_DENIED', 'only trading partners (and the regulator) see custody');
  };
  const maySeeRx = (caller: Identity, rx: Prescription) => maySeePrescription(state, caller, rx);

  app.get<{ Params: { gtin: string } }>('/v1/products/:gtin', { schema: schemas.product }, async (req) => {
    who(req);
    const product = getProduct(state, req.params.gtin);
    if (product === undefined) throw new ApiError('NOT_FOUND', `no product ${req.params.gtin}`);
    return product;
  });

  app.get<{ Params: PkgParams }>('/v1/packages/:gtin/:serial', { schema: schemas.package }, async (req) => {
    requirePartnerCaller(who(req));
    const pkg = getPackage(state, req.params.gtin, req.params.serial);
    if (pkg === undefined) throw new ApiError('NOT_FOUND', `no package ${req.params.gtin} serial ${req.params.serial}`);
    return pkg;
  });

  app.get<{ Params: PkgParams; Querystring: { lot?: string; expiry?: string } }>(
    '/v1/packages/:gtin/:serial/verify',
    { schema: schemas.verify },
    async (req) => {
      requirePartnerCaller(who(req));
      const { gtin, serial } = req.params;
      const at = node.chain.tipTime;
      const { lot, expiry } = req.query;
      const v = verifyPackage(
        state,
        { gtin, serial, ...(lot === undefined ? {} : { lot }), ...(expiry === undefined ? {} : { expiry }) },
        at,
      );
      return { gtin, serial, ...v, at: new Date(at).toISOString() };
    },
  );

  app.get<{ Params: PkgParams; Querystring: PageQuery }>('/v1/packages/:gtin/:serial/events', { schema: schemas.events }, async (req) => {
    requirePartnerCaller(who(req));
    const { gtin, serial } = req.params;
    const { items, next } = page(prefixes.packageEvents(gtin, serial), req.query, (hash) => {
      const raw = state.getState(keys.epcisEvent(hash));
      return raw === undefined ? undefined : (JSON.parse(raw) as Record<string, unknown>);
    });
    return { events: items, next };
  });

  // Any recorded event by its Event Hash ID, e.g. an unpack, which a capture reads back by the id
  // it recomputes (the same readers as a package's trace: custody is the trading partners').
  app.get<{ Params: { hash: string } }>('/v1/epcis/events/:hash', { schema: schemas.event }, async (req) => {
    requirePartnerCaller(who(req));
    const raw = state.getState(keys.epcisEvent(req.params.hash));
    if (raw === undefined) throw new ApiError('NOT_FOUND', `no EPCIS event ni:///sha-256;${req.params.hash}?ver=CBV2.0`);
    return JSON.parse(raw) as Record<string, unknown>;
  });

  // The verification log (every supply.verify request with its answer) is the regulator's.
  app.get<{ Querystring: PageQuery }>('/v1/verifications', { schema: schemas.verifications }, async (req) => {
    if (partnerOf(state, who(req))?.kind !== 'regulator')
      throw new ApiError('ACCESS_DENIED', 'only the regulator reads the verification log');
    const { items, next } = page(prefixes.verifications(), req.query, (_id, key) => {
      const raw = state.getState(key);
      return raw === undefined ? undefined : (JSON.parse(raw) as VerificationLog);
    });
    return { verifications: items, next };
  });

  // Illegitimate-product notifications, with their status at the last block's time (overdue after 24 hours).
  const withStatus = (n: IllegitimateNotice) => ({ ...n, status: noticeStatus(n, node.chain.tipTime) });
  app.get<{ Querystring: PageQuery }>('/v1/notices', { schema: schemas.notices }, async (req) => {
    const org = partnerOf(state, who(req))?.org;
    const { items, next } = page(prefixes.illegitimateNotices(), req.query, (id) => {
      const n = getNotice(state, id);
      return n !== undefined && maySeeNotice(state, org, n) ? withStatus(n) : undefined;
    });
    return { notices: items, next };
  });
  app.get<{ Params: { id: string } }>('/v1/notices/:id', { schema: schemas.notice }, async (req) => {
    // The session first: an unknown id and one the caller may not see answer alike.
    const org = partnerOf(state, who(req))?.org;
    const n = getNotice(state, req.params.id);
    if (n === undefined || !maySeeNotice(state, org, n)) throw new ApiError('NOT_FOUND', `no notification ${req.params.id} you may see`);
    return withStatus(n);
  });

  app.get<{ Params: { id: string } }>('/v1/prescriptions/:id', { schema: schemas.prescription }, async (req) => {
    const caller = who(req);
    const rx = getPrescription(state, req.params.id);
    if (rx === undefined || !maySeeRx(caller, rx)) throw new ApiError('NOT_FOUND', `no prescription ${req.params.id} you may see`);
    return rx;
  });

  app.get<{ Params: { id: string }; Querystring: PageQuery }>(
    '/v1/patients/:id/prescriptions',
    { schema: schemas.patientPrescriptions },
    async (req) => {
      if (!managesPatient(state, who(req), req.params.id))
        throw new ApiError('ACCESS_DENIED', 'only the patient and their delegates see this');
      const { items, next } = page(prefixes.rxIndex('p', req.params.id), req.query, (id) => getPrescription(state, id));
      return { prescriptions: items, next };
    },
  );

  app.get<{ Params: { id: string }; Querystring: PageQuery }>(
    '/v1/pharmacies/:id/prescriptions',
    { schema: schemas.pharmacyPrescriptions },
    async (req) => {
      if (partnerOf(state, who(req))?.org !== req.params.id)
        throw new ApiError('ACCESS_DENIED', "only the pharmacy's own staff see its prescriptions");
      // rx.transfer moves a prescription's index entry to its new pharmacy; an entry a transfer
      // left behind before 2026-12-07 is still skipped: list only what the pharmacy holds now.
      const { items, next } = page(prefixes.rxIndex('d', req.params.id), req.query, (id) => {
        const rx = getPrescription(state, id);
        return rx?.pharmacy === req.params.id ? rx : undefined;
      });
      return { prescriptions: items, next };
    },
  );
}
