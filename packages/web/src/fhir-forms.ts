// The clinician's quick-entry forms turned into FHIR R4 resources (with LOINC codes for the
// common vital signs and labs), each with the MedLedger category it is filed and shared under.
import type { FhirResource } from '@medledger/client';

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';

/** A measurement the form offers: what it is, its LOINC code, unit, and plausible range. */
export interface MeasureKind {
  id: string;
  label: string;
  loinc: string;
  unit: string;
  ucum: string;
  category: 'vital-signs' | 'laboratory';
  min: number;
  max: number;
}

export const MEASURES: readonly MeasureKind[] = [
  { id: 'weight', label: 'Body weight', loinc: '29463-7', unit: 'kg', ucum: 'kg', category: 'vital-signs', min: 0.2, max: 500 },
  { id: 'heart-rate', label: 'Heart rate', loinc: '8867-4', unit: 'beats/min', ucum: '/min', category: 'vital-signs', min: 10, max: 300 },
  { id: 'temperature', label: 'Body temperature', loinc: '8310-5', unit: '°C', ucum: 'Cel', category: 'vital-signs', min: 25, max: 45 },
  { id: 'spo2', label: 'Oxygen saturation', loinc: '59408-5', unit: '%', ucum: '%', category: 'vital-signs', min: 30, max: 100 },
  { id: 'glucose', label: 'Blood glucose', loinc: '2339-0', unit: 'mg/dL', ucum: 'mg/dL', category: 'laboratory', min: 5, max: 2000 },
  {
    id: 'cholesterol',
    label: 'Total cholesterol',
    loinc: '2093-3',
    unit: 'mg/dL',
    ucum: 'mg/dL',
    category: 'laboratory',
    min: 20,
    max: 1500,
  },
  { id: 'hba1c', label: 'HbA1c', loinc: '4548-4', unit: '%', ucum: '%', category: 'laboratory', min: 2, max: 25 },
];

/** A resource ready to write, and the category it is filed under. */
export interface FormRecord {
  resource: FhirResource;
  category: string;
}

/** A form value that cannot make a valid record; `field` names the input to fix. */
export class FormError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

function number(raw: string, field: string, label: string, min: number, max: number): number {
  const v = Number(raw.trim().replace(',', '.'));
  if (raw.trim() === '' || !Number.isFinite(v)) throw new FormError(field, `Enter ${label} as a number.`);
  if (v < min || v > max) throw new FormError(field, `${label} must be between ${min} and ${max}.`);
  return v;
}

function text(raw: string, field: string, label: string): string {
  const t = raw.trim();
  if (t === '') throw new FormError(field, `Enter ${label}.`);
  if (t.length > 2000) throw new FormError(field, `${label} is too long (at most 2000 characters).`);
  return t;
}

function categoryConcept(category: 'vital-signs' | 'laboratory') {
  return [{ coding: [{ system: OBS_CATEGORY, code: category, display: category === 'vital-signs' ? 'Vital Signs' : 'Laboratory' }] }];
}

/** A blood pressure panel (LOINC 85354-9) with systolic and diastolic components. Throws FormError. */
export function bloodPressure(input: { systolic: string; diastolic: string; when: Date }): FormRecord {
  const systolic = number(input.systolic, 'systolic', 'Systolic pressure', 40, 300);
  const diastolic = number(input.diastolic, 'diastolic', 'Diastolic pressure', 20, 200);
  if (diastolic >= systolic) throw new FormError('diastolic', 'Diastolic pressure must be lower than systolic pressure.');
  const q = (value: number) => ({ value, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' });
  return {
    category: 'vital-signs',
    resource: {
      resourceType: 'Observation',
      status: 'final',
      category: categoryConcept('vital-signs'),
      code: { coding: [{ system: LOINC, code: '85354-9', display: 'Blood pressure panel' }], text: 'Blood pressure' },
      effectiveDateTime: input.when.toISOString(),
      component: [
        {
          code: { coding: [{ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }], text: 'Systolic' },
          valueQuantity: q(systolic),
        },
        {
          code: { coding: [{ system: LOINC, code: '8462-4', display: 'Diastolic blood pressure' }], text: 'Diastolic' },
          valueQuantity: q(diastolic),
        },
      ],
    },
  };
}

/** A single measured value (vital sign or lab result) as an Observation. Throws FormError. */
export function measurement(input: { kind: string; value: string; when: Date; note?: string }): FormRecord {
  const kind = MEASURES.find((m) => m.id === input.kind);
  if (kind === undefined) throw new FormError('kind', 'Choose what was measured.');
  const value = number(input.value, 'value', kind.label, kind.min, kind.max);
  const note = input.note?.trim();
  return {
    category: kind.category,
    resource: {
      resourceType: 'Observation',
      status: 'final',
      category: categoryConcept(kind.category),
      code: { coding: [{ system: LOINC, code: kind.loinc, display: kind.label }], text: kind.label },
      effectiveDateTime: input.when.toISOString(),
      valueQuantity: { value, unit: kind.unit, system: UCUM, code: kind.ucum },
      ...(note ? { note: [{ text: note }] } : {}),
    },
  };
}

/** A diagnosis as a Condition (clinical status active or resolved). Throws FormError. */
export function diagnosis(input: { name: string; status: 'active' | 'resolved'; onset: Date; note?: string }): FormRecord {
  const name = text(input.name, 'name', 'the diagnosis');
  const note = input.note?.trim();
  return {
    category: 'problems',
    resource: {
      resourceType: 'Condition',
      clinicalStatus: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: input.status }],
        text: input.status === 'active' ? 'Active' : 'Resolved',
      },
      verificationStatus: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }],
        text: 'Confirmed',
      },
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' }] }],
      code: { text: name },
      onsetDateTime: input.onset.toISOString(),
      recordedDate: new Date().toISOString(),
      ...(note ? { note: [{ text: note }] } : {}),
    },
  };
}

function base64Utf8(s: string): string {
  let bin = '';
  for (const b of new TextEncoder().encode(s)) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** A free-text clinical note as a DocumentReference (LOINC 11506-3 progress note). Throws FormError. */
export function clinicalNote(input: { title: string; text: string; when: Date }): FormRecord {
  const title = text(input.title, 'title', 'a title');
  const body = text(input.text, 'text', 'the note');
  return {
    category: 'documents',
    resource: {
      resourceType: 'DocumentReference',
      status: 'current',
      type: { coding: [{ system: LOINC, code: '11506-3', display: 'Progress note' }], text: 'Clinical note' },
      description: title,
      date: input.when.toISOString(),
      content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: base64Utf8(body), title } }],
    },
  };
}
