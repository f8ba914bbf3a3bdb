// Each role's pages: the app refuses what the role may not do, as the node does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appRole, currentEntry, mayOpen } from './roles.js';

test('an insurer may not open the clinician pages or emergency access, nor a patient the staff pages', () => {
  assert.equal(mayOpen('insurer', '/clinician/emergency'), false);
  assert.equal(mayOpen('insurer', '/clinician/patients/ab'), false);
  assert.equal(mayOpen('insurer', '/insurer'), true);
  assert.equal(mayOpen('patient', '/organization'), false);
  assert.equal(mayOpen('patient', '/records/abc'), true);
  assert.equal(mayOpen('clinician', '/records'), false);
  assert.equal(mayOpen('pharmacy', '/pharmacy'), true);
  assert.equal(mayOpen('pharmacy', '/sharing'), false);
  for (const r of ['patient', 'clinician', 'organization', 'insurer', 'pharmacy', 'auditor', 'privacy-officer', 'other'] as const) {
    assert.ok(mayOpen(r, '/account') && mayOpen(r, '/explorer/blocks/3'), `${r} may open account and explorer`);
  }
});

test('roles come from the identity: a founding organization is its admin, unknown staff roles are "other"', () => {
  assert.equal(appRole({ role: 'organization', orgKind: 'hospital' }), 'organization');
  assert.equal(appRole({ role: 'pharmacy' }), 'pharmacy');
  assert.equal(appRole({ role: 'researcher' }), 'other');
  assert.equal(
    currentEntry(
      [
        ['/clinician', 'a'],
        ['/clinician/emergency', 'b'],
      ],
      '/clinician/emergency',
    ),
    '/clinician/emergency',
  );
  assert.equal(
    currentEntry(
      [
        ['/', 'a'],
        ['/sign-in', 'b'],
      ],
      '/sign-in',
    ),
    '/sign-in',
  );
  assert.equal(
    currentEntry(
      [
        ['/clinician', 'a'],
        ['/clinician/emergency', 'b'],
      ],
      '/clinician/patients/x',
    ),
    '/clinician',
  );
});
