// Who a patient is, for a clinician: name, birth date, sex, allergies and an emergency
// summary (active problems and current medicines), built only from the records the
// clinician may read, so a wrong-patient mistake is visible before anything is done.
// Pure functions of decrypted FHIR resources.
import { conceptText } from './fhir-view.js';

type Json = Record<string, unknown>;

export interface PatientBanner {
  /** The patient's name from their Patient resource, if it was shared. */
  name: string | undefined;
  /** YYYY-MM-DD as the resource gives it. */
  birthDate: string | undefined;
  sex: string | undefined;
  /** Allergy and intolerance names; `undefined` when no allergy records are readable (unknown, not "none"). */
  allergies: string[] | undefined;
  /** Active problems (Condition). */
  problems: string[];
  /** Current medicines (MedicationStatement / MedicationRequest, active). */
  medications: string[];
}

const obj = (x: unknown): Json | undefined => (typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Json) : undefined);
const str = (x: unknown): string | undefined => (typeof x === 'string' && x.trim() !== '' ? x.trim() : undefined);
const list = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);

const SEX: Record<string, string> = { male: 'Male', female: 'Female', other: 'Other', unknown: 'Unknown' };

/** A HumanName as "Given Family" (the `official` or first `usual` one, else the first). */
export function humanName(names: unknown): string | undefined {
  const all = list(names)
    .map(obj)
    .filter((n): n is Json => n !== undefined);
  const pick = all.find((n) => n.use === 'official') ?? all.find((n) => n.use === 'usual') ?? all[0];
  if (pick === undefined) return undefined;
  const text = str(pick.text);
  if (text !== undefined) return text;
  // Synthea writes given names with digits ("Liz123"); people do not have them.
  const clean = (s: unknown) => str(typeof s === 'string' ? s.replace(/[0-9]+/g, '') : undefined);
  const parts = [...list(pick.given).map(clean), clean(pick.family)].filter((p): p is string => p !== undefined);
  return parts.length === 0 ? undefined : parts.join(' ');
}

function codeOf(x: unknown): string | undefined {
  return str(obj(list(obj(x)?.coding)[0])?.code);
}

function isActiveCondition(c: Json): boolean {
  const clinical = codeOf(c.clinicalStatus);
  if (clinical !== undefined) return clinical === 'active' || clinical === 'recurrence' || clinical === 'relapse';
  return c.abatementDateTime === undefined && c.abatementPeriod === undefined;
}

const uniq = (xs: Array<string | undefined>) => [...new Set(xs.filter((x): x is string => x !== undefined))].sort();

/** The banner from every resource the clinician could open (any order). */
export function patientBanner(resources: readonly unknown[]): PatientBanner {
  const rs = resources.map(obj).filter((r): r is Json => r !== undefined);
  const patient = rs.find((r) => r.resourceType === 'Patient');
  const allergyRecords = rs.filter((r) => r.resourceType === 'AllergyIntolerance');
  const activeAllergies = allergyRecords.filter((a) => {
    const s = codeOf(a.clinicalStatus);
    return s === undefined || s === 'active';
  });
  const problems = rs.filter((r) => r.resourceType === 'Condition' && isActiveCondition(r));
  const meds = rs.filter(
    (r) =>
      (r.resourceType === 'MedicationStatement' || r.resourceType === 'MedicationRequest') &&
      (r.status === 'active' || r.status === undefined),
  );
  return {
    name: patient === undefined ? undefined : humanName(patient.name),
    birthDate: str(patient?.birthDate),
    sex: patient === undefined ? undefined : SEX[str(patient.gender) ?? ''],
    allergies: allergyRecords.length === 0 ? undefined : uniq(activeAllergies.map((a) => conceptText(a.code))),
    problems: uniq(problems.map((c) => conceptText(c.code))),
    medications: uniq(meds.map((m) => conceptText(m.medicationCodeableConcept) ?? str(obj(m.medicationReference)?.display))),
  };
}

/** Does `query` (any case, any word order) match this patient's name or own label? */
export function matchesPatient(query: string, names: ReadonlyArray<string | undefined>): boolean {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const hay = names
    .filter((n): n is string => n !== undefined)
    .join(' ')
    .toLowerCase();
  return words.every((w) => hay.includes(w));
}
