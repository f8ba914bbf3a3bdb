// MedLedger's profile of EPCIS 2.0, as a JSON Schema (draft-07) (docs/medicines.md "EPCIS
// capture"). A document is first checked against GS1's published EPCIS 2.0 schema
// (schemas/EPCIS-JSON-Schema.json, epcis-validate.ts); this narrower schema then says which valid
// EPCIS 2.0 documents MedLedger records: an EPCISDocument of schemaVersion 2.0 whose eventList
// holds 1–100 ObjectEvents and AggregationEvents, identifiers as URIs, CBV 2.0 bizStep and
// disposition, and the DSCSA transaction fields of a shipment as `medledger:` extensions. What
// fails here is valid EPCIS 2.0 that MedLedger does not support (EPCIS_NOT_SUPPORTED).

const uri = { type: 'string', format: 'uri' } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
/** EPCIS 2.0 §7.3.5: "+hh:mm" or "-hh:mm", from -14:00 to +14:00. */
const timeZoneOffset = { type: 'string', pattern: '^[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00)$' } as const;
const uriList = { type: 'array', items: uri, minItems: 1, maxItems: 500 } as const;
/**
 * CBV 2.0 bizStep / disposition: a bare CBV word or its GS1 Web URI. (The URN form
 * `urn:epcglobal:cbv:…` is EPCIS 1.x's; the published EPCIS 2.0 JSON schema refuses it.)
 */
const cbvTerm = {
  type: 'string',
  pattern: '^([a-z_]+|https://ref\\.gs1\\.org/cbv/(BizStep|Disp)-[a-z_]+)$',
} as const;
const typed = (field: string) =>
  ({
    type: 'array',
    items: { type: 'object', required: ['type', field], properties: { type: { type: 'string' }, [field]: uri } },
  }) as const;

/** Fields every event has (EPCIS 2.0 §7.4.1 EPCISEvent). */
const eventCommon = {
  eventTime: dateTime,
  recordTime: dateTime,
  eventTimeZoneOffset: timeZoneOffset,
  eventID: uri,
  action: { enum: ['ADD', 'OBSERVE', 'DELETE'] },
  bizStep: cbvTerm,
  disposition: cbvTerm,
  readPoint: { type: 'object', required: ['id'], properties: { id: uri } },
  bizLocation: { type: 'object', required: ['id'], properties: { id: uri } },
  bizTransactionList: typed('bizTransaction'),
  sourceList: typed('source'),
  destinationList: typed('destination'),
} as const;

export const EPCIS_DOCUMENT_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://medledger.example/schemas/epcis-2.0-capture.json',
  type: 'object',
  required: ['@context', 'type', 'schemaVersion', 'creationDate', 'epcisBody'],
  properties: {
    '@context': {},
    type: { const: 'EPCISDocument' },
    schemaVersion: { const: '2.0' },
    creationDate: dateTime,
    epcisBody: {
      type: 'object',
      required: ['eventList'],
      properties: {
        eventList: { type: 'array', minItems: 1, maxItems: 100, items: { $ref: '#/definitions/event' } },
      },
    },
  },
  definitions: {
    // The event type decides which shape applies, so another type (a TransformationEvent) is
    // refused for its type alone, not for every field it lacks.
    event: {
      type: 'object',
      required: ['type'],
      properties: { type: { enum: ['ObjectEvent', 'AggregationEvent'] } },
      allOf: (['ObjectEvent', 'AggregationEvent'] as const).map((t) => ({
        if: { type: 'object', properties: { type: { const: t } } },
        // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, not a thenable.
        then: { $ref: `#/definitions/${t}` },
      })),
    },
    ObjectEvent: {
      type: 'object',
      required: ['eventTime', 'eventTimeZoneOffset', 'action', 'bizStep', 'epcList'],
      properties: {
        ...eventCommon,
        type: { const: 'ObjectEvent' },
        epcList: uriList,
        ilmd: { type: 'object' },
        'medledger:transactionDate': { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
        'medledger:transactionStatement': { type: 'boolean' },
        'medledger:reason': { type: 'string', minLength: 1, maxLength: 200 },
      },
    },
    AggregationEvent: {
      type: 'object',
      required: ['eventTime', 'eventTimeZoneOffset', 'action', 'bizStep', 'parentID'],
      properties: {
        ...eventCommon,
        type: { const: 'AggregationEvent' },
        parentID: uri,
        childEPCs: uriList,
      },
    },
  },
} as const;
