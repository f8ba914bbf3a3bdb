// Reading untrusted FHIR JSON without trusting its shape: objects, arrays, strings, dates and
// CodeableConcepts, each answering undefined (or []) when the field is not what it should be.
export type Json = Record<string, unknown>;

export function obj(x: unknown): Json | undefined {
  return typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Json) : undefined;
}

export function list(x: unknown): unknown[] {
  return Array.isArray(x) ? x : [];
}

export function objs(x: unknown): Json[] {
  return list(x)
    .map(obj)
    .filter((o): o is Json => o !== undefined);
}

export function str(x: unknown): string | undefined {
  return typeof x === 'string' && x !== '' ? x : undefined;
}

/** The first date (ms) among FHIR dateTime strings or Periods (their start). */
export function dateOf(...xs: unknown[]): number | undefined {
  for (const x of xs) {
    const s = str(x) ?? str(obj(x)?.start);
    if (s === undefined) continue;
    const t = Date.parse(s);
    if (!Number.isNaN(t)) return t;
  }
  return undefined;
}

/** The human text of a CodeableConcept: its text, else the first coding's display or code. */
export function conceptText(x: unknown): string | undefined {
  const c = obj(x);
  if (c === undefined) return undefined;
  const coding = list(c.coding)
    .map(obj)
    .find((k) => k !== undefined);
  return str(c.text) ?? str(coding?.display) ?? str(coding?.code);
}

const LOINC = 'http://loinc.org';

/** The LOINC codes of a CodeableConcept (codings with the LOINC system, or none given). */
export function loincCodes(x: unknown): string[] {
  return objs(obj(x)?.coding)
    .filter((k) => k.system === LOINC || (k.system === undefined && /^\d{1,7}-\d$/.test(String(k.code))))
    .map((k) => str(k.code))
    .filter((c): c is string => c !== undefined);
}

/** The id a FHIR reference points at: "urn:uuid:X", "Observation/X" or "X" all give X. */
export function referenceId(x: unknown): string | undefined {
  const ref = str(obj(x)?.reference);
  if (ref === undefined) return undefined;
  return ref.replace(/^urn:uuid:/, '').replace(/^.*\//, '');
}
