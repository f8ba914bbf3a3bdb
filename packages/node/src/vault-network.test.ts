// The vault between two real nodes: objects travel over the authenticated p2p links, and
// the consensus engine hands vault messages to the vault.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { sha256Hex, utf8 } from '@medledger/crypto';
import { initNetwork, loadHome } from './home.js';
import { MedLedgerNode } from './node.js';
import { freePorts, TEST_PASSPHRASE, waitFor } from './testing/harness.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

/** The identity a test upload is bound to. */
const UPLOADER = 'ab'.repeat(20);

const dir = mkdtempSync(join(tmpdir(), 'medledger-vault-'));
const nodes: MedLedgerNode[] = [];
after(async () => {
  for (const node of nodes) await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a node fetches an anchored object it lacks from its peer, and repairs a tampered copy', async () => {
  const { homes } = initNetwork({ validators: 2, out: dir, chainId: 'vault-test', ports: await freePorts(2) });
  for (const home of homes) {
    const node = new MedLedgerNode(loadHome(home), { logger: () => {} });
    await node.start();
    nodes.push(node);
  }
  const [a, b] = nodes as [MedLedgerNode, MedLedgerNode];
  await waitFor(() => (a.p2p.connectedPeers().length === 1 && b.p2p.connectedPeers().length === 1 ? true : undefined), 'the link');

  const data = utf8('iv || ciphertext || tag');
  const hash = sha256Hex(data);
  assert.deepEqual(a.vault.put(hash, data, UPLOADER), { created: true });
  a.vault.onCommitted([hash], []);
  b.vault.onCommitted([hash], []);
  await waitFor(() => (b.chain.store.hasVaultObject(hash) ? true : undefined), 'b to fetch the object', 5_000);
  assert.deepEqual(await b.vault.getVerified(hash), data);

  a.chain.store.deleteVaultObjects([hash]);
  a.chain.store.putVaultObject(hash, utf8('bit rot'), 0);
  a.chain.store.markVaultAnchored([hash]);
  assert.deepEqual(await a.vault.getVerified(hash), data);
  assert.deepEqual(a.chain.store.getVaultObject(hash), data);
});
