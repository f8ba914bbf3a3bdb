// The one category table: what a grant by category covers, whoever wrote the record.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALL_CATEGORIES, CATEGORY_BY_TYPE, categoryOf } from './categories.js';

const HL7 = 'http://terminology.hl7.org/CodeSystem/observation-category';

test('an Observation keeps its HL7 category; other types get their group; anything else is other', () => {
  assert.equal(categoryOf({ resourceType: 'Observation', category: [{ coding: [{ system: HL7, code: 'vital-signs' }] }] }), 'vital-signs');
  // The first HL7 code counts, past codes from other systems.
  assert.equal(
    categoryOf({
      resourceType: 'Observation',
      category: [{ coding: [{ system: 'http://example.org/local', code: 'bp' }] }, { coding: [{ system: HL7, code: 'laboratory' }] }],
    }),
    'laboratory',
  );
  // A made-up or unsystematic code is not trusted as a category.
  assert.equal(categoryOf({ resourceType: 'Observation', category: [{ coding: [{ code: 'vital-signs' }] }] }), 'observations');
  assert.equal(categoryOf({ resourceType: 'Observation', category: [{ coding: [{ system: HL7, code: 'Secret!' }] }] }), 'observations');
  assert.equal(categoryOf({ resourceType: 'Observation', category: 'nonsense' }), 'observations');
  assert.equal(categoryOf({ resourceType: 'Condition' }), 'problems');
  assert.equal(categoryOf({ resourceType: 'DiagnosticReport' }), 'diagnostics');
  assert.equal(categoryOf({ resourceType: 'ExplanationOfBenefit' }), 'billing');
  assert.equal(categoryOf({ resourceType: 'SupplyDelivery' }), 'other');
});

test('every category fits one grant scope and is a valid on-chain token', () => {
  assert.ok(ALL_CATEGORIES.length <= 64);
  for (const c of [...Object.values(CATEGORY_BY_TYPE), 'other']) assert.ok(ALL_CATEGORIES.includes(c));
  for (const c of ALL_CATEGORIES) assert.match(c, /^[a-z][a-z0-9-]*$/);
});
