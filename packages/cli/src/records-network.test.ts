// Records across a real 4-validator network on loopback (HTTP and p2p): a record written
// through one node is served by every node, a copy tampered with on one node is detected,
// not served, and repaired from a peer, and erasure removes it from every node.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type ClientError, MedLedgerClient, TrustedGenesis } from '@medledger/client';
import { generateKeyBundle } from '@medledger/crypto';
import { initNetwork, loadHome, MedLedgerNode } from '@medledger/node';
import { freePorts, TEST_PASSPHRASE, waitFor } from '@medledger/node/testing';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-records-net-'));
/** The genesis the SDK clients of this file trust: the test network's own file. */
const trusted = () => TrustedGenesis.fromDocument(JSON.parse(readFileSync(join(dir, 'genesis.json'), 'utf8')));
const nodes: MedLedgerNode[] = [];
const urls: string[] = [];

before(async () => {
  const { homes } = initNetwork({ validators: 4, out: dir, chainId: 'records-net', ports: await freePorts(4) });
  for (const home of homes) {
    const loaded = loadHome(home);
    loaded.config.consensus.blockIntervalMs = 50;
    const node = new MedLedgerNode(loaded, { logger: () => {} });
    urls.push(await node.start());
    nodes.push(node);
  }
});
after(async () => {
  for (const node of nodes) await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

const resource = { resourceType: 'Condition', code: { text: 'Hypertension' }, clinicalStatus: { text: 'active' } };

test('every node serves a record written through one; a tampered copy is repaired; erasure reaches all', async () => {
  const keys = generateKeyBundle();
  const writer = new MedLedgerClient({ genesis: trusted(), url: urls[0] as string, keys });
  const { id: patient } = await writer.registerPatient();
  const { recordId, height } = await writer.writeRecord({ patient, resource, category: 'problems' });
  for (const node of nodes) await waitFor(() => (node.chain.height >= height ? true : undefined), 'every node to commit the anchor');

  for (const url of urls) {
    const reader = new MedLedgerClient({ genesis: trusted(), url, keys });
    assert.deepEqual((await reader.readRecord(recordId)).resource, resource, `read through ${url}`);
  }

  // Bit rot (or a malicious operator) on node 1: its copy no longer matches the hash on chain.
  const meta = (await writer.readRecord(recordId)).meta;
  const victim = nodes[1] as MedLedgerNode;
  const good = victim.chain.store.getVaultObject(meta.contentHash) as Uint8Array;
  const bad = Uint8Array.from(good);
  bad[20] = (bad[20] as number) ^ 0xff;
  victim.chain.store.deleteVaultObjects([meta.contentHash]);
  victim.chain.store.putVaultObject(meta.contentHash, bad, 0);
  victim.chain.store.markVaultAnchored([meta.contentHash]);
  const viaVictim = new MedLedgerClient({ genesis: trusted(), url: urls[1] as string, keys });
  assert.deepEqual((await viaVictim.readRecord(recordId)).resource, resource);
  assert.deepEqual(victim.chain.store.getVaultObject(meta.contentHash), good, 'repaired from a peer');

  const erased = await writer.erase(recordId);
  for (const node of nodes)
    await waitFor(() => (node.chain.height >= erased.height ? true : undefined), 'every node to commit the erasure');
  for (const node of nodes) {
    assert.equal(node.chain.store.hasVaultObject(meta.contentHash), false);
    for (const hash of Object.values(meta.envelopes as Record<string, string>)) assert.equal(node.chain.store.hasVaultObject(hash), false);
  }
  await assert.rejects(viaVictim.readRecord(recordId), (e: ClientError) => e.code === 'RECORD_ERASED' && e.status === 410);
});
