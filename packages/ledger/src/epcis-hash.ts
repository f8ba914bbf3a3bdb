// The EPCIS Event Hash ID of GS1 CBV 2.0 ("ni:///sha-256;…?ver=CBV2.0"): a syntax-agnostic
// id computed from a canonical pre-hash string, so the same event written by another EPCIS system
// gets the same id. Written for the event shapes MedLedger records (ehr medicines/events.ts) and
// checked against vectors from GS1's reference implementation (epcis-event-hash-generator 1.9.3,
// ehr medicines/event-hash.test.ts). A shared wire format: the ledger rules key events by it and
// clients recompute it for every event they show (browser-safe: no node: imports).
import { sha256Hex, utf8 } from '@medledger/crypto/browser';

/** The event fields the hash reads (ehr `EpcisEventBody`); stored-only fields must be left out. */
export interface EpcisHashInput {
  type: string;
  eventTime: string;
  action: string;
  bizStep: string;
  disposition?: string;
  epcList?: string[];
  parentID?: string;
  childEPCs?: string[];
  quantityList?: Array<{ epcClass: string }>;
  bizTransactionList?: Array<{ type: string; bizTransaction: string }>;
  sourceList?: Array<{ type: string; source: string }>;
  destinationList?: Array<{ type: string; destination: string }>;
  ilmd?: Record<string, string>;
  [ext: `medledger:${string}`]: unknown;
}
type EpcisEventBody = EpcisHashInput;

/** IRI of the `medledger:` prefix of MedLedger's extension fields; the pre-hash names them `{IRI}local`. */
export const MEDLEDGER_EPCIS_NS = 'urn:medledger:epcis:';

/** Code-point order, as the reference sorts (Python `str` comparison), not UTF-16 code-unit order. */
function byCodePoint(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = ((x[i] as string).codePointAt(0) ?? 0) - ((y[i] as string).codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
const sorted = (parts: string[]) => [...parts].sort(byCodePoint);

/** `2026-12-06T10:00:00Z` → `2026-12-06T10:00:00.000Z`: UTC, millisecond precision. */
function msTime(t: string): string {
  return new Date(Date.parse(t)).toISOString();
}

/** A CBV value as its GS1 Web URI: bare `shipping` or `urn:epcglobal:cbv:bizstep:shipping` → `https://ref.gs1.org/cbv/BizStep-shipping`. */
function cbvUri(vocabulary: 'BizStep' | 'Disp' | 'BTT' | 'SDT', v: string): string {
  if (/^[a-z_]+$/.test(v)) return `https://ref.gs1.org/cbv/${vocabulary}-${v}`;
  return v
    .replace('urn:epcglobal:cbv:bizstep:', 'https://ref.gs1.org/cbv/BizStep-')
    .replace('urn:epcglobal:cbv:disp:', 'https://ref.gs1.org/cbv/Disp-')
    .replace('urn:epcglobal:cbv:btt:', 'https://ref.gs1.org/cbv/BTT-')
    .replace('urn:epcglobal:cbv:sdt:', 'https://ref.gs1.org/cbv/SDT-');
}

/** The decimal literal forms a number may take (Python `float()` syntax, ASCII digits, `_` between digits). */
const DIGITS = String.raw`\d(?:_?\d)*`;
const NUMBER_RE = new RegExp(`^[+-]?(?:${DIGITS}(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})(?:[eE][+-]?${DIGITS})?$`);

/** Python's `repr` of a finite non-integer double: shortest digits, fixed from 1e-4, else `d.ddde-XX`. */
function pythonFloatRepr(x: number): string {
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(x.toExponential()) as RegExpExecArray;
  const [, sign, lead, frac = '', expText] = m;
  const digits = `${lead}${frac}`;
  const e = Number(expText);
  if (e < -4) return `${sign}${lead}${frac === '' ? '' : `.${frac}`}e-${String(-e).padStart(2, '0')}`;
  if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
  // A non-integer below 2^53 has more digits than its integer part, so both sides are non-empty.
  return `${sign}${digits.slice(0, e + 1)}.${digits.slice(e + 1)}`;
}

/**
 * A value that reads as a number is written as that number (the rule: no leading zeros, no
 * trailing `.0`): `0123` → `123`, `1.50` → `1.5`, `12e3` → `12000`, as the reference does it
 * (Python `float`, then `int` when whole). Values that overflow a double stay as written.
 */
function canonicalNumber(text: string): string {
  if (!NUMBER_RE.test(text)) return text;
  const x = Number(text.replace(/_/g, ''));
  if (!Number.isFinite(x)) return text;
  return Number.isInteger(x) ? BigInt(x).toString() : pythonFloatRepr(x);
}

/** `name=value` with the value trimmed and canonical, or `name` alone for an empty value. */
function field(name: string, value: string, transform: (v: string) => string = canonicalNumber): string {
  const v = value.trim();
  return v === '' ? name : `${name}=${transform(v)}`;
}

/** A list of `{type, <name>}` entries (bizTransactionList, sourceList, destinationList): type first, entries sorted. */
function typedList(list: string, name: string, vocabulary: 'BTT' | 'SDT', entries: Array<Record<string, string>>): string {
  const each = entries.map((e) => field('type', e.type as string, (v) => cbvUri(vocabulary, v)) + field(name, e[name] as string));
  return list + sorted(each).join('');
}

/** A user extension (`medledger:x`) or one of its nested fields, generically: scalars as `name=value`, objects by sorted fields. */
function extension(name: string, value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => extension(name, v));
  if (value !== null && typeof value === 'object')
    return [name + sorted(Object.entries(value).flatMap(([k, v]) => extension(k, v))).join('')];
  if (typeof value === 'boolean') return [`${name}=${value ? 'True' : 'False'}`];
  return [field(name, String(value))];
}

/** The CBV 2.0 pre-hash string of an event (recordTime, eventID and MedLedger's stored-only fields are not part of it). */
export function eventPreHash(event: EpcisEventBody): string {
  const ordered: string[] = [`eventType=${event.type}`, `eventTime=${msTime(event.eventTime)}`, 'eventTimeZoneOffset=+00:00'];
  if (event.parentID !== undefined) ordered.push(field('parentID', event.parentID));
  const epcs = (list: string, uris: string[] | undefined) => {
    if (uris !== undefined && uris.length > 0) ordered.push(list + sorted(uris.map((u) => field('epc', u))).join(''));
  };
  epcs('epcList', event.epcList);
  epcs('childEPCs', event.childEPCs);
  if (event.quantityList !== undefined && event.quantityList.length > 0)
    ordered.push(`quantityList${sorted(event.quantityList.map((q) => `quantityElement${field('epcClass', q.epcClass)}`)).join('')}`);
  ordered.push(field('action', event.action));
  ordered.push(field('bizStep', event.bizStep, (v) => cbvUri('BizStep', v)));
  if (event.disposition !== undefined) ordered.push(field('disposition', event.disposition, (v) => cbvUri('Disp', v)));

  // Everything not in the CBV's property order follows, each element's string sorted among the rest.
  const rest: string[] = [];
  if (event.bizTransactionList?.length) rest.push(typedList('bizTransactionList', 'bizTransaction', 'BTT', event.bizTransactionList));
  if (event.sourceList?.length) rest.push(typedList('sourceList', 'source', 'SDT', event.sourceList));
  if (event.destinationList?.length) rest.push(typedList('destinationList', 'destination', 'SDT', event.destinationList));
  if (event.ilmd !== undefined && Object.keys(event.ilmd).length > 0)
    rest.push(`ilmd${sorted(Object.entries(event.ilmd).map(([k, v]) => field(k, v))).join('')}`);
  for (const [k, v] of Object.entries(event))
    if (k.startsWith('medledger:')) rest.push(...extension(`{${MEDLEDGER_EPCIS_NS}}${k.slice('medledger:'.length)}`, v));
  return ordered.join('') + sorted(rest).join('');
}

/**
 * The EPCIS Event Hash ID: `ni:///sha-256;<SHA-256 of the UTF-8 pre-hash, hex>?ver=CBV2.0` (RFC 6920 ni URI).
 * `sha256HexOfText` is this module's browser-safe SHA-256 unless a caller passes the same function
 * from `@medledger/crypto`'s Node entry (node:crypto, several times faster), as the ledger rules do.
 */
export function eventHashId(event: EpcisEventBody, sha256HexOfText: (text: string) => string = browserSha256HexOfText): string {
  return `ni:///sha-256;${sha256HexOfText(eventPreHash(event))}?ver=CBV2.0`;
}
const browserSha256HexOfText = (text: string) => sha256Hex(utf8(text));

/** Fields a stored event carries besides the hashed ones (ehr `StoredEvent`): not part of its id. */
export const STORED_ONLY_EVENT_FIELDS = [
  'eventID',
  'eventTimeZoneOffset',
  'recordTime',
  'medledger:recordedBy',
  'medledger:height',
] as const;

/** The Event Hash ID a stored event (as a node serves it) must carry: recomputed from its hashed fields. */
export function storedEventHashId(stored: Record<string, unknown>): string {
  const hashed: Record<string, unknown> = { ...stored };
  for (const f of STORED_ONLY_EVENT_FIELDS) delete hashed[f];
  return eventHashId(hashed as unknown as EpcisHashInput);
}
