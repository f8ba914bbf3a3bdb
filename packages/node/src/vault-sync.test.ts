// Vault sync: peer message validation, matching answers to requests, backoff and bounds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256Hex, utf8 } from '@medledger/crypto';
import { MemoryStore } from '@medledger/storage';
import { MAX_PENDING_REQUESTS, parseVaultData, parseVaultGet, type VaultPeers, VaultSync, vaultDataMessage } from './vault-sync.js';

const HASH = sha256Hex(utf8('object'));

/** Peers that record what is sent to them and never answer on their own. */
function silentPeers(names: string[]): VaultPeers & { sent: Array<{ to: string; msg: Record<string, unknown> }> } {
  const sent: Array<{ to: string; msg: Record<string, unknown> }> = [];
  return { sent, connectedPeers: () => names, send: (to, msg) => sent.push({ to, msg }), nameOf: (p) => `node-${p}` };
}

function makeSync(peers: VaultPeers, fetchTimeoutMs = 50) {
  const store = new MemoryStore();
  const clock = { now: 0 };
  const logs: string[] = [];
  const sync = new VaultSync({ maxObjectBytes: 64, fetchTimeoutMs }, { store, now: () => clock.now, log: (_l, m) => logs.push(m), peers });
  return { sync, store, clock, logs };
}

test('vault-get messages with a bad id or hash are refused', () => {
  assert.deepEqual(parseVaultGet({ type: 'vault-get', id: 'a1', hash: HASH }), { id: 'a1', hash: HASH });
  for (const bad of [
    { id: 1, hash: HASH },
    { id: '', hash: HASH },
    { id: 'x'.repeat(65), hash: HASH },
    { id: 'a b', hash: HASH },
    { id: 'a', hash: HASH.toUpperCase() },
    { id: 'a', hash: HASH.slice(2) },
    { id: 'a' },
  ])
    assert.equal(parseVaultGet({ type: 'vault-get', ...bad }), undefined, JSON.stringify(bad));
});

test('vault-data answers decode, and bad data is an invalid answer rather than a silent drop', () => {
  const data = utf8('bytes');
  const encoded = vaultDataMessage('a1', HASH, data);
  assert.deepEqual(parseVaultData(encoded, 64), { id: 'a1', hash: HASH, answer: { kind: 'data', data } });
  assert.deepEqual(parseVaultData(vaultDataMessage('a1', HASH, undefined), 64)?.answer, { kind: 'none' });
  assert.equal(parseVaultData({ id: 'a1', hash: 'zz', data: null }, 64), undefined);
  assert.equal(parseVaultData({ id: null, hash: HASH, data: null }, 64), undefined);
  for (const bad of [42, 'not base64!', 'abc', Buffer.alloc(65).toString('base64'), Buffer.alloc(200).toString('base64')])
    assert.equal(parseVaultData({ id: 'a1', hash: HASH, data: bad }, 64)?.answer.kind, 'invalid', String(bad));
  assert.equal(parseVaultData({ id: 'a1', hash: HASH, data: Buffer.alloc(64).toString('base64') }, 64)?.answer.kind, 'data');
});

test('an answer from a peer that was not asked, or for another hash, does not settle a request', async () => {
  const peers = silentPeers(['p']);
  const { sync, store } = makeSync(peers, 200);
  const data = utf8('object');
  store.markVaultAnchored([HASH]);
  const fetching = sync.fetch(HASH);
  const msg = peers.sent[0]?.msg ?? assert.fail('no request was sent');
  const otherHash = sha256Hex(utf8('other'));
  sync.onData('intruder', vaultDataMessage(msg.id as string, HASH, data));
  sync.onData('p', vaultDataMessage(msg.id as string, otherHash, utf8('other')));
  assert.equal(store.hasVaultObject(HASH), false);
  sync.onData('p', vaultDataMessage(msg.id as string, HASH, data));
  assert.deepEqual(await fetching, data);
  assert.equal(store.vaultObjectStatus(HASH), 'anchored');
  sync.stop();
});

test('concurrent fetches of one hash share a request', async () => {
  const peers = silentPeers(['p']);
  const { sync, store } = makeSync(peers);
  store.markVaultAnchored([HASH]);
  const first = sync.fetch(HASH);
  const second = sync.fetch(HASH);
  assert.equal(first, second);
  assert.equal(peers.sent.length, 1);
  sync.stop();
  assert.equal(await first, undefined);
});

test('each connected peer is asked in turn until one answers, each bounded by the timeout', async () => {
  const peers = silentPeers(['p1', 'p2', 'p3']);
  const { sync, store } = makeSync(peers, 20);
  store.markVaultAnchored([HASH]);
  const started = Date.now();
  assert.equal(await sync.fetch(HASH), undefined);
  assert.deepEqual(
    peers.sent.map((s) => s.to),
    ['p1', 'p2', 'p3'],
  );
  assert.ok(Date.now() - started >= 55, 'each peer had its own timeout');
});

test('a wanted object no peer serves is retried with growing backoff', async () => {
  const peers = silentPeers(['p']);
  const { sync, store, clock } = makeSync(peers, 10);
  store.markVaultAnchored([HASH]);
  const asks = () => peers.sent.filter((s) => s.msg.hash === HASH).length;
  assert.equal(await sync.syncPass(), 0);
  assert.equal(asks(), 1);
  await sync.syncPass();
  assert.equal(asks(), 1, 'not asked again during the backoff');
  clock.now += 1_000;
  await sync.syncPass();
  assert.equal(asks(), 2, 'asked again after 1 s');
  clock.now += 1_000;
  await sync.syncPass();
  assert.equal(asks(), 2, 'the second backoff is longer');
  clock.now += 1_000;
  await sync.syncPass();
  assert.equal(asks(), 3);
});

test('a pass does nothing while no peer is connected', async () => {
  const peers = silentPeers([]);
  const { sync, store } = makeSync(peers);
  store.markVaultAnchored([HASH]);
  assert.equal(await sync.syncPass(), 0);
  assert.equal(peers.sent.length, 0);
});

test('pending requests are bounded: beyond the limit a fetch fails at once instead of queueing', async () => {
  const peers = silentPeers(['p']);
  const { sync, store } = makeSync(peers, 60_000);
  const hashes = Array.from({ length: MAX_PENDING_REQUESTS + 1 }, (_, i) => sha256Hex(utf8(`object ${i}`)));
  store.markVaultAnchored(hashes);
  const fetches = hashes.map((h) => sync.fetch(h));
  assert.equal(peers.sent.length, MAX_PENDING_REQUESTS);
  assert.equal(await fetches[MAX_PENDING_REQUESTS], undefined);
  sync.stop();
  assert.deepEqual(
    await Promise.all(fetches),
    hashes.map(() => undefined),
  );
});

test('a malformed vault-data message is logged with the peer name and ignored', () => {
  const { sync, logs } = makeSync(silentPeers(['p']));
  sync.onData('p', { type: 'vault-data', id: 7, hash: HASH, data: null });
  assert.ok(logs.some((m) => m.includes('node-p')));
});
