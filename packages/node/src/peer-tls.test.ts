// Issue 15 item 4 on real nodes: `init --tls` certificates, mutual TLS between peers pinned by
// the peer list, and the HTTPS API served with init's certificate. Each attack is played by
// the test holding a real validator's node key, so only the TLS layer stands in its way.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';
import { generateKeyBundle, signEd25519 } from '@medledger/crypto';
import { WebSocket } from 'ws';
import { initNetwork, loadHome, type NodeHome } from './home.js';
import { addNodeCertificates, TLS_FILES } from './init-tls.js';
import { MedLedgerNode } from './node.js';
import { certificatePin, makeNodeCertificate } from './node-cert.js';
import { handshakeBytes, P2P } from './p2p.js';
import { freePorts, TEST_PASSPHRASE, waitFor } from './testing/harness.js';

const CHAIN = 'peer-tls';
let dir: string;
let count = 0;
const running: MedLedgerNode[] = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'medledger-peer-tls-'));
});
after(async () => {
  for (const n of running) await n.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A network of `n` validators with init's certificates; returns the loaded homes. */
async function tlsNetwork(n: number): Promise<{ out: string; homes: NodeHome[] }> {
  const out = join(dir, `net${count++}`);
  const { homes } = initNetwork({ validators: n, out, chainId: CHAIN, passphrase: TEST_PASSPHRASE, ports: await freePorts(n) });
  await addNodeCertificates(out, homes);
  return { out, homes: homes.map((h) => loadHome(h, TEST_PASSPHRASE)) };
}

async function start(home: NodeHome, log: string[] = []): Promise<MedLedgerNode> {
  const node = new MedLedgerNode(home, { logger: (_level, m) => log.push(m) });
  await node.start();
  running.push(node);
  return node;
}

const tlsFiles = (home: NodeHome) => ({
  cert: readFileSync(join(home.dir, TLS_FILES.cert)),
  key: readFileSync(join(home.dir, TLS_FILES.key)),
});

/**
 * Open a wss:// link to `target` presenting `tls` (or no certificate) and, if the link opens,
 * run the peer handshake as validator `as`. Resolves how far it got: 'refused' (never opened:
 * cut at TLS), 'closed' (opened, then closed by the node), or 'linked'.
 */
function linkAs(target: NodeHome, as: NodeHome, tls?: { cert: Buffer | string; key: Buffer | string }): Promise<string> {
  const ws = new WebSocket(`wss://127.0.0.1:${target.config.p2p.port}`, { rejectUnauthorized: false, ...tls });
  return new Promise((resolve) => {
    let opened = false;
    ws.on('error', () => {});
    ws.once('close', () => resolve(opened ? 'closed' : 'refused'));
    ws.once('open', () => {
      opened = true;
    });
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as Record<string, unknown>;
      if (msg.type !== 'hello') return;
      const key = as.key.signing;
      ws.send(JSON.stringify({ type: 'hello', chainId: CHAIN, publicKey: key.publicKey, challenge: 'ab'.repeat(32) }));
      ws.send(
        JSON.stringify({
          type: 'auth',
          sig: signEd25519(key.privateKey, handshakeBytes(CHAIN, msg.challenge as string, key.publicKey, target.key.signing.publicKey)),
        }),
      );
      // The node answers a good auth with nothing; still open after a second means linked.
      setTimeout(() => {
        if (ws.readyState === WebSocket.OPEN) {
          resolve('linked');
          ws.terminate();
        }
      }, 1_000);
    });
  });
}

test('init --tls writes a certificate and key per home, 0600, pinned in every other home as wss://', async () => {
  const { out, homes } = await tlsNetwork(3);
  for (const home of homes) {
    for (const file of [TLS_FILES.cert, TLS_FILES.key]) assert.equal(statSync(join(home.dir, file)).mode & 0o777, 0o600, file);
    assert.equal(statSync(join(home.dir, 'tls')).mode & 0o777, 0o700);
    assert.deepEqual(home.config.p2p.tls, TLS_FILES);
    assert.deepEqual(home.config.tls, TLS_FILES);
    const pin = certificatePin(readFileSync(join(home.dir, TLS_FILES.cert)));
    assert.equal(certificatePin(readFileSync(join(out, 'tls', `${home.config.name}.crt`))), pin);
    for (const other of homes.filter((h) => h !== home)) {
      const entry = other.config.peers.find((p) => p.publicKey === home.key.signing.publicKey);
      assert.equal(entry?.tlsPin, pin);
      assert.match(entry?.url ?? '', /^wss:\/\/127\.0\.0\.1:\d+$/);
    }
  }
  assert.equal(new Set(homes.map((h) => h.config.peers[0]?.tlsPin)).size > 1, true, 'each node has its own key');
});

test('validators with init certificates link over mutual TLS, commit blocks, and serve the API over HTTPS', async () => {
  const { out, homes } = await tlsNetwork(2);
  const [a, b] = await Promise.all(homes.map((h) => start(h)));
  await waitFor(
    () => ((a as MedLedgerNode).chain.height >= 2 && (b as MedLedgerNode).chain.height >= 2 ? true : undefined),
    'blocks over TLS',
    30_000,
  );
  const home = homes[0] as NodeHome;
  assert.match((a as MedLedgerNode).url, /^https:\/\//);
  // A client that trusts the public copy of the node's certificate (NODE_EXTRA_CA_CERTS in the CLI) checks it by host name.
  const status = await new Promise<{ code: number; body: string }>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: home.config.api.port, path: '/v1/status', ca: readFileSync(join(out, 'tls', `${home.config.name}.crt`)) },
      (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
  assert.equal(status.code, 200);
  assert.equal(JSON.parse(status.body).chainId, CHAIN);
});

test('peer without a client certificate is refused at the TLS layer', async () => {
  const { homes } = await tlsNetwork(2);
  const log: string[] = [];
  await start(homes[0] as NodeHome, log);
  assert.equal(await linkAs(homes[0] as NodeHome, homes[1] as NodeHome), 'refused');
  assert.ok(
    log.some((m) => m.includes('at TLS: no client certificate')),
    log.join('\n'),
  );
});

test('peer holding a validator node key but a certificate key not in the peer list is refused at the TLS layer', async () => {
  const { homes } = await tlsNetwork(2);
  const log: string[] = [];
  await start(homes[0] as NodeHome, log);
  const forged = await makeNodeCertificate({ name: 'validator-1', hosts: ['127.0.0.1'] });
  assert.equal(await linkAs(homes[0] as NodeHome, homes[1] as NodeHome, forged), 'refused');
  assert.ok(
    log.some((m) => m.includes('at TLS: certificate key not in the peer list')),
    log.join('\n'),
  );
  // Control: the same node key with its own pinned certificate links.
  assert.equal(await linkAs(homes[0] as NodeHome, homes[1] as NodeHome, tlsFiles(homes[1] as NodeHome)), 'linked');
});

test("validator proving its node key over another validator's pinned certificate is refused", async () => {
  const { homes } = await tlsNetwork(3);
  const log: string[] = [];
  await start(homes[0] as NodeHome, log);
  // Validator 1's node key over validator 2's TLS key: each is pinned, but not together.
  assert.equal(await linkAs(homes[0] as NodeHome, homes[1] as NodeHome, tlsFiles(homes[2] as NodeHome)), 'closed');
  assert.ok(
    log.some((m) => m.includes('over a TLS link pinned to another peer')),
    log.join('\n'),
  );
});

test('dialer refuses a server at the peer address whose certificate key is not the pinned one', async () => {
  // Two keys in dialing order: the node with the smaller key dials.
  const keys = [generateKeyBundle(), generateKeyBundle()].sort((x, y) => (x.signing.publicKey < y.signing.publicKey ? -1 : 1));
  const [dialer, impostor] = keys as [ReturnType<typeof generateKeyBundle>, ReturnType<typeof generateKeyBundle>];
  const own = await makeNodeCertificate({ name: 'dialer', hosts: ['127.0.0.1'] });
  const pinned = await makeNodeCertificate({ name: 'real-peer', hosts: ['127.0.0.1'] });
  const other = await makeNodeCertificate({ name: 'impostor', hosts: ['127.0.0.1'] });
  let reachedServer = 0;
  const server = createTlsServer({ cert: other.cert, key: other.key }, (s) => s.on('error', () => {}));
  server.on('connection', () => {
    reachedServer++;
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const log: string[] = [];
  const p2p = new P2P(
    {
      chainId: CHAIN,
      key: dialer.signing,
      listen: { host: '127.0.0.1', port: 0 },
      peers: [{ name: 'validator-1', publicKey: impostor.signing.publicKey, url: `wss://127.0.0.1:${port}`, tlsPin: pinned.pin }],
      allowed: new Set([dialer.signing.publicKey, impostor.signing.publicKey]),
      log: (_l, m) => log.push(m),
      tls: { cert: own.cert, key: own.key },
    },
    { onMessage: () => {}, onConnect: () => {} },
  );
  try {
    await p2p.start();
    await waitFor(
      () => (log.some((m) => m.includes('refused peer link to validator-1 at TLS')) ? true : undefined),
      'the dialer to refuse',
    );
    assert.equal(p2p.connectedPeers().length, 0);
    assert.ok(reachedServer >= 1, 'the dialer did reach the impostor');
  } finally {
    p2p.stop();
    server.close();
  }
});

test('a TLS node refuses a ws:// peer url or a peer without a pin instead of downgrading', async () => {
  const { homes } = await tlsNetwork(2);
  const home = homes[0] as NodeHome;
  const peer = home.config.peers[0] as NodeHome['config']['peers'][number];
  const p2pWith = (peers: NodeHome['config']['peers']) =>
    new P2P(
      {
        chainId: CHAIN,
        key: home.key.signing,
        listen: { host: '127.0.0.1', port: 0 },
        peers,
        allowed: new Set([home.key.signing.publicKey, peer.publicKey]),
        log: () => {},
        tls: tlsFiles(home),
      },
      { onMessage: () => {}, onConnect: () => {} },
    );
  assert.throws(() => p2pWith([{ ...peer, url: (peer.url as string).replace('wss://', 'ws://') }]), /every peer url must be wss:\/\//);
  const { tlsPin: _dropped, ...unpinned } = peer;
  assert.throws(() => p2pWith([unpinned]), /needs tlsPin/);
  assert.doesNotThrow(() => p2pWith([peer]));
});

test('a socket that never finishes its TLS handshake is closed after the handshake timeout, not kept for minutes', async () => {
  const { homes } = await tlsNetwork(2);
  await start(homes[0] as NodeHome);
  const started = Date.now();
  const socket = connectTcp((homes[0] as NodeHome).config.p2p.port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  assert.ok(Date.now() - started < 15_000, `closed after ${Date.now() - started} ms`);
});

test('a home whose TLS key other users can read is refused, like its keystores', async () => {
  const { homes } = await tlsNetwork(1);
  const home = homes[0] as NodeHome;
  chmodSync(join(home.dir, TLS_FILES.key), 0o644);
  assert.throws(() => loadHome(home.dir, TEST_PASSPHRASE), /tls\/node\.key has mode 0644/);
  chmodSync(join(home.dir, TLS_FILES.key), 0o600);
  chmodSync(join(home.dir, 'tls'), 0o755);
  assert.throws(() => loadHome(home.dir, TEST_PASSPHRASE), /tls has mode 0755/);
});
