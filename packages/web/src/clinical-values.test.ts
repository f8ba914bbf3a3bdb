// Results read like a clinician writes them (issue 17 items 6 and 7): rounded values, human
// units, reference ranges with high/low flags, a panel's members, medication doses, and one
// chart per measurement whatever LOINC variant the readings came in.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { roundForReading, unitDisplay } from './clinical-values.js';
import { bloodPressure } from './fhir-forms.js';
import { chartSeries, summarize } from './fhir-view.js';
import { niceTicks } from './measurements.js';

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const q = (value: number, code: string) => ({ value, unit: code, system: UCUM, code });

// Synthea's blood pressure (LOINC 55284-4), as in the demo's imported history.
const syntheaBp = {
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: LOINC, code: '55284-4', display: 'Blood Pressure' }], text: 'Blood Pressure' },
  effectiveDateTime: '2018-08-17T20:37:06+00:00',
  component: [
    {
      code: { coding: [{ system: LOINC, code: '8462-4', display: 'Diastolic Blood Pressure' }] },
      valueQuantity: q(94.67577606770969, 'mm[Hg]'),
    },
    {
      code: { coding: [{ system: LOINC, code: '8480-6', display: 'Systolic Blood Pressure' }] },
      valueQuantity: q(151.86292759932016, 'mm[Hg]'),
    },
  ],
};

test('unrounded blood pressure reads 152/95 mmHg, flagged high against the typical adult range', () => {
  const s = summarize(syntheaBp);
  assert.equal(s.value, '152/95 mmHg');
  assert.equal(s.flag, 'high');
  assert.match(
    s.rows.find((r) => r.label === 'Reference range')?.value ?? '',
    /^Systolic 90–129 mmHg, typical adult range; Diastolic 60–80 mmHg, typical adult range$/,
  );
});

test('UCUM units read as people write them: no {score} or 10*6/uL on screen', () => {
  assert.equal(unitDisplay('{score}'), 'points');
  assert.equal(unitDisplay('10*6/uL'), '×10⁶/µL');
  assert.equal(unitDisplay('10*3/uL'), '×10³/µL');
  assert.equal(unitDisplay('mL/min/{1.73_m2}'), 'mL/min/1.73 m²');
  assert.equal(unitDisplay('kg/m2'), 'kg/m²');
  assert.equal(unitDisplay('/min', '8867-4'), 'beats/min');
  assert.equal(roundForReading(4.56789, '10*6/uL'), '4.57');
  assert.equal(roundForReading(72.54, 'kg'), '72.5');
  assert.equal(roundForReading(166.0414383305478, 'mg/dL'), '166');
  assert.equal(roundForReading(37, 'Cel'), '37');
  const rbc = summarize({
    resourceType: 'Observation',
    code: { coding: [{ system: LOINC, code: '789-8' }], text: 'Erythrocytes' },
    valueQuantity: q(4.56789, '10*6/uL'),
  });
  assert.equal(rbc.value, '4.57 ×10⁶/µL');
  assert.equal(rbc.flag, undefined, 'in the typical range');
});

test("the lab's own range and interpretation win over the typical table; a unit the table does not use gets no flag", () => {
  const withRange = summarize({
    resourceType: 'Observation',
    code: { coding: [{ system: LOINC, code: '2339-0' }], text: 'Glucose' },
    valueQuantity: q(105, 'mg/dL'),
    referenceRange: [{ low: q(60, 'mg/dL'), high: q(110, 'mg/dL') }],
  });
  assert.equal(withRange.flag, undefined, '105 is inside the lab range 60–110');
  assert.equal(withRange.rows.find((r) => r.label === 'Reference range')?.value, '60–110 mg/dL');
  const interpreted = summarize({
    resourceType: 'Observation',
    code: { coding: [{ system: LOINC, code: '2339-0' }], text: 'Glucose' },
    valueQuantity: q(50, 'mg/dL'),
    interpretation: [{ coding: [{ code: 'L' }] }],
  });
  assert.equal(interpreted.flag, 'low');
  const mmol = summarize({
    resourceType: 'Observation',
    code: { coding: [{ system: LOINC, code: '2339-0' }], text: 'Glucose' },
    valueQuantity: q(12, 'mmol/L'),
  });
  assert.equal(mmol.flag, undefined, 'the mg/dL table is not applied to mmol/L');
});

test("a Lipid Panel shows its members' results with flags, found by reference among the opened records", () => {
  const members: Record<string, unknown> = {
    chol: {
      resourceType: 'Observation',
      code: { coding: [{ system: LOINC, code: '2093-3' }], text: 'Total Cholesterol' },
      valueQuantity: q(250.4, 'mg/dL'),
    },
    hdl: { resourceType: 'Observation', code: { coding: [{ system: LOINC, code: '2085-9' }], text: 'HDL' }, valueQuantity: q(55, 'mg/dL') },
  };
  const panel = {
    resourceType: 'DiagnosticReport',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '57698-3' }], text: 'Lipid Panel' },
    result: [
      { reference: 'urn:uuid:chol', display: 'Total Cholesterol' },
      { reference: 'urn:uuid:hdl', display: 'HDL' },
      { reference: 'urn:uuid:ldl', display: 'LDL' },
    ],
  };
  const s = summarize(panel, (id) => members[id]);
  assert.equal(s.value, '3 results, 1 outside the range');
  assert.equal(s.flag, 'high');
  assert.equal(
    s.rows.find((r) => r.label === 'Total Cholesterol')?.value,
    '250 mg/dL — High (range: 199 mg/dL or less, typical adult range)',
  );
  assert.equal(s.rows.find((r) => r.label === 'HDL')?.value, '55 mg/dL (range: 40 mg/dL or more, typical adult range)');
  assert.equal(s.rows.find((r) => r.label === 'LDL')?.value, 'Listed on its own in the records');
  // Without the members at hand it still lists them rather than only "Final".
  assert.equal(summarize(panel).value, '3 results');
});

test('medication doses: the structured dose and timing, else the strength in its name', () => {
  const structured = summarize({
    resourceType: 'MedicationRequest',
    status: 'active',
    medicationCodeableConcept: { text: 'Lisinopril 10 MG Oral Tablet' },
    dosageInstruction: [
      { doseAndRate: [{ doseQuantity: { value: 1, unit: 'tablet' } }], timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd' } } },
    ],
  });
  assert.equal(structured.value, '1 tablet, 2 times a day');
  assert.equal(structured.rows.find((r) => r.label === 'Strength')?.value, '10 mg');
  const named = summarize({
    resourceType: 'MedicationRequest',
    status: 'active',
    medicationCodeableConcept: { text: 'Hydrochlorothiazide 25 MG' },
  });
  assert.equal(named.value, '25 mg each');
  assert.match(named.rows.find((r) => r.label === 'How to take it')?.value ?? '', /Not stated/);
});

test('a blood pressure from the form joins the imported ones on one chart, systolic always the first line', () => {
  const form = bloodPressure({ systolic: '128', diastolic: '82', when: new Date('2026-01-01T10:00:00Z') }).resource;
  const series = chartSeries([
    { resource: syntheaBp, fallbackTime: 0 },
    { resource: form, fallbackTime: 0 },
  ]);
  assert.equal(series.length, 1, 'one blood pressure chart, not two');
  const bp = series[0];
  assert.equal(bp?.title, 'Blood pressure');
  assert.deepEqual(
    bp?.lines.map((l) => [l.label, l.points.length]),
    [
      ['Systolic', 2],
      ['Diastolic', 2],
    ],
  );
  // Weight in kg and in lb are different charts, each saying its unit.
  const w = chartSeries([
    {
      resource: { resourceType: 'Observation', code: { coding: [{ system: LOINC, code: '29463-7' }] }, valueQuantity: q(70, 'kg') },
      fallbackTime: 1,
    },
    {
      resource: { resourceType: 'Observation', code: { coding: [{ system: LOINC, code: '3141-9' }] }, valueQuantity: q(150, '[lb_av]') },
      fallbackTime: 2,
    },
  ]);
  assert.deepEqual(
    w.map((s) => s.title),
    ['Body weight (kg)', 'Body weight (lb)'],
  );
});

test('chart axes use round values: 100, 125, 150, 175, not 82, 119, 157', () => {
  assert.deepEqual(niceTicks(82.3, 194.1), [100, 125, 150, 175]);
  assert.deepEqual(niceTicks(4.1, 5.9), [4.5, 5, 5.5]);
  assert.deepEqual(niceTicks(60, 60), [60]);
});

test("a one-value chart shades its latest reading's range; blood pressure (two lines) has none", () => {
  const chol = (value: number, day: number) => ({
    resource: {
      resourceType: 'Observation',
      code: { coding: [{ system: LOINC, code: '2093-3' }] },
      effectiveDateTime: `2026-01-0${day}T00:00:00Z`,
      valueQuantity: q(value, 'mg/dL'),
    },
    fallbackTime: 0,
  });
  const [series] = chartSeries([chol(180, 1), chol(246, 2)]);
  assert.deepEqual(series?.band, { high: 199, text: '199 mg/dL or less, typical adult range' });
  assert.equal(chartSeries([{ resource: syntheaBp, fallbackTime: 0 }])[0]?.band, undefined);
});
