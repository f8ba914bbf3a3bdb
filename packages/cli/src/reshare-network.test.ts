// Emergency keys follow validator-set changes on a real network on loopback (docs/emergency.md
// "When the validator set changes"): four genesis validators add a fifth by vote and remove the
// first; after each change the validators' agents re-share every patient's emergency key to the
// new set without assembling it. Break-glass then works with the new set alone — the fifth,
// which joined after the patient registered, included — and the removed validator's old share,
// with fewer than the threshold of current holders' shares, does not rebuild the key.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  emergencyWindow,
  govPropose,
  govVote,
  MedLedgerClient,
  openEmergency,
  setEmergencyPrivilege,
  staffRegisterBody,
  TrustedGenesis,
} from '@medledger/client';
import {
  combineShares,
  encryptionPublicKeyFromPrivate,
  generateKeyBundle,
  idFromPublicKey,
  interpolateAtZero,
  openEnvelope,
  type Share,
  toHex,
  utf8,
} from '@medledger/crypto';
import { type EmergencySplit, emergencyHolders, emergencyHoldersHash, getSplit, postedShareAad, registeredShareAad } from '@medledger/ehr';
import { type Genesis, signTx } from '@medledger/ledger';
import { HOME_FILES, initNetwork, loadHome, MedLedgerNode, type OrgKeyFile, readOrgKey, verifyStoredChain } from '@medledger/node';
import { freePorts, TEST_PASSPHRASE, waitFor } from '@medledger/node/testing';
import { openSqliteStore } from '@medledger/storage';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-reshare-net-'));
const nodes: Array<MedLedgerNode | undefined> = [];
after(async () => {
  for (const node of nodes) await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const HOUR = 60 * 60_000;
const CHAIN = 'reshare-net';

test('emergency keys are re-shared when a validator is added and one removed; break-glass works with the new set, and the removed validator’s old share does not help', async () => {
  const organizations = ['Alpha Hospital', 'Beta Clinic', 'Gamma Lab', 'Delta Hospital'].map((name) => ({ name, kind: 'hospital' }));
  const { homes, orgKeys } = initNetwork({ validators: 5, out: dir, chainId: CHAIN, ports: await freePorts(5), organizations });
  // Genesis lists the first four validators: the fifth home is a node that joins by vote.
  const full = JSON.parse(readFileSync(join(homes[0] as string, HOME_FILES.genesis), 'utf8')) as Genesis;
  const genesis: Genesis = { ...full, validators: full.validators.slice(0, 4) };
  for (const home of homes) writeFileSync(join(home, HOME_FILES.genesis), `${JSON.stringify(genesis, null, 2)}\n`);
  const start = async (i: number) => {
    const loaded = loadHome(homes[i] as string);
    loaded.config.consensus.blockIntervalMs = 50;
    // Empty blocks keep coming, so block time moves and the agents get their ticks.
    loaded.config.consensus.heartbeatMs = 200;
    const node = new MedLedgerNode(loaded, { logger: () => {} });
    await node.start();
    nodes[i] = node;
    return node;
  };
  for (let i = 0; i < 4; i++) await start(i);
  const keyOf = homes.map((h) => loadHome(h).key);
  const idOf = (i: number) => idFromPublicKey((keyOf[i] as ReturnType<typeof loadHome>['key']).signing.publicKey);
  const trusted = TrustedGenesis.fromDocument(genesis);
  const urlOf = (i: number) => (nodes[i] as MedLedgerNode).url;
  const orgClient = (i: number, url: string) =>
    new MedLedgerClient({
      url,
      genesis: trusted,
      keys: readOrgKey((orgKeys[i] as OrgKeyFile).home, { file: (orgKeys[i] as OrgKeyFile).file }),
    });
  const pass = async (action: Parameters<typeof govPropose>[1], url: string) => {
    const p = await govPropose(orgClient(0, url), action, HOUR);
    await govVote(orgClient(1, url), p.id, true);
    await govVote(orgClient(2, url), p.id, true);
    const passed = await govVote(orgClient(3, url), p.id, true);
    assert.equal(passed.status, 'passed', JSON.stringify(passed));
  };
  // Wait until `patient`'s split, as node `i` holds it, is shared among the current set.
  const reshared = (i: number, patient: string, what: string) =>
    waitFor(
      async () => {
        const state = (nodes[i] as MedLedgerNode).chain.state;
        const split = getSplit(state, patient);
        return split?.holders === emergencyHoldersHash(emergencyHolders(state)) ? split : undefined;
      },
      what,
      90_000,
    );

  // A patient with a record registers while the four genesis validators hold the shares.
  const url1 = urlOf(1);
  const patient = new MedLedgerClient({ url: url1, genesis: trusted, keys: generateKeyBundle() });
  const { id: patientId } = await patient.registerPatient();
  const { recordId } = await patient.writeRecord({
    patient: patientId,
    resource: { resourceType: 'AllergyIntolerance', code: { text: 'penicillin' }, criticality: 'high' },
    category: 'allergies',
  });
  const original = getSplit((nodes[1] as MedLedgerNode).chain.state, patientId) as EmergencySplit;
  assert.equal(original.threshold, 3);
  // What the first validator will still hold after it is removed: its share of the first split.
  const v0 = keyOf[0] as ReturnType<typeof loadHome>['key'];
  const v0Share = original.shares[0] as { x: number; sealed: Parameters<typeof openEnvelope>[1] };
  const removedOldShare: Share = {
    x: v0Share.x,
    y: toHex(openEnvelope(v0.encryption.privateKey, v0Share.sealed, utf8(registeredShareAad(patientId, idOf(0), original.emergencyKey)))),
  };

  // 1. Add the fifth validator and start its node: the old holders re-share to all five.
  const fifth = keyOf[4] as ReturnType<typeof loadHome>['key'];
  await pass(
    { type: 'validator.add', name: 'validator-4', publicKey: fifth.signing.publicKey, encryptionKey: fifth.encryption.publicKey, power: 1 },
    url1,
  );
  const addPassed = Date.now();
  await start(4);
  const afterAdd = await reshared(1, patientId, 'the key re-shared to five validators');
  console.log(`# re-shared to five validators ${Date.now() - addPassed} ms after the vote passed (node start included)`);
  assert.equal(afterAdd.threshold, 4);
  assert.equal(afterAdd.dealers?.length, 3, 'three of the four old holders’ dealings count');
  assert.deepEqual(
    afterAdd.shares.map((s) => s.validator),
    [0, 1, 2, 3, 4].map(idOf),
  );
  // A patient registering now splits among the five directly (proven set, not genesis).
  const later = new MedLedgerClient({ url: url1, genesis: trusted, keys: generateKeyBundle() });
  const { id: laterId } = await later.registerPatient();
  assert.equal(getSplit((nodes[1] as MedLedgerNode).chain.state, laterId)?.shares.length, 5);

  // 2. Remove the first validator and stop it: the four staying holders re-share to the four left.
  await pass({ type: 'validator.remove', validator: idOf(0) }, url1);
  const removePassed = Date.now();
  await nodes[0]?.stop();
  nodes[0] = undefined;
  const afterRemove = await reshared(1, patientId, 'the key re-shared to the four remaining validators');
  console.log(`# re-shared to the four remaining validators ${Date.now() - removePassed} ms after the vote passed`);
  assert.equal(afterRemove.threshold, 3);
  assert.deepEqual(
    afterRemove.shares.map((s) => s.validator),
    [1, 2, 3, 4].map(idOf),
  );
  await reshared(1, laterId, 'the later patient’s key re-shared too');
  // The patient sees that its key moved, and to whom.
  const mine = (await patient.get(`/v1/patients/${patientId}/emergency`, { auth: true })) as {
    split: { validators: string[]; resharedAt: { height: number } | null };
  };
  assert.deepEqual(mine.split.validators, [1, 2, 3, 4].map(idOf));
  assert.equal(mine.split.resharedAt?.height, afterRemove.resharedAt?.height);
  // The removed validator signs nothing any more: posting its old share to a window is refused.
  const removedKey = keyOf[0] as ReturnType<typeof loadHome>['key'];
  const account = (await (await fetch(`${url1}/v1/accounts/${removedKey.signing.publicKey}`)).json()) as { nextNonce: number };
  const post = signTx(
    {
      v: 1,
      chain: CHAIN,
      kind: 'emergency.reshare',
      signer: removedKey.signing.publicKey,
      nonce: account.nextNonce,
      body: { target: emergencyHoldersHash(emergencyHolders((nodes[1] as MedLedgerNode).chain.state)), items: [] },
    },
    removedKey.signing.privateKey,
  );
  const refused = await fetch(`${url1}/v1/txs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(post),
  });
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'REVOKED');
  // Operators see it in /metrics: a staying validator dealt, and then has nothing pending.
  const metrics = await waitFor(
    async () => {
      const text = await (await fetch(`${urlOf(2)}/metrics`)).text();
      return /^medledger_emergency_reshare_pending 0$/m.test(text) ? text : undefined;
    },
    'validator 2 to finish its part',
    60_000,
  );
  assert.match(metrics, /^medledger_emergency_reshare_dealt [1-9]/m);

  // 3. Stop validator 1 as well: validators 2, 3 and the fifth are 3 of the 4 current ones,
  // enough for blocks and for break-glass; the fifth joined after the patient registered.
  const url = urlOf(3);
  await nodes[1]?.stop();
  nodes[1] = undefined;
  const org = new MedLedgerClient({
    url,
    genesis: trusted,
    keys: readOrgKey((orgKeys[0] as OrgKeyFile).home, { file: (orgKeys[0] as OrgKeyFile).file }),
  });
  const doctorKeys = generateKeyBundle();
  await org.submitAndWait(
    'staff.register',
    staffRegisterBody({
      publicKey: doctorKeys.signing.publicKey,
      encryptionKey: doctorKeys.encryption.publicKey,
      role: 'clinician',
      name: 'Dr Reshare',
    }),
  );
  const doctor = new MedLedgerClient({ url, genesis: trusted, keys: doctorKeys });
  await setEmergencyPrivilege(org, doctor.id);
  const opened = await openEmergency(doctor, { patient: patientId, reason: 'unconscious, allergies unknown', durationMs: 10 * 60_000 });
  assert.deepEqual(opened.badShares, []);
  const window = await emergencyWindow(doctor, opened.windowId);
  const posters = (window.shares ?? []).map((s) => s.validator).sort();
  assert.ok(posters.includes(idOf(4)), 'the fifth validator posted its share');
  assert.ok(!posters.includes(idOf(0)), 'the removed validator posted nothing');
  const read = await doctor.readRecord(recordId);
  assert.equal((read.resource as { code: { text: string } }).code.text, 'penicillin');

  // 4. The attack: the removed validator keeps its old share and colludes with the clinician,
  // who holds the current holders' posted shares. Fewer than three current shares plus the old
  // one do not rebuild the key; three current ones do.
  const currentShares = (window.shares ?? []).map((posted) => {
    const bytes = openEnvelope(
      doctorKeys.encryption.privateKey,
      posted.sealed,
      utf8(postedShareAad(window.id, posted.validator, doctor.id)),
    );
    const dealers = window.dealers as number[];
    const subs = dealers.map((x, i) => ({ x, y: toHex(bytes.subarray(i * 32, (i + 1) * 32)) }));
    return { x: posted.x, y: toHex(interpolateAtZero(subs)) } as Share;
  });
  assert.ok(currentShares.length >= 3);
  const rebuilds = (shares: Share[]) => encryptionPublicKeyFromPrivate(toHex(combineShares(shares))) === window.emergencyKey;
  assert.ok(rebuilds(currentShares.slice(0, 3)), 'three current holders rebuild the key');
  for (let i = 0; i < currentShares.length; i++) {
    for (let j = i + 1; j < currentShares.length; j++) {
      const two = [currentShares[i] as Share, currentShares[j] as Share];
      assert.ok(!rebuilds(two), 'two current holders alone do not');
      const withOld = [...two.filter((s) => s.x !== removedOldShare.x), removedOldShare];
      assert.ok(!rebuilds(withOld), 'the removed validator’s old share does not make up the third');
    }
  }
  // And its old share alone opens nothing: it is not the key.
  assert.notEqual(encryptionPublicKeyFromPrivate(removedOldShare.y), window.emergencyKey);

  // 5. The chain with its re-sharing replays to the same state offline (`medledger verify`).
  for (const [i, node] of nodes.entries()) {
    await node?.stop();
    nodes[i] = undefined;
  }
  const store = openSqliteStore(join(homes[3] as string, HOME_FILES.db));
  try {
    const result = verifyStoredChain(genesis, store);
    assert.equal(result.ok, true, JSON.stringify(result));
  } finally {
    store.close();
  }
});
