// Records, consent and the MedLedger API end to end on CometBFT (docs/cometbft.md): four
// validators, each the application with the MedLedger node over it (API, vault, gatekeeper)
// in this process plus a real CometBFT process, on loopback. The SDK trusts only the genesis
// file and checks every proven answer against CometBFT's signed headers. Needs
// scripts/install-cometbft.sh; without the binary this fails naming it (never skipped).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  type ClientError,
  emergencyWindow,
  fetchVerifiedBlock,
  listEmergency,
  MedLedgerClient,
  openEmergency,
  type ProofSource,
  proveRecord,
  recoverEmergencyKey,
  setEmergencyPrivilege,
  staffRegisterBody,
  TrustedGenesis,
  VerifiedReader,
} from '@medledger/client';
import { generateKeyBundle, idFromPublicKey } from '@medledger/crypto';
import {
  type CometPorts,
  CometRpc,
  initCometHomes,
  initNetwork,
  readOrgKey,
  rpcBlockSource,
  startCometNode,
  verifyCometChain,
} from '@medledger/node';
import { freePort, freePorts, TEST_PASSPHRASE, waitFor } from '@medledger/node/testing';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-comet-e2e-'));
const trusted = () => TrustedGenesis.fromDocument(JSON.parse(readFileSync(join(dir, 'genesis.json'), 'utf8')));
type Running = Awaited<ReturnType<typeof startCometNode>>;
const nodes: Running[] = [];
const urls: string[] = [];
let homes: string[] = [];

before(async () => {
  const init = initNetwork({ validators: 4, out: dir, chainId: 'comet-e2e', ports: await freePorts(4), engine: 'cometbft' });
  homes = init.homes;
  const ports: CometPorts[] = [];
  for (const home of homes) {
    const config = JSON.parse(readFileSync(join(home, 'config.json'), 'utf8')) as { p2p: { port: number } };
    ports.push({ p2p: config.p2p.port, rpc: await freePort(), abci: await freePort(), vault: await freePort() });
  }
  initCometHomes(homes, init.genesis, { passphrase: TEST_PASSPHRASE, ports });
  for (const home of homes) {
    const running = await startCometNode(home, TEST_PASSPHRASE, { log: () => {}, node: { logger: () => {} } });
    nodes.push(running);
    urls.push(running.apiUrl as string);
  }
});

after(async () => {
  for (const n of nodes) await n.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Wait until every node has committed what node `from` has: reads through another node see the same state. */
async function settle(from = 0): Promise<void> {
  const height = nodes[from]?.node?.chain.height ?? 0;
  for (const n of nodes) await waitFor(() => ((n.node?.chain.height ?? 0) >= height ? true : undefined), `every node at height ${height}`);
}

const vital = { resourceType: 'Observation', status: 'final', code: { text: 'Blood pressure' }, valueString: '120/80' };

test('on CometBFT a record written through one node is read through every node, each answer proven by CometBFT headers', async () => {
  const keys = generateKeyBundle();
  const writer = new MedLedgerClient({ genesis: trusted(), url: urls[0] as string, keys });
  const { id: patient } = await writer.registerPatient();
  const { recordId, height } = await writer.writeRecord({ patient, resource: vital, category: 'vital-signs' });
  for (const n of nodes) await waitFor(() => ((n.node?.chain.height ?? 0) >= height ? true : undefined), 'every node to commit the anchor');
  for (const url of urls) {
    const reader = new MedLedgerClient({ genesis: trusted(), url, keys });
    assert.deepEqual((await reader.readRecord(recordId)).resource, vital, `read through ${url}`);
  }
  const status = (await (await fetch(`${urls[1]}/v1/status`)).json()) as { engine: string; height: number };
  assert.equal(status.engine, 'cometbft');
  assert.ok(status.height >= height);
});

test('on CometBFT the light client proves a record anchor from CometBFT headers, and refuses a node that rewrites them', async () => {
  const keys = generateKeyBundle();
  const writer = new MedLedgerClient({ genesis: trusted(), url: urls[0] as string, keys });
  const { id: patient } = await writer.registerPatient();
  const { recordId, height } = await writer.writeRecord({ patient, resource: vital, category: 'vital-signs' });
  const genesis = trusted().genesis;
  // Signed in as the patient: the node shows the patient's own transactions in the block.
  const honest: ProofSource = { get: (path) => writer.get(path, { auth: true }) };
  const proof = await proveRecord(honest, genesis, recordId, { heightHint: height });
  assert.equal(proof.height, height);
  assert.equal(proof.anchor.record, recordId);
  assert.ok(proof.commit.signedPower >= proof.commit.quorumPower, 'more than 2/3 of the genesis power signed');
  assert.equal(proof.proof.treeSize >= 1 && proof.proof.leafIndex < proof.proof.treeSize, true);

  // A lying node: the header's data hash rewritten (so its hash no longer matches the commit),
  // or the leaves rewritten (so they no longer lead to the signed data hash).
  type BlockAnswer = { block: { header: { data_hash: string } }; commit: { signatures: unknown[] } };
  const lying = (edit: (answer: BlockAnswer) => void): ProofSource => ({
    get: async (path) => {
      const answer = (await honest.get(path)) as BlockAnswer;
      if (path.startsWith('/v1/blocks/')) edit(answer);
      return answer;
    },
  });
  await assert.rejects(
    proveRecord(
      lying((a) => (a.block.header.data_hash = 'AB'.repeat(32))),
      genesis,
      recordId,
      { heightHint: height },
    ),
    (e: ClientError) => e.code === 'BAD_PROOF' || e.code === 'BAD_COMMIT',
  );
  await assert.rejects(
    proveRecord(
      lying((a) => (a.commit.signatures = a.commit.signatures.slice(0, 2))),
      genesis,
      recordId,
      { heightHint: height },
    ),
    (e: ClientError) => e.code === 'BAD_COMMIT',
  );

  // Proven state: a rewritten state root no longer hashes to the app hash CometBFT's next header carries.
  const lyingState = new VerifiedReader(trusted(), {
    post: async (path, body) => {
      const answer = (await writer.post(path, body, { auth: true })) as Record<string, unknown>;
      return { ...answer, stateRoot: 'cd'.repeat(32) };
    },
  });
  await assert.rejects(lyingState.read([`identity/${patient}`]), (e: ClientError) => e.code === 'APP_HASH_MISMATCH');
  const honestState = new VerifiedReader(trusted(), { post: (path, body) => writer.post(path, body, { auth: true }) });
  const proven = await honestState.read([`identity/${patient}`]);
  assert.ok(proven.value(`identity/${patient}`) !== null);
});

// The engine is part of genesis. A client trusting a genesis that names the embedded engine
// (here: this chain's id and validators, as a chain whose genesis validators governance has
// since replaced would have them) is sent CometBFT-shaped answers signed by those keys: they
// are refused with ENGINE_MISMATCH, never checked under the genesis set.
test('a client pinned to an embedded-engine genesis refuses CometBFT-shaped answers signed by its genesis keys (ENGINE_MISMATCH)', async () => {
  const keys = generateKeyBundle();
  const writer = new MedLedgerClient({ genesis: trusted(), url: urls[0] as string, keys });
  const { id: patient } = await writer.registerPatient();
  const { recordId, height } = await writer.writeRecord({ patient, resource: vital, category: 'vital-signs' });
  const { engine, ...rest } = trusted().genesis;
  assert.equal(engine, 'cometbft');
  const embedded = { ...rest, engine: 'embedded' as const };
  const isMismatch = (e: ClientError) => {
    assert.equal(e.code, 'ENGINE_MISMATCH', e.message);
    return true;
  };
  const honest: ProofSource = { get: (path) => writer.get(path, { auth: true }) };
  for (const g of [rest, embedded]) {
    await assert.rejects(proveRecord(honest, g, recordId, { heightHint: height }), isMismatch);
    await assert.rejects(fetchVerifiedBlock(honest, g, height), isMismatch);
  }
  const pinned = TrustedGenesis.fromDocument(embedded);
  assert.equal(pinned.engine, 'embedded');
  const state = new VerifiedReader(pinned, {
    post: (path, body) => writer.post(path, body, { auth: true }),
    get: (path) => writer.get(path),
  });
  await assert.rejects(state.read([`identity/${patient}`]), isMismatch);
  const reader = new MedLedgerClient({ genesis: pinned, url: urls[1] as string, keys });
  await assert.rejects(reader.readRecord(recordId), isMismatch);
  // `medledger verify`'s CometBFT replay refuses such a genesis before reading any block.
  const result = await verifyCometChain(embedded, rpcBlockSource(new CometRpc(nodes[0]?.rpcUrl as string)));
  assert.equal(result.ok, false);
  assert.equal(result.ok === false && result.code, 'ENGINE_MISMATCH');
});

/** A clinician of organization 0, registered through node 1, using node `via`. */
async function clinicianOf(name: string, via: number): Promise<{ client: MedLedgerClient; id: string }> {
  const org = new MedLedgerClient({ genesis: trusted(), url: urls[1] as string, keys: readOrgKey(homes[0] as string) });
  const keys = generateKeyBundle();
  await org.submitAndWait(
    'staff.register',
    staffRegisterBody({ publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role: 'clinician', name }),
  );
  return {
    client: new MedLedgerClient({ genesis: trusted(), url: urls[via] as string, keys }),
    id: idFromPublicKey(keys.signing.publicKey),
  };
}

test('on CometBFT a clinician reads only what the patient granted, and nothing after the revocation', async () => {
  const { client: clinician, id: clinicianId } = await clinicianOf('Dr Meredith Grey', 2);
  const patient = new MedLedgerClient({ genesis: trusted(), url: urls[0] as string, keys: generateKeyBundle() });
  const { id: patientId } = await patient.registerPatient();
  const { recordId } = await patient.writeRecord({ patient: patientId, resource: vital, category: 'vital-signs' });
  await assert.rejects(clinician.readRecord(recordId), (e: ClientError) => e.code === 'ACCESS_DENIED');
  const granted = await patient.grant({ grantee: clinicianId, categories: ['vital-signs'], purpose: 'treatment' });
  await settle();
  assert.deepEqual((await clinician.readRecord(recordId)).resource, vital);
  await patient.revoke(granted.grantId);
  await settle();
  await assert.rejects(clinician.readRecord(recordId), (e: ClientError) => e.code === 'ACCESS_DENIED' || e.code === 'REVOKED');
});

test('on CometBFT break-glass works: every validator posts its share from its commit listener, the clinician reads, the patient sees it', async () => {
  const patient = new MedLedgerClient({ genesis: trusted(), url: urls[0] as string, keys: generateKeyBundle() });
  const { id: patientId } = await patient.registerPatient();
  const { recordId } = await patient.writeRecord({ patient: patientId, resource: vital, category: 'vital-signs' });
  const doctor = await clinicianOf('Dr Emergency', 3);
  await setEmergencyPrivilege(
    new MedLedgerClient({ genesis: trusted(), url: urls[0] as string, keys: readOrgKey(homes[0] as string) }),
    doctor.id,
  );
  await assert.rejects(doctor.client.readRecord(recordId), (e: ClientError) => e.code === 'ACCESS_DENIED');
  const opened = await openEmergency(doctor.client, {
    patient: patientId,
    reason: 'unconscious, allergies unknown',
    durationMs: 10 * 60_000,
  });
  // The agents run under CometBFT too: all four validators post their shares on their own.
  const all = await waitFor(async () => {
    const w = await emergencyWindow(doctor.client, opened.windowId);
    return w.sharesPosted === 4 ? w : undefined;
  }, 'all four validators to post their shares');
  const recovered = recoverEmergencyKey(all, doctor.client.keys.encryption.privateKey);
  assert.equal(recovered?.privateKey, opened.privateKey);
  assert.deepEqual(recovered?.badShares, []);
  assert.deepEqual((await doctor.client.readRecord(recordId)).resource, vital);
  // The read is on chain as an emergency access the patient sees.
  const seen = await waitFor(async () => {
    const listing = await listEmergency(patient);
    return (listing.windows[0]?.accesses?.length ?? 0) >= 1 ? listing : undefined;
  }, 'the emergency read to reach the patient');
  assert.ok((seen.windows[0]?.accesses ?? []).every((e) => e.emergency === true && e.record === recordId));
});
