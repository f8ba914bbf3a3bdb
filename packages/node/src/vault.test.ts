// The vault against the memory store and a fake peer network: uploads, verified reads,
// repair from peers, erasure and expiry.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateEncryptionKeyPair, KEY_ENVELOPE_BYTES, sealToPublicKey, sha256Hex, utf8 } from '@medledger/crypto';
import { MemoryStore } from '@medledger/storage';
import { ApiError } from './errors.js';
import { Vault, type VaultOptions } from './vault.js';
import type { VaultPeers } from './vault-sync.js';

/** The identity a test upload is bound to. */
const UPLOADER = 'ab'.repeat(20);

type Handler = (from: string, msg: Record<string, unknown>) => void;

/**
 * Peers that deliver each message on a later turn of the event loop, through JSON like
 * the real links. `order` fixes which peers a node sees, and in what order it asks them.
 */
class FakeNetwork {
  private readonly handlers = new Map<string, Handler>();
  readonly sent: Array<{ from: string; to: string; msg: Record<string, unknown> }> = [];

  attach(name: string, handler: Handler): void {
    this.handlers.set(name, handler);
  }

  peersFor(self: string, order?: string[]): VaultPeers {
    return {
      connectedPeers: () => order ?? [...this.handlers.keys()].filter((n) => n !== self),
      send: (peer, msg) => {
        this.sent.push({ from: self, to: peer, msg });
        const handler = this.handlers.get(peer);
        const wire = JSON.parse(JSON.stringify(msg)) as Record<string, unknown>;
        if (handler !== undefined) setImmediate(() => handler(self, wire));
      },
      nameOf: (peer) => `node-${peer}`,
    };
  }
}

interface TestVault {
  vault: Vault;
  store: MemoryStore;
  logs: Array<{ level: string; msg: string }>;
  clock: { now: number };
}

function makeVault(
  net: FakeNetwork,
  name: string,
  opts: Partial<VaultOptions> & { order?: string[]; sizeOnChain?: (hash: string) => number | undefined } = {},
): TestVault {
  const store = new MemoryStore();
  const logs: Array<{ level: string; msg: string }> = [];
  const clock = { now: 1_000_000 };
  const vault = new Vault(
    {
      maxObjectBytes: opts.maxObjectBytes ?? 1024,
      unanchoredTtlMs: opts.unanchoredTtlMs ?? 600_000,
      fetchTimeoutMs: opts.fetchTimeoutMs ?? 500,
    },
    {
      store,
      now: () => clock.now,
      log: (level, msg) => logs.push({ level, msg }),
      peers: net.peersFor(name, opts.order),
      ...(opts.sizeOnChain === undefined ? {} : { sizeOnChain: opts.sizeOnChain }),
    },
  );
  net.attach(name, (from, msg) => vault.onPeerMessage(from, msg));
  return { vault, store, logs, clock };
}

function object(text: string): { hash: string; data: Uint8Array } {
  const data = utf8(text);
  return { hash: sha256Hex(data), data };
}

async function eventually(check: () => boolean, what: string, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function apiErrorWith(code: string, status: number) {
  return (e: unknown) => e instanceof ApiError && e.code === code && e.status === status;
}

test('an upload is stored under its SHA-256 and a repeat reports it was already held', async () => {
  const { vault, store } = makeVault(new FakeNetwork(), 'a');
  const rec = object('ciphertext');
  assert.deepEqual(vault.put(rec.hash, rec.data, UPLOADER), { created: true });
  assert.deepEqual(vault.put(rec.hash, rec.data, UPLOADER), { created: false });
  assert.equal(store.vaultObjectStatus(rec.hash), 'unanchored');
  assert.deepEqual(await vault.getVerified(rec.hash), rec.data);
});

test('an upload whose bytes do not match the hash is refused and nothing is stored', () => {
  const { vault, store } = makeVault(new FakeNetwork(), 'a');
  const rec = object('ciphertext');
  assert.throws(() => vault.put(rec.hash, utf8('other bytes'), UPLOADER), apiErrorWith('HASH_MISMATCH', 400));
  assert.equal(store.hasVaultObject(rec.hash), false);
});

test('an upload over maxObjectBytes is refused and nothing is stored', () => {
  const { vault, store } = makeVault(new FakeNetwork(), 'a', { maxObjectBytes: 16 });
  const rec = object('seventeen bytes!!');
  assert.throws(() => vault.put(rec.hash, rec.data, UPLOADER), apiErrorWith('OBJECT_TOO_LARGE', 413));
  assert.equal(store.hasVaultObject(rec.hash), false);
  const fits = object('sixteen bytes!!!');
  assert.deepEqual(vault.put(fits.hash, fits.data, UPLOADER), { created: true });
});

test('a malformed hash is refused before any bytes are looked at', async () => {
  const { vault } = makeVault(new FakeNetwork(), 'a');
  const rec = object('x');
  assert.throws(() => vault.put(rec.hash.toUpperCase(), rec.data, UPLOADER), apiErrorWith('INVALID_PARAM', 400));
  await assert.rejects(vault.getVerified('abc'), apiErrorWith('INVALID_PARAM', 400));
});

test('an unknown object reads as undefined without asking peers', async () => {
  const net = new FakeNetwork();
  const { vault } = makeVault(net, 'a');
  makeVault(net, 'b');
  assert.equal(await vault.getVerified(object('nobody has this').hash), undefined);
  assert.equal(net.sent.length, 0);
});

test('a committed anchor makes the node fetch the object it is missing from a peer', async (t) => {
  const net = new FakeNetwork();
  const a = makeVault(net, 'a');
  const b = makeVault(net, 'b');
  t.after(() => {
    a.vault.stop();
    b.vault.stop();
  });
  const rec = object('record ciphertext');
  a.vault.put(rec.hash, rec.data, UPLOADER);
  a.vault.onCommitted([rec.hash], []);
  b.vault.start();
  b.vault.onCommitted([rec.hash], []);
  await eventually(() => b.store.hasVaultObject(rec.hash), 'b to fetch the object');
  assert.equal(b.store.vaultObjectStatus(rec.hash), 'anchored');
  assert.deepEqual(b.store.wantedVaultObjects(10), []);
  assert.deepEqual(await b.vault.getVerified(rec.hash), rec.data);
});

test('a missing anchored object is fetched on demand when read', async () => {
  const net = new FakeNetwork();
  const a = makeVault(net, 'a');
  const b = makeVault(net, 'b');
  const rec = object('record ciphertext');
  a.vault.put(rec.hash, rec.data, UPLOADER);
  a.vault.onCommitted([rec.hash], []);
  // Not started: no background loop, so only the read itself can fetch it.
  b.vault.onCommitted([rec.hash], []);
  assert.deepEqual(await b.vault.getVerified(rec.hash), rec.data);
  assert.equal(b.store.vaultObjectStatus(rec.hash), 'anchored');
});

test('a tampered local copy is detected, not returned, and repaired from a peer', async () => {
  const net = new FakeNetwork();
  const a = makeVault(net, 'a');
  const b = makeVault(net, 'b');
  const rec = object('record ciphertext');
  for (const v of [a, b]) {
    v.vault.put(rec.hash, rec.data, UPLOADER);
    v.vault.onCommitted([rec.hash], []);
  }
  const tampered = utf8('TAMPERED-BYTES');
  b.store.deleteVaultObjects([rec.hash]);
  b.store.putVaultObject(rec.hash, tampered, 0);
  b.store.markVaultAnchored([rec.hash]);

  assert.deepEqual(await b.vault.getVerified(rec.hash), rec.data);
  assert.deepEqual(b.store.getVaultObject(rec.hash), rec.data);
  assert.equal(b.store.vaultObjectStatus(rec.hash), 'anchored');
  const warning = b.logs.find((l) => l.level === 'warn' && l.msg.includes(rec.hash.slice(0, 12)));
  assert.ok(warning, 'the bad copy is logged');
  assert.ok(!b.logs.some((l) => l.msg.includes(rec.hash)), 'only a prefix of the hash is logged');
  assert.ok(!b.logs.some((l) => l.msg.includes('TAMPERED') || l.msg.includes('record ciphertext')), 'contents are never logged');
});

test('a tampered copy no peer can repair reads as undefined and stays wanted', async () => {
  const net = new FakeNetwork();
  makeVault(net, 'a');
  const b = makeVault(net, 'b');
  const rec = object('record ciphertext');
  b.store.putVaultObject(rec.hash, utf8('rotten'), 0);
  b.store.markVaultAnchored([rec.hash]);
  assert.equal(await b.vault.getVerified(rec.hash), undefined);
  assert.equal(b.store.vaultObjectStatus(rec.hash), 'wanted');
});

test('a tampered unanchored upload is dropped, not fetched', async () => {
  const net = new FakeNetwork();
  const b = makeVault(net, 'b');
  makeVault(net, 'a');
  const rec = object('upload');
  b.store.putVaultObject(rec.hash, utf8('rotten'), 0);
  assert.equal(await b.vault.getVerified(rec.hash), undefined);
  assert.equal(b.store.vaultObjectStatus(rec.hash), undefined);
  assert.equal(net.sent.length, 0);
});

test('a client re-uploading the right bytes replaces a bad local copy', async () => {
  const { vault, store } = makeVault(new FakeNetwork(), 'a');
  const rec = object('record ciphertext');
  store.putVaultObject(rec.hash, utf8('rotten'), 0);
  store.markVaultAnchored([rec.hash]);
  assert.deepEqual(vault.put(rec.hash, rec.data, UPLOADER), { created: true });
  assert.equal(store.vaultObjectStatus(rec.hash), 'anchored');
  assert.deepEqual(await vault.getVerified(rec.hash), rec.data);
});

test('a peer that answers with wrong bytes is ignored, named in the log, and another peer is asked', async () => {
  const net = new FakeNetwork();
  const rec = object('record ciphertext');
  const liar = net.peersFor('liar');
  net.attach('liar', (from, msg) => {
    if (msg.type === 'vault-get')
      liar.send(from, { type: 'vault-data', id: msg.id, hash: msg.hash, data: Buffer.from('forged ciphertext').toString('base64') });
  });
  const good = makeVault(net, 'good');
  good.vault.put(rec.hash, rec.data, UPLOADER);
  good.vault.onCommitted([rec.hash], []);
  const b = makeVault(net, 'b', { order: ['liar', 'good'] });
  b.vault.onCommitted([rec.hash], []);

  assert.deepEqual(await b.vault.getVerified(rec.hash), rec.data);
  assert.deepEqual(b.store.getVaultObject(rec.hash), rec.data);
  assert.ok(b.logs.some((l) => l.level === 'warn' && l.msg.includes('node-liar') && l.msg.includes('do not match')));
});

test('a peer does not serve an object that is not anchored there', async () => {
  const net = new FakeNetwork();
  const a = makeVault(net, 'a');
  const b = makeVault(net, 'b');
  const rec = object('upload awaiting its anchor');
  a.vault.put(rec.hash, rec.data, UPLOADER);
  b.vault.onCommitted([rec.hash], []);
  assert.equal(await b.vault.getVerified(rec.hash), undefined);
  const answer = net.sent.find((s) => s.from === 'a' && s.msg.type === 'vault-data');
  assert.equal(answer?.msg.data, null);
});

test('a peer whose own copy is corrupt answers null and drops it', async () => {
  const net = new FakeNetwork();
  const a = makeVault(net, 'a');
  const b = makeVault(net, 'b');
  const rec = object('record ciphertext');
  a.store.putVaultObject(rec.hash, utf8('rotten'), 0);
  a.store.markVaultAnchored([rec.hash]);
  b.vault.onCommitted([rec.hash], []);
  assert.equal(await b.vault.getVerified(rec.hash), undefined);
  assert.equal(a.store.vaultObjectStatus(rec.hash), 'wanted');
});

test('erased objects are deleted, stop being wanted, and an answer arriving after the erasure is not stored', async () => {
  const net = new FakeNetwork();
  const a = makeVault(net, 'a');
  const b = makeVault(net, 'b');
  const held = object('held ciphertext');
  const wanted = object('wanted envelope');
  const same = object('anchored and erased in one block');
  b.vault.put(held.hash, held.data, UPLOADER);
  b.vault.put(same.hash, same.data, UPLOADER);
  b.vault.onCommitted([held.hash, wanted.hash], []);
  a.vault.put(wanted.hash, wanted.data, UPLOADER);
  a.vault.onCommitted([wanted.hash], []);

  const reading = b.vault.getVerified(wanted.hash);
  b.vault.onCommitted([same.hash], [held.hash, wanted.hash, same.hash]);
  assert.equal(await reading, undefined);
  for (const h of [held, wanted, same]) assert.equal(b.store.vaultObjectStatus(h.hash), undefined, 'gone');
  assert.deepEqual(b.store.wantedVaultObjects(10), []);
});

test('unanchored uploads expire after the TTL; anchored objects stay', () => {
  const { vault, store, clock } = makeVault(new FakeNetwork(), 'a', { unanchoredTtlMs: 10_000 });
  const orphan = object('anchor never committed');
  const anchored = object('anchored');
  vault.put(orphan.hash, orphan.data, UPLOADER);
  vault.put(anchored.hash, anchored.data, UPLOADER);
  vault.onCommitted([anchored.hash], []);
  clock.now += 10_000;
  assert.equal(vault.expireUnanchored(), 0);
  clock.now += 1;
  assert.equal(vault.expireUnanchored(), 1);
  assert.equal(store.hasVaultObject(orphan.hash), false);
  assert.equal(store.hasVaultObject(anchored.hash), true);
});

test('stop gives up on a fetch still waiting for a silent peer', async () => {
  const net = new FakeNetwork();
  net.attach('silent', () => {});
  const b = makeVault(net, 'b', { fetchTimeoutMs: 60_000 });
  const rec = object('record ciphertext');
  b.vault.onCommitted([rec.hash], []);
  const reading = b.vault.getVerified(rec.hash);
  await eventually(() => net.sent.length === 1, 'the request to go out');
  b.vault.stop();
  assert.equal(await reading, undefined);
});

test('options that are not positive integers are refused', () => {
  const deps = { store: new MemoryStore(), now: () => 0, log: () => {}, peers: new FakeNetwork().peersFor('a') };
  assert.throws(() => new Vault({ maxObjectBytes: 0, unanchoredTtlMs: 1 }, deps), RangeError);
  assert.throws(() => new Vault({ maxObjectBytes: 1, unanchoredTtlMs: 1, fetchTimeoutMs: 1.5 }, deps), RangeError);
});

test('pending uploads are bounded per identity, by bytes and by count; another identity has its own quota', () => {
  const store = new MemoryStore();
  const vault = new Vault(
    { maxObjectBytes: 1024, unanchoredTtlMs: 600_000, quotas: { pendingBytesPerIdentity: 100, pendingObjectsPerIdentity: 3 } },
    { store, now: () => 1, log: () => {}, peers: new FakeNetwork().peersFor('a') },
  );
  const sized = (n: number, tag: string) => object(tag.padEnd(n, '.'));
  vault.put(sized(60, 'a').hash, sized(60, 'a').data, UPLOADER);
  assert.throws(() => vault.put(sized(41, 'b').hash, sized(41, 'b').data, UPLOADER), apiErrorWith('QUOTA_EXCEEDED', 429));
  vault.put(sized(40, 'c').hash, sized(40, 'c').data, UPLOADER);
  // A repeat of a held object costs nothing.
  assert.deepEqual(vault.put(sized(60, 'a').hash, sized(60, 'a').data, UPLOADER), { created: false });
  const other = 'cd'.repeat(20);
  vault.put(sized(90, 'd').hash, sized(90, 'd').data, other);
  // Anchoring frees the pending quota.
  vault.onCommitted([sized(60, 'a').hash], []);
  vault.put(sized(41, 'b').hash, sized(41, 'b').data, UPLOADER);
  vault.put(object('e').hash, object('e').data, UPLOADER);
  assert.throws(() => vault.put(object('f').hash, object('f').data, UPLOADER), apiErrorWith('QUOTA_EXCEEDED', 429));
  assert.deepEqual(store.vaultUsage(UPLOADER), { pendingObjects: 3, pendingBytes: 82, anchoredBytes: 60 });
});

test('checkNamed admits only held objects the signer uploaded, of the declared size, with real key envelopes, within the anchored quota', () => {
  const store = new MemoryStore();
  const vault = new Vault(
    { maxObjectBytes: 4096, unanchoredTtlMs: 600_000, quotas: { anchoredBytesPerIdentity: 2000 } },
    { store, now: () => 1, log: () => {}, peers: new FakeNetwork().peersFor('a') },
  );
  const content = object('c'.repeat(1000));
  const envelope = keyEnvelope();
  vault.put(content.hash, content.data, UPLOADER);
  vault.put(envelope.hash, envelope.data, UPLOADER);
  const named = { content: { hash: content.hash, size: 1000 }, envelopes: [envelope.hash] };
  vault.checkNamed(UPLOADER, named);
  assert.throws(() => vault.checkNamed('cd'.repeat(20), named), apiErrorWith('OBJECT_NOT_OWNED', 403));
  assert.throws(() => vault.checkNamed(undefined, named), apiErrorWith('OBJECT_NOT_OWNED', 403));
  assert.throws(
    () => vault.checkNamed(UPLOADER, { ...named, content: { hash: content.hash, size: 999 } }),
    apiErrorWith('SIZE_MISMATCH', 400),
  );
  const unknown = object('never uploaded').hash;
  assert.throws(() => vault.checkNamed(UPLOADER, { envelopes: [unknown] }), apiErrorWith('OBJECT_NOT_HELD', 409));
  const big = object('x'.repeat(KEY_ENVELOPE_BYTES + 1));
  vault.put(big.hash, big.data, UPLOADER);
  assert.throws(() => vault.checkNamed(UPLOADER, { envelopes: [big.hash] }), apiErrorWith('ENVELOPE_TOO_LARGE', 413));
  const lookalike = object('y'.repeat(KEY_ENVELOPE_BYTES));
  vault.put(lookalike.hash, lookalike.data, UPLOADER);
  assert.throws(() => vault.checkNamed(UPLOADER, { envelopes: [lookalike.hash] }), apiErrorWith('NOT_AN_ENVELOPE', 400));
  // Anchored bytes count against the quota: 1000 + 260 anchored, then 1000 more is too much.
  vault.onCommitted([content.hash, envelope.hash], []);
  const next = object('n'.repeat(1000));
  vault.put(next.hash, next.data, UPLOADER);
  assert.throws(
    () => vault.checkNamed(UPLOADER, { content: { hash: next.hash, size: 1000 }, envelopes: [] }),
    apiErrorWith('QUOTA_EXCEEDED', 429),
  );
  // Erasure deletes the objects and so frees the quota.
  vault.onCommitted([], [content.hash]);
  vault.checkNamed(UPLOADER, { content: { hash: next.hash, size: 1000 }, envelopes: [] });
});

/** A real key envelope's vault object: the canonical JSON of a 32-byte key sealed to a fresh key. */
function keyEnvelope(): { hash: string; data: Uint8Array } {
  const sealed = sealToPublicKey(generateEncryptionKeyPair().publicKey, new Uint8Array(32).fill(7));
  const sorted = { alg: sealed.alg, ct: sealed.ct, epk: sealed.epk, iv: sealed.iv, tag: sealed.tag, v: sealed.v };
  const data = utf8(JSON.stringify(sorted));
  return { hash: sha256Hex(data), data };
}

test('a fetched object whose size is not the one the chain names is not kept, and no longer wanted', async () => {
  const net = new FakeNetwork();
  const a = makeVault(net, 'a');
  const right = object('right size');
  const wrong = object('a four-MiB "envelope", say');
  const b = makeVault(net, 'b', { sizeOnChain: (h) => (h === right.hash ? right.data.length : 260) });
  for (const o of [right, wrong]) {
    a.vault.put(o.hash, o.data, UPLOADER);
    a.vault.onCommitted([o.hash], []);
  }
  b.vault.onCommitted([right.hash, wrong.hash], []);
  assert.equal(await b.vault.syncWanted(), 1);
  assert.equal(b.store.vaultObjectStatus(right.hash), 'anchored');
  assert.equal(b.store.vaultObjectStatus(wrong.hash), undefined);
  assert.ok(b.logs.some((l) => l.level === 'warn' && l.msg.includes('but the chain says 260')));
});
