// The member directory over real HTTP (docs/api.md, GET /v1/directory): a patient finds a
// clinician or an organization by name; patients are never listed; anonymous callers are
// refused; every match is reachable by following `next`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type ClientError, MedLedgerClient, searchDirectory, staffRegisterBody, TrustedGenesis } from '@medledger/client';
import { generateKeyBundle } from '@medledger/crypto';
import { readOrgKey } from '@medledger/node';
import { startSoloNode, TEST_PASSPHRASE, type TestNode } from '@medledger/node/testing';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

let net: TestNode;
before(async () => {
  net = await startSoloNode({
    organizations: [
      { name: 'Northside General Hospital', kind: 'hospital' },
      { name: 'Lakeside Clinic', kind: 'clinic' },
    ],
  });
});
after(async () => {
  await net.cleanup();
});

const client = (keys = generateKeyBundle()) =>
  new MedLedgerClient({ genesis: TrustedGenesis.fromDocument(net.node.chain.genesis), url: net.url, keys });

test('directory: clinicians and organizations by name, any case and word order; never patients; paged; members only', async () => {
  const northside = client(readOrgKey(net.node.home.dir));
  const lakeside = client(readOrgKey(net.node.home.dir, { file: 'org-lakeside-clinic.key' }));
  const add = async (org: MedLedgerClient, name: string, role: 'clinician' | 'device' = 'clinician') => {
    const keys = generateKeyBundle();
    await org.submitAndWait(
      'staff.register',
      staffRegisterBody({ publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role, name }),
    );
  };
  await add(northside, 'Dr Gregory House');
  await add(northside, 'Dr James Wilson');
  await add(lakeside, 'Dr Allison Cameron');
  await add(northside, 'House infusion pump', 'device');
  const patient = client();
  await patient.registerPatient();

  const house = await searchDirectory(patient, 'house gregory');
  assert.deepEqual(
    house.items.map((e) => [e.name, e.orgName]),
    [['Dr Gregory House', 'Northside General Hospital']],
    'devices are not listed',
  );
  const byOrg = await searchDirectory(patient, 'NORTHSIDE');
  assert.deepEqual(
    byOrg.organizations.map((o) => o.name),
    ['Northside General Hospital'],
  );
  assert.deepEqual(byOrg.items.map((e) => e.name).sort(), ['Dr Gregory House', 'Dr James Wilson']);

  // Paged: every doctor is reachable one page at a time, none twice.
  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await searchDirectory(patient, 'dr', { limit: 1, ...(cursor === undefined ? {} : { cursor }) });
    assert.ok(page.items.length <= 1);
    seen.push(...page.items.map((e) => e.name));
    cursor = page.next ?? undefined;
  } while (cursor !== undefined);
  assert.deepEqual(seen.sort(), ['Dr Allison Cameron', 'Dr Gregory House', 'Dr James Wilson']);

  // Patients have no names on chain: searching for one finds nobody.
  assert.deepEqual((await searchDirectory(patient, 'patient')).items, []);
  await assert.rejects(searchDirectory(patient, 'x'), (e: ClientError) => e.code === 'INVALID_ARGUMENT');
  const anonymous = await fetch(`${net.url}/v1/directory?q=house`);
  assert.equal(anonymous.status, 401);
});
