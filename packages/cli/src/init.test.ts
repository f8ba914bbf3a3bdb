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
