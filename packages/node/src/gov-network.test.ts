// Governance across four real validator nodes: each organization votes through its own node;
// the proposal passes on every node in the same block, every node ends with the same app hash,
// and the lowered block size holds for the blocks every validator then proposes and accepts.
// Readiness and metrics on a node with peers.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { govParams, govPropose, govVote, MedLedgerClient, TrustedGenesis } from '@medledger/client';
import { generateKeyBundle } from '@medledger/crypto';
import { initNetwork, loadHome, type OrgKeyFile, readOrgKey } from './home.js';
import { MedLedgerNode } from './node.js';
import { freePorts, get, TEST_PASSPHRASE, waitFor } from './testing/harness.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-gov-net-'));
const nodes: MedLedgerNode[] = [];
const urls: string[] = [];
let homes: string[] = [];
let orgKeys: OrgKeyFile[] = [];

before(async () => {
  ({ homes, orgKeys } = initNetwork({ validators: 4, out: dir, chainId: 'gov-net', ports: await freePorts(4) }));
  for (const home of homes) {
    const loaded = loadHome(home);
    loaded.config.consensus.blockIntervalMs = 50;
    const node = new MedLedgerNode(loaded, { logger: () => {} });
    urls.push(await node.start());
    nodes.push(node);
  }
  await waitFor(() => (nodes.every((n) => n.peerCounts().connected === 3) ? true : undefined), 'all links', 30_000);
});
after(async () => {
  for (const node of nodes) await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

const trusted = () => TrustedGenesis.fromDocument((nodes[0] as MedLedgerNode).chain.genesis);
/** Organization i's admin, talking to node i. */
const orgClient = (i: number) =>
  new MedLedgerClient({
    url: urls[i] as string,
    genesis: trusted(),
    keys: readOrgKey(homes[i] as string, { file: (orgKeys[i] as OrgKeyFile).file }),
  });

test('a block size passed by votes through four nodes is what every validator builds and accepts, with one app hash', async () => {
  for (const url of urls) assert.equal((await get(`${url}/readyz`)).status, 200);
  const p = await govPropose(orgClient(0), { type: 'param.set', param: 'maxBlockTxs', value: 2 }, 60 * 60_000);
  await govVote(orgClient(1), p.id, true);
  await govVote(orgClient(2), p.id, true);
  const passed = await govVote(orgClient(3), p.id, true);
  assert.equal(passed.status, 'passed');
  const decided = passed.closedAt?.height as number;
  for (const i of [0, 1, 2, 3]) assert.equal(((await govParams(orgClient(i))).inForce as { maxBlockTxs: number }).maxBlockTxs, 2);

  // Twelve registrations spread over the four nodes: every later block holds at most two.
  const patients = Array.from({ length: 12 }, (_, i) => new MedLedgerClient({ url: urls[i % 4] as string, keys: generateKeyBundle() }));
  await Promise.all(
    patients.map((c) => c.submitAndWait('identity.register', { role: 'patient', encryptionKey: c.keys.encryption.publicKey })),
  );
  const tip = Math.min(...nodes.map((n) => n.chain.height));
  const proposers = new Set<string>();
  for (let h = decided + 1; h <= tip; h++) {
    const stored = (nodes[0] as MedLedgerNode).chain.store.loadBlock(h);
    assert.ok(stored !== undefined && stored.block.txs.length <= 2, `block ${h} holds ${stored?.block.txs.length} txs`);
    proposers.add(stored.block.header.proposer);
  }
  assert.ok(proposers.size >= 2, 'blocks from more than one proposer were accepted under the new limit');
  await waitFor(() => (nodes.every((n) => n.chain.height >= tip) ? true : undefined), 'every node at the tip');
  const hashes = new Set(nodes.map((n) => n.chain.store.loadBlock(tip)?.block.header.appHash));
  assert.equal(hashes.size, 1, 'one app hash on every node');
  const metrics = await (await fetch(`${urls[2]}/metrics`)).text();
  assert.match(metrics, /^medledger_peers_connected 3$/m);
  assert.match(metrics, /^medledger_peers_configured 3$/m);
});
