// The medicines routes' request schemas (TypeBox), in the OpenAPI document with the rest of /v1.
import { Type } from '@sinclair/typebox';
import { bearer, hex, IdentityId, route } from './api-schemas.js';

const Gtin = Type.String({ pattern: '^[0-9]{14}$', description: 'GTIN-14 (GS1 AI 01)' });
const Serial = Type.String({ pattern: '^[A-Za-z0-9-]{1,20}$', description: 'serial number (GS1 AI 21)' });
const RxId = hex(16, 'prescription id: first 16 bytes of the rx.prescribe transaction hash');
const paging = {
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$', description: 'page size, 1–500 (default 100)' })),
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{12}/[0-9a-f]{32,64}$', description: '`next` of the previous page' })),
};
const tags = ['medicines'];
const pkgParams = Type.Object({ gtin: Gtin, serial: Serial });

/** Route schemas of medicines-api.ts. Lists answer `{<items>, next}`; `next` is null on the last page. */
export const medicinesSchemas = {
  product: route({ summary: 'A registered product', tags, params: Type.Object({ gtin: Gtin }), security: bearer }),
  package: route({ summary: 'A serialized package and its custody (trading partners only)', tags, params: pkgParams, security: bearer }),
  verify: route({
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
    summary: "A package's EPCIS 2.0 events, oldest first (trading partners only)",
    tags,
    params: pkgParams,
    querystring: Type.Object(paging),
    security: bearer,
  }),
  verifications: route({
    summary: 'The verification log: every supply.verify request with its answer, oldest first (the regulator only)',
    tags,
    querystring: Type.Object(paging),
    security: bearer,
  }),
  notices: route({
    summary:
      'Illegitimate-product notifications with their status at the last block time (open, overdue after 24 hours, notified, notified-late, terminated); the regulator sees all, a manufacturer those of its products, a partner its own',
    tags,
    querystring: Type.Object(paging),
    security: bearer,
  }),
  notice: route({
    summary: 'One illegitimate-product notification with its status',
    tags,
    params: Type.Object({ id: hex(16, 'notification id: first 16 bytes of the determining supply.quarantine transaction hash') }),
    security: bearer,
  }),
  prescription: route({
    summary: 'One prescription (its patient or delegates, its prescriber, staff of the pharmacy holding it)',
    tags,
    params: Type.Object({ id: RxId }),
    security: bearer,
  }),
  patientPrescriptions: route({
    summary: "A patient's prescriptions (the patient and delegates)",
    tags,
    params: Type.Object({ id: IdentityId }),
    querystring: Type.Object(paging),
    security: bearer,
  }),
  pharmacyPrescriptions: route({
    summary: 'Prescriptions held by a pharmacy (its own staff only)',
    tags,
    params: Type.Object({ id: IdentityId }),
    querystring: Type.Object(paging),
    security: bearer,
  }),
};
