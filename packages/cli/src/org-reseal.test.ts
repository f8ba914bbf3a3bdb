// Hospital-wide shares at the SDK level, over real HTTP (docs/records.md "Hospital-wide
// shares"): a patient shares with an organization; its clinician reads the records on the
// organization's own node, which re-seals the key to the clinician and logs the read; a
// clinician of another organization, a revoked clinician, a node without the organization's
// key and a revoked grant are all refused.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type ClientError, MedLedgerClient, staffRegisterBody, staffRevokeBody, TrustedGenesis } from '@medledger/client';
import { generateKeyBundle, type KeyBundle } from '@medledger/crypto';
import { readOrgKey } from '@medledger/node';
import { startSoloNode, TEST_PASSPHRASE, type TestNode, waitFor } from '@medledger/node/testing';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

let net: TestNode;
let plain: TestNode;
const trusted = (n: TestNode) => TrustedGenesis.fromDocument(n.node.chain.genesis);
const ORGS = [
  { name: 'Northside General Hospital', kind: 'hospital' },
  { name: 'Lakeside Clinic', kind: 'clinic' },
];

before(async () => {
  net = await startSoloNode({ config: { reseal: {} }, organizations: ORGS });
  plain = await startSoloNode();
});
after(async () => {
  await net.cleanup();
  await plain.cleanup();
});

const observation = {
  resourceType: 'Observation',
  status: 'final',
  code: { text: 'Body weight' },
  valueQuantity: { value: 72, unit: 'kg' },
};

async function addClinician(n: TestNode, org: MedLedgerClient, name: string): Promise<MedLedgerClient> {
  const keys: KeyBundle = generateKeyBundle();
  await org.submitAndWait(
    'staff.register',
    staffRegisterBody({ publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role: 'clinician', name }),
  );
  return new MedLedgerClient({ genesis: trusted(n), url: n.url, keys });
}

test('hospital-wide share: the hospital node re-seals to its clinician, logs the read, and refuses everyone else', async () => {
  const northside = new MedLedgerClient({ genesis: trusted(net), url: net.url, keys: readOrgKey(net.node.home.dir) });
  const lakeside = new MedLedgerClient({
    genesis: trusted(net),
    url: net.url,
    keys: readOrgKey(net.node.home.dir, { file: 'org-lakeside-clinic.key' }),
  });
  const house = await addClinician(net, northside, 'Dr Gregory House');
  const wilson = await addClinician(net, northside, 'Dr James Wilson');
  const quinn = await addClinician(net, lakeside, 'Dr Quinn');

  const liz = new MedLedgerClient({ genesis: trusted(net), url: net.url, keys: generateKeyBundle() });
  const { id: lizId } = await liz.registerPatient();
  const { recordId } = await liz.writeRecord({ patient: lizId, resource: observation, category: 'vital-signs' });
  const { grantId } = await liz.grant({ grantee: northside.id, categories: ['vital-signs'], purpose: 'treatment' });
  await liz.grant({ grantee: lakeside.id, categories: ['vital-signs'], purpose: 'treatment' });

  // The record is sealed to Northside, not to Dr House; his own node re-seals it to him.
  const read = await house.readRecord(recordId, 'treatment');
  assert.deepEqual(read.resource, observation);
  assert.equal(
    (read.meta.envelopes as Record<string, string>)[house.id],
    undefined,
    'no envelope for the clinician on chain: the node re-sealed it',
  );

  // Lakeside's clinician: Lakeside holds a grant, but this node holds only Northside's key.
  await assert.rejects(quinn.readRecord(recordId, 'treatment'), (e: ClientError) => e.code === 'ORGANIZATION_KEY' && e.status === 409);

  // A clinician the hospital removed reads nothing.
  await northside.submitAndWait('staff.revoke', staffRevokeBody(wilson.id));
  await assert.rejects(wilson.readRecord(recordId, 'treatment'));

  // Liz sees Dr House's read as an allowed read by him, and Lakeside's refusal.
  await waitFor(async () => {
    const log = await liz.accessLog(lizId);
    const ok = log.some((e) => e.accessor === house.id && e.decision === 'allowed' && e.record === recordId);
    const refused = log.some((e) => e.accessor === quinn.id && e.decision === 'denied' && e.reason === 'ORGANIZATION_KEY');
    return ok && refused ? true : undefined;
  }, "Dr House's read and Dr Quinn's refusal in Liz's access log");

  // Stop sharing: the next read is refused.
  await liz.revoke(grantId);
  await assert.rejects(house.readRecord(recordId, 'treatment'), (e: ClientError) => e.code === 'ACCESS_DENIED');
});

test('hospital-wide share on a node that is not the hospital system: the clinician is told where to read it', async () => {
  const org = new MedLedgerClient({ genesis: trusted(plain), url: plain.url, keys: readOrgKey(plain.node.home.dir) });
  const clinician = await addClinician(plain, org, 'Dr Grey');
  const patient = new MedLedgerClient({ genesis: trusted(plain), url: plain.url, keys: generateKeyBundle() });
  const { id } = await patient.registerPatient();
  const { recordId } = await patient.writeRecord({ patient: id, resource: observation, category: 'vital-signs' });
  await patient.grant({ grantee: org.id, categories: ['vital-signs'], purpose: 'treatment' });
  await assert.rejects(
    clinician.readRecord(recordId, 'treatment'),
    (e: ClientError) => e.code === 'ORGANIZATION_KEY' && /organization's own MedLedger node/.test(e.message),
  );
});
