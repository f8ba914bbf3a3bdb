// Readable summaries of FHIR R4 resources for the timeline, detail view and charts: what it
// is, its value with units, when it happened. Pure functions of the resource.
type Json = Record<string, unknown>;

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
}

function obj(x: unknown): Json | undefined {
  return typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Json) : undefined;
}

function list(x: unknown): unknown[] {
  return Array.isArray(x) ? x : [];
}

function str(x: unknown): string | undefined {
  return typeof x === 'string' && x !== '' ? x : undefined;
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

const UNIT_WORDS: Record<string, string> = { 'mm[Hg]': 'mmHg', Cel: '°C', '/min': 'beats/min', '[lb_av]': 'lb' };

function unitText(q: Json): string {
  const unit = str(q.unit) ?? str(q.code) ?? '';
  return UNIT_WORDS[unit] ?? unit;
}

/** A Quantity as "72.5 kg". */
export function quantityText(x: unknown): string | undefined {
  const q = obj(x);
  if (q === undefined || typeof q.value !== 'number') return undefined;
  const unit = unitText(q);
  return unit === '' ? String(q.value) : `${q.value} ${unit}`;
}

function dateOf(...xs: unknown[]): number | undefined {
  for (const x of xs) {
    const s = str(x) ?? str(obj(x)?.start);
    if (s === undefined) continue;
    const t = Date.parse(s);
    if (!Number.isNaN(t)) return t;
  }
  return undefined;
}

function observationValue(r: Json): string {
  const comps = list(r.component)
    .map(obj)
    .filter((c): c is Json => c !== undefined);
  const sys = comps.find((c) => /systolic|8480-6/i.test(JSON.stringify(c.code ?? '')));
  const dia = comps.find((c) => /diastolic|8462-4/i.test(JSON.stringify(c.code ?? '')));
  const sq = obj(sys?.valueQuantity);
  const dq = obj(dia?.valueQuantity);
  if (sq !== undefined && dq !== undefined && typeof sq.value === 'number' && typeof dq.value === 'number') {
    return `${sq.value}/${dq.value} ${unitText(sq)}`;
  }
  const direct = quantityText(r.valueQuantity) ?? str(r.valueString) ?? conceptText(r.valueCodeableConcept);
  if (direct !== undefined) return direct;
  if (typeof r.valueBoolean === 'boolean') return r.valueBoolean ? 'Yes' : 'No';
  const parts = comps.map((c) => `${conceptText(c.code) ?? 'value'}: ${quantityText(c.valueQuantity) ?? str(c.valueString) ?? '—'}`);
  return parts.join(', ');
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
export function summarize(resource: unknown): RecordSummary {
  const r = obj(resource) ?? {};
  const type = str(r.resourceType) ?? 'Record';
  const rows: DetailRow[] = [];
  const add = (label: string, value: string | undefined) => {
    if (value !== undefined && value !== '') rows.push({ label, value });
  };
  let title = conceptText(r.code) ?? type;
  let value = '';
  let when: number | undefined;
  switch (type) {
    case 'Observation': {
      value = observationValue(r);
      when = dateOf(r.effectiveDateTime, r.effectivePeriod, r.issued);
      add('Result', value);
      add('Interpretation', list(r.interpretation).map(conceptText).filter(Boolean).join(', '));
      add(
        'Reference range',
        list(r.referenceRange)
          .map((x) => rangeText(obj(x)))
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
      title = conceptText(r.medicationCodeableConcept) ?? title;
      const dosage = list(r.dosage ?? r.dosageInstruction)
        .map((d) => str(obj(d)?.text))
        .filter(Boolean)
        .join('; ');
      value = dosage;
      when = dateOf(r.effectiveDateTime, r.effectivePeriod, r.authoredOn, r.dateAsserted);
      add('How to take it', dosage);
      add('Status', str(r.status));
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
    case 'DiagnosticReport':
      when = dateOf(r.effectiveDateTime, r.effectivePeriod, r.issued);
      value = str(r.conclusion) ?? str(r.status) ?? '';
      add('Conclusion', str(r.conclusion));
      add('Status', str(r.status));
      break;
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
  return { kind: KINDS[type] ?? type, title, value, when, rows };
}

function capitalized(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function rangeText(r: Json | undefined): string | undefined {
  if (r === undefined) return undefined;
  const low = quantityText(r.low);
  const high = quantityText(r.high);
  if (low !== undefined && high !== undefined) return `${low} – ${high}`;
  return str(r.text) ?? low ?? high;
}

/** One plotted line: its label and (time, value) points, oldest first. */
export interface ChartLine {
  label: string;
  points: Array<{ time: number; value: number }>;
}

/** One chart: a measured thing (e.g. "Blood pressure") and its unit, with one or more lines. */
export interface ChartSeries {
  title: string;
  unit: string;
  lines: ChartLine[];
}

/**
 * Group numeric Observations into charts by what was measured: blood pressure gets a
 * systolic and a diastolic line; every other quantity one line. `fallbackTime` dates an
 * observation that carries no date of its own (its anchoring block time).
 */
export function chartSeries(items: Array<{ resource: unknown; fallbackTime: number }>): ChartSeries[] {
  const byTitle = new Map<string, ChartSeries>();
  const line = (series: ChartSeries, label: string) => {
    let l = series.lines.find((x) => x.label === label);
    if (l === undefined) {
      l = { label, points: [] };
      series.lines.push(l);
    }
    return l;
  };
  for (const { resource, fallbackTime } of items) {
    const r = obj(resource);
    if (r === undefined || r.resourceType !== 'Observation') continue;
    const title = conceptText(r.code);
    if (title === undefined) continue;
    const time = dateOf(r.effectiveDateTime, r.effectivePeriod, r.issued) ?? fallbackTime;
    const comps = list(r.component)
      .map(obj)
      .filter((c): c is Json => c !== undefined);
    const q = obj(r.valueQuantity);
    if (q !== undefined && typeof q.value === 'number') {
      const series = byTitle.get(title) ?? { title, unit: unitText(q), lines: [] };
      byTitle.set(title, series);
      line(series, title).points.push({ time, value: q.value });
    } else {
      for (const c of comps) {
        const cq = obj(c.valueQuantity);
        const label = conceptText(c.code);
        if (cq === undefined || typeof cq.value !== 'number' || label === undefined) continue;
        const series = byTitle.get(title) ?? { title, unit: unitText(cq), lines: [] };
        byTitle.set(title, series);
        line(series, label).points.push({ time, value: cq.value });
      }
    }
  }
  const out = [...byTitle.values()];
  for (const s of out) for (const l of s.lines) l.points.sort((a, b) => a.time - b.time);
  return out.sort((a, b) => a.title.localeCompare(b.title));
}
