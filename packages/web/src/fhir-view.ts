// Readable summaries of FHIR R4 resources for the timeline, detail view and charts: what it
// is, its value with units, when it happened. Pure functions of the resource.
import { type Flag, flagWord, roundForReading, unitDisplay } from './clinical-values.js';
import { conceptText, dateOf, type Json, list, obj, objs, referenceId, str } from './fhir-json.js';
import { bloodPressureText, observationReadings, quantityUnit, readQuantity } from './measurements.js';

export { conceptText } from './fhir-json.js';
export { type ChartLine, type ChartSeries, chartSeries } from './measurements.js';

/** One line of the detail view. */
export interface DetailRow {
  label: string;
  value: string;
}

/** A record as a person reads it. */
export interface RecordSummary {
  /** What kind of entry, e.g. "Vital sign", "Diagnosis". */
  kind: string;
  /** The main words, e.g. "Blood pressure". */
  title: string;
  /** The value, e.g. "120/80 mmHg", or a status. */
  value: string;
  /** When it happened (ms), if the resource says. */
  when: number | undefined;
  rows: DetailRow[];
  /** High or low against the reference range, for a measurement (or any of a panel's results). */
  flag?: Flag;
}

/** Finds another of the patient's resources by its FHIR id (a panel's results), if it was opened. */
export type ResourceLookup = (id: string) => unknown;

/** A Quantity as "72.5 kg": rounded for reading, in human units. */
export function quantityText(x: unknown): string | undefined {
  const q = obj(x);
  if (q === undefined || typeof q.value !== 'number') return undefined;
  const ucum = quantityUnit(q);
  const unit = unitDisplay(ucum);
  return unit === '' ? roundForReading(q.value, ucum) : `${roundForReading(q.value, ucum)} ${unit}`;
}

function observationValue(r: Json): { text: string; flag: Flag } {
  const bp = bloodPressureText(r);
  if (bp !== undefined) return bp;
  const direct = readQuantity(r.valueQuantity, r);
  if (direct !== undefined) return { text: direct.text, flag: direct.flag };
  const other = str(r.valueString) ?? conceptText(r.valueCodeableConcept);
  if (other !== undefined) return { text: other, flag: undefined };
  if (typeof r.valueBoolean === 'boolean') return { text: r.valueBoolean ? 'Yes' : 'No', flag: undefined };
  const parts = observationReadings(r).map((x) => `${x.label}: ${x.reading.text}`);
  return { text: parts.join(', '), flag: observationReadings(r).find((x) => x.reading.flag !== undefined)?.reading.flag };
}

function notesOf(r: Json): string[] {
  return list(r.note)
    .map((n) => str(obj(n)?.text))
    .filter((t): t is string => t !== undefined);
}

function decodeAttachment(a: Json | undefined): string | undefined {
  if (a === undefined) return undefined;
  const data = str(a.data);
  if (data === undefined) return str(a.title);
  try {
    const bin = atob(data);
    return new TextDecoder().decode(Uint8Array.from(bin, (ch) => ch.charCodeAt(0)));
  } catch {
    return str(a.title);
  }
}

const KINDS: Record<string, string> = {
  Observation: 'Measurement',
  Condition: 'Diagnosis',
  MedicationStatement: 'Medication',
  MedicationRequest: 'Prescription',
  MedicationDispense: 'Medicine dispensed',
  Immunization: 'Vaccination',
  Encounter: 'Visit',
  Procedure: 'Procedure',
  AllergyIntolerance: 'Allergy',
  DocumentReference: 'Clinical note',
  Patient: 'Personal details',
  DiagnosticReport: 'Test report',
  Claim: 'Billing',
  ExplanationOfBenefit: 'Billing',
  CarePlan: 'Care plan',
  Goal: 'Goal',
  Organization: 'Organization',
  Practitioner: 'Practitioner',
  ImagingStudy: 'Imaging',
  Device: 'Device',
};

/** Summarise any resource; unknown types still get a title and their status. */
export function summarize(resource: unknown, lookup?: ResourceLookup): RecordSummary {
  const r = obj(resource) ?? {};
  const type = str(r.resourceType) ?? 'Record';
  const rows: DetailRow[] = [];
  const add = (label: string, value: string | undefined) => {
    if (value !== undefined && value !== '') rows.push({ label, value });
  };
  let title = conceptText(r.code) ?? type;
  let value = '';
  let when: number | undefined;
  let flag: Flag;
  switch (type) {
    case 'Observation': {
      const read = observationValue(r);
      value = read.text;
      flag = read.flag;
      when = dateOf(r.effectiveDateTime, r.effectivePeriod, r.issued);
      add('Result', flag === undefined ? value : `${value} (${flagWord(flag).toLowerCase()})`);
      add('Interpretation', list(r.interpretation).map(conceptText).filter(Boolean).join(', '));
      // Each component's range named (systolic first), a single value's range alone.
      const ranged = observationReadings(r)
        .filter((x) => x.reading.range !== undefined)
        .sort((a, b) => Number(b.label === 'Systolic') - Number(a.label === 'Systolic'));
      const ranges = ranged.map((x) => (ranged.length > 1 ? `${x.label} ${x.reading.range}` : (x.reading.range as string)));
      add(
        'Reference range',
        ranges.length > 0
          ? ranges.join('; ')
          : objs(r.referenceRange)
              .map((x) => str(x.text))
              .filter(Boolean)
              .join('; '),
      );
      break;
    }
    case 'Condition':
      value = capitalized(conceptText(r.clinicalStatus) ?? '');
      when = dateOf(r.onsetDateTime, r.recordedDate);
      add('Status', value);
      add('Severity', conceptText(r.severity));
      break;
    case 'MedicationStatement':
    case 'MedicationRequest': {
      title = conceptText(r.medicationCodeableConcept) ?? str(obj(r.medicationReference)?.display) ?? title;
      const dosage = objs(r.dosage ?? r.dosageInstruction)
        .map(dosageText)
        .filter(Boolean)
        .join('; ');
      const strength = strengthOf(title);
      value = dosage || (strength === undefined ? (str(r.status) ?? '') : `${strength} each`);
      when = dateOf(r.effectiveDateTime, r.effectivePeriod, r.authoredOn, r.dateAsserted);
      add('Strength', strength);
      add('How to take it', dosage || 'Not stated in this record: ask the prescriber or pharmacist.');
      add('Status', str(r.status));
      break;
    }
    case 'MedicationDispense': {
      // The pharmacy's record of a fill (client medicines-dispense.ts): what, which packs, lot and expiry, where.
      title = conceptText(r.medicationCodeableConcept) ?? 'Medicine';
      when = dateOf(r.whenHandedOver);
      value = str(r.status) === 'completed' ? 'Dispensed' : (str(r.status) ?? '');
      add('Packs', quantityText(r.quantity));
      add(
        'Serial numbers',
        objs(r.identifier)
          .map((i) => /\(21\)([^(]+)/.exec(str(i.value) ?? '')?.[1])
          .filter(Boolean)
          .join(', '),
      );
      add(
        'Lot and expiry',
        [
          ...new Set(
            objs(r.contained).map((m) => `lot ${str(obj(m.batch)?.lotNumber) ?? '?'}, expires ${str(obj(m.batch)?.expirationDate) ?? '?'}`),
          ),
        ].join('; '),
      );
      const pharmacy = objs(r.performer)
        .map((p) => str(obj(p.actor)?.reference))
        .find((ref) => ref?.startsWith('Organization/'));
      add(
        'Pharmacy',
        str(obj(objs(r.performer)[0]?.actor)?.display) ?? pharmacy?.slice('Organization/'.length, 'Organization/'.length + 8),
      );
      add(
        'Prescription',
        str(obj(objs(r.authorizingPrescription)[0])?.reference)
          ?.replace('MedicationRequest/rx-', '')
          .slice(0, 8),
      );
      break;
    }
    case 'Immunization':
      title = conceptText(r.vaccineCode) ?? title;
      when = dateOf(r.occurrenceDateTime, r.recorded);
      value = str(r.status) === 'completed' ? 'Given' : (str(r.status) ?? '');
      add('Status', value);
      add('Dose', quantityText(r.doseQuantity));
      add('Lot number', str(r.lotNumber));
      break;
    case 'Encounter':
      title = list(r.type).map(conceptText).find(Boolean) ?? conceptText(r.serviceType) ?? str(obj(r.class)?.display) ?? 'Visit';
      when = dateOf(r.period);
      value = list(r.reasonCode).map(conceptText).filter(Boolean).join(', ');
      add('Reason', value);
      add('Status', str(r.status));
      break;
    case 'Procedure':
      when = dateOf(r.performedDateTime, r.performedPeriod);
      value = str(r.status) ?? '';
      add('Status', value);
      break;
    case 'AllergyIntolerance': {
      const reactions = list(r.reaction)
        .flatMap((x) => list(obj(x)?.manifestation).map(conceptText))
        .filter(Boolean)
        .join(', ');
      value = reactions;
      when = dateOf(r.onsetDateTime, r.recordedDate);
      add('Reaction', reactions);
      add('How serious', str(r.criticality));
      break;
    }
    case 'DocumentReference': {
      title = str(r.description) ?? conceptText(r.type) ?? 'Clinical note';
      const text = list(r.content)
        .map((c) => decodeAttachment(obj(obj(c)?.attachment)))
        .filter(Boolean)
        .join('\n');
      value = text.length > 80 ? `${text.slice(0, 77)}…` : text;
      when = dateOf(r.date);
      add('Note', text);
      break;
    }
    case 'Patient': {
      const name = obj(list(r.name)[0]);
      const given = list(name?.given).filter((g): g is string => typeof g === 'string');
      title = str(name?.text) ?? ([...given, str(name?.family)].filter(Boolean).join(' ') || 'Personal details');
      value = str(r.birthDate) === undefined ? '' : `Born ${str(r.birthDate)}`;
      add('Date of birth', str(r.birthDate));
      add('Gender', str(r.gender));
      break;
    }
    case 'DiagnosticReport': {
      when = dateOf(r.effectiveDateTime, r.effectivePeriod, r.issued);
      const results = panelResults(r, lookup);
      const outside = results.filter((x) => x.flag !== undefined).length;
      value =
        str(r.conclusion) ??
        (results.length > 0
          ? `${results.length} ${results.length === 1 ? 'result' : 'results'}${outside > 0 ? `, ${outside} outside the range` : ''}`
          : (str(r.status) ?? ''));
      flag = results.find((x) => x.flag !== undefined)?.flag;
      add('Conclusion', str(r.conclusion));
      for (const x of results) add(x.title, x.value);
      add('Status', str(r.status));
      break;
    }
    case 'Claim':
    case 'ExplanationOfBenefit': {
      title = type === 'Claim' ? 'Insurance claim' : 'Insurance statement';
      const total = obj(r.total) ?? obj(obj(list(r.total)[0])?.amount);
      value = typeof total?.value === 'number' ? `${total.value} ${str(total.currency) ?? ''}`.trim() : (str(r.status) ?? '');
      when = dateOf(r.created, r.billablePeriod);
      add('Amount', value);
      add('Status', str(r.status));
      break;
    }
    case 'CarePlan':
    case 'Goal':
      title = list(r.category).map(conceptText).find(Boolean) ?? conceptText(r.description) ?? str(r.title) ?? 'Care plan';
      when = dateOf(r.period, r.startDate, r.created);
      value = str(r.status) ?? str(r.lifecycleStatus) ?? '';
      add('Status', value);
      break;
    case 'Organization':
    case 'Practitioner': {
      const pname = obj(list(r.name)[0]);
      title =
        str(r.name) ??
        str(pname?.text) ??
        ([...list(pname?.given).filter((g) => typeof g === 'string'), str(pname?.family)].filter(Boolean).join(' ') || type);
      value = type === 'Organization' ? 'Organization' : 'Practitioner';
      break;
    }
    default:
      title = conceptText(r.code) ?? conceptText(r.type) ?? type.replace(/([a-z])([A-Z])/g, '$1 $2');
      value = str(r.status) ?? '';
      add('Status', value);
  }
  for (const n of notesOf(r)) add('Note', n);
  // FHIR status codes are lowercase words ("completed"); shown as the start of a sentence.
  value = capitalized(value);
  for (const row of rows) if (row.label === 'Status') row.value = capitalized(row.value);
  if (when !== undefined)
    rows.unshift({
      label: 'Date',
      value: new Date(when).toLocaleString(undefined, {
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
      }),
    });
  return { kind: KINDS[type] ?? type, title, value, when, rows, ...(flag === undefined ? {} : { flag }) };
}

/**
 * A panel's (e.g. Lipid Panel's) member results, read from the patient's other records by
 * reference; a member that is not at hand still shows by name, saying where it is.
 */
function panelResults(r: Json, lookup: ResourceLookup | undefined): Array<{ title: string; value: string; flag: Flag }> {
  return objs(r.result).map((ref) => {
    const id = referenceId(ref);
    const member = obj(id === undefined ? undefined : lookup?.(id));
    const name = str(ref.display) ?? 'Result';
    if (member === undefined) return { title: name, value: 'Listed on its own in the records', flag: undefined };
    const read = observationValue(member);
    const range = observationReadings(member)[0]?.reading.range;
    const flagged = read.flag === undefined ? read.text : `${read.text} — ${flagWord(read.flag)}`;
    return {
      title: conceptText(member.code) ?? name,
      value: range === undefined ? flagged : `${flagged} (range: ${range})`,
      flag: read.flag,
    };
  });
}

/** A FHIR Dosage in words: its text, else "1 tablet, 2 times a day, by mouth". */
function dosageText(d: Json): string {
  const text = str(d.text);
  if (text !== undefined) return text;
  const dose = objs(d.doseAndRate)
    .map((x) => quantityText(x.doseQuantity))
    .find(Boolean);
  const repeat = obj(obj(d.timing)?.repeat);
  const freq = typeof repeat?.frequency === 'number' ? repeat.frequency : undefined;
  const period = typeof repeat?.period === 'number' ? repeat.period : undefined;
  const unit = PERIOD_WORDS[str(repeat?.periodUnit) ?? ''];
  const how =
    freq !== undefined && period !== undefined && unit !== undefined
      ? `${freq === 1 ? 'once' : `${freq} times`} ${period === 1 ? `a ${unit}` : `every ${period} ${unit}s`}`
      : undefined;
  const parts = [dose, how, str(d.asNeededBoolean === true ? 'when needed' : undefined), conceptText(d.route)?.toLowerCase()];
  return parts.filter(Boolean).join(', ');
}

const PERIOD_WORDS: Record<string, string> = { h: 'hour', d: 'day', wk: 'week', mo: 'month' };

/** The strength in a medicine's name: "Hydrochlorothiazide 25 MG" gives "25 mg". */
function strengthOf(name: string): string | undefined {
  const m = /(\d+(?:\.\d+)?)\s*(MG|MCG|G|ML|UNT|MEQ|%)(\/(?:ML|ACTUAT|HR))?\b/i.exec(name);
  if (m === null) return undefined;
  return `${m[1]} ${(m[2] as string).toLowerCase()}${m[3] ? m[3].toLowerCase() : ''}`;
}

function capitalized(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
