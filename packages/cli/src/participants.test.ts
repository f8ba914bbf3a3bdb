// The participant commands run as the real `medledger` binary against a node over HTTP:
// keys, registration, records, consent, audit, the light-client proof, exit codes, and
// the import of every Synthea fixture bundle read back equal after decryption.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MedLedgerClient, TrustedGenesis } from '@medledger/client';
import { decryptKeystore } from '@medledger/crypto';
import { canonicalJson } from '@medledger/ledger';
import { readOrgKey } from '@medledger/node';
import { startSoloNode, TEST_PASSPHRASE, type TestNode } from '@medledger/node/testing';
import { type CliRun, runCli } from './testing/cli.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

/** The genesis the SDK clients of this file trust: the test network's own. */
const trusted = () => TrustedGenesis.fromDocument(net.node.chain.genesis);

const FIXTURES = '/work/shared/fixtures/synthea';
let net: TestNode;
let work: string;
let orgKey: string;

before(async () => {
  net = await startSoloNode();
  work = mkdtempSync(join(tmpdir(), 'medledger-cli-'));
  orgKey = join(net.dir, 'node0', 'org.key');
});
after(async () => {
  await net.cleanup();
  rmSync(work, { recursive: true, force: true });
});

// Every command trusts the test network's genesis file (MEDLEDGER_GENESIS), as a user would.
const cli = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { env: { MEDLEDGER_GENESIS: join(net.dir, 'genesis.json'), ...env }, timeoutMs: 300_000 });
const json = (run: CliRun) => {
  assert.equal(run.code, 0, `exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  // biome-ignore lint/suspicious/noExplicitAny: each command's JSON output is checked field by field below
  return JSON.parse(run.stdout) as Record<string, any>;
};
const file = (name: string) => join(work, name);

describe('keys', () => {
  test('keys new writes an encrypted keystore; keys show reads its public part without a passphrase', async () => {
    const made = json(await cli(['keys', 'new', '--out', file('k1.key'), '--json']));
    assert.match(made.id, /^[0-9a-f]{40}$/);
    const onDisk = JSON.parse(readFileSync(file('k1.key'), 'utf8'));
    assert.equal(onDisk.format, 'medledger-keystore');
    assert.equal(decryptKeystore(onDisk, TEST_PASSPHRASE).signing.publicKey, made.publicKey);
    const shown = json(await cli(['keys', 'show', '--key', file('k1.key'), '--json'], { MEDLEDGER_PASSPHRASE: '' }));
    assert.equal(shown.id, made.id);
  });

  test('exit codes: an existing file is usage (2), no passphrase and no terminal is usage (2), a wrong one is 3', async () => {
    await cli(['keys', 'new', '--out', file('k2.key')]);
    const again = await cli(['keys', 'new', '--out', file('k2.key'), '--json']);
    assert.equal(again.code, 2);
    assert.equal(JSON.parse(again.stdout).error.code, 'FILE_EXISTS');
    const none = await cli(['record', 'list', '--key', file('k2.key'), '--url', net.url], { MEDLEDGER_PASSPHRASE: '' });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /MEDLEDGER_PASSPHRASE/);
    const wrong = await cli(['record', 'list', '--key', file('k2.key'), '--url', net.url], { MEDLEDGER_PASSPHRASE: 'not it' });
    assert.equal(wrong.code, 3);
    assert.equal((await cli(['record', 'list', '--key', file('k2.key')])).code, 2, 'a missing --url is usage');
    assert.equal((await cli(['record', 'frobnicate'])).code, 2);
  });

  test('every command has --help', async () => {
    const commands = [
      ['keys', 'new'],
      ['patient', 'register'],
      ['staff', 'register'],
      ['record', 'add'],
      ['record', 'prove'],
      ['consent', 'grant'],
      ['audit'],
      ['import-fhir'],
    ];
    for (const c of commands) {
      const run = await cli([...c, '--help']);
      assert.equal(run.code, 0, c.join(' '));
      assert.match(run.stdout, /--json/, `${c.join(' ')} --help lists --json`);
    }
  });
});

describe('a patient and a clinician', () => {
  const resource = {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { text: 'Body weight' },
    valueQuantity: { value: 72.5, unit: 'kg' },
  };

  test('register, add, get, list, grant, audit, revoke, erase and prove, each with its exit code', async () => {
    const patient = json(await cli(['patient', 'register', '--key', file('pat.key'), '--url', net.url, '--json']));
    assert.equal(patient.created, true);
    json(await cli(['keys', 'new', '--out', file('doc.key'), '--json']));
    const staff = json(
      await cli([
        'staff',
        'register',
        '--org-key',
        orgKey,
        '--key',
        file('doc.key'),
        '--role',
        'clinician',
        '--name',
        'Dr Grey',
        '--url',
        net.url,
        '--json',
      ]),
    );
    writeFileSync(file('obs.json'), JSON.stringify(resource));

    const added = await cli([
      'record',
      'add',
      '--key',
      file('pat.key'),
      '--patient',
      patient.id,
      '--file',
      file('obs.json'),
      '--url',
      net.url,
    ]);
    assert.equal(added.code, 0, added.stderr);
    const rid = added.stdout.trim();
    assert.match(rid, /^[0-9a-f]{32}$/);

    const got = await cli(['record', 'get', '--key', file('pat.key'), '--id', rid, '--url', net.url]);
    assert.equal(got.code, 0, got.stderr);
    assert.deepEqual(JSON.parse(got.stdout), resource);
    const listed = json(await cli(['record', 'list', '--key', file('pat.key'), '--url', net.url, '--json']));
    assert.deepEqual(
      listed.records.map((r: { record: string; category: string }) => [r.record, r.category]),
      [[rid, 'vital-signs']],
    );

    // The clinician may not read until the patient grants; then reads; then not after revoking.
    const docGet = ['record', 'get', '--key', file('doc.key'), '--id', rid, '--url', net.url];
    assert.equal((await cli(docGet)).code, 5);
    const granted = await cli([
      'consent',
      'grant',
      '--key',
      file('pat.key'),
      '--to',
      staff.id,
      '--category',
      'vital-signs',
      '--expires',
      '30d',
      '--url',
      net.url,
    ]);
    assert.equal(granted.code, 0, granted.stderr);
    const gid = granted.stdout.trim();
    assert.match(gid, /^[0-9a-f]{32}$/);
    assert.deepEqual(JSON.parse((await cli(docGet)).stdout), resource);
    const grants = json(await cli(['consent', 'list', '--key', file('pat.key'), '--url', net.url, '--json']));
    assert.deepEqual(
      grants.given.map((g: { id: string; grantee: string }) => [g.id, g.grantee]),
      [[gid, staff.id]],
    );
    const theirs = json(await cli(['consent', 'list', '--key', file('doc.key'), '--url', net.url, '--json']));
    assert.deepEqual(
      theirs.received.map((g: { id: string }) => g.id),
      [gid],
    );
    assert.equal((await cli(['consent', 'revoke', '--key', file('pat.key'), '--grant', gid, '--url', net.url])).code, 0);
    assert.equal((await cli(docGet)).code, 5);

    // The access log shows the clinician's reads, allowed and denied (committed a little later).
    let events: Array<{ accessor: string; decision: string }> = [];
    for (let i = 0; i < 50; i++) {
      events = json(await cli(['audit', '--key', file('pat.key'), '--url', net.url, '--json'])).events;
      if (events.filter((e) => e.accessor === staff.id).length >= 3) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(
      events
        .filter((e) => e.accessor === staff.id)
        .map((e) => e.decision)
        .sort(),
      ['allowed', 'denied', 'denied'],
    );
    // In words, from the proven identities: the staff member's name, role and organization.
    const text = await cli(['audit', '--key', file('pat.key'), '--url', net.url]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`by Dr Grey, clinician at [^(]+ \\(${staff.id}\\)`));

    // The light client proves the anchor from the genesis file alone, signed in as the patient
    // (nodes show a patient their own transactions, not other block bodies).
    const genesis = join(net.dir, 'node0', 'genesis.json');
    const asPatient = ['--key', file('pat.key')];
    const proven = json(await cli(['record', 'prove', '--id', rid, ...asPatient, '--url', net.url, '--genesis', genesis, '--json']));
    assert.equal(proven.proven, true);
    assert.equal(proven.signedPower, 1);
    // Anonymously the node shows headers and leaf hashes only: the anchor cannot be found.
    const anonymous = await cli(['record', 'prove', '--id', rid, '--url', net.url, '--genesis', genesis]);
    assert.equal(anonymous.code, 1);
    assert.match(anonymous.stderr, /--key/);
    // Against another network's genesis the same answers prove nothing.
    const other = JSON.parse(readFileSync(genesis, 'utf8'));
    other.validators[0].publicKey = JSON.parse(readFileSync(file('doc.key'), 'utf8')).publicKey;
    writeFileSync(file('other-genesis.json'), JSON.stringify(other));
    const refused = await cli(['record', 'prove', '--id', rid, ...asPatient, '--url', net.url, '--genesis', file('other-genesis.json')]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /NOT PROVEN/);
    // A consortium member (the clinician) sees every block: an unknown record is simply not found.
    const asDoctor = ['--key', file('doc.key')];
    assert.equal((await cli(['record', 'prove', '--id', 'ab'.repeat(16), ...asDoctor, '--url', net.url, '--genesis', genesis])).code, 6);

    // Erasure: the record is gone (6), and only the patient may erase (5).
    assert.equal((await cli(['record', 'erase', '--key', file('doc.key'), '--id', rid, '--url', net.url])).code, 5);
    assert.equal((await cli(['record', 'erase', '--key', file('pat.key'), '--id', rid, '--url', net.url])).code, 0);
    assert.equal((await cli(['record', 'get', '--key', file('pat.key'), '--id', rid, '--url', net.url])).code, 6);

    // No node answering is 4.
    assert.equal((await cli(['record', 'list', '--key', file('pat.key'), '--url', 'http://127.0.0.1:9'])).code, 4);
  });
});

describe('import-fhir', () => {
  test('every Synthea fixture bundle is imported and every resource reads back equal after decryption', async () => {
    const bundles = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
    assert.equal(bundles.length, 8);
    const org = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: readOrgKey(join(net.dir, 'node0')) });
    for (const name of bundles) {
      copyFileSync(join(FIXTURES, name), file(name));
      const run = await cli(['import-fhir', '--org-key', orgKey, '--file', file(name), '--url', net.url, '--json']);
      const result = json(run);
      assert.match(run.stderr, /records/, 'progress lines when not on a terminal');
      const entries = (JSON.parse(readFileSync(file(name), 'utf8')) as { entry: Array<{ resource: { resourceType: string } }> }).entry;
      assert.equal(result.records.length, entries.length);
      assert.equal(result.keyFile, file(name.replace(/\.json$/, '.key')));

      // The patient's keystore opens, and the patient sees exactly the bundle's resources.
      const patientKeys = decryptKeystore(JSON.parse(readFileSync(result.keyFile, 'utf8')), TEST_PASSPHRASE);
      const patient = new MedLedgerClient({ genesis: trusted(), url: net.url, keys: patientKeys });
      assert.equal(patient.id, result.patientId);
      const listed = await patient.listRecords(result.patientId);
      assert.equal(listed.length, entries.length);
      // The honest node's answers verify: every anchor proven against the genesis, with its height.
      assert.ok(
        listed.every((r) => typeof r.provenAt === 'number' && r.provenAt >= 1),
        'every record carries its proven height',
      );
      const types = (rs: Array<{ resourceType: string }>) => rs.map((r) => r.resourceType).sort();
      assert.deepEqual(types(listed), types(entries.map((e) => e.resource)));
      // The import's grant to the organization is proven too, as the patient sees it.
      const grants = await patient.grants(result.patientId);
      assert.deepEqual(
        grants.map((g) => [g.id, g.grantee, typeof g.provenAt === 'number' && g.provenAt >= 1]),
        [[result.grantId, result.organization, true]],
      );

      // Each record decrypts to its entry's resource, canonical JSON byte for byte: some read
      // by the patient, the rest by the organization (its grant sealed every key to it).
      const byId = new Map<string, number>(result.records.map((r: { recordId: string; entry: number }) => [r.recordId, r.entry]));
      const ids = [...byId.keys()];
      for (let i = 0; i < ids.length; i += 16) {
        await Promise.all(
          ids.slice(i, i + 16).map(async (id, j) => {
            const reader = (i + j) % 5 === 0 ? patient : org;
            const { resource } = await reader.readRecord(id);
            const original = entries[byId.get(id) as number]?.resource;
            assert.equal(canonicalJson(resource), canonicalJson(original), `${name} record ${id}`);
          }),
        );
      }
    }
  });
});
