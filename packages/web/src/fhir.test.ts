// Forms become valid FHIR and summaries read them back in plain words; bad input says
// which field to fix; charts group measurements over time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bloodPressure, clinicalNote, diagnosis, type FormError, measurement } from './fhir-forms.js';
import { chartSeries, summarize } from './fhir-view.js';

const when = new Date('2026-03-01T09:30:00Z');

test('blood pressure: a LOINC panel with systolic and diastolic in mmHg, read back as 120/80 mmHg', () => {
  const { resource, category } = bloodPressure({ systolic: '120', diastolic: '80', when });
  assert.equal(category, 'vital-signs');
  assert.equal(resource.resourceType, 'Observation');
  assert.equal(resource.status, 'final');
  assert.equal((resource.code as { coding: Array<{ code: string }> }).coding[0]?.code, '85354-9');
  assert.equal(resource.effectiveDateTime, '2026-03-01T09:30:00.000Z');
  const s = summarize(resource);
  assert.equal(s.title, 'Blood pressure');
  assert.equal(s.value, '120/80 mmHg');
  assert.equal(s.when, when.getTime());
});

test('form errors name the field and say what to do', () => {
  assert.throws(
    () => bloodPressure({ systolic: '80', diastolic: '120', when }),
    (e: FormError) => e.field === 'diastolic' && /lower than systolic/.test(e.message),
  );
  assert.throws(
    () => measurement({ kind: 'weight', value: 'heavy', when }),
    (e: FormError) => e.field === 'value' && /as a number/.test(e.message),
  );
  assert.throws(
    () => measurement({ kind: 'weight', value: '9000', when }),
    (e: FormError) => e.field === 'value' && /between/.test(e.message),
  );
  assert.throws(
    () => measurement({ kind: 'nope', value: '1', when }),
    (e: FormError) => e.field === 'kind',
  );
  assert.throws(
    () => diagnosis({ name: '  ', status: 'active', onset: when }),
    (e: FormError) => e.field === 'name',
  );
  assert.throws(
    () => clinicalNote({ title: 'x', text: '', when }),
    (e: FormError) => e.field === 'text',
  );
});

test('lab results and diagnoses and notes are filed under their categories and read in words', () => {
  const glucose = measurement({ kind: 'glucose', value: '5,4', when });
  assert.equal(glucose.category, 'laboratory');
  assert.equal(summarize(glucose.resource).value, '5.4 mg/dL');
  const dx = diagnosis({ name: 'Type 2 diabetes', status: 'active', onset: when, note: 'diet first' });
  assert.equal(dx.category, 'problems');
  const ds = summarize(dx.resource);
  assert.equal(ds.kind, 'Diagnosis');
  assert.equal(ds.title, 'Type 2 diabetes');
  assert.equal(ds.value, 'Active');
  assert.ok(ds.rows.some((r) => r.label === 'Note' && r.value === 'diet first'));
  const note = clinicalNote({ title: 'Follow-up', text: 'Feeling better — café visits only.', when });
  assert.equal(note.category, 'documents');
  assert.equal(summarize(note.resource).rows.find((r) => r.label === 'Note')?.value, 'Feeling better — café visits only.');
});

test('other resource types are summarised: medication, vaccination, allergy, encounter, procedure', () => {
  assert.equal(
    summarize({
      resourceType: 'MedicationStatement',
      medicationCodeableConcept: { text: 'Metformin 500 mg' },
      dosage: [{ text: 'twice a day' }],
    }).value,
    'Twice a day',
  );
  assert.equal(summarize({ resourceType: 'Immunization', status: 'completed', vaccineCode: { text: 'Influenza' } }).title, 'Influenza');
  const allergy = summarize({
    resourceType: 'AllergyIntolerance',
    code: { text: 'Penicillin' },
    reaction: [{ manifestation: [{ text: 'Rash' }] }],
  });
  assert.equal(allergy.title, 'Penicillin');
  assert.equal(allergy.value, 'Rash');
  assert.equal(summarize({ resourceType: 'Encounter', type: [{ text: 'Check-up' }], period: { start: '2026-01-01' } }).title, 'Check-up');
  assert.equal(
    summarize({ resourceType: 'Procedure', code: { coding: [{ display: 'Appendectomy' }] }, status: 'completed' }).title,
    'Appendectomy',
  );
  assert.equal(
    summarize({ resourceType: 'Observation', code: { text: 'Body weight' }, valueQuantity: { value: 72.5, unit: 'kg' } }).value,
    '72.5 kg',
  );
  const person = summarize({ resourceType: 'Patient', name: [{ given: ['Liz'], family: 'Conn' }], birthDate: '1990-04-02' });
  assert.equal(person.title, 'Liz Conn');
  assert.equal(person.value, 'Born 1990-04-02');
  assert.equal(summarize({ resourceType: 'DiagnosticReport', code: { text: 'Lipid panel' }, status: 'final' }).title, 'Lipid panel');
  assert.equal(summarize({ resourceType: 'ExplanationOfBenefit', total: [{ amount: { value: 120, currency: 'USD' } }] }).value, '120 USD');
  assert.equal(summarize({ resourceType: 'SupplyDelivery', status: 'completed' }).title, 'Supply Delivery');
});

test('charts: one series per measured thing, blood pressure with two lines, points oldest first', () => {
  const items = [
    { resource: bloodPressure({ systolic: '130', diastolic: '85', when: new Date('2026-02-01') }).resource, fallbackTime: 0 },
    { resource: bloodPressure({ systolic: '120', diastolic: '80', when: new Date('2026-01-01') }).resource, fallbackTime: 0 },
    { resource: measurement({ kind: 'weight', value: '70', when }).resource, fallbackTime: 0 },
    { resource: { resourceType: 'Observation', code: { text: 'Body weight' }, valueQuantity: { value: 71, unit: 'kg' } }, fallbackTime: 5 },
    { resource: diagnosis({ name: 'Asthma', status: 'active', onset: when }).resource, fallbackTime: 0 },
  ];
  const series = chartSeries(items);
  assert.deepEqual(
    series.map((s) => s.title),
    ['Blood pressure', 'Body weight'],
  );
  const bp = series[0]!;
  assert.equal(bp.unit, 'mmHg');
  assert.deepEqual(
    bp.lines.map((l) => [l.label, l.points.map((p) => p.value)]),
    [
      ['Systolic', [120, 130]],
      ['Diastolic', [80, 85]],
    ],
  );
  assert.deepEqual(
    series[1]!.lines[0]!.points.map((p) => p.value),
    [71, 70],
  );
});

test('a pharmacy’s dispense record reads as what was dispensed: medicine, packs, serials, lot and expiry, pharmacy', () => {
  const s = summarize({
    resourceType: 'MedicationDispense',
    status: 'completed',
    contained: [
      { resourceType: 'Medication', id: 'pack1', batch: { lotNumber: 'L7', expirationDate: '2028-12-31' } },
      { resourceType: 'Medication', id: 'pack2', batch: { lotNumber: 'L7', expirationDate: '2028-12-31' } },
    ],
    medicationCodeableConcept: {
      text: 'Amoxicillin 500 mg',
      coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '308182' }],
    },
    performer: [{ actor: { reference: `Organization/${'ab'.repeat(20)}`, display: 'Corner Pharmacy' } }],
    authorizingPrescription: [{ reference: `MedicationRequest/rx-${'cd'.repeat(16)}` }],
    quantity: { value: 2, unit: 'package' },
    whenHandedOver: '2026-12-06T10:00:00Z',
    identifier: [
      { system: 'https://www.gs1.org/gtin', value: '(01)00036000291452(21)D1(10)L7(17)281231' },
      { system: 'https://www.gs1.org/gtin', value: '(01)00036000291452(21)D2(10)L7(17)281231' },
    ],
  });
  assert.equal(s.kind, 'Medicine dispensed');
  assert.equal(s.title, 'Amoxicillin 500 mg');
  assert.equal(s.value, 'Dispensed');
  assert.equal(s.when, Date.parse('2026-12-06T10:00:00Z'));
  const row = (label: string) => s.rows.find((r) => r.label === label)?.value;
  assert.equal(row('Serial numbers'), 'D1, D2');
  assert.equal(row('Lot and expiry'), 'lot L7, expires 2028-12-31');
  assert.equal(row('Pharmacy'), 'Corner Pharmacy');
  assert.equal(row('Prescription'), 'cdcdcdcd');
});
