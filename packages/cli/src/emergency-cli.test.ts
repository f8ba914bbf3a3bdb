// The `medledger emergency` commands against a real single-validator node, as an operator
// runs them: exit codes for every refusal, the window and its reads as the patient, the
// privacy officer and the clinician list them, rotation, and a window that stays pending
// (exit 3) while the validator does not post its share.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type ClientError, MedLedgerClient, staffRegisterBody, TrustedGenesis } from '@medledger/client';
import { encryptKeystore, generateKeyBundle, idFromPublicKey, type KeyBundle } from '@medledger/crypto';
import { HOME_FILES, initNetwork, loadHome, MedLedgerNode, readOrgKey } from '@medledger/node';
import { TEST_PASSPHRASE } from '@medledger/node/testing';
import { runCli } from './testing/cli.js';

// Node homes' keystores are encrypted; this file's nodes and CLI runs use the test passphrase.
process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-emergency-cli-'));
/** The genesis the SDK clients of this file trust: the test network's own file. */
const trusted = () => TrustedGenesis.fromDocument(JSON.parse(readFileSync(join(dir, 'genesis.json'), 'utf8')));
let home = '';
let node: MedLedgerNode;
let url = '';

async function startNode(postShares: boolean): Promise<void> {
  const loaded = loadHome(home);
  loaded.config.api.port = 0;
  loaded.config.p2p.port = 0;
  loaded.config.consensus.blockIntervalMs = 20;
  loaded.config.emergency = { postShares };
  node = new MedLedgerNode(loaded, { logger: () => {} });
  url = await node.start();
}

before(async () => {
  home = initNetwork({ validators: 1, out: dir, chainId: 'emergency-cli' }).homes[0] as string;
  await startNode(true);
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

async function staff(role: 'clinician' | 'privacy-officer', name: string) {
  const keys = generateKeyBundle();
  await new MedLedgerClient({ genesis: trusted(), url, keys: readOrgKey(home) }).submitAndWait(
    'staff.register',
    staffRegisterBody({ publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role, name }),
  );
  return {
    keys,
    id: idFromPublicKey(keys.signing.publicKey),
    file: keyFile(name.replace(/\W/g, ''), keys),
    client: new MedLedgerClient({ genesis: trusted(), url, keys }),
  };
}

async function patientWithRecord(name: string) {
  const keys = generateKeyBundle();
  const client = new MedLedgerClient({ genesis: trusted(), url, keys });
  const { id } = await client.registerPatient();
  const { recordId } = await client.writeRecord({
    patient: id,
    resource: { resourceType: 'MedicationStatement', status: 'active', medication: { concept: { text: 'warfarin' } } },
    category: 'medications',
  });
  return { id, recordId, client, file: keyFile(name, keys) };
}

const cli = (...args: string[]) => runCli(['emergency', ...args, '--url', url, '--genesis', join(dir, 'genesis.json')]);

test('emergency commands: privilege, refusals with exit codes, open, reads, list by role, revoke, rotate', async () => {
  const doctor = await staff('clinician', 'Dr Cli');
  const officer = await staff('privacy-officer', 'Officer Cli');
  const patient = await patientWithRecord('patient');
  const orgKey = join(home, HOME_FILES.orgKey);
  const open = (...extra: string[]) =>
    cli('open', '--key', doctor.file, '--patient', patient.id, '--reason', 'found unresponsive', ...extra);

  const unprivileged = await open();
  assert.equal(unprivileged.code, 5, unprivileged.stderr);
  assert.match(unprivileged.stderr, /UNAUTHORIZED/);

  const granted = await cli('privilege', '--org-key', orgKey, '--clinician', doctor.id, '--json');
  assert.equal(granted.code, 0, granted.stderr);
  assert.equal(JSON.parse(granted.stdout).granted, true);

  const noReason = await cli('open', '--key', doctor.file, '--patient', patient.id, '--reason', '', '--json');
  assert.equal(noReason.code, 2, noReason.stderr);
  // The reason is encrypted on this machine: an empty one is refused before anything is sent.
  assert.match(noReason.stderr, /INVALID_ARGUMENT/);
  const missingReason = await cli('open', '--key', doctor.file, '--patient', patient.id);
  assert.equal(missingReason.code, 2);
  const tooLong = await open('--minutes', String(24 * 60));
  assert.equal(tooLong.code, 2, tooLong.stderr);
  const nobody = await cli('open', '--key', doctor.file, '--patient', 'cd'.repeat(20), '--reason', 'x');
  assert.equal(nobody.code, 6);
  assert.match(nobody.stderr, /NOT_FOUND/);

  const opened = await open('--minutes', '30', '--json');
  assert.equal(opened.code, 0, opened.stderr);
  const window = JSON.parse(opened.stdout) as { window: string; patient: string; threshold: number; badShares: string[] };
  assert.equal(window.patient, patient.id);
  assert.equal(window.threshold, 1, 'a single validator holds the whole key');
  assert.deepEqual(window.badShares, []);
  const second = await open();
  assert.equal(second.code, 1);
  assert.match(second.stderr, /WINDOW_ACTIVE/);

  // Inside the window the clinician's client lists and reads the record (what `record list/get` call).
  assert.deepEqual(
    (await doctor.client.listRecords(patient.id)).map((r) => r.record),
    [patient.recordId],
  );
  const read = await doctor.client.readRecord(patient.recordId);
  assert.equal((read.resource as { resourceType: string }).resourceType, 'MedicationStatement');

  const asPatient = await cli('list', '--key', patient.file, '--json');
  assert.equal(asPatient.code, 0, asPatient.stderr);
  const notice = JSON.parse(asPatient.stdout);
  assert.equal(notice.as, 'patient');
  assert.equal(notice.rotationRecommended, true);
  assert.equal(notice.windows[0].id, window.window);
  assert.equal(notice.windows[0].clinician, doctor.id);
  assert.equal(notice.windows[0].reason, 'found unresponsive');
  const human = await cli('list', '--key', patient.file);
  assert.match(human.stdout, /reason: found unresponsive/);
  assert.match(human.stdout, /rotate/);

  const review = JSON.parse((await cli('list', '--key', officer.file, '--json')).stdout);
  assert.equal(review.as, 'organization');
  const reviewed = review.windows.find((w: { id: string }) => w.id === window.window);
  assert.equal(reviewed?.reason, 'found unresponsive', 'the privacy officer decrypts the reason');
  assert.equal(JSON.stringify(review).includes('"keys"'), false, 'the sealed form is not printed');
  const own = JSON.parse((await cli('list', '--key', doctor.file, '--json')).stdout);
  assert.equal(own.as, 'clinician');
  assert.equal(own.windows[0].id, window.window);
  assert.equal(own.windows[0].shares, undefined, 'no key material is printed');

  const busy = await cli('rotate', '--key', patient.file);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /WINDOW_ACTIVE/);

  // The patient ends the window early (`emergency end`, emergency.close); nobody else but its
  // clinician or a delegate may; from that block on the clinician reads nothing through it.
  const strangerEnd = await cli('end', '--key', officer.file, '--window', window.window);
  assert.equal(strangerEnd.code, 5, strangerEnd.stderr);
  assert.match(strangerEnd.stderr, /UNAUTHORIZED/);
  const ended = await cli('end', '--key', patient.file, '--window', window.window);
  assert.equal(ended.code, 0, ended.stderr);
  assert.match(ended.stdout, /ended at height \d+/);
  await assert.rejects(doctor.client.readRecord(patient.recordId), (e: ClientError) => e.code === 'ACCESS_DENIED');
  const again = await cli('end', '--key', patient.file, '--window', window.window);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /WINDOW_CLOSED/);

  const revoked = await cli('privilege', '--org-key', orgKey, '--clinician', doctor.id, '--revoke');
  assert.equal(revoked.code, 0, revoked.stderr);
  await assert.rejects(doctor.client.readRecord(patient.recordId), (e: ClientError) => e.code === 'ACCESS_DENIED');

  const other = await patientWithRecord('other-patient');
  const rotated = await cli('rotate', '--key', other.file, '--json');
  assert.equal(rotated.code, 0, rotated.stderr);
  assert.equal(JSON.parse(rotated.stdout).rewrapped, 1);
  assert.equal((await other.client.identity(other.id)).emergencyKey, JSON.parse(rotated.stdout).emergencyKey);
});

test('emergency open exits 7 while too few validators post shares, and the window stays pending', async () => {
  const doctor = await staff('clinician', 'Dr Waiting');
  const patient = await patientWithRecord('pending-patient');
  assert.equal((await cli('privilege', '--org-key', join(home, HOME_FILES.orgKey), '--clinician', doctor.id)).code, 0);
  await node.stop();
  await startNode(false);
  const pending = await cli('open', '--key', doctor.file, '--patient', patient.id, '--reason', 'seizure', '--wait', '2');
  assert.equal(pending.code, 7, pending.stderr);
  assert.match(pending.stderr, /EMERGENCY_PENDING/);
  await assert.rejects(
    new MedLedgerClient({ genesis: trusted(), url, keys: doctor.keys }).readRecord(patient.recordId),
    (e: ClientError) => e.code === 'EMERGENCY_PENDING',
  );
  // With share-posting back on, the validator answers the open window on start.
  await node.stop();
  await startNode(true);
  const reader = new MedLedgerClient({ genesis: trusted(), url, keys: doctor.keys });
  const deadline = Date.now() + 30_000;
  let resource: unknown;
  while (resource === undefined && Date.now() < deadline) {
    try {
      resource = (await reader.readRecord(patient.recordId)).resource;
    } catch (err) {
      if ((err as ClientError).code !== 'EMERGENCY_PENDING') throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  assert.ok(resource, 'the record opens once the share is posted');
});
