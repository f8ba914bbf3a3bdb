// The medicines routes' request schemas (TypeBox), in the OpenAPI document with the rest of /v1.
import { Type } from '@sinclair/typebox';
import { answer, bearer, hex, IdentityId, route } from './api-schemas.js';
import { PageLimitSchema } from './paging.js';
import * as S from './shape-schemas.js';

const Gtin = Type.String({ pattern: '^[0-9]{14}$', description: 'GTIN-14 (GS1 AI 01)' });
const Serial = Type.String({ pattern: '^[A-Za-z0-9-]{1,20}$', description: 'serial number (GS1 AI 21)' });
const RxId = hex(16, 'prescription id: first 16 bytes of the rx.prescribe transaction hash');
const paging = {
  limit: Type.Optional(PageLimitSchema),
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{12}/[0-9a-f]{32,64}$', description: '`next` of the previous page' })),
};
const tags = ['medicines'];
const pkgParams = Type.Object({ gtin: Gtin, serial: Serial });
const At = S.At;
const Product = Type.Object(
  {
    gtin: Gtin,
    ndc: S.nullable(Type.String()),
    name: Type.String(),
    strength: S.nullable(Type.String({ description: 'null until the manufacturer gives it (product.update)' })),
    form: S.nullable(Type.String({ description: 'null until the manufacturer gives it (product.update)' })),
    rxnorm: S.nullable(
      Type.String({
        description: 'the RxNorm code prescriptions name it by; null: it cannot fill a prescription (PRODUCT_NOT_PRESCRIBABLE)',
      }),
    ),
    manufacturer: S.Id20,
    registeredAt: At,
    updates: Type.Optional(
      Type.Array(
        Type.Object({
          by: S.Id20,
          height: S.Count,
          time: S.Ms,
          changes: Type.Array(
            Type.Object({
              field: Type.Union(['name', 'ndc', 'strength', 'form', 'rxnorm'].map((f) => Type.Literal(f))),
              from: S.nullable(Type.String()),
              to: Type.String(),
            }),
          ),
        }),
        { description: 'every product.update, oldest first (absent until the first)' },
      ),
    ),
  },
  { title: 'Product' },
);
const Package = Type.Object(
  {
    gtin: Gtin,
    serial: Serial,
    lot: Type.String(),
    expiry: Type.String(),
    holder: S.Id20,
    inTransitTo: S.nullable(S.Id20),
    parent: S.nullable(Type.String()),
    status: Type.String(),
  },
  { title: 'Package' },
);
const VerificationLog = Type.Object({
  id: Type.String(),
  requester: S.Id20,
  gtin: Gtin,
  serial: Type.String(),
  lot: S.nullable(Type.String()),
  expiry: S.nullable(Type.String()),
  verified: Type.Boolean(),
  reason: S.nullable(Type.String()),
  height: S.Count,
  time: S.Ms,
});
const Notice = Type.Object(
  {
    id: S.Id16,
    gtin: Gtin,
    serial: S.nullable(Type.String()),
    lot: S.nullable(Type.String()),
    reason: Type.String(),
    determinedBy: S.Id20,
    determinedAt: At,
    notifyBy: S.Ms,
    notifiedAt: S.nullable(At),
    terminated: S.nullable(Type.Object({ by: S.Id20, reason: Type.String(), height: S.Count, time: S.Ms })),
    status: Type.Union(['open', 'overdue', 'notified', 'notified-late', 'terminated'].map((s) => Type.Literal(s))),
  },
  { title: 'Notice' },
);
const Prescription = Type.Object(
  {
    id: S.Id16,
    requestHash: S.Hash,
    patient: S.Id20,
    prescriber: S.Id20,
    pharmacy: S.Id20,
    rxnorm: Type.String(),
    quantity: S.Count,
    repeats: S.Count,
    fills: S.Count,
    transferredAt: Type.Optional(
      Type.Object(
        { height: S.Count, time: S.Ms },
        { description: 'the last rx.transfer: when the pharmacy holding it now received it (absent until the first)' },
      ),
    ),
  },
  { title: 'Prescription' },
);

/** Route schemas of medicines-api.ts. Lists answer `{<items>, next}`; `next` is null on the last page. */
export const medicinesSchemas = {
  product: route({
    ok: { 200: answer('the product', Product) },
    summary: 'A registered product',
    tags,
    params: Type.Object({ gtin: Gtin }),
    security: bearer,
  }),
  package: route({
    ok: { 200: answer('the package', Package) },
    summary: 'A serialized package and its custody (trading partners only)',
    tags,
    params: pkgParams,
    security: bearer,
  }),
  verify: route({
    ok: {
      200: answer(
        'verified, or why not (a GS1 LMv reason code)',
        Type.Object({
          gtin: Gtin,
          serial: Serial,
          verified: Type.Boolean(),
          reason: Type.Optional(Type.String({ description: 'when not verified: the GS1 LMv reason code' })),
          at: Type.String({ format: 'date-time', description: 'the last block time' }),
        }),
      ),
    },
    summary: 'Verify a product identifier at the last block time (GS1 LMv reason codes; trading partners only)',
    tags,
    params: pkgParams,
    querystring: Type.Object({
      lot: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9-]{1,20}$' })),
      expiry: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })),
    }),
    security: bearer,
  }),
  events: route({
    ok: { 200: answer('a page of EPCIS 2.0 events', S.page('events', Type.Object({}, { description: 'an EPCIS 2.0 event' }))) },
    summary: "A package's EPCIS 2.0 events, oldest first (trading partners only)",
    tags,
    params: pkgParams,
    querystring: Type.Object(paging),
    security: bearer,
  }),
  event: route({
    ok: { 200: answer('the EPCIS 2.0 event as stored', Type.Object({}, { description: 'an EPCIS 2.0 event' })) },
    summary: 'One EPCIS 2.0 event by its GS1 Event Hash ID (trading partners only)',
    tags,
    params: Type.Object({ hash: hex(32, 'the SHA-256 of the event hash id ni:///sha-256;<hash>?ver=CBV2.0') }),
    security: bearer,
  }),
  verifications: route({
    ok: { 200: answer('a page of the log', S.page('verifications', VerificationLog)) },
    summary: 'The verification log: every supply.verify request with its answer, oldest first (the regulator only)',
    tags,
    querystring: Type.Object(paging),
    security: bearer,
  }),
  notices: route({
    ok: { 200: answer('a page of notifications', S.page('notices', Notice)) },
    summary:
      'Illegitimate-product notifications with their status at the last block time (open, overdue after 24 hours, notified, notified-late, terminated); the regulator sees all, a manufacturer those of its products, a partner its own',
    tags,
    querystring: Type.Object(paging),
    security: bearer,
  }),
  notice: route({
    ok: { 200: answer('the notification', Notice) },
    summary: 'One illegitimate-product notification with its status',
    tags,
    params: Type.Object({ id: hex(16, 'notification id: first 16 bytes of the determining supply.quarantine transaction hash') }),
    security: bearer,
  }),
  prescription: route({
    ok: { 200: answer('the prescription', Prescription) },
    summary: 'One prescription (its patient or delegates, its prescriber, staff of the pharmacy holding it)',
    tags,
    params: Type.Object({ id: RxId }),
    security: bearer,
  }),
  patientPrescriptions: route({
    ok: { 200: answer('a page of prescriptions', S.page('prescriptions', Prescription)) },
    summary: "A patient's prescriptions (the patient and delegates)",
    tags,
    params: Type.Object({ id: IdentityId }),
    querystring: Type.Object(paging),
    security: bearer,
  }),
  pharmacyPrescriptions: route({
    ok: { 200: answer('a page of prescriptions', S.page('prescriptions', Prescription)) },
    summary: 'Prescriptions held by a pharmacy (its own staff only)',
    tags,
    params: Type.Object({ id: IdentityId }),
    querystring: Type.Object(paging),
    security: bearer,
  }),
};
