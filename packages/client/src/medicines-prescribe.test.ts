// The prescription's default validity and the MedicationRequest the SDK writes (issue 14 item 6).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MedLedgerClient } from './api.js';
import { medicationRequestOf, oneYearOn, prescribe } from './medicines-prescribe.js';

test('a prescription is valid for a year less a day by default, 29 February included', () => {
  assert.equal(oneYearOn('2026-01-01'), '2026-12-31');
  assert.equal(oneYearOn('2026-12-06'), '2027-12-05');
  assert.equal(oneYearOn('2028-02-29'), '2029-02-28');
  assert.equal(oneYearOn('2027-03-01'), '2028-02-29');
});

test('the MedicationRequest carries the RxNorm medication and dispenseRequest as the chain records it', () => {
  const r = medicationRequestOf(
    'doc',
    {
      patient: 'pat',
      pharmacy: 'ph',
      rxnorm: '243670',
      display: 'Aspirin',
      quantity: 2,
      repeats: 1,
      daysBetween: 30,
      instructions: 'daily',
    },
    '2026-12-06',
    '2027-12-05',
  );
  assert.equal(r.resourceType, 'MedicationRequest');
  assert.deepEqual(r.subject, { reference: 'Patient/pat' });
  assert.deepEqual(r.requester, { reference: 'Practitioner/doc' });
  assert.deepEqual(r.dosageInstruction, [{ text: 'daily' }]);
  assert.deepEqual(r.dispenseRequest, {
    validityPeriod: { start: '2026-12-06', end: '2027-12-05' },
    numberOfRepeatsAllowed: 1,
    quantity: { value: 2, unit: 'package' },
    dispenseInterval: { value: 30, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' },
    performer: { reference: 'Organization/ph' },
  });
  assert.deepEqual((r.medicationCodeableConcept as { coding: unknown[] }).coding, [
    { system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '243670', display: 'Aspirin' },
  ]);
});

test('a bad option is refused before anything is written to the patient’s records', async () => {
  const client = {
    id: 'doc',
    writeRecord: () => assert.fail('a record was written'),
  } as unknown as MedLedgerClient;
  const base = { patient: 'pat', pharmacy: 'ph', rxnorm: '243670', quantity: 1, repeats: 0, daysBetween: 0 };
  for (const bad of [
    { quantity: 0 },
    { repeats: 13 },
    { daysBetween: 1.5 },
    { rxnorm: 'aspirin' },
    { validFrom: '2026-12-06', validTo: '2026-12-05' },
  ])
    await assert.rejects(prescribe(client, { ...base, ...bad }), { code: 'INVALID_ARGUMENT' }, JSON.stringify(bad));
});
