// EPCIS 2.0 capture (docs/medicines.md "EPCIS capture"): a trading partner hands the SDK an
// EPCISDocument as its own systems write it; the document is validated with Ajv against GS1's
// published EPCIS 2.0 schema and MedLedger's profile of it (epcis-validate.ts), each event is mapped to
// the supply kind that records it, and the whole document goes to the chain as one
// `supply.capture` transaction, where the ledger's custody rules decide: all events or none,
// EPCIS 2.0's default capture behaviour (rollback). A document that violates the schema is
// refused whole, before anything is submitted.
import { canonicalBytes } from './canonical.js';
import type { NodeConnection } from './connection.js';
import { validateEpcisDocument } from './epcis-validate.js';
import { ClientError } from './errors.js';
import { parseEpcUri } from './gs1.js';
import { type CaptureEventBody, type Epc, type MedicinesTxResult, medicinesTx, traceProduct } from './medicines.js';
import { medicinesKeys } from './medicines-proven.js';

export { EpcisValidationError, type EpcisViolation, validateEpcisDocument } from './epcis-validate.js';

type Json = Record<string, unknown>;
/**
 * The supply event an EPCIS event becomes inside the capture. An unpack whose event lists its
 * `childEPCs` keeps them, to be checked against the case before submitting (the ledger unpacks
 * whole cases).
 */
export type CaptureStep = CaptureEventBody & { childEPCs?: Epc[] };

const refuse = (message: string, code = 'INVALID_ARGUMENT'): never => {
  throw new ClientError(code, message);
};

/** The CBV word of a bizStep or disposition, bare or as its GS1 Web URI. */
const cbvWord = (term: unknown) => String(term).replace(/^https:\/\/ref\.gs1\.org\/cbv\/(BizStep|Disp)-/, '');
/** The chain's eventTime form (UTC, milliseconds), from any EPCIS date-time. */
const utc = (t: unknown) => new Date(String(t)).toISOString();

function packagesAndCases(uris: unknown, where: string): { epcs: Epc[]; cases: string[] } {
  const epcs: Epc[] = [];
  const cases: string[] = [];
  for (const u of uris as string[]) {
    const id = parseEpcUri(u, where);
    if ('sscc' in id) cases.push(id.sscc);
    else epcs.push(id);
  }
  return { epcs, cases };
}

const partyOf = (list: unknown, field: 'source' | 'destination', where: string): string => {
  // CBV 2.0 source/destination type owning_party, bare or as its URN or URI.
  const owning = (list as Array<Json> | undefined)?.find((x) => /owning_party$/.test(String(x.type)));
  const m = /^urn:medledger:org:([0-9a-f]{40})$/.exec(String(owning?.[field] ?? ''));
  return m?.[1] ?? refuse(`${where}: needs an owning_party ${field} urn:medledger:org:<organization id>`);
};

/** The supply transaction of one schema-valid event; throws INVALID_ARGUMENT naming the event. */
function stepOf(e: Json, i: number): CaptureStep {
  const where = `eventList[${i}]`;
  const step = cbvWord(e.bizStep);
  const eventTime = utc(e.eventTime);
  const objects = () => packagesAndCases(e.epcList, where);
  const ctx = `${where} (${String(e.type)} ${String(e.action)} ${step})`;
  if (e.type === 'AggregationEvent') {
    const parent = parseEpcUri(String(e.parentID), where);
    if (!('sscc' in parent)) return refuse(`${ctx}: parentID must be a case (SSCC)`);
    if (step === 'packing' && e.action === 'ADD') {
      const { epcs, cases } = packagesAndCases(e.childEPCs ?? [], where);
      if (cases.length > 0 || epcs.length === 0) return refuse(`${ctx}: childEPCs must be packages`);
      return { kind: 'supply.pack', body: { sscc: parent.sscc, epcs, eventTime } };
    }
    if (step === 'unpacking' && e.action === 'DELETE') {
      // EPCIS lets a DELETE name the children it removes, or none for all of them.
      const { epcs, cases } = packagesAndCases(e.childEPCs ?? [], where);
      if (cases.length > 0) return refuse(`${ctx}: childEPCs must be packages`);
      return { kind: 'supply.unpack', body: { sscc: parent.sscc, eventTime }, ...(epcs.length === 0 ? {} : { childEPCs: epcs }) };
    }
    return refuse(`${ctx}: only packing (ADD) and unpacking (DELETE) aggregations are captured`, 'EPCIS_NOT_SUPPORTED');
  }
  if (step === 'commissioning' && e.action === 'ADD') {
    const { epcs, cases } = objects();
    const gtins = new Set(epcs.map((x) => x.gtin));
    if (cases.length > 0 || gtins.size !== 1) return refuse(`${ctx}: commission packages of one GTIN`);
    const ilmd = (e.ilmd ?? {}) as Json;
    const lot = ilmd['cbvmda:lotNumber'];
    const expiry = ilmd['cbvmda:itemExpirationDate'];
    if (typeof lot !== 'string' || typeof expiry !== 'string')
      return refuse(`${ctx}: ilmd needs cbvmda:lotNumber and cbvmda:itemExpirationDate`);
    return {
      kind: 'supply.commission',
      body: { gtin: [...gtins][0] as string, lot, expiry, serials: epcs.map((x) => x.serial), eventTime },
    };
  }
  if (step === 'shipping' && e.action === 'OBSERVE') {
    const transaction = /([A-Za-z0-9-]{1,40})$/.exec(String((e.bizTransactionList as Json[] | undefined)?.[0]?.bizTransaction ?? ''))?.[1];
    if (transaction === undefined) return refuse(`${ctx}: needs a bizTransactionList entry (the invoice or order)`);
    if (e['medledger:transactionStatement'] !== true)
      return refuse(`${ctx}: needs medledger:transactionStatement true (the DSCSA statement)`);
    const transactionDate = e['medledger:transactionDate'];
    if (typeof transactionDate !== 'string') return refuse(`${ctx}: needs medledger:transactionDate`);
    const { epcs, cases } = objects();
    return {
      kind: 'supply.ship',
      body: { to: partyOf(e.destinationList, 'destination', ctx), epcs, cases, eventTime, transaction, transactionDate, statement: true },
    };
  }
  if (step === 'receiving' && e.action === 'OBSERVE') return { kind: 'supply.receive', body: { ...objects(), eventTime } };
  if ((step === 'destroying' || step === 'decommissioning') && e.action === 'DELETE') {
    const { epcs, cases } = objects();
    if (cases.length > 0) return refuse(`${ctx}: unpack a case before destroying its packages`);
    const reason = typeof e['medledger:reason'] === 'string' ? e['medledger:reason'] : step;
    return { kind: 'supply.decommission', body: { epcs, kind: step === 'destroying' ? 'destroy' : 'decommission', reason, eventTime } };
  }
  return refuse(`${ctx}: this combination of event type, action and bizStep is not captured`, 'EPCIS_NOT_SUPPORTED');
}

/**
 * Validate an EPCISDocument (the published EPCIS 2.0 schema, then MedLedger's profile) and map
 * each event to its supply transaction. Throws EpcisValidationError INVALID_ARGUMENT (not valid
 * EPCIS 2.0) or EPCIS_NOT_SUPPORTED (valid, outside the profile), each finding with its JSON
 * pointer; or ClientError naming the event that cannot be recorded (EPCIS_NOT_SUPPORTED for an
 * event type, action and bizStep MedLedger does not record, INVALID_ARGUMENT otherwise).
 */
export function epcisToTransactions(doc: unknown): CaptureStep[] {
  validateEpcisDocument(doc);
  return (doc as { epcisBody: { eventList: Json[] } }).epcisBody.eventList.map(stepOf);
}

/** A captured event: the capture's transaction, and the id of the EPCIS event the chain recorded for it. */
export interface CapturedEvent extends MedicinesTxResult {
  /** The GS1 CBV 2.0 Event Hash ID of this event (one), recomputed by this client. */
  eventIDs: string[];
}

/** Signed bytes one capture may take (the ledger's MAX_CAPTURE_BYTES; under the API's 1 MiB request limit). */
export const MAX_CAPTURE_BYTES = 512 * 1024;

const refKey = (e: Epc) => `${e.gtin}/${e.serial}`;
const sgtinUri = (e: Epc) => `https://id.gs1.org/01/${e.gtin}/21/${e.serial}`;
const ssccUri = (sscc: string) => `https://id.gs1.org/00/${sscc}`;

/**
 * The packages in case `sscc` now, proven (the ledger's `case/<sscc>`: its holder and children
 * `<gtin>/<serial>`). Undefined: no such case.
 */
async function provenCaseChildren(conn: NodeConnection, sscc: string): Promise<Epc[] | undefined> {
  const key = medicinesKeys.case(sscc);
  const raw = (await conn.verified('reading a captured case').read([key])).value(key);
  if (raw === null) return undefined;
  return ((JSON.parse(raw) as { children: string[] }).children ?? []).map((ref) => {
    const [gtin, serial] = ref.split('/') as [string, string];
    return { gtin, serial };
  });
}

/** How to find one event in the proven traces once the capture committed. */
interface Lookout {
  /** A package the event touches, whose trace shows it; none for an event on an empty case. */
  epc: Epc | undefined;
  /** What the stored event must show: type, action, bizStep, eventTime, parentID and its objects. */
  match: (e: Record<string, unknown>) => boolean;
}

const sameSet = (a: unknown, b: string[]) => Array.isArray(a) && [...a].map(String).sort().join() === [...b].sort().join();

/**
 * Before submitting: each event's lookout, following the cases through the document (a case
 * packed earlier in it, or unpacked, as the ledger will see it), each case read proven from the
 * chain the first time the document names it. Refuses what cannot be one capture: an unpack that
 * names part of a case (the ledger unpacks whole cases), and a receive of what the same document
 * ships (a capture is signed by one partner; the addressee receives in its own).
 */
async function plan(conn: NodeConnection, steps: CaptureStep[]): Promise<Lookout[]> {
  const cases = new Map<string, Epc[] | undefined>();
  const shipped = new Map<string, number>();
  const caseNow = async (sscc: string) => {
    if (!cases.has(sscc)) cases.set(sscc, await provenCaseChildren(conn, sscc));
    return cases.get(sscc);
  };
  const out: Lookout[] = [];
  for (const [i, s] of steps.entries()) {
    const where = `eventList[${i}]`;
    const base = (type: string, action: string, bizStep: string) => (e: Record<string, unknown>) =>
      e.type === type && e.action === action && e.bizStep === bizStep && e.eventTime === s.body.eventTime;
    if (s.kind === 'supply.commission') {
      const epcs = s.body.serials.map((serial) => ({ gtin: s.body.gtin, serial }));
      const is = base('ObjectEvent', 'ADD', 'commissioning');
      out.push({ epc: epcs[0], match: (e) => is(e) && sameSet(e.epcList, epcs.map(sgtinUri)) });
    } else if (s.kind === 'supply.pack') {
      const is = base('AggregationEvent', 'ADD', 'packing');
      const parent = ssccUri(s.body.sscc);
      out.push({ epc: s.body.epcs[0], match: (e) => is(e) && e.parentID === parent && sameSet(e.childEPCs, s.body.epcs.map(sgtinUri)) });
      cases.set(s.body.sscc, [...((await caseNow(s.body.sscc)) ?? []), ...s.body.epcs]);
    } else if (s.kind === 'supply.unpack') {
      const children = await caseNow(s.body.sscc);
      const named = s.childEPCs?.map(refKey).sort();
      const all = (children ?? []).map(refKey).sort();
      if (children !== undefined && named !== undefined && named.join() !== all.join())
        refuse(
          `${where} (AggregationEvent DELETE unpacking): childEPCs must name every package in case ${s.body.sscc} (${all.length}): MedLedger unpacks whole cases`,
        );
      const is = base('AggregationEvent', 'DELETE', 'unpacking');
      const parent = ssccUri(s.body.sscc);
      out.push({ epc: children?.[0], match: (e) => is(e) && e.parentID === parent });
      cases.set(s.body.sscc, undefined);
    } else if (s.kind === 'supply.decommission') {
      const is = base('ObjectEvent', 'DELETE', s.body.kind === 'destroy' ? 'destroying' : 'decommissioning');
      out.push({ epc: s.body.epcs[0], match: (e) => is(e) && sameSet(e.epcList, s.body.epcs.map(sgtinUri)) });
    } else {
      const { epcs = [], cases: ssccs = [] } = s.body;
      const objects = [...epcs.map(sgtinUri), ...ssccs.map(ssccUri)];
      const refs = [...epcs.map(refKey), ...ssccs];
      if (s.kind === 'supply.receive') {
        const from = refs.map((r) => shipped.get(r)).find((j) => j !== undefined);
        if (from !== undefined)
          refuse(
            `${where} receives what eventList[${from}] ships in the same document: a capture is signed by one partner, so the addressee captures its receiving in a document of its own`,
          );
      } else for (const r of refs) shipped.set(r, i);
      const is = base('ObjectEvent', 'OBSERVE', s.kind === 'supply.ship' ? 'shipping' : 'receiving');
      // A case shipped or received alone: its packages' traces show the event.
      const epc = epcs[0] ?? (ssccs[0] === undefined ? undefined : (await caseNow(ssccs[0]))?.[0]);
      out.push({ epc, match: (e) => is(e) && sameSet(e.epcList, objects) });
    }
  }
  return out;
}

/** Every proven event of `epc`'s trace recorded at `height`. */
async function eventsAt(conn: NodeConnection, epc: Epc, height: number): Promise<Array<Record<string, unknown>>> {
  const found: Array<Record<string, unknown>> = [];
  for (let cursor: string | undefined, first = true; first || cursor !== undefined; first = false) {
    const page = await traceProduct(conn, epc, { limit: 500, ...(cursor === undefined ? {} : { cursor }) });
    for (const e of page.items) if (e['medledger:height'] === height) found.push(e);
    cursor = page.next ?? undefined;
  }
  return found;
}

/**
 * Capture an EPCISDocument: validate it whole, map each event to its supply kind, and submit
 * them all as one `supply.capture` transaction: every event is recorded, or (one refused) none
 * is, EPCIS 2.0's `rollback` capture. A refusal keeps the chain's code and names the event,
 * `eventList[i]: …`. Then each event's id is read back from the proven trace of a package it
 * touched and recomputed here (a node that got an id wrong is refused, `EVENT_ID_MISMATCH`; one
 * whose trace leaves the event out, `FACT_NOT_PROVEN`). Reading back needs a trusted genesis,
 * as every proven answer does. Results are per event, in the document's order, all with the
 * capture's transaction hash and height.
 */
export async function captureEpcis(conn: NodeConnection, doc: unknown): Promise<CapturedEvent[]> {
  const steps = epcisToTransactions(doc);
  const events = steps.map(({ kind, body }) => ({ kind, body }) as CaptureEventBody);
  // The envelope around the body (chain, kind, nonce, signer, signature) takes under 400 bytes.
  const bytes = canonicalBytes({ events }).length + 400;
  if (bytes > MAX_CAPTURE_BYTES)
    refuse(
      `the document's events take about ${bytes} bytes, over the ${MAX_CAPTURE_BYTES} one capture may: split it into smaller documents`,
    );
  // Read before submitting: an unpack removes the case it names.
  const lookouts = await plan(conn, steps);
  let result: MedicinesTxResult;
  try {
    result = await medicinesTx(conn, 'supply.capture', { events });
  } catch (err) {
    const m = err instanceof ClientError ? /^events\[(\d+)\]: (.*)$/s.exec(err.message) : null;
    if (m === null) throw err;
    const e = err as ClientError;
    throw new ClientError(e.code, `eventList[${m[1]}]: ${m[2]} (nothing of the document was recorded)`, e.status, { cause: err });
  }
  const traces = new Map<string, Promise<Array<Record<string, unknown>>>>();
  const done: CapturedEvent[] = [];
  for (const [i, { epc, match }] of lookouts.entries()) {
    if (epc === undefined) {
      // An event on an empty case names no package: there is no trace to read it from.
      done.push({ ...result, eventIDs: [] });
      continue;
    }
    if (!traces.has(refKey(epc))) traces.set(refKey(epc), eventsAt(conn, epc, result.height));
    const found = ((await traces.get(refKey(epc))) ?? []).filter(match);
    if (found.length !== 1)
      refuse(
        `eventList[${i}] committed at height ${result.height}, but the node's proven trace of ${refKey(epc)} shows ${found.length} such events`,
        'FACT_NOT_PROVEN',
      );
    done.push({ ...result, eventIDs: [String(found[0]?.eventID)] });
  }
  return done;
}
