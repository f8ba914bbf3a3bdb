// Shares a delegate made outlive the delegation (docs/records.md "Delegates"): the real
// `medledger` binary against a node shows who made each grant (`consent list`), and
// `delegate remove` says how many active shares the removed delegate made, or revokes them
// with --revoke-their-shares — checked on the ledger, not only in the printed text.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MedLedgerClient, TrustedGenesis } from '@medledger/client';
import { encryptKeystore, generateKeyBundle } from '@medledger/crypto';
import { startSoloNode, TEST_PASSPHRASE, type TestNode } from '@medledger/node/testing';
import { type CliRun, runCli } from './testing/cli.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

let net: TestNode;
let work: string;

before(async () => {
  net = await startSoloNode();
  work = mkdtempSync(join(tmpdir(), 'medledger-delegate-shares-'));
});
after(async () => {
  await net.cleanup();
  rmSync(work, { recursive: true, force: true });
});

const cli = (args: string[], genesis = join(net.dir, 'genesis.json')) =>
  runCli([...args, '--url', net.url], { env: { MEDLEDGER_GENESIS: genesis }, timeoutMs: 120_000 });
const json = (run: CliRun) => {
  assert.equal(run.code, 0, `exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  // biome-ignore lint/suspicious/noExplicitAny: each command's JSON output is checked field by field below
  return JSON.parse(run.stdout) as Record<string, any>;
};

/** A registered patient identity with an SDK client and a keystore file for the CLI. */
async function person(name: string) {
  const keys = generateKeyBundle();
  const client = new MedLedgerClient({ url: net.url, keys, genesis: TrustedGenesis.fromDocument(net.node.chain.genesis) });
  await client.registerPatient();
  const file = join(work, `${name}.key`);
  writeFileSync(file, JSON.stringify(encryptKeystore(keys, TEST_PASSPHRASE)), { mode: 0o600 });
  return { id: client.id, client, file };
}

/** `delegate` accepted by `patient`'s invitation, then shares the patient's notes with `to`. */
async function delegateWhoShares(patient: Awaited<ReturnType<typeof person>>, name: string, to: string) {
  const delegate = await person(name);
  await patient.client.setDelegate(delegate.id);
  await delegate.client.acceptDelegation(patient.id);
  const { grantId } = await delegate.client.grant({ patient: patient.id, grantee: to, categories: ['notes'], purpose: 'treatment' });
  return { ...delegate, grantId };
}

const isActive = async (patient: Awaited<ReturnType<typeof person>>, grantId: string) =>
  (await patient.client.grants(patient.id, true)).find((g) => g.id === grantId)?.active;

test('consent list shows who made each grant; delegate remove counts the shares left, or revokes them with --revoke-their-shares', async () => {
  const patient = await person('patient');
  const doctor = await person('doctor');
  const alias = await person('alias'); // another identity the delegate controls
  const own = await patient.client.grant({ grantee: doctor.id, categories: ['labs'], purpose: 'treatment' });
  const ana = await delegateWhoShares(patient, 'ana', alias.id);
  const remove = (signer: string, delegate: string, ...extra: string[]) =>
    cli(['delegate', 'remove', '--key', signer, '--patient', patient.id, '--delegate', delegate, ...extra]);

  // Who made each grant: the JSON field, and "by <delegate>" in the table only for theirs.
  const listed = json(await cli(['consent', 'list', '--key', patient.file, '--json']));
  const byId = new Map(listed.given.map((g: { id: string; grantedBy: string }) => [g.id, g.grantedBy]));
  assert.equal(byId.get(ana.grantId), ana.id);
  assert.equal(byId.get(own.grantId), patient.id);
  const table = (await cli(['consent', 'list', '--key', patient.file])).stdout;
  assert.match(table, new RegExp(`${ana.grantId}  to ${alias.id} by ${ana.id}  `));
  assert.match(table, new RegExp(`${own.grantId}  to ${doctor.id}  `));
  // The grantee sees it too: from the patient, by the delegate.
  assert.match(
    (await cli(['consent', 'list', '--key', alias.file])).stdout,
    new RegExp(`${ana.grantId}  from ${patient.id} by ${ana.id}  `),
  );

  // A delegate stepping down may not use the patient's option, and nothing is removed.
  const refused = await remove(ana.file, ana.id, '--revoke-their-shares');
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /--revoke-their-shares is for the patient/);
  assert.equal(JSON.parse((await remove(ana.file, ana.id, '--revoke-their-shares', '--json')).stdout).error.code, 'INVALID_ARGUMENT');
  assert.equal((await patient.client.delegates(patient.id)).find((d) => d.delegate === ana.id)?.status, 'accepted');

  // Removed without the option: the share stays, and the patient is told so and how to revoke it.
  const kept = await remove(patient.file, ana.id);
  assert.equal(kept.code, 0, kept.stderr);
  assert.match(kept.stdout, new RegExp(`${ana.id} made 1 share\\(s\\) for you that are still active`));
  assert.match(kept.stdout, new RegExp(`${ana.grantId}  to ${alias.id}  read treatment`));
  assert.match(kept.stdout, /medledger consent revoke --key .* --grant ID/);
  assert.equal(await isActive(patient, ana.grantId), true, 'a removed delegate’s share stays in force until revoked');
  assert.deepEqual(await patient.client.delegates(patient.id), []);

  // Removed with the option: every active share that delegate made is revoked, the patient's own is not.
  const bo = await delegateWhoShares(patient, 'bo', alias.id);
  const second = await bo.client.grant({ patient: patient.id, grantee: doctor.id, categories: ['vital-signs'], purpose: 'treatment' });
  const gone = json(await remove(patient.file, bo.id, '--revoke-their-shares', '--json'));
  assert.deepEqual(gone.revoked.map((r: { grant: string }) => r.grant).sort(), [bo.grantId, second.grantId].sort());
  assert.equal(await isActive(patient, bo.grantId), false);
  assert.equal(await isActive(patient, second.grantId), false);
  assert.equal(await isActive(patient, own.grantId), true, 'the patient’s own share is not theirs to revoke');
  assert.equal(await isActive(patient, ana.grantId), true, 'only the removed delegate’s shares are revoked');
  assert.deepEqual(await patient.client.delegates(patient.id), []);

  // Text mode prints what it revoked; with nothing left it says so.
  const cy = await delegateWhoShares(patient, 'cy', doctor.id);
  const text = await remove(patient.file, cy.id, '--revoke-their-shares');
  assert.equal(text.code, 0, text.stderr);
  assert.match(
    text.stdout,
    new RegExp(`revoked 1 share\\(s\\) ${cy.id} made:\\n  ${cy.grantId}  to ${doctor.id} .*\\(revoked at height \\d+\\)`),
  );
  assert.equal(await isActive(patient, cy.grantId), false);
  // Without a trusted genesis their shares cannot be found: --revoke-their-shares removes
  // nothing; a plain removal works and says the shares were not checked.
  const eve = await delegateWhoShares(patient, 'eve', alias.id);
  const blind = await cli(
    ['delegate', 'remove', '--key', patient.file, '--patient', patient.id, '--delegate', eve.id, '--revoke-their-shares'],
    '',
  );
  assert.equal(blind.code, 2, blind.stderr);
  assert.match(blind.stderr, /needs a trusted genesis.*nothing was removed/);
  assert.equal((await patient.client.delegates(patient.id)).length, 1);
  const unchecked = await cli(['delegate', 'remove', '--key', patient.file, '--patient', patient.id, '--delegate', eve.id, '--json'], '');
  assert.equal(json(unchecked).theirActiveShares, null);
  assert.deepEqual(await patient.client.delegates(patient.id), []);
  assert.equal(await isActive(patient, eve.grantId), true);

  const dee = await person('dee');
  await patient.client.setDelegate(dee.id);
  const none = await remove(patient.file, dee.id, '--revoke-their-shares');
  assert.match(none.stdout, new RegExp(`${dee.id} made no share that is still active`));
});
