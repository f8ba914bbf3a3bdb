// The clinician's patient banner: who the patient is, from the readable records only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { humanName, matchesPatient, patientBanner } from './patient-banner.js';

const liz = {
  resourceType: 'Patient',
  name: [{ use: 'official', given: ['Liz123'], family: 'Conn456' }],
  birthDate: '1971-03-04',
  gender: 'female',
};

test('the banner names the patient, their birth date and sex from their Patient record', () => {
  const b = patientBanner([liz]);
  assert.equal(b.name, 'Liz Conn');
  assert.equal(b.birthDate, '1971-03-04');
  assert.equal(b.sex, 'Female');
  assert.equal(b.allergies, undefined, 'no allergy records readable: unknown, never "none"');
});

test('allergies, active problems and current medicines make the emergency summary; resolved ones do not', () => {
  const b = patientBanner([
    { resourceType: 'AllergyIntolerance', code: { text: 'Penicillin' }, clinicalStatus: { coding: [{ code: 'active' }] } },
    { resourceType: 'AllergyIntolerance', code: { text: 'Latex' }, clinicalStatus: { coding: [{ code: 'resolved' }] } },
    { resourceType: 'Condition', code: { text: 'Hypertension' }, clinicalStatus: { coding: [{ code: 'active' }] } },
    { resourceType: 'Condition', code: { text: 'Sprained ankle' }, clinicalStatus: { coding: [{ code: 'resolved' }] } },
    { resourceType: 'MedicationRequest', status: 'active', medicationCodeableConcept: { text: 'Lisinopril 10 mg' } },
    { resourceType: 'MedicationRequest', status: 'stopped', medicationCodeableConcept: { text: 'Amoxicillin' } },
  ]);
  assert.equal(b.name, undefined);
  assert.deepEqual(b.allergies, ['Penicillin']);
  assert.deepEqual(b.problems, ['Hypertension']);
  assert.deepEqual(b.medications, ['Lisinopril 10 mg']);
});

test('names: text wins, then official, and a search matches any word in any order', () => {
  assert.equal(humanName([{ text: 'Dr Liz Conn' }]), 'Dr Liz Conn');
  assert.equal(
    humanName([
      { use: 'nickname', given: ['Lizzy'] },
      { use: 'official', given: ['Elizabeth'], family: 'Conn' },
    ]),
    'Elizabeth Conn',
  );
  assert.equal(humanName([]), undefined);
  assert.ok(matchesPatient('conn liz', ['Liz Conn']));
  assert.ok(!matchesPatient('grey', ['Liz Conn', undefined]));
  assert.ok(matchesPatient('  ', []));
});
