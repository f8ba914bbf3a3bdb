// Attacks on a real 4-validator network on loopback (HTTP and p2p):
// - an expired grant is used through a node whose clock runs an hour slow: refused, because
//   block time, which the other validators keep honest, bounds every grant;
// - through a node whose clock runs an hour fast a grant only ends early;
// - a plaintext canary in a record never appears in any node's database files, logs, blocks
//   or API answers.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type AccessEvent, type ClientError, MedLedgerClient, TrustedGenesis } from '@medledger/client';
import { generateKeyBundle } from '@medledger/crypto';
import { initNetwork, loadHome, MedLedgerNode } from '@medledger/node';
import { freePorts, TEST_PASSPHRASE, waitFor } from '@medledger/node/testing';

// Node homes' keystores are encrypted; this file's nodes and CLI runs use the test passphrase.
process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const CANARY = 'CANARY-93be-plaintext-must-never-reach-a-node';
const HOUR = 3_600_000;
const SKEW = [0, 0, +HOUR, -HOUR]; // node 2 runs fast, node 3 runs slow
const dir = mkdtempSync(join(tmpdir(), 'medledger-skew-'));
/** The genesis the SDK clients of this file trust: the test network's own file. */
const trusted = () => TrustedGenesis.fromDocument(JSON.parse(readFileSync(join(dir, 'genesis.json'), 'utf8')));
const nodes: MedLedgerNode[] = [];
const urls: string[] = [];
const homes: string[] = [];
const logs: string[] = [];

before(async () => {
  const made = initNetwork({ validators: 4, out: dir, chainId: 'skew-net', ports: await freePorts(4) });
  homes.push(...made.homes);
  for (const [i, home] of made.homes.entries()) {
    const loaded = loadHome(home);
    loaded.config.consensus.blockIntervalMs = 50;
    loaded.config.consensus.heartbeatMs = 300; // block time keeps moving while idle
    const skew = SKEW[i] as number;
    const node = new MedLedgerNode(loaded, {
      now: () => Date.now() + skew,
      logger: (level, message) => logs.push(`${level} ${message}`),
    });
    urls.push(await node.start());
    nodes.push(node);
  }
});
after(async () => {
  for (const node of nodes) await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

const observation = {
  resourceType: 'Observation',
  status: 'final',
  code: { text: 'Blood glucose' },
  valueQuantity: { value: 5.4, unit: 'mmol/L' },
  note: [{ text: CANARY }],
};

test('an expired grant is refused through a node whose clock is an hour slow; a fast clock only ends grants early', async () => {
  const patient = new MedLedgerClient({ genesis: trusted(), url: urls[0] as string, keys: generateKeyBundle() });
  const readerKeys = generateKeyBundle();
  const { id: patientId } = await patient.registerPatient();
  const { id: readerId } = await new MedLedgerClient({ genesis: trusted(), url: urls[1] as string, keys: readerKeys }).registerPatient();
  const { recordId } = await patient.writeRecord({ patient: patientId, resource: observation, category: 'laboratory' });
  const expiresAt = Date.now() + 4_000;
  await patient.grant({ grantee: readerId, categories: ['laboratory'], purpose: 'treatment', expiresAt });

  const viaSlow = new MedLedgerClient({ genesis: trusted(), url: urls[3] as string, keys: readerKeys });
  const viaFast = new MedLedgerClient({ genesis: trusted(), url: urls[2] as string, keys: readerKeys });
  const slow = nodes[3] as MedLedgerNode;
  // The slow node follows the chain its peers decide (its own clock does not hold it back).
  const height = (nodes[0] as MedLedgerNode).chain.height;
  await waitFor(() => (slow.chain.height >= height ? true : undefined), 'the slow node to follow the chain', 30_000);
  assert.deepEqual((await viaSlow.readRecord(recordId, 'treatment')).resource, observation, 'served before expiry');
  // To the fast node (an hour ahead) the grant has already ended: refused, never stretched.
  await assert.rejects(viaFast.readRecord(recordId, 'treatment'), (e: ClientError) => e.code === 'ACCESS_DENIED');

  // After expiry, the slow node's clock still says the grant has an hour to run; block time,
  // which it takes from the validators' consensus, says it has ended.
  await waitFor(() => (slow.chain.tipTime > expiresAt ? true : undefined), 'a block after the expiry on the slow node', 30_000);
  assert.ok(slow.now() < expiresAt, 'the slow node really believes the grant is still valid');
  await assert.rejects(viaSlow.readRecord(recordId, 'treatment'), (e: ClientError) => e.code === 'ACCESS_DENIED' && e.status === 403);

  // Both refusals (by the fast and the slow node) are one reader, record, reason and hour:
  // one event counting two (docs/records.md "Access log").
  const reads = (events: AccessEvent[]) => events.reduce((n, e) => n + e.count, 0);
  const log = await waitFor(async () => {
    const events = (await patient.accessLog(patientId)).filter((e) => e.accessor === readerId);
    return reads(events.filter((e) => e.reason === 'EXPIRED')) >= 2 && reads(events) >= 3 ? events : undefined;
  }, 'the refusals in the access log');
  assert.deepEqual([...new Set(log.map((e) => `${e.decision}:${e.reason}`))].sort(), ['allowed:OK', 'denied:EXPIRED']);
  assert.equal(reads(log.filter((e) => e.reason === 'EXPIRED')), 2, 'two refusals');
  assert.equal(reads(log.filter((e) => e.reason === 'OK')), 1, 'one read served');
});

test('a plaintext canary never appears in any node database file, log, block or API answer', async () => {
  // Reads through every node, so every node handles the record.
  const keys = generateKeyBundle();
  const writer = new MedLedgerClient({ genesis: trusted(), url: urls[0] as string, keys });
  const { id: patient } = await writer.registerPatient();
  const { recordId, height } = await writer.writeRecord({ patient, resource: observation, category: 'laboratory' });
  for (const node of nodes) await waitFor(() => (node.chain.height >= height ? true : undefined), 'every node to commit');
  for (const url of urls) {
    const got = await new MedLedgerClient({ genesis: trusted(), url, keys }).readRecord(recordId);
    assert.equal(JSON.stringify(got.resource).includes(CANARY), true, 'the canary is really in the record');
  }
  // Let the access events commit, so they are in the blocks and files checked below.
  await waitFor(async () => ((await writer.accessLog(patient)).length >= urls.length ? true : undefined), 'the reads on chain');

  const canary = Buffer.from(CANARY);
  for (const home of homes) {
    const data = join(home, 'data');
    for (const name of readdirSync(data)) {
      assert.equal(readFileSync(join(data, name)).includes(canary), false, `${home}/data/${name} holds plaintext`);
    }
  }
  assert.ok(logs.length > 0, 'the nodes logged something');
  assert.equal(
    logs.some((l) => l.includes(CANARY)),
    false,
    'a log line holds plaintext',
  );
  for (const [i, url] of urls.entries()) {
    const tip = ((await (await fetch(`${url}/v1/status`)).json()) as { height: number }).height;
    // Full block bodies go to consortium members: read them as this node's validator.
    const member = new MedLedgerClient({ url, keys: (nodes[i] as MedLedgerNode).home.key });
    for (let h = 1; h <= tip; h++) {
      const text = JSON.stringify(await member.get(`/v1/blocks/${h}`, { auth: true }));
      assert.ok(text.includes('"bodies":"full"'), 'the check reads the full block');
      assert.equal(text.includes(CANARY), false, `block ${h} from ${url} holds plaintext`);
    }
    const answer = await (await fetch(`${url}/v1/patients/${patient}/records`)).text();
    assert.equal(answer.includes(CANARY), false);
  }
});
