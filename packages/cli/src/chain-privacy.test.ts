// Consent and access metadata stay private over real HTTP (issue 12 item 3, docs/records.md
// "Who sees which metadata"): block bodies and transactions go to the consortium and its
// auditors; anonymous callers and patients get headers, commits, leaf hashes and their own.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type ClientError, MedLedgerClient, proveRecord, rootFromLeaves, staffRegisterBody, TrustedGenesis } from '@medledger/client';
import { generateKeyBundle, idFromPublicKey, type KeyBundle } from '@medledger/crypto';
import { readOrgKey } from '@medledger/node';
import { startSoloNode, TEST_PASSPHRASE, type TestNode } from '@medledger/node/testing';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

/** The genesis the SDK clients of this file trust: the test network's own. */
const trusted = () => TrustedGenesis.fromDocument(net.node.chain.genesis);

let net: TestNode;
let org: MedLedgerClient;
before(async () => {
  net = await startSoloNode();
  org = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: readOrgKey(join(net.dir, 'node0')) });
});
after(async () => {
  await net.cleanup();
});

const observation = { resourceType: 'Observation', status: 'final', code: { text: 'Body weight' }, valueQuantity: { value: 72.5 } };

async function staff(role: 'auditor' | 'researcher' | 'clinician'): Promise<MedLedgerClient> {
  const keys: KeyBundle = generateKeyBundle();
  await org.submitAndWait(
    'staff.register',
    staffRegisterBody({ publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role }),
  );
  return new MedLedgerClient({ genesis: trusted(), url: net.url, keys });
}

/** A patient who granted a clinician, so the chain holds consent metadata naming both. */
async function patientWithGrant() {
  const patient = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: generateKeyBundle() });
  const { id } = await patient.registerPatient();
  const doctor = await staff('clinician');
  const { recordId } = await patient.writeRecord({ patient: id, resource: observation, category: 'vital-signs' });
  const grant = await patient.grant({ grantee: doctor.id, categories: ['vital-signs'], purpose: 'treatment' });
  const status = (await patient.get(`/v1/txs/${grant.txHash}`)) as { height: number; index: number };
  return { patient, id, doctor, recordId, grant, status };
}

test('anonymous block fetch: headers, commits and leaf hashes that check against the tx root, but no consent metadata', async () => {
  const { id, doctor, grant, status } = await patientWithGrant();
  const res = await fetch(`${net.url}/v1/blocks/${status.height}`);
  assert.equal(res.status, 200);
  const text = await res.text();
  const answer = JSON.parse(text);
  assert.equal(answer.bodies, 'withheld');
  assert.equal(answer.block.txs, undefined);
  assert.equal(answer.results, undefined);
  assert.deepEqual(answer.own, []);
  assert.equal(answer.commit.blockHash, answer.hash);
  assert.equal(rootFromLeaves(answer.leaves), answer.block.header.txRoot, 'the leaves prove the tx root without the bodies');
  for (const secret of [id, doctor.id, 'consent.grant', 'vital-signs', 'treatment'])
    assert.equal(text.includes(secret), false, `the anonymous block answer names ${secret}`);
  // The tx lookup gives status and proof to whoever names the hash, never the transaction.
  const tx = (await (await fetch(`${net.url}/v1/txs/${grant.txHash}`)).json()) as Record<string, unknown>;
  assert.equal(tx.status, 'committed');
  assert.equal(tx.tx, undefined);
  assert.equal(JSON.stringify(tx).includes(doctor.id), false);
});

test('a patient cannot read another patient’s consent metadata through blocks or tx lookups', async () => {
  const victim = await patientWithGrant();
  const snoop = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: generateKeyBundle() });
  await snoop.registerPatient();
  const block = (await snoop.get(`/v1/blocks/${victim.status.height}`, { auth: true })) as Record<string, unknown>;
  assert.equal(block.bodies, 'withheld');
  assert.deepEqual(block.own, []);
  assert.equal(JSON.stringify(block).includes(victim.doctor.id), false);
  const tx = (await snoop.get(`/v1/txs/${victim.grant.txHash}`, { auth: true })) as Record<string, unknown>;
  assert.equal(tx.tx, undefined, 'the grant is not the snoop’s transaction');
  // The victim sees their own grant in the same block, and fetches it by hash.
  const own = (await victim.patient.get(`/v1/blocks/${victim.status.height}`, { auth: true })) as {
    own: Array<{ index: number; tx: { kind: string; body: { grantee: string } } }>;
  };
  assert.deepEqual(
    own.own.map((o) => [o.index, o.tx.kind, o.tx.body.grantee]),
    [[victim.status.index, 'consent.grant', victim.doctor.id]],
  );
  const mine = (await victim.patient.get(`/v1/txs/${victim.grant.txHash}`, { auth: true })) as { tx?: { kind: string } };
  assert.equal(mine.tx?.kind, 'consent.grant');
});

test('an auditor, a researcher on staff and the organization see full blocks; a forged session is 401, not a silent downgrade', async () => {
  const victim = await patientWithGrant();
  for (const reader of [await staff('auditor'), org]) {
    const block = (await reader.get(`/v1/blocks/${victim.status.height}`, { auth: true })) as {
      bodies: string;
      block: { txs: Array<{ kind: string; body: { grantee?: string } }> };
      results: unknown[];
    };
    assert.equal(block.bodies, 'full');
    assert.equal(block.block.txs[victim.status.index]?.body.grantee, victim.doctor.id);
    assert.equal(block.results.length, block.block.txs.length);
    const tx = (await reader.get(`/v1/txs/${victim.grant.txHash}`, { auth: true })) as { tx?: { kind: string } };
    assert.equal(tx.tx?.kind, 'consent.grant');
  }
  const forged = await fetch(`${net.url}/v1/blocks/${victim.status.height}`, { headers: { authorization: `Bearer ${'ab'.repeat(32)}` } });
  assert.equal(forged.status, 401);
  assert.equal(((await forged.json()) as { error: { code: string } }).error.code, 'UNAUTHENTICATED');
});

test('a patient proves their record’s anchor signed in; anonymously the light client says BODIES_WITHHELD', async () => {
  const { patient, recordId } = await patientWithGrant();
  const status = await patient.status();
  const genesis = { chainId: status.chainId, validators: status.validators as never };
  const signedIn = { get: (path: string) => patient.get(path, { auth: true }) };
  const proof = await proveRecord(signedIn, genesis, recordId, { maxBlocks: 50 });
  assert.equal(proof.anchor.record, recordId);
  const anonymous = { get: (path: string) => patient.get(path) };
  await assert.rejects(proveRecord(anonymous, genesis, recordId, { maxBlocks: 50 }), (e: ClientError) => e.code === 'BODIES_WITHHELD');
  assert.equal(idFromPublicKey(patient.keys.signing.publicKey), patient.id);
});
