// `medledger product register --org-key FILE --gtin GTIN --name NAME [--ndc NDC]` exactly as
// issue 14 writes it, against a real node: a product without strength, form and RxNorm is
// registered (with and without an NDC), shows those details as null, and its owner fills them
// in later with `medledger product update`; anyone else is refused.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { getProduct, MedLedgerClient } from '@medledger/client';
import { type OrgKeyFile, readOrgKey } from '@medledger/node';
import { TEST_PASSPHRASE } from '@medledger/node/testing';
import { gtinWithCheckDigit as gtin } from './demo-medicines.js';
import { runCli } from './testing/cli.js';
import { type OrgNetwork, startOrgNetwork } from './testing/org-network.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

let net: OrgNetwork;
before(async () => {
  net = await startOrgNetwork('product-cli', [
    { name: 'Acme Pharma', kind: 'manufacturer' },
    { name: 'Big Wholesale', kind: 'distributor' },
  ]);
});
after(() => net.stop());

const cli = async (...args: string[]) => {
  const run = await runCli([...args, '--url', net.url, '--genesis', join(net.dir, 'genesis.json')]);
  return { ...run, json: () => JSON.parse(run.stdout) };
};

test('product register with only --gtin and --name (and with --ndc), then product update by the owner only', async () => {
  const [maker, wholesaler] = net.orgs as [OrgKeyFile, OrgKeyFile];
  const orgKey = (o: OrgKeyFile) => join(net.home, o.file);
  const reader = new MedLedgerClient({ url: net.url, keys: readOrgKey(net.home, { file: maker.file }), genesis: net.trusted });
  const [bare, withNdc] = [gtin('0003600029145'), gtin('0001234560001')];

  const registered = await cli('product', 'register', '--org-key', orgKey(maker), '--gtin', bare, '--name', 'Amoxicillin', '--json');
  assert.equal(registered.code, 0, registered.stderr);
  assert.ok(Number(registered.json().height) > 0);
  assert.match(registered.json().txHash, /^[0-9a-f]{64}$/);
  const p1 = await getProduct(reader, bare);
  assert.deepEqual([p1.name, p1.ndc, p1.strength, p1.form, p1.rxnorm], ['Amoxicillin', null, null, null, null]);

  const second = await cli(
    'product',
    'register',
    '--org-key',
    orgKey(maker),
    '--gtin',
    withNdc,
    '--name',
    'Aspirin',
    '--ndc',
    '30001-003-01',
    '--json',
  );
  assert.equal(second.code, 0, second.stderr);
  const p2 = await getProduct(reader, withNdc);
  assert.deepEqual([p2.name, p2.ndc, p2.strength, p2.rxnorm], ['Aspirin', '30001-003-01', null, null]);

  // update: at least one detail; only the GTIN's owner.
  const nothing = await cli('product', 'update', '--org-key', orgKey(maker), '--gtin', bare);
  assert.equal(nothing.code, 2, nothing.stderr);
  assert.match(nothing.stderr, /at least one of --ndc, --strength, --form, --rxnorm/);
  const stranger = await cli('product', 'update', '--org-key', orgKey(wholesaler), '--gtin', bare, '--rxnorm', '308182');
  assert.notEqual(stranger.code, 0);
  assert.match(stranger.stderr, /UNAUTHORIZED|manufacturer/);
  const updated = await cli(
    'product',
    'update',
    '--org-key',
    orgKey(maker),
    '--gtin',
    bare,
    '--rxnorm',
    '308182',
    '--strength',
    '500 mg',
    '--form',
    'capsule',
    '--json',
  );
  assert.equal(updated.code, 0, updated.stderr);
  assert.ok(Number(updated.json().height) > Number(registered.json().height));
  const p3 = await getProduct(reader, bare);
  assert.deepEqual([p3.strength, p3.form, p3.rxnorm, p3.ndc], ['500 mg', 'capsule', '308182', null]);
  // A detail once given is fixed: a different strength is a different product with its own GTIN.
  const changed = await cli('product', 'update', '--org-key', orgKey(maker), '--gtin', bare, '--strength', '250 mg', '--json');
  assert.notEqual(changed.code, 0);
  assert.match(changed.stderr, /PRODUCT_DETAIL_FIXED/);
  assert.deepEqual(
    (p3.updates as Array<{ by: string; changes: unknown[] }>).map((u) => [u.by, u.changes]),
    [
      [
        maker.id,
        [
          { field: 'strength', from: null, to: '500 mg' },
          { field: 'form', from: null, to: 'capsule' },
          { field: 'rxnorm', from: null, to: '308182' },
        ],
      ],
    ],
  );
});
