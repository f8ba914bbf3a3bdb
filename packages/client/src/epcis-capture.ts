// EPCIS 2.0 capture (docs/medicines.md "EPCIS capture"): a trading partner hands the SDK an
// EPCISDocument as its own systems write it; the document is validated with Ajv against
// the schema of the event shapes MedLedger accepts (epcis-schema.ts), and each event becomes
// the supply transaction that records it on chain, where the ledger's custody rules decide.
// A document that violates the schema is refused whole, before anything is submitted.
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { NodeConnection } from './connection.js';
import { EPCIS_DOCUMENT_SCHEMA } from './epcis-schema.js';
import { ClientError } from './errors.js';
import { parseEpcUri } from './gs1.js';
import { type Epc, type MedicinesKind, type MedicinesTxResult, medicinesTx, traceProduct } from './medicines.js';
import { medicinesKeys } from './medicines-proven.js';
import type { TxBodies } from './tx-builders.js';

// ajv-formats is CommonJS: its default export arrives as the module object or the function.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

type Json = Record<string, unknown>;
/**
 * One supply transaction an event becomes. An unpack whose event lists its `childEPCs` keeps
 * them, to be checked against the case when it is captured (the ledger unpacks whole cases).
 */
export type CaptureStep = { [K in MedicinesKind]: { kind: K; body: TxBodies[K] } }[MedicinesKind] & { childEPCs?: Epc[] };

let validator: ReturnType<Ajv['compile']> | undefined;
function validate(doc: unknown): ErrorObject[] {
  if (validator === undefined) {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    addFormats(ajv);
    validator = ajv.compile(EPCIS_DOCUMENT_SCHEMA);
  }
  return validator(doc) ? [] : (validator.errors ?? []);
}

const refuse = (message: string): never => {
  throw new ClientError('INVALID_ARGUMENT', message);
};

/** The CBV word of a bizStep or disposition in any of its three forms. */
const cbvWord = (term: unknown) =>
  String(term).replace(/^(urn:epcglobal:cbv:(bizstep|disp):|https:\/\/ref\.gs1\.org\/cbv\/(BizStep|Disp)-)/, '');
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
    return refuse(`${ctx}: only packing (ADD) and unpacking (DELETE) aggregations are captured`);
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
  return refuse(`${ctx}: this combination of event type, action and bizStep is not captured`);
}

/**
 * Validate an EPCISDocument against the EPCIS 2.0 schema MedLedger accepts and map each event
 * to its supply transaction. Throws ClientError INVALID_ARGUMENT listing the schema violations
 * (instance path and message), or naming the event that cannot be recorded.
 */
export function epcisToTransactions(doc: unknown): CaptureStep[] {
  const errors = validate(doc);
  if (errors.length > 0)
    refuse(
      `the EPCIS document violates the EPCIS 2.0 schema: ${errors
        .slice(0, 10)
        .map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`)
        .join('; ')}`,
    );
  return (doc as { epcisBody: { eventList: Json[] } }).epcisBody.eventList.map(stepOf);
}

/** A captured event's transaction, and the ids of the EPCIS events the chain recorded for it. */
export interface CapturedEvent extends MedicinesTxResult {
  /** GS1 CBV 2.0 Event Hash IDs, each recomputed by this client. */
  eventIDs: string[];
}

const refKey = (e: Epc) => `${e.gtin}/${e.serial}`;

/**
 * The packages in case `sscc` now, proven (the ledger's `case/<sscc>`: its holder and children
 * `<gtin>/<serial>`). An unpack, or a ship or receive of cases alone, names no package; these
 * are the packages whose traces show its event, and what an unpack's `childEPCs` must name.
 * Undefined: no such case.
 */
async function provenCaseChildren(conn: NodeConnection, sscc: string): Promise<Epc[] | undefined> {
  const key = medicinesKeys.case(sscc);
  const raw = (await conn.verified('reading a captured case').read([key])).value(key);
  // No such case: the chain refuses the event (NOT_FOUND) and says so, as for any other.
  if (raw === null) return undefined;
  return ((JSON.parse(raw) as { children: string[] }).children ?? []).map((ref) => {
    const [gtin, serial] = ref.split('/') as [string, string];
    return { gtin, serial };
  });
}

/** The first package a step touches, whose trace shows the event the step recorded. */
async function packageOf(conn: NodeConnection, s: CaptureStep, i: number): Promise<Epc | undefined> {
  if (s.kind === 'supply.commission') return { gtin: s.body.gtin, serial: s.body.serials[0] as string };
  if (s.kind === 'supply.unpack') {
    const ctx = `eventList[${i}] (AggregationEvent DELETE unpacking)`;
    const children = await provenCaseChildren(conn, s.body.sscc);
    if (children === undefined) return undefined;
    const named = s.childEPCs?.map(refKey).sort();
    const all = children.map(refKey).sort();
    if (named !== undefined && named.join() !== all.join())
      refuse(`${ctx}: childEPCs must name every package in case ${s.body.sscc} (${all.length}): MedLedger unpacks whole cases`);
    return children[0];
  }
  const { epcs, cases } = s.body as { epcs?: Epc[]; cases?: string[] };
  if (epcs !== undefined && epcs.length > 0) return epcs[0];
  // A case shipped or received alone: its packages' traces show the event.
  const sscc = cases?.[0];
  return sscc === undefined ? undefined : (await provenCaseChildren(conn, sscc))?.[0];
}

/**
 * Capture an EPCISDocument: validate it whole, then submit its events in order, each waiting
 * for commit, then read back the event each recorded from the package's proven trace, its id
 * recomputed here (a node that got an id wrong is refused, `EVENT_ID_MISMATCH`). A refused
 * event stops the capture with the chain's code; events before it stay recorded (each is its
 * own transaction). Reading back needs a trusted genesis, as every proven answer does.
 */
export async function captureEpcis(conn: NodeConnection, doc: unknown): Promise<CapturedEvent[]> {
  const steps = epcisToTransactions(doc);
  const done: CapturedEvent[] = [];
  for (const [i, s] of steps.entries()) {
    // Read before submitting: an unpack removes the case it names.
    const epc = await packageOf(conn, s, i);
    const result = await medicinesTx(conn, s.kind, s.body as never);
    const eventIDs: string[] = [];
    for (let cursor: string | undefined, first = true; epc !== undefined && (first || cursor !== undefined); first = false) {
      const page = await traceProduct(conn, epc, { limit: 500, ...(cursor === undefined ? {} : { cursor }) });
      for (const e of page.items) if (e['medledger:height'] === result.height) eventIDs.push(String(e.eventID));
      cursor = page.next ?? undefined;
    }
    done.push({ ...result, eventIDs });
  }
  return done;
}
