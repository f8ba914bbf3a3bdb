// The JSON Schema (draft-07) of the EPCIS 2.0 documents MedLedger captures (docs/medicines.md
// "EPCIS capture"): an EPCISDocument (EPCIS 2.0 §9.2, JSON/JSON-LD binding) whose eventList
// holds ObjectEvents and AggregationEvents shaped as in GS1's EPCIS-JSON-Schema.json, narrowed
// to what a supply transaction needs: identifiers as GS1 Digital Link URIs, CBV 2.0 bizStep and
// disposition, and the DSCSA transaction fields of a shipment as `medledger:` extensions.

const uri = { type: 'string', format: 'uri' } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
/** EPCIS 2.0 §7.3.5: "+hh:mm" or "-hh:mm", from -14:00 to +14:00. */
const timeZoneOffset = { type: 'string', pattern: '^[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00)$' } as const;
const uriList = { type: 'array', items: uri, minItems: 1, maxItems: 500 } as const;
/** CBV 2.0 bizStep / disposition: a bare CBV word, or its URN or URI form. */
const cbvTerm = {
  type: 'string',
  pattern: '^([a-z_]+|urn:epcglobal:cbv:(bizstep|disp):[a-z_]+|https://ref\\.gs1\\.org/cbv/(BizStep|Disp)-[a-z_]+)$',
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
    event: {
      type: 'object',
      required: ['type', 'eventTime', 'eventTimeZoneOffset', 'action', 'bizStep'],
      properties: { type: { enum: ['ObjectEvent', 'AggregationEvent'] } },
      oneOf: [{ $ref: '#/definitions/ObjectEvent' }, { $ref: '#/definitions/AggregationEvent' }],
    },
    ObjectEvent: {
      type: 'object',
      required: ['epcList'],
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
      required: ['parentID'],
      properties: {
        ...eventCommon,
        type: { const: 'AggregationEvent' },
        parentID: uri,
        childEPCs: uriList,
      },
    },
  },
} as const;
