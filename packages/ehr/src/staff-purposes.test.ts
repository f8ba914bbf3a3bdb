// Least privilege for organization grants, as a table: each staff role, each purpose, and a
// record in demographics, in a clinical category and in billing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PURPOSES } from './policy.js';
import { STAFF_ROLES } from './staff.js';
import { staffRoleMayUse, staffRoleMayWrite } from './staff-purposes.js';

test('each staff role may use an organization grant only for its purposes and categories', () => {
  const allowed: string[] = [];
  for (const role of STAFF_ROLES)
    for (const purpose of PURPOSES)
      for (const category of ['demographics', 'vital-signs', 'billing'])
        if (staffRoleMayUse(role, purpose, { category })) allowed.push(`${role} ${purpose} ${category}`);
  assert.deepEqual(allowed, [
    'clinician treatment demographics',
    'clinician treatment vital-signs',
    'clinician treatment billing',
    'clinician operations demographics',
    'clinician operations vital-signs',
    'clinician operations billing',
    'pharmacy treatment demographics',
    'pharmacy treatment billing',
    'pharmacy payment demographics',
    'pharmacy payment billing',
    'insurer payment demographics',
    'insurer payment billing',
    'researcher research vital-signs',
    'device treatment vital-signs',
  ]);
  assert.equal(staffRoleMayUse('patient', 'treatment', { category: 'vital-signs' }), false, 'not staff: no organization grant use');
});

test('staff write under an organization grant only in their role’s categories; privacy officers, auditors and researchers never', () => {
  const writes = (role: string) =>
    ['demographics', 'laboratory', 'billing', 'vital-signs'].filter((category) => staffRoleMayWrite(role, { category }));
  assert.deepEqual(writes('clinician'), ['demographics', 'laboratory', 'billing', 'vital-signs']);
  assert.deepEqual(writes('device'), ['vital-signs']);
  assert.deepEqual(writes('insurer'), ['demographics', 'billing']);
  assert.deepEqual(writes('researcher'), [], 'research reads clinical data; it authors no chart entry');
  assert.deepEqual(writes('privacy-officer'), []);
  assert.deepEqual(writes('auditor'), []);
});
