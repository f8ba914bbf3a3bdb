// `medledger init` encrypts every keystore it writes with MEDLEDGER_PASSPHRASE, and a node
// started from the home needs the same passphrase.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { decryptKeystore } from '@medledger/crypto';
import type { Genesis } from '@medledger/ledger';
import { readOrgKey } from '@medledger/node';
import { TEST_PASSPHRASE } from '@medledger/node/testing';
import { runCli } from './testing/cli.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-init-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('init writes node.key and org.key as encrypted keystores of the genesis keys', async () => {
  const run = await runCli(['init', '--validators', '2', '--out', join(dir, 'net'), '--json']);
  assert.equal(run.code, 0, run.stderr);
  const { homes } = JSON.parse(run.stdout) as { homes: string[] };
  const genesis = JSON.parse(readFileSync(join(dir, 'net', 'genesis.json'), 'utf8')) as Genesis;
  homes.forEach((home, i) => {
    for (const name of ['node.key', 'org.key']) {
      const text = readFileSync(join(home, name), 'utf8');
      assert.equal(JSON.parse(text).format, 'medledger-keystore');
      assert.ok(!text.includes('privateKey'), `${name} holds no private key in the clear`);
    }
    const nodeKeys = decryptKeystore(JSON.parse(readFileSync(join(home, 'node.key'), 'utf8')), TEST_PASSPHRASE);
    assert.equal(nodeKeys.signing.publicKey, genesis.validators[i]?.publicKey);
    assert.equal(readOrgKey(home).signing.publicKey, genesis.organizations[i]?.adminKey);
  });
  assert.throws(() => readOrgKey(homes[0] as string, { passphrase: 'wrong' }), /wrong passphrase/);

  // A node from this home does not start with another passphrase, or with none (no terminal).
  const wrong = await runCli(['node', '--home', homes[0] as string], { env: { MEDLEDGER_PASSPHRASE: 'wrong' } });
  assert.equal(wrong.code, 3);
  assert.match(wrong.stderr, /wrong passphrase/);
  const none = await runCli(['node', '--home', homes[0] as string], { env: { MEDLEDGER_PASSPHRASE: '' } });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /MEDLEDGER_PASSPHRASE/);
});

test('init --hosts off loopback turns mutual TLS on by default; --no-tls keeps plain links; loopback stays plain', async () => {
  const config = (home: string) => JSON.parse(readFileSync(join(home, 'config.json'), 'utf8'));
  const hosts = ['192.0.2.10', '192.0.2.11'];
  const tls = await runCli(['init', '--validators', '2', '--out', join(dir, 'hosts-tls'), '--hosts', hosts.join(','), '--json']);
  assert.equal(tls.code, 0, tls.stderr);
  const made = JSON.parse(tls.stdout) as { homes: string[]; tls: Array<{ pin: string; cert: string }> };
  assert.equal(made.tls.length, 2);
  made.homes.forEach((home, i) => {
    const c = config(home);
    assert.equal(c.api.host, hosts[i]);
    assert.equal(c.p2p.host, hosts[i]);
    assert.deepEqual(c.tls, { cert: 'tls/node.crt', key: 'tls/node.key' });
    assert.deepEqual(c.p2p.tls, c.tls);
    const other = 1 - i;
    assert.deepEqual(
      c.peers.map((p: { url: string; tlsPin: string }) => [p.url, p.tlsPin]),
      [[`wss://${hosts[other]}:${26651 + 2 * other}`, made.tls[other]?.pin]],
    );
  });

  const plain = await runCli([
    'init',
    '--validators',
    '2',
    '--out',
    join(dir, 'hosts-plain'),
    '--hosts',
    hosts.join(','),
    '--no-tls',
    '--json',
  ]);
  assert.equal(plain.code, 0, plain.stderr);
  const plainHome = (JSON.parse(plain.stdout) as { homes: string[] }).homes[0] as string;
  assert.equal(config(plainHome).tls, undefined);
  assert.match(config(plainHome).peers[0].url, /^ws:\/\/192\.0\.2\.11:/);

  const loopback = await runCli(['init', '--validators', '2', '--out', join(dir, 'loopback'), '--json']);
  const loopHome = (JSON.parse(loopback.stdout) as { homes: string[] }).homes[0] as string;
  assert.equal(config(loopHome).p2p.tls, undefined);
  assert.equal(config(loopHome).api.host, '127.0.0.1');

  const wrongCount = await runCli(['init', '--validators', '3', '--out', join(dir, 'bad'), '--hosts', hosts.join(',')]);
  assert.notEqual(wrongCount.code, 0);
  assert.match(wrongCount.stderr, /--hosts names 2 hosts for 3 validators/);
});
