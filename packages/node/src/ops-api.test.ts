// Health, readiness, Prometheus metrics and the operator's backup request on real nodes over HTTP: a node reports its height,
// mempool, vault, commit latency, block execution time and refused transactions by code; a
// validator whose peers are all down is alive but not ready.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MedLedgerClient } from '@medledger/client';
import { generateKeyBundle, signEd25519 } from '@medledger/crypto';
import { adminBackupBytes } from './backup.js';
import { initNetwork, loadHome } from './home.js';
import { MedLedgerNode } from './node.js';
import { get, newSigner, post, startSoloNode, TEST_PASSPHRASE, type TestNode } from './testing/harness.js';

let t: TestNode;
before(async () => {
  t = await startSoloNode();
});
after(async () => {
  await t.cleanup();
});

async function metrics(): Promise<string> {
  const res = await fetch(`${t.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  return res.text();
}
const sample = (text: string, name: string): number | undefined => {
  const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} ([0-9.e+-]+)$`, 'm').exec(text);
  return m === null ? undefined : Number(m[1]);
};

test('a running node is healthy and ready, and its metrics follow what it does', async () => {
  assert.deepEqual((await get(`${t.url}/healthz`)).json, { status: 'ok' });
  const ready = await get(`${t.url}/readyz`);
  assert.equal(ready.status, 200);
  assert.deepEqual(ready.json.peers, { connected: 0, configured: 0 });

  const patient = new MedLedgerClient({ url: t.url, keys: generateKeyBundle() });
  await patient.submitAndWait('identity.register', { role: 'patient', encryptionKey: patient.keys.encryption.publicKey });
  await patient.putObject(new Uint8Array(1000).fill(7));
  // A transaction with a nonce gap is refused at admission, and counted under its code.
  const s = newSigner();
  const gap = await post(`${t.url}/v1/txs`, s.register(5));
  assert.equal(gap.json.error.code, 'NONCE_GAP');

  const text = await metrics();
  assert.equal(sample(text, 'medledger_height'), t.node.chain.height);
  assert.equal(sample(text, 'medledger_mempool_txs'), 0);
  assert.equal(sample(text, 'medledger_vault_objects'), 1);
  assert.equal(sample(text, 'medledger_vault_bytes'), 1000);
  // The validator set never changed: no emergency re-sharing to do.
  assert.equal(sample(text, 'medledger_emergency_reshare_pending'), 0);
  assert.equal(sample(text, 'medledger_emergency_reshare_dealt'), 0);
  assert.equal(sample(text, 'medledger_rejected_txs_total{code="NONCE_GAP"}'), 1);
  assert.ok((sample(text, 'medledger_commit_latency_seconds_count') ?? 0) >= 1);
  assert.ok((sample(text, 'medledger_app_execution_seconds_count') ?? 0) >= 1);
  assert.match(text, /^# TYPE medledger_consensus_round gauge$/m);
  assert.match(text, /^medledger_peers_connected 0$/m);
});

test('a validator whose peers are all down is alive but not ready (503 NOT_READY)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'medledger-ready-'));
  const { homes } = initNetwork({ validators: 2, out: dir, chainId: 'ready-test', passphrase: TEST_PASSPHRASE });
  const home = loadHome(homes[0] as string, TEST_PASSPHRASE);
  home.config.api.port = 0;
  home.config.p2p.port = 0;
  const lonely = new MedLedgerNode(home, { logger: () => {} });
  const url = await lonely.start();
  try {
    assert.equal((await get(`${url}/healthz`)).status, 200);
    const ready = await get(`${url}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal(ready.json.error.code, 'NOT_READY');
    assert.match(ready.json.error.message, /no peer connected \(0 of 1\)/);
    const text = await (await fetch(`${url}/metrics`)).text();
    assert.match(text, /^medledger_peers_configured 1$/m);
    assert.match(text, /^medledger_vault_bytes 0$/m);
  } finally {
    await lonely.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a backup request not signed by the node key, or replayed, is refused; the operator gets a snapshot', async () => {
  const out = join(t.dir, 'solo.backup');
  const time = Date.now();
  const bytes = adminBackupBytes('test-chain', t.node.publicKey, out, time);
  const forged = await post(`${t.url}/v1/admin/backup`, {
    out,
    time,
    signature: signEd25519(generateKeyBundle().signing.privateKey, bytes),
  });
  assert.equal(forged.status, 403);
  assert.equal(forged.json.error.code, 'ACCESS_DENIED');
  const signature = signEd25519(t.node.home.key.signing.privateKey, bytes);
  const made = await post(`${t.url}/v1/admin/backup`, { out, time, signature });
  assert.equal(made.status, 200, JSON.stringify(made.json));
  assert.equal(made.json.height, t.node.chain.height);
  assert.ok(existsSync(out));
  const replayed = await post(`${t.url}/v1/admin/backup`, { out: `${out}2`, time, signature });
  assert.equal(replayed.status, 403);
  const stale = Date.now() - 120_000;
  const old = await post(`${t.url}/v1/admin/backup`, {
    out: `${out}3`,
    time: stale,
    signature: signEd25519(t.node.home.key.signing.privateKey, adminBackupBytes('test-chain', t.node.publicKey, `${out}3`, stale)),
  });
  assert.equal(old.status, 403);
});
