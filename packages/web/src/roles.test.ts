// Each role's pages: the app refuses what the role may not do, as the node does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appRole, currentEntry, homeOf, mayOpen } from './roles.js';

test('an insurer may not open the clinician pages or emergency access, nor a patient the staff pages', () => {
  assert.equal(mayOpen('insurer', '/clinician/emergency'), false);
  assert.equal(mayOpen('insurer', '/clinician/patients/ab'), false);
  assert.equal(mayOpen('insurer', '/insurer'), true);
  assert.equal(mayOpen('patient', '/organization'), false);
  assert.equal(mayOpen('patient', '/records/abc'), true);
  assert.equal(mayOpen('clinician', '/records'), false);
  assert.equal(mayOpen('pharmacy', '/pharmacy'), true);
  assert.equal(mayOpen('pharmacy', '/sharing'), false);
  assert.equal(mayOpen('pharmacy', '/pharmacy/receive'), true);
  assert.equal(mayOpen('pharmacy', '/pharmacy/destroy'), true);
  assert.equal(mayOpen('patient', '/pharmacy/destroy'), false);
  for (const r of [
    'patient',
    'clinician',
    'organization',
    'manufacturer',
    'wholesaler',
    'regulator',
    'insurer',
    'pharmacy',
    'auditor',
    'privacy-officer',
    'other',
  ] as const) {
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

test('a manufacturer, wholesaler or regulator lands on its own supply-chain home, and may not open another partner’s', () => {
  assert.equal(appRole({ role: 'organization', orgKind: 'manufacturer' }), 'manufacturer');
  assert.equal(appRole({ role: 'organization', orgKind: 'distributor' }), 'wholesaler');
  assert.equal(appRole({ role: 'organization', orgKind: 'regulator' }), 'regulator');
  assert.equal(homeOf({ role: 'organization', orgKind: 'manufacturer' }), '/manufacturer');
  assert.equal(homeOf({ role: 'organization', orgKind: 'distributor' }), '/wholesaler');
  assert.equal(homeOf({ role: 'organization', orgKind: 'regulator' }), '/regulator');
  assert.equal(homeOf({ role: 'organization', orgKind: 'pharmacy' }), '/organization');
  assert.equal(mayOpen('manufacturer', '/organization'), true, 'still an organization admin');
  assert.equal(mayOpen('wholesaler', '/manufacturer'), false);
  assert.equal(mayOpen('regulator', '/wholesaler'), false);
  assert.equal(mayOpen('patient', '/regulator'), false);
  assert.equal(mayOpen('organization', '/manufacturer'), false);
});
