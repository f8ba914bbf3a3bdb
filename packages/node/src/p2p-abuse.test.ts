// Issue 12 item 9 on a real node over raw WebSockets: what an unauthenticated socket, or a
// validator peer gone bad, can make the node hold, parse or chase.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateSigningKeyPair, signEd25519, toHex } from '@medledger/crypto';
import { signVote } from '@medledger/ledger';
import { WebSocket } from 'ws';
import { MAX_FUTURE_PER_PEER } from './future-buffer.js';
import { initNetwork, loadHome, type NodeConfig, type NodeHome } from './home.js';
import { MedLedgerNode } from './node.js';
import { handshakeBytes, MAX_PENDING_HANDSHAKES_PER_ADDRESS, MAX_UNAUTHENTICATED_BYTES } from './p2p.js';
import { freePorts, TEST_PASSPHRASE, waitFor } from './testing/harness.js';

const CHAIN = 'p2p-abuse';
let dir: string;
let homes: string[];
let count = 0;
const running: MedLedgerNode[] = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'medledger-p2p-abuse-'));
});
after(async () => {
  for (const n of running) await n.stop();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Validator 0 of a two-validator network, running alone (so it stays at height 0), with
 * its log captured; the test speaks for validator 1, whose key it holds.
 */
async function startTarget(edit: (c: NodeConfig) => void = () => {}) {
  ({ homes } = initNetwork({
    validators: 2,
    out: join(dir, `net${count++}`),
    chainId: CHAIN,
    passphrase: TEST_PASSPHRASE,
    ports: await freePorts(2),
  }));
  const home = loadHome(homes[0] as string, TEST_PASSPHRASE);
  home.config.consensus.heartbeatMs = 0;
  // Validator 1 is played by the test: the node's dials to it go nowhere.
  home.config.peers = home.config.peers.map((p) => ({ ...p, url: 'ws://127.0.0.1:9' }));
  edit(home.config);
  const log: string[] = [];
  const node = new MedLedgerNode(home, { logger: (_level, m) => log.push(m) });
  await node.start();
  running.push(node);
  const peer = loadHome(homes[1] as string, TEST_PASSPHRASE);
  return { node, home, peer, log };
}

/** `promise`, or a failure naming `what` after `ms`. */
function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms).unref()),
  ]);
}

const url = (home: NodeHome) => `ws://127.0.0.1:${home.config.p2p.port}`;

/** Complete the handshake as validator `as`; resolves with the open socket and every message it receives after. */
function connectAs(
  target: NodeHome,
  as: NodeHome,
): Promise<{ ws: WebSocket; inbox: Array<Record<string, unknown>>; closed: Promise<void> }> {
  const ws = new WebSocket(url(target));
  const inbox: Array<Record<string, unknown>> = [];
  const closed = new Promise<void>((r) => ws.once('close', () => r()));
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as Record<string, unknown>;
      if (msg.type !== 'hello') {
        inbox.push(msg);
        return;
      }
      const key = as.key.signing;
      ws.send(JSON.stringify({ type: 'hello', chainId: CHAIN, publicKey: key.publicKey, challenge: 'ab'.repeat(32) }));
      ws.send(
        JSON.stringify({
          type: 'auth',
          sig: signEd25519(key.privateKey, handshakeBytes(CHAIN, msg.challenge as string, key.publicKey, target.key.signing.publicKey)),
        }),
      );
      setTimeout(() => resolve({ ws, inbox, closed }), 200);
    });
  });
}

const vote = (as: NodeHome, height: number, round: number, blockHash: string | null = null) => ({
  type: 'vote',
  vote: {
    type: 'prevote',
    height,
    round,
    blockHash,
    validator: as.key.signing.publicKey,
    sig: signVote(CHAIN, { type: 'prevote', height, round, blockHash }, as.key.signing.privateKey),
  },
});

test('oversized pre-handshake frame: a 1 MiB frame before authenticating is closed without being parsed', async () => {
  const { home, log } = await startTarget();
  const ws = new WebSocket(url(home));
  await new Promise((r) => ws.once('open', r));
  const closed = new Promise<void>((r) => ws.once('close', () => r()));
  // Not JSON: if it were parsed, the log would say so.
  ws.send('x'.repeat(1024 * 1024));
  await within(closed, 'the socket to be closed');
  assert.ok(
    log.some(
      (m) => m.includes(`sent over ${MAX_UNAUTHENTICATED_BYTES} bytes before authenticating`) || m.includes('handshake message over'),
    ),
    log.join('\n'),
  );
  assert.ok(!log.some((m) => m.includes('invalid JSON')), 'the frame was never parsed');
});

test('oversized handshake message: a 5 KiB hello is refused unread', async () => {
  const { home, log } = await startTarget();
  const ws = new WebSocket(url(home));
  await new Promise((r) => ws.once('open', r));
  const closed = new Promise<void>((r) => ws.once('close', () => r()));
  ws.send(JSON.stringify({ type: 'hello', padding: 'x'.repeat(5 * 1024) }));
  await within(closed, 'the socket to be closed');
  assert.ok(
    log.some((m) => m.includes('handshake message over 4096 bytes')),
    log.join('\n'),
  );
});

test('many handshakes capped: sockets that never authenticate beyond the per-address cap are closed at once', async () => {
  const { node, home, peer } = await startTarget();
  const sockets = Array.from({ length: 30 }, () => new WebSocket(url(home)));
  let closedEarly = 0;
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 2_000);
          ws.once('close', () => {
            closedEarly++;
            clearTimeout(t);
            resolve();
          });
          ws.once('error', () => {});
        }),
    ),
  );
  // The handshake timeout is 5 s: within 2 s only the cap can have closed them.
  assert.ok(closedEarly >= 30 - MAX_PENDING_HANDSHAKES_PER_ADDRESS, `closed early: ${closedEarly}`);
  assert.ok(node.p2p.pendingHandshakeCount() <= MAX_PENDING_HANDSHAKES_PER_ADDRESS);
  for (const ws of sockets) ws.terminate();
  await waitFor(() => (node.p2p.pendingHandshakeCount() === 0 ? true : undefined), 'handshake slots to free');
  // The slots are free again: a real validator connects.
  const { ws } = await connectAs(home, peer);
  await waitFor(() => (node.p2p.connectedPeers().includes(peer.key.signing.publicKey) ? true : undefined), 'the validator link');
  ws.terminate();
});

test('future-height flood: badly signed votes are not buffered, and signed ones only up to the per-peer bound', async () => {
  const { node, home, peer } = await startTarget();
  const { ws } = await connectAs(home, peer);
  const next = node.chain.height + 1;
  const me = peer.key.signing.publicKey;
  const forged = vote(peer, next + 1, 0);
  for (let r = 0; r < 3_000; r++)
    ws.send(JSON.stringify({ ...forged, vote: { ...forged.vote, round: r, sig: toHex(new Uint8Array(64).fill(r % 251)) } }));
  // A vote signed by a key outside the validator set is just as unwelcome.
  const stranger = generateSigningKeyPair();
  for (let r = 0; r < 10; r++) {
    const sig = signVote(CHAIN, { type: 'prevote', height: next + 1, round: r, blockHash: null }, stranger.privateKey);
    ws.send(JSON.stringify({ type: 'vote', vote: { ...forged.vote, round: r, validator: stranger.publicKey, sig } }));
  }
  // Messages arrive in order: once this one is held, everything before it was judged.
  ws.send(JSON.stringify(vote(peer, next + 1, 99_999)));
  await waitFor(() => (node.engine.future.size() > 0 ? true : undefined), 'the marker vote');
  assert.equal(node.engine.future.size(), 1, 'not one forged or foreign vote was buffered');

  for (let r = 0; r < MAX_FUTURE_PER_PEER + 500; r++) ws.send(JSON.stringify(vote(peer, next + 1, r)));
  // Far ahead: not kept at all, however well signed.
  for (let r = 0; r < 100; r++) ws.send(JSON.stringify(vote(peer, next + 50, r)));
  ws.send(JSON.stringify({ type: 'status', height: 0 }));
  await waitFor(() => (node.engine.future.size(me) >= MAX_FUTURE_PER_PEER ? true : undefined), 'the buffer to fill');
  await new Promise((r) => setTimeout(r, 1_000));
  assert.equal(node.engine.future.size(me), MAX_FUTURE_PER_PEER, 'the peer holds at most its share');
  assert.equal(node.engine.future.size(), MAX_FUTURE_PER_PEER);
  assert.equal(node.chain.height, 0);
  ws.terminate();
});

test('a lying peer height does not make the node chase it: one bounded request, then the peer is dropped and ignored', async () => {
  const { node, home, peer, log } = await startTarget();
  const first = await connectAs(home, peer);
  const claim = setInterval(() => first.ws.send(JSON.stringify({ type: 'status', height: 1_000_000 })), 20);
  const request = await waitFor(() => first.inbox.find((m) => m.type === 'getBlocks'), 'a block request');
  assert.equal(request.from, 1);
  assert.ok((request.to as number) - (request.from as number) < 50, 'a request is bounded, whatever the claim');
  // The liar has nothing to send.
  first.ws.send(JSON.stringify({ type: 'blocks', blocks: [] }));
  await within(first.closed, 'the liar to be disconnected');
  clearInterval(claim);
  assert.equal(first.inbox.filter((m) => m.type === 'getBlocks').length, 1);
  assert.ok(
    log.some((m) => /refused peer validator-1: claimed a height of 1000000 but did not send blocks 1-/.test(m)),
    log.join('\n'),
  );
  // Reconnected, it is not followed again for a while.
  const second = await connectAs(home, peer);
  for (let i = 0; i < 20; i++) second.ws.send(JSON.stringify({ type: 'status', height: 1_000_000 }));
  await new Promise((r) => setTimeout(r, 1_000));
  assert.equal(second.inbox.filter((m) => m.type === 'getBlocks').length, 0, 'the node does not chase the same lie');
  assert.equal(node.chain.height, 0);
  second.ws.terminate();
});

test('per-peer budget: a validator peer flooding messages is logged and disconnected', async () => {
  const { home, peer, log } = await startTarget((c) => {
    c.peerBudget = { messagesPerSecond: 200, bytesPerSecond: 1024 * 1024 };
  });
  const { ws, closed } = await connectAs(home, peer);
  for (let i = 0; i < 2_000 && ws.readyState === WebSocket.OPEN; i++) ws.send(JSON.stringify({ type: 'status', height: 0 }));
  await within(closed, 'the flooder to be disconnected');
  assert.ok(
    log.some((m) => /disconnecting peer validator-1: over its budget of 200 messages or 1048576 bytes a second/.test(m)),
    log.join('\n'),
  );
});
