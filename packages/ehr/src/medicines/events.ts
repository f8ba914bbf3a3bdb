// EPCIS 2.0 events (GS1 EPCIS/CBV 2.0, JSON-LD binding): every custody change is stored as an
// event document keyed by its CBV 2.0 event hash (event-hash.ts), so the same event twice is refused.

import { sha256HexOfText } from '@medledger/crypto';
import { type Body, stringField } from '../body.js';
import { EhrError } from '../errors.js';
import type { TxContext } from '../kinds.js';
import { keys, type StateOverlay } from '../state.js';
import { type EpcisHashInput, eventHashId } from './event-hash.js';

/** EPC of a package and of a case as GS1 Digital Link URIs (EPCIS 2.0 accepts them as identifiers). */
export const sgtinUri = (gtin: string, serial: string) => `https://id.gs1.org/01/${gtin}/21/${serial}`;
export const ssccUri = (sscc: string) => `https://id.gs1.org/00/${sscc}`;
export const lotClassUri = (gtin: string, lot: string) => `https://id.gs1.org/01/${gtin}/10/${lot}`;

/** The event fields a rule fills in (the fields the event hash reads); eventID and recordTime are added when it is stored. */
export interface EpcisEventBody extends EpcisHashInput {
  type: 'ObjectEvent' | 'AggregationEvent';
  action: 'ADD' | 'OBSERVE' | 'DELETE';
}

export interface StoredEvent extends EpcisEventBody {
  eventID: string;
  eventTimeZoneOffset: '+00:00';
  recordTime: string;
  'medledger:recordedBy': string;
  'medledger:height': number;
}

/** How far after block time an event's own time may be (clock skew between a partner and the chain). */
export const EVENT_TIME_LEAD_MS = 5 * 60_000;
const EVENT_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

/**
 * `body.eventTime`: when the event happened, an ISO UTC time at most 5 minutes after block time. It is part
 * of the event's hash, so resubmitting the same event yields the same id and is refused.
 */
export function eventTimeField(ctx: TxContext, b: Body): string {
  const v = stringField(b, 'eventTime', EVENT_TIME_RE, "an ISO UTC time 'YYYY-MM-DDThh:mm:ssZ'");
  const t = Date.parse(v);
  if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 19) !== v.slice(0, 19))
    throw new EhrError('INVALID_BODY', 'body.eventTime is not a valid time');
  // A client cannot know the block time its transaction will get (and a mempool check runs at
  // the last block's time), so a small lead is allowed; anything later is a future-dated event.
  if (t > ctx.time + EVENT_TIME_LEAD_MS) throw new EhrError('INVALID_BODY', 'body.eventTime is more than 5 minutes after the block time');
  return v;
}

/**
 * The event's id: the GS1 CBV 2.0 EPCIS Event Hash ID (event-hash.ts). Two events that differ
 * only in what CBV 2.0 normalises away (list order, `0123` against `123`, a URN against its Web URI
 * form) have one id, and the second is refused as the same event.
 */
export const eventIdOf = (event: EpcisEventBody): string => eventHashId(event, sha256HexOfText);

/** The fields a stored event carries after its hashed ones. */
type StoredOnly = Pick<StoredEvent, 'eventID' | 'eventTimeZoneOffset' | 'recordTime' | 'medledger:recordedBy' | 'medledger:height'>;

/**
 * `JSON.stringify({...event, ...stored})`, byte for byte, without building the merged object:
 * an object spread with five more keys leaves V8's fast JSON path, which made this several
 * times dearer than the event's own text (scripts/supply-cost.mjs). `event`'s keys are none of
 * `stored`'s and not array indexes, so the spread would keep its keys first, in order.
 */
export function storedEventJson(event: EpcisEventBody, stored: StoredOnly): string {
  const head = JSON.stringify(event);
  return `${head.slice(0, -1)},${JSON.stringify(stored).slice(1)}`;
}

/** Store `event` unless an identical one exists (DUPLICATE_EVENT), indexing it under each package it touches. */
export function recordEvent(
  ctx: TxContext,
  state: StateOverlay,
  recordedBy: string,
  event: EpcisEventBody,
  packages: Array<{ gtin: string; serial: string }>,
): string {
  const eventID = eventIdOf(event);
  const hash = eventID.slice('ni:///sha-256;'.length, 'ni:///sha-256;'.length + 64);
  if (state.getState(keys.epcisEvent(hash)) !== undefined) throw new EhrError('DUPLICATE_EVENT', `event ${eventID} is already recorded`);
  const stored: StoredOnly = {
    eventID,
    eventTimeZoneOffset: '+00:00',
    recordTime: new Date(ctx.time).toISOString(),
    'medledger:recordedBy': recordedBy,
    'medledger:height': ctx.height,
  };
  state.set(keys.epcisEvent(hash), storedEventJson(event, stored));
  for (const p of packages) state.set(keys.packageEvent(p.gtin, p.serial, ctx.height, hash), '');
  return eventID;
}
