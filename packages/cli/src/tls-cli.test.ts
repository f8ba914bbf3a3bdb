// `medledger tls cert` and `tls pin` as an operator uses them to put an existing plain network
// (or a later member's node) on mutual TLS: certificates per home, pins exchanged by hand,
// then the nodes link over TLS and commit.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { initNetwork, loadHome, MedLedgerNode, type NodeConfig } from '@medledger/node';
import { freePorts, TEST_PASSPHRASE, waitFor } from '@medledger/node/testing';
import { runCli } from './testing/cli.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;
const dir = mkdtempSync(join(tmpdir(), 'medledger-tls-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('tls cert puts a plain home on HTTPS and mutual TLS; with pins exchanged via tls pin the nodes link and commit', async () => {
  const { homes } = initNetwork({ validators: 2, out: join(dir, 'net'), chainId: 'tls-cli', ports: await freePorts(2) });
  const pins: string[] = [];
  for (const home of homes) {
    const made = await runCli(['tls', 'cert', '--home', home, '--json']);
    assert.equal(made.code, 0, made.stderr);
    const out = JSON.parse(made.stdout) as { pin: string; cert: string; peersToPin: string[] };
    assert.equal(out.peersToPin.length, 1, 'the other validator still has to be pinned');
    for (const f of ['tls/node.crt', 'tls/node.key']) assert.equal(statSync(join(home, f)).mode & 0o777, 0o600);
    const pin = await runCli(['tls', 'pin', out.cert]);
    assert.equal(pin.stdout.trim(), out.pin);
    pins.push(out.pin);
    const again = await runCli(['tls', 'cert', '--home', home]);
    assert.equal(again.code, 1, 'an existing TLS key is never replaced');
    assert.match(again.stderr, /not replacing a TLS key/);
  }
  // Until the peers are pinned the node refuses to start rather than link in the clear.
  assert.throws(() => new MedLedgerNode(loadHome(homes[0] as string), { logger: () => {} }), /needs tlsPin/);
  const keys = homes.map((h) => loadHome(h).key.signing.publicKey);
  for (const home of homes) {
    const file = join(home, 'config.json');
    const config = JSON.parse(readFileSync(file, 'utf8')) as NodeConfig;
    config.peers = config.peers.map((p) => ({
      ...p,
      url: (p.url as string).replace('ws://', 'wss://'),
      tlsPin: pins[keys.indexOf(p.publicKey)] as string,
    }));
    writeFileSync(file, JSON.stringify(config));
  }
  const nodes = homes.map((h) => new MedLedgerNode(loadHome(h), { logger: () => {} }));
  try {
    const urls = await Promise.all(nodes.map((n) => n.start()));
    assert.ok(urls.every((u) => u.startsWith('https://')));
    await waitFor(() => (nodes.every((n) => n.chain.height >= 2 && n.p2p.tls) ? true : undefined), 'two blocks over mutual TLS', 30_000);
  } finally {
    for (const n of nodes) await n.stop();
  }
});
