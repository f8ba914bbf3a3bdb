// The web app hides the emergency privilege from organizations the ledger refuses it to: the
// client's list of care organization kinds must say exactly what the ledger's rule says.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Identity, isCareOrganization, ORG_KINDS, roleOfOrgKind } from '@medledger/ehr';
import { CARE_ORGANIZATION_KINDS, isCareOrganizationKind } from './emergency.js';

function orgOfKind(kind: string): Identity {
  return {
    id: 'a'.repeat(40),
    role: roleOfOrgKind(kind),
    publicKey: 'b'.repeat(64),
    encryptionKey: 'c'.repeat(64),
    orgKind: kind,
    registeredAt: { height: 0, time: 0 },
    status: 'active',
  } as Identity;
}

test('isCareOrganizationKind agrees with the ledger for every organization kind', () => {
  for (const kind of ORG_KINDS) assert.equal(isCareOrganizationKind(kind), isCareOrganization(orgOfKind(kind)), kind);
  assert.deepEqual([...CARE_ORGANIZATION_KINDS].sort(), ORG_KINDS.filter((k) => isCareOrganization(orgOfKind(k))).sort());
});

test('isCareOrganizationKind is false for a staff member or a person (no organization kind)', () => {
  assert.equal(isCareOrganizationKind(undefined), false);
  assert.equal(isCareOrganizationKind(null), false);
  assert.equal(isCareOrganizationKind(''), false);
  assert.equal(isCareOrganizationKind('Hospital'), false);
});
