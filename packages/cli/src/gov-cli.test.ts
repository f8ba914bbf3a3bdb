// The governance commands end to end against a real node, as an operator runs them: one
// organization's proposal stays open on its own vote, passes with more than 2/3, is listed and
// shown (proven against the genesis file); bad usage exits 2, a patient's key is denied (5).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  ClientError,
  govMembers,
  govParams,
  govProposal,
  govProposals,
  govPropose,
  MedLedgerClient,
  TrustedGenesis,
} from '@medledger/client';
import { editJson, pathOf, type Rewrite, startLyingProxy } from '@medledger/client/testing/lying-proxy';
import { encryptKeystore, generateKeyBundle, idFromPublicKey, type KeyBundle } from '@medledger/crypto';
import { initNetwork, loadHome, MedLedgerNode, type OrgKeyFile, readOrgKey } from '@medledger/node';
import { TEST_PASSPHRASE } from '@medledger/node/testing';
import { runCli } from './testing/cli.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-gov-cli-'));
let home = '';
let orgs: OrgKeyFile[] = [];
let node: MedLedgerNode;
let url = '';

before(async () => {
  const init = initNetwork({
    validators: 1,
    out: dir,
    chainId: 'gov-cli',
    organizations: [
      { name: 'General Hospital', kind: 'hospital' },
      { name: 'Riverside Clinic', kind: 'clinic' },
      { name: 'Northside Lab', kind: 'lab' },
    ],
  });
  home = init.homes[0] as string;
  orgs = init.orgKeys;
  const loaded = loadHome(home);
  loaded.config.api.port = 0;
  loaded.config.p2p.port = 0;
  loaded.config.consensus.blockIntervalMs = 20;
  node = new MedLedgerNode(loaded, { logger: () => {} });
  url = await node.start();
});
after(async () => {
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

function keyFile(name: string, keys: KeyBundle): string {
  const path = join(dir, `${name}.key`);
  writeFileSync(path, JSON.stringify(encryptKeystore(keys, TEST_PASSPHRASE)), { mode: 0o600 });
  return path;
}
const orgKey = (i: number) => join(home, (orgs[i] as OrgKeyFile).file);
const cli = async (...args: string[]) => {
  const run = await runCli([...args, '--url', url, '--genesis', join(dir, 'genesis.json')]);
  return { ...run, json: () => JSON.parse(run.stdout) };
};

test('gov propose, vote, list and show: a clinic is admitted only once more than 2/3 of the members voted yes', async () => {
  const clinicKeys = generateKeyBundle();
  const clinicFile = keyFile('eastside', clinicKeys);
  const proposed = await cli(
    'gov',
    'propose',
    'org.admit',
    '--org-key',
    orgKey(0),
    '--kind',
    'clinic',
    '--name',
    'Eastside Clinic',
    '--keystore',
    clinicFile,
    '--voting-period',
    '2d',
    '--json',
  );
  assert.equal(proposed.code, 0, proposed.stderr);
  const p = proposed.json();
  assert.equal(p.status, 'open');
  assert.equal(p.deadline - p.createdAt.time, 2 * 86_400_000);
  assert.equal(p.action.adminKey, clinicKeys.signing.publicKey);
  assert.ok(p.provenAt >= p.createdAt.height);

  const first = await cli('gov', 'vote', '--org-key', orgKey(0), '--proposal', String(p.id), '--yes', '--json');
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(first.json().tally, { yes: 1, no: 0, members: 3, needed: 3 });
  const again = await cli('gov', 'vote', '--org-key', orgKey(0), '--proposal', String(p.id), '--no', '--json');
  assert.equal(again.code, 1);
  assert.equal(again.json().error.code, 'ALREADY_VOTED');
  await cli('gov', 'vote', '--org-key', orgKey(1), '--proposal', String(p.id), '--yes');
  const shown = await cli('gov', 'show', '--org-key', orgKey(2), '--proposal', String(p.id));
  assert.match(shown.stdout, /open .*admit clinic 'Eastside Clinic' — 2 yes, 0 no of 3 \(needs 3\)/);
  assert.match(shown.stdout, /proven at height \d+/);

  const last = await cli('gov', 'vote', '--org-key', orgKey(2), '--proposal', String(p.id), '--yes', '--json');
  assert.equal(last.json().status, 'passed');
  const identity = await new MedLedgerClient({ url, keys: clinicKeys }).account();
  assert.equal((identity.identity as { orgKind?: string } | null)?.orgKind, 'clinic');

  const listed = await cli('gov', 'list', '--org-key', clinicFile, '--status', 'passed', '--json');
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(
    listed.json().proposals.map((x: { id: number }) => x.id),
    [p.id],
  );
  assert.equal(listed.json().next, null);
  const text = await cli('gov', 'list', '--org-key', orgKey(1), '--limit', '1');
  assert.match(text.stdout, new RegExp(`#${p.id} passed`));
});

test('gov commands refuse bad usage (exit 2) and callers who are not members (exit 5)', async () => {
  const noChoice = await cli('gov', 'vote', '--org-key', orgKey(0), '--proposal', '1', '--json');
  assert.equal(noChoice.code, 2);
  const badType = await cli('gov', 'propose', 'org.conquer', '--org-key', orgKey(0));
  assert.equal(badType.code, 2);
  assert.match(badType.stderr, /must be one of org\.admit/);
  const missing = await cli('gov', 'propose', 'param.set', '--org-key', orgKey(0), '--param', 'maxBlockTxs');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /needs --value/);
  const tooHigh = await cli('gov', 'propose', 'param.set', '--org-key', orgKey(0), '--param', 'maxBlockTxs', '--value', '999999', '--json');
  assert.equal(tooHigh.code, 2);
  assert.equal(tooHigh.json().error.code, 'INVALID_BODY');

  const patientKeys = generateKeyBundle();
  const patient = new MedLedgerClient({
    url,
    keys: patientKeys,
    genesis: TrustedGenesis.fromDocument(JSON.parse(readFileSync(join(dir, 'genesis.json'), 'utf8'))),
  });
  await patient.registerPatient();
  const patientFile = keyFile('patient', patientKeys);
  const denied = await cli('gov', 'list', '--org-key', patientFile, '--json');
  assert.equal(denied.code, 5);
  assert.equal(denied.json().error.code, 'ACCESS_DENIED');
  const notMember = await cli(
    'gov',
    'propose',
    'org.suspend',
    '--org-key',
    patientFile,
    '--org',
    idFromPublicKey(patientKeys.signing.publicKey),
  );
  assert.equal(notMember.code, 5);
});

// biome-ignore lint/suspicious/noExplicitAny: a node's JSON answer, rewritten by the test
type Json = any;

test('through a lying node, the SDK refuses a rewritten proposal, member or rule, and counts the tally itself', async () => {
  const proxy = await startLyingProxy(url);
  try {
    const trusted = TrustedGenesis.fromDocument(JSON.parse(readFileSync(join(dir, 'genesis.json'), 'utf8')));
    const keys = readOrgKey(home, { file: (orgs[0] as OrgKeyFile).file });
    const viaProxy = new MedLedgerClient({ url: proxy.url, keys, genesis: trusted });
    const open = await govPropose(viaProxy, { type: 'param.set', param: 'maxBlockTxs', value: 4000 }, 86_400_000);
    const honest = await govProposal(viaProxy, open.id);
    assert.deepEqual(honest.tally, { yes: 0, no: 0, members: 4, needed: 3 });

    const refused = async (lie: Rewrite, act: () => Promise<unknown>, what: RegExp) => {
      proxy.lie(lie);
      try {
        await assert.rejects(
          act(),
          (err: unknown) => err instanceof ClientError && err.code === 'FACT_NOT_PROVEN' && what.test(err.message),
        );
      } finally {
        proxy.lie(undefined);
      }
    };
    const onGov =
      (path: RegExp, change: (j: Json) => void): Rewrite =>
      (request, answer) =>
        path.test(pathOf(request)) && answer.status === 200 ? editJson(answer, change) : undefined;
    // A member is shown another action than the one it would vote on.
    const swapAction = (p: Json) => {
      if (p.id === open.id) p.action = { type: 'org.suspend', org: (orgs[1] as OrgKeyFile).id };
    };
    await refused(
      onGov(/^\/v1\/gov\/proposals\/\d+$/, swapAction),
      () => govProposal(viaProxy, open.id),
      new RegExp(`proposal ${open.id}`),
    );
    await refused(
      onGov(/^\/v1\/gov\/proposals$/, (j) => {
        for (const p of j.proposals) swapAction(p);
      }),
      () => govProposals(viaProxy, { limit: 5 }),
      new RegExp(`proposal ${open.id}`),
    );
    // A node's tally is not believed: the SDK counts the proven votes of the proven members.
    proxy.lie(
      onGov(/^\/v1\/gov\/proposals/, (j) => {
        for (const p of j.proposals ?? [j]) Object.assign(p.tally, { yes: 3, needed: 1 });
      }),
    );
    try {
      assert.deepEqual((await govProposal(viaProxy, open.id)).tally, { yes: 0, no: 0, members: 4, needed: 3 });
      const listed = (await govProposals(viaProxy, { limit: 5 })).items.find((p) => p.id === open.id);
      assert.deepEqual(listed?.tally, { yes: 0, no: 0, members: 4, needed: 3 });
    } finally {
      proxy.lie(undefined);
    }
    // Members: a renamed, an invented and a hidden member are refused.
    const honestMembers = await govMembers(viaProxy, { limit: 500 });
    assert.equal(honestMembers.items.length, 4);
    await refused(
      onGov(/^\/v1\/gov\/members$/, (j) => {
        j.members[0].name = 'Trusted Partner';
      }),
      () => govMembers(viaProxy, { limit: 500 }),
      /name, kind or status/,
    );
    await refused(
      onGov(/^\/v1\/gov\/members$/, (j) => {
        j.members.pop();
      }),
      () => govMembers(viaProxy, { limit: 500 }),
      /left member/,
    );
    await refused(
      onGov(
        /^\/v1\/gov\/members$/,
        (j) => void j.members.push({ id: 'ab'.repeat(20), name: 'Shadow Org', kind: 'hospital', status: 'active' }),
      ),
      () => govMembers(viaProxy, { limit: 500 }),
      /proven member list does not/,
    );
    // Parameters: the passing rule and the block limits in force.
    assert.deepEqual((await govParams(viaProxy)).rule, { numerator: 2, denominator: 3 });
    await refused(
      onGov(/^\/v1\/gov\/params$/, (j) => {
        j.rule = { numerator: 1, denominator: 2 };
      }),
      () => govParams(viaProxy),
      /passing rule/,
    );
    await refused(
      onGov(/^\/v1\/gov\/params$/, (j) => {
        j.inForce.maxBlockTxs = 1;
      }),
      () => govParams(viaProxy),
      /block limits/,
    );
  } finally {
    await proxy.close();
  }
});
