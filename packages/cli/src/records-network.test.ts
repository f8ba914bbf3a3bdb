// Records across a real 4-validator network on loopback (HTTP and p2p): a record written
// through one node is served by every node, a copy tampered with on one node is detected,
// not served, and repaired from a peer, and erasure removes it from every node.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildTx, type ClientError, MedLedgerClient, type RecordMeta, TrustedGenesis } from '@medledger/client';
import { generateKeyBundle, toHex } from '@medledger/crypto';
import { txBytes, txHash } from '@medledger/ledger';
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

test('erase-victim-by-anchoring-their-hashes, past admission: every validator refuses it in the block, and the victim’s objects stay everywhere', async () => {
  const victimKeys = generateKeyBundle();
  const victim = new MedLedgerClient({ genesis: trusted(), url: urls[0] as string, keys: victimKeys });
  const { id: victimId } = await victim.registerPatient();
  const { recordId, height } = await victim.writeRecord({ patient: victimId, resource, category: 'problems' });
  const attackerKeys = generateKeyBundle();
  const attacker = new MedLedgerClient({ genesis: trusted(), url: urls[2] as string, keys: attackerKeys });
  const { id: attackerId } = await attacker.registerPatient();
  for (const node of nodes) await waitFor(() => (node.chain.height >= height ? true : undefined), 'every node to commit the anchor');
  // Listing is not a read, so no access event is in flight: nothing else commits before the anchor.
  const meta = (await victim.listRecords(victimId)).find((r) => r.record === recordId) as RecordMeta;
  await waitFor(() => (nodes.every((n) => n.mempool.size === 0) ? true : undefined), 'empty mempools');
  const hex = (n: number) => toHex(crypto.getRandomValues(new Uint8Array(n)));

  // As if a faulty validator skipped admission: the anchor goes straight into every mempool.
  const tx = buildTx({
    chain: 'records-net',
    kind: 'record.anchor',
    signing: attackerKeys.signing,
    nonce: (nodes[0] as MedLedgerNode).chain.app.pendingNonce(attackerKeys.signing.publicKey),
    body: {
      record: hex(16),
      patient: attackerId,
      resourceType: 'Condition',
      category: 'problems',
      contentHash: meta.contentHash,
      size: meta.size,
      envelopes: [
        { to: attackerId, hash: hex(32) },
        { to: 'emergency', hash: hex(32) },
      ],
    },
  });
  const hash = txHash(tx);
  for (const node of nodes) {
    node.mempool.add({ hash, tx, bytes: txBytes(tx).length });
    node.engine.onTx();
  }
  for (const node of nodes) {
    const loc = await waitFor(() => node.chain.store.findTx(hash), 'the anchor to be decided');
    assert.equal(loc.result.code, 'OBJECT_IN_USE');
  }
  for (const node of nodes) {
    assert.equal(node.chain.store.vaultObjectStatus(meta.contentHash), 'anchored');
    for (const h of Object.values(meta.envelopes as Record<string, string>))
      assert.equal(node.chain.store.vaultObjectStatus(h), 'anchored');
  }
  for (const url of urls) {
    const reader = new MedLedgerClient({ genesis: trusted(), url, keys: victimKeys });
    assert.deepEqual((await reader.readRecord(recordId)).resource, resource, `read through ${url}`);
  }
});
