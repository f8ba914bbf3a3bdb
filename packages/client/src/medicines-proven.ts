// Medicines facts the SDK acts on, proven against the trusted genesis (DESIGN §1.5,
// docs/medicines.md "Proven answers"): a verification is recomputed from the proven product,
// package, recall and quarantine at the proven block's time; a package, a prescription and an
// EPCIS event are returned only as the proven state holds them. A node that calls a recalled
// or dispensed serial fine, or shows a prescription with fills it does not have, is refused.
import { storedEventHashId } from '@medledger/ledger/epcis-hash';
import { canonicalJson } from './canonical.js';
import { ClientError } from './errors.js';
import { refuse } from './trust.js';
import type { ProvenState, VerifiedReader } from './verified-reader.js';

/**
 * The medicines state keys the client proves (the layout of @medledger/ehr `keys`, which the
 * client may not import; medicines-proven.test.ts checks both agree).
 */
export const medicinesKeys = {
  product: (gtin: string) => `product/${gtin}`,
  package: (gtin: string, serial: string) => `pkg/${gtin}/${serial}`,
  recall: (gtin: string, lot: string) => `recall/${gtin}/${lot}`,
  lotQuarantine: (gtin: string, lot: string) => `lotq/${gtin}/${lot}`,
  epcisEvent: (hash: string) => `epcis/${hash}`,
  case: (sscc: string) => `case/${sscc}`,
  prescription: (id: string) => `rx/${id}`,
  illegitimateNotice: (id: string) => `ilnotice/${id}`,
  verification: (height: number, id: string) => `verifylog/${String(height).padStart(12, '0')}/${id}`,
};

type Json = Record<string, unknown>;

/** GS1 LMv verification reasons, plus `Dispensed` (ehr `VerifyReason`). */
export type VerifyReason =
  | 'No_match_GTIN'
  | 'No_match_GTIN_Serial'
  | 'No_match_GTIN_Serial_Lot'
  | 'No_match_GTIN_Serial_Expiry'
  | 'Illegitimate'
  | 'Suspect'
  | 'Recalled'
  | 'Dispensed'
  | 'Decommissioned'
  | 'Expired';

export interface ProductIdentifier {
  gtin: string;
  serial: string;
  lot?: string;
  expiry?: string;
}

/** The state a verification reads (ehr `verifyPackage`): absent entries are undefined. */
export interface VerificationFacts {
  product: Json | undefined;
  pkg: { lot: string; expiry: string; status: string; quarantine: { kind: string } | null } | undefined;
  recall: Json | undefined;
  lotQuarantine: { kind: string } | undefined;
}

/**
 * The verification answer from state at block time `time`: the same checks in the same order
 * as ehr `verifyPackage` (medicines-proven.test.ts runs both on the same cases).
 */
export function verificationOf(facts: VerificationFacts, id: ProductIdentifier, time: number): VerifyReason | null {
  if (facts.product === undefined) return 'No_match_GTIN';
  const pkg = facts.pkg;
  if (pkg === undefined) return 'No_match_GTIN_Serial';
  if (id.lot !== undefined && id.lot !== pkg.lot) return 'No_match_GTIN_Serial_Lot';
  if (id.expiry !== undefined && id.expiry !== pkg.expiry) return 'No_match_GTIN_Serial_Expiry';
  const kinds = [pkg.quarantine?.kind, facts.lotQuarantine?.kind];
  if (kinds.includes('illegitimate')) return 'Illegitimate';
  if (kinds.includes('suspect')) return 'Suspect';
  if (facts.recall !== undefined) return 'Recalled';
  if (pkg.status === 'dispensed') return 'Dispensed';
  if (pkg.status !== 'active') return 'Decommissioned';
  if (new Date(time).toISOString().slice(0, 10) > pkg.expiry) return 'Expired';
  return null;
}

function json<T>(state: ProvenState, key: string): T | undefined {
  const raw = state.value(key);
  if (raw === null) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return refuse('STATE_PROOF_INVALID', `the proven value of ${key} is not JSON`);
  }
}

/** A verification proven at one height, with that block's time. */
export interface ProvenVerification {
  gtin: string;
  serial: string;
  verified: boolean;
  reason?: VerifyReason;
  /** The proven block's time, ISO UTC. */
  at: string;
  height: number;
}

/**
 * Verify a product identifier from proven state alone. One answer when the scanned lot is
 * given; otherwise the lot is learnt from a first proof (a lot never changes once commissioned).
 */
export async function provenVerification(reader: VerifiedReader, id: ProductIdentifier): Promise<ProvenVerification> {
  const k = medicinesKeys;
  const read = (lot: string | undefined) =>
    reader.read([
      k.product(id.gtin),
      k.package(id.gtin, id.serial),
      ...(lot === undefined ? [] : [k.recall(id.gtin, lot), k.lotQuarantine(id.gtin, lot)]),
    ]);
  let lot = id.lot;
  let state = await read(lot);
  let pkg = json<VerificationFacts['pkg'] & object>(state, k.package(id.gtin, id.serial));
  if (lot === undefined && pkg !== undefined) {
    lot = pkg.lot;
    state = await read(lot);
    pkg = json<VerificationFacts['pkg'] & object>(state, k.package(id.gtin, id.serial));
  }
  // The recall and quarantine were proven for the scanned lot; only relevant when it is the package's.
  const lotFacts = pkg !== undefined && lot === pkg.lot;
  const facts: VerificationFacts = {
    product: json<Json>(state, k.product(id.gtin)),
    pkg,
    recall: lotFacts ? json<Json>(state, k.recall(id.gtin, lot as string)) : undefined,
    lotQuarantine: lotFacts ? json<{ kind: string }>(state, k.lotQuarantine(id.gtin, lot as string)) : undefined,
  };
  const reason = verificationOf(facts, id, state.time);
  return {
    gtin: id.gtin,
    serial: id.serial,
    verified: reason === null,
    ...(reason === null ? {} : { reason }),
    at: new Date(state.time).toISOString(),
    height: state.height,
  };
}

/**
 * The proven copies of values a node `told`, one state key each: refused (`FACT_NOT_PROVEN`)
 * when a told value is absent from, or differs from, the proven state.
 */
export async function provenCopies(reader: VerifiedReader, told: Array<{ key: string; value: Json }>, what: string): Promise<Json[]> {
  return (await provenCopiesAt(reader, told, what)).items;
}

/** `provenCopies`, with the proven block's height and time (undefined when nothing was told). */
export async function provenCopiesAt(
  reader: VerifiedReader,
  told: Array<{ key: string; value: Json }>,
  what: string,
): Promise<{ items: Json[]; height?: number; time?: number }> {
  if (told.length === 0) return { items: [] };
  const state = await reader.read(told.map((t) => t.key));
  const items = told.map((t) => {
    const proven = json<Json>(state, t.key);
    if (proven === undefined)
      refuse('FACT_NOT_PROVEN', `the node showed ${what} ${t.key} that the proven state at height ${state.height} lacks`);
    if (canonicalJson(proven) !== canonicalJson(t.value))
      refuse('FACT_NOT_PROVEN', `the node's ${what} ${t.key} differs from the proven state at height ${state.height}`);
    return proven;
  });
  return { items, height: state.height, time: state.time };
}

/**
 * The state key of a stored EPCIS event: `epcis/<hash>` from its `ni:///sha-256;<hash>?ver=CBV2.0`
 * id, after recomputing that id from the event itself (GS1 CBV 2.0 Event Hash ID,
 * @medledger/ledger/epcis-hash, the ledger's own implementation): an event whose id is not its
 * content's is refused (`EVENT_ID_MISMATCH`) before anything else is asked, whoever got it wrong.
 */
export function epcisEventKey(event: Json): string {
  const m = typeof event.eventID === 'string' ? /^ni:\/\/\/sha-256;([0-9a-f]{64})\?ver=CBV2\.0$/.exec(event.eventID) : null;
  if (m === null) throw new ClientError('MALFORMED_RESPONSE', 'an EPCIS event has no ni:///sha-256 eventID');
  let recomputed: string;
  try {
    recomputed = storedEventHashId(event);
  } catch {
    return refuse('EVENT_ID_MISMATCH', `EPCIS event ${String(event.eventID)} cannot be hashed: it is not an event MedLedger records`);
  }
  if (recomputed !== event.eventID)
    refuse(
      'EVENT_ID_MISMATCH',
      `EPCIS event ${String(event.eventID)} has the content of ${recomputed}: its id is not its canonical event hash`,
    );
  return medicinesKeys.epcisEvent(m[1] as string);
}
