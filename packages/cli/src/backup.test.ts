// `medledger backup` and `medledger restore` as an operator runs them: a backup taken while the
// node commits blocks restores to a home whose node starts at the same height and app hash and
// serves the same vault objects; restoring over a running node or an existing chain is refused.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MedLedgerClient } from '@medledger/client';
import { generateKeyBundle, sha256Hex } from '@medledger/crypto';
import { addNodeCertificates, initNetwork, loadHome, MedLedgerNode } from '@medledger/node';
import { freePorts, TEST_PASSPHRASE } from '@medledger/node/testing';
import { runCli } from './testing/cli.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-backup-cli-'));
let home = '';
let node: MedLedgerNode;
let url = '';

function start(homeDir: string): Promise<{ node: MedLedgerNode; url: string }> {
  const loaded = loadHome(homeDir);
  loaded.config.api.port = 0;
  loaded.config.p2p.port = 0;
  loaded.config.consensus.blockIntervalMs = 20;
  loaded.config.consensus.heartbeatMs = 0;
  const n = new MedLedgerNode(loaded, { logger: () => {} });
  return n.start().then((u) => ({ node: n, url: u }));
}

before(async () => {
  // Free ports in the home's config too: restore --overwrite probes the configured API port for a running node.
  home = initNetwork({ validators: 1, out: dir, chainId: 'backup-cli', ports: await freePorts(1) }).homes[0] as string;
  ({ node, url } = await start(home));
});
after(async () => {
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('an online backup restores to a node at the same height, app hash and vault; restore refuses a running node', async () => {
  const patients = Array.from({ length: 5 }, () => new MedLedgerClient({ url, keys: generateKeyBundle() }));
  for (const p of patients) await p.submitAndWait('identity.register', { role: 'patient', encryptionKey: p.keys.encryption.publicKey });
  const object = new Uint8Array(4096).fill(42);
  const hash = await (patients[0] as MedLedgerClient).putObject(object);
  // Keep committing while the backup runs: the snapshot is one consistent height.
  const busy = Promise.all(
    Array.from({ length: 5 }, async () => {
      const p = new MedLedgerClient({ url, keys: generateKeyBundle() });
      await p.submitAndWait('identity.register', { role: 'patient', encryptionKey: p.keys.encryption.publicKey });
    }),
  );
  const out = join(dir, 'node0.backup');
  const backup = await runCli(['backup', '--home', home, '--out', out, '--json']);
  await busy;
  assert.equal(backup.code, 0, backup.stderr);
  const made = JSON.parse(backup.stdout);
  assert.equal(made.chainId, 'backup-cli');
  assert.ok(made.height >= 5);
  assert.equal(statSync(out).mode & 0o777, 0o600);
  const again = await runCli(['backup', '--home', home, '--out', out]);
  assert.equal(again.code, 1, 'a backup is never overwritten');

  // Over the running node: refused, nothing touched.
  const refused = await runCli(['restore', '--from', out, '--home', home, '--overwrite', '--json']);
  assert.equal(refused.code, 1);
  assert.equal(JSON.parse(refused.stdout).error.code, 'NODE_RUNNING');
  assert.ok(existsSync(join(home, 'data', 'chain.db')));

  const target = join(dir, 'restored');
  const restored = await runCli(['restore', '--from', out, '--home', target, '--json']);
  assert.equal(restored.code, 0, restored.stderr);
  assert.equal(JSON.parse(restored.stdout).height, made.height);
  const twice = await runCli(['restore', '--from', out, '--home', target, '--json']);
  assert.equal(twice.code, 1);
  assert.equal(JSON.parse(twice.stdout).error.code, 'TARGET_EXISTS');

  const verify = await runCli(['verify', '--home', target]);
  assert.equal(verify.code, 0, verify.stderr + verify.stdout);
  const copy = await start(target);
  try {
    assert.equal(copy.node.chain.height, made.height);
    const original = node.chain.store.loadBlock(made.height);
    assert.equal(copy.node.chain.tipHash, original?.hash);
    assert.equal(copy.node.chain.appHash, original?.block.header.appHash);
    const held = copy.node.chain.store.getVaultObject(hash);
    assert.ok(held !== undefined && sha256Hex(held) === hash, 'the vault object came back');
  } finally {
    await copy.node.stop();
  }
  // With the copy stopped, --overwrite moves the old data aside and restores again.
  const overwritten = await runCli(['restore', '--from', out, '--home', target, '--overwrite', '--json']);
  assert.equal(overwritten.code, 0, overwritten.stderr);
  assert.ok(existsSync(JSON.parse(overwritten.stdout).movedAside));
  // A backup of that home keeps the old data directory out: only this home's files and chain.
  const second = await runCli(['backup', '--home', target, '--out', join(dir, 'restored.backup'), '--json']);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(JSON.parse(second.stdout).files, made.files);
  const notBackup = await runCli(['restore', '--from', join(home, 'genesis.json'), '--home', join(dir, 'x')]);
  assert.equal(notBackup.code, 2);
});

test("a node serving HTTPS with init's certificate is backed up without NODE_EXTRA_CA_CERTS, and restore into a home whose configured HTTPS port answers is refused", async () => {
  const out = join(dir, 'tls-net');
  const tlsHome = initNetwork({ validators: 1, out, chainId: 'backup-tls', ports: await freePorts(1) }).homes[0] as string;
  await addNodeCertificates(out, [tlsHome]);
  const loaded = loadHome(tlsHome);
  loaded.config.consensus.heartbeatMs = 0;
  const tlsNode = new MedLedgerNode(loaded, { logger: () => {} });
  const api = await tlsNode.start();
  try {
    assert.match(api, /^https:/);
    const backup = await runCli(['backup', '--home', tlsHome, '--out', join(dir, 'tls.backup'), '--json'], {
      env: { NODE_EXTRA_CA_CERTS: '' },
    });
    assert.equal(backup.code, 0, backup.stderr);
    assert.equal(JSON.parse(backup.stdout).chainId, 'backup-tls');
    // A home with no lock and no database whose configured HTTPS port answers, with a
    // certificate the CLI does not trust, has a node running on it: not an empty address.
    const bare = join(dir, 'tls-bare');
    mkdirSync(bare, { mode: 0o700 });
    copyFileSync(join(tlsHome, 'config.json'), join(bare, 'config.json'));
    const refused = await runCli(['restore', '--from', join(dir, 'tls.backup'), '--home', bare, '--json']);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.equal(JSON.parse(refused.stdout).error.code, 'NODE_RUNNING');
  } finally {
    await tlsNode.stop();
  }
});

test('a restored validator signs nothing until another commits a block after the restore: alone it cannot commit; --no-signing-hold and --overwrite keep the later signer state', async () => {
  const out = join(dir, 'hold.backup');
  const made = await runCli(['backup', '--home', home, '--out', out, '--json']);
  assert.equal(made.code, 0, made.stderr);
  // The original keeps signing after the backup: these votes are what a restored copy must not contradict.
  const later = new MedLedgerClient({ url, keys: generateKeyBundle() });
  await later.submitAndWait('identity.register', { role: 'patient', encryptionKey: later.keys.encryption.publicKey });
  const originalSigned = node.chain.store.getMeta('signer/last');

  const held = join(dir, 'held');
  const restored = await runCli(['restore', '--from', out, '--home', held, '--json']);
  assert.equal(restored.code, 0, restored.stderr);
  assert.equal(JSON.parse(restored.stdout).signingHeld, true);
  let copy = await start(held);
  try {
    // The only validator, held: nothing can commit (here the hold is the operator's to lift).
    const p = new MedLedgerClient({ url: copy.url, keys: generateKeyBundle() });
    const height = copy.node.chain.height;
    await assert.rejects(
      p.submitAndWait('identity.register', { role: 'patient', encryptionKey: p.keys.encryption.publicKey }, 2000),
      (err: Error & { code?: string }) => err.code === 'TX_TIMEOUT',
    );
    assert.equal(copy.node.chain.height, height, 'a held validator signed no block');
  } finally {
    await copy.node.stop();
  }

  // The operator knows the lost copy is gone for good: restore again over it, without the hold.
  const again = await runCli(['restore', '--from', out, '--home', held, '--overwrite', '--no-signing-hold', '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).signingHeld, false);
  copy = await start(held);
  try {
    const p = new MedLedgerClient({ url: copy.url, keys: generateKeyBundle() });
    const done = await p.submitAndWait('identity.register', { role: 'patient', encryptionKey: p.keys.encryption.publicKey }, 30_000);
    assert.ok(done.height > 0, 'signing was not held');
  } finally {
    await copy.node.stop();
  }

  // Restoring the original's old backup over the original home keeps the later signer position it had reached.
  // (Alone, it then cannot sign again below that position: a single validator restored from an
  // old backup stops rather than sign a second, different block at a height clients have seen.)
  await node.stop();
  const over = await runCli(['restore', '--from', out, '--home', home, '--overwrite', '--no-signing-hold', '--json']);
  assert.equal(over.code, 0, over.stderr);
  ({ node, url } = await start(home));
  const kept = JSON.parse(node.chain.store.getMeta('signer/last') as string) as { height: number };
  assert.ok(
    originalSigned !== undefined && kept.height >= (JSON.parse(originalSigned) as { height: number }).height,
    'the later signer state was kept',
  );
  assert.ok(node.chain.height < kept.height, 'the restored chain is older than what was signed');
});
