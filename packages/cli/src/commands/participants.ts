// Participant commands (docs/cli.md): keys, patient and staff registration, records,
// consent, the access log, the light-client proof of a record, and FHIR bundle import.
import { basename, dirname, extname, join, resolve } from 'node:path';
import { httpProofSource, PURPOSES, type Purpose, proveRecord, type StaffRole, staffRegisterBody } from '@medledger/client';
import { generateKeyBundle } from '@medledger/crypto';
import { parseGenesis } from '@medledger/ledger';
import type { Command } from 'commander';
import { accessorNames } from '../accessor-names.js';
import {
  clientFor,
  collect,
  GENESIS_HELP,
  genesisArg,
  genesisDefault,
  hexArg,
  loadKeys,
  output,
  parseDuration,
  readJsonArg,
  readKeystorePublic,
  writeKeys,
} from '../cli-support.js';
import { CliError, EXIT } from '../exit-codes.js';
import { BundleError, categoryOf, type Resource } from '../fhir-bundle.js';
import { importBundle } from '../fhir-import.js';
import { progress } from '../progress.js';

const STAFF_ROLES: StaffRole[] = ['clinician', 'pharmacy', 'insurer', 'researcher', 'privacy-officer', 'device', 'auditor'];
const URL_HELP = 'node API URL (default: $MEDLEDGER_URL)';
const urlDefault = process.env.MEDLEDGER_URL;

function purposeArg(raw: string): Purpose {
  if (!PURPOSES.includes(raw as Purpose))
    throw new CliError(`--purpose must be one of ${PURPOSES.join(', ')}`, EXIT.usage, 'INVALID_ARGUMENT');
  return raw as Purpose;
}

const time = (ms: number | undefined) => (ms === undefined ? 'never' : new Date(ms).toISOString());

export function registerParticipantCommands(program: Command): void {
  const keys = program.command('keys').description('make and inspect keystore files');
  keys
    .command('new')
    .description('make a new identity (Ed25519 + X25519 keys) in an encrypted keystore file')
    .requiredOption('--out <file>', 'keystore file to write (refuses to overwrite)')
    .option('--label <text>', 'a note stored (unencrypted) in the file')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { out: string; label?: string; json?: boolean }) => {
      const file = await writeKeys(resolve(opts.out), generateKeyBundle(), opts.label);
      output(opts, { id: file.id, publicKey: file.publicKey, encryptionKey: file.encryptionKey, file: resolve(opts.out) }, () => [
        `wrote ${resolve(opts.out)}`,
        `id: ${file.id}`,
      ]);
    });
  keys
    .command('show')
    .description("show a keystore's id and public keys (no passphrase needed)")
    .requiredOption('--key <file>', 'keystore file')
    .option('--json', 'print the result as JSON')
    .action((opts: { key: string; json?: boolean }) => {
      const f = readKeystorePublic(opts.key);
      output(opts, { id: f.id, publicKey: f.publicKey, encryptionKey: f.encryptionKey, label: f.label ?? null }, () => [
        `id:             ${f.id}`,
        `public key:     ${f.publicKey}`,
        `encryption key: ${f.encryptionKey}`,
        ...(f.label === undefined ? [] : [`label:          ${f.label}`]),
      ]);
    });

  program
    .command('patient')
    .description('patients')
    .command('register')
    .description('register a keystore as a pseudonymous patient (a new keystore is made if the file does not exist)')
    .requiredOption('--key <file>', 'the patient keystore')
    .requiredOption('--url <url>', URL_HELP, urlDefault)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the result as JSON')
    .action(async (opts: { key: string; url: string; genesis?: string; json?: boolean }) => {
      const path = resolve(opts.key);
      let created = false;
      try {
        readKeystorePublic(path);
      } catch (err) {
        if ((err as CliError).code !== 'FILE_NOT_FOUND') throw err;
        await writeKeys(path, generateKeyBundle(), 'patient');
        created = true;
      }
      const client = clientFor(opts.url, await loadKeys(path), await genesisArg(opts));
      const r = await client.registerPatient();
      output(opts, { id: r.id, txHash: r.txHash, height: r.height, keyFile: path, created }, () => [
        ...(created ? [`wrote a new keystore ${path}`] : []),
        `registered patient ${r.id} at height ${r.height}`,
      ]);
    });

  program
    .command('staff')
    .description('staff of an organization')
    .command('register')
    .description("register a keystore's identity as staff of the organization whose admin keystore is --org-key")
    .requiredOption('--org-key <file>', "the organization's admin keystore (org.key in its node home)")
    .requiredOption('--key <file>', "the staff member's keystore (only its public keys are read)")
    .requiredOption('--role <role>', `one of ${STAFF_ROLES.join(', ')}`)
    .option('--name <name>', 'display name, e.g. "Dr Ada Lovelace" (goes on chain)')
    .requiredOption('--url <url>', URL_HELP, urlDefault)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the result as JSON')
    .action(async (opts: { orgKey: string; key: string; role: string; name?: string; url: string; genesis?: string; json?: boolean }) => {
      if (!STAFF_ROLES.includes(opts.role as StaffRole))
        throw new CliError(`--role must be one of ${STAFF_ROLES.join(', ')}`, EXIT.usage, 'INVALID_ARGUMENT');
      const staff = readKeystorePublic(opts.key);
      const org = clientFor(opts.url, await loadKeys(opts.orgKey), await genesisArg(opts));
      const done = await org.submitAndWait(
        'staff.register',
        staffRegisterBody({
          publicKey: staff.publicKey,
          encryptionKey: staff.encryptionKey,
          role: opts.role as StaffRole,
          name: opts.name,
        }),
      );
      output(
        opts,
        { id: staff.id, org: org.id, role: opts.role, txHash: done.hash, height: done.height },
        () => `registered ${opts.role} ${staff.id} for organization ${org.id} at height ${done.height}`,
      );
    });

  const record = program.command('record').description('encrypted health records');
  record
    .command('add')
    .description('encrypt a FHIR resource and write it as a record of the patient; prints the record id')
    .requiredOption('--key <file>', 'your keystore (the patient, a delegate, or a read-write grantee)')
    .requiredOption('--patient <id>', 'the patient id')
    .requiredOption('--file <resource.json>', 'one FHIR R4 resource')
    .option('--category <c>', 'record category (default: from the resource, e.g. vital-signs, problems)')
    .requiredOption('--url <url>', URL_HELP, urlDefault)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the result as JSON')
    .action(
      async (opts: { key: string; patient: string; file: string; category?: string; url: string; genesis?: string; json?: boolean }) => {
        const patient = hexArg(opts.patient, '--patient', 20);
        const resource = readJsonArg(opts.file, 'resource file') as Resource;
        if (typeof resource?.resourceType !== 'string')
          throw new CliError(`${opts.file} is not a FHIR resource (no resourceType)`, EXIT.usage, 'INVALID_FILE');
        const category = opts.category ?? categoryOf(resource);
        const client = clientFor(opts.url, await loadKeys(opts.key), await genesisArg(opts));
        const r = await client.writeRecord({ patient, resource, category });
        output(
          opts,
          { record: r.recordId, category, resourceType: resource.resourceType, txHash: r.txHash, height: r.height },
          () => r.recordId,
        );
      },
    );
  record
    .command('get')
    .description('read and decrypt a record; prints its FHIR JSON (the read is logged on chain)')
    .requiredOption('--key <file>', 'your keystore')
    .requiredOption('--id <rid>', 'record id')
    .option('--purpose <p>', `purpose of use: ${PURPOSES.join(', ')}`)
    .requiredOption('--url <url>', URL_HELP, urlDefault)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the record and its metadata as JSON')
    .action(async (opts: { key: string; id: string; purpose?: string; url: string; genesis?: string; json?: boolean }) => {
      const id = hexArg(opts.id, '--id', 16);
      const client = clientFor(opts.url, await loadKeys(opts.key), await genesisArg(opts));
      const r = await client.readRecord(id, opts.purpose === undefined ? undefined : purposeArg(opts.purpose));
      output(opts, { meta: r.meta, resource: r.resource }, () => JSON.stringify(r.resource, null, 2));
    });
  record
    .command('list')
    .description("list a patient's records you may see (default: your own)")
    .requiredOption('--key <file>', 'your keystore')
    .option('--patient <id>', 'patient id (default: yours)')
    .requiredOption('--url <url>', URL_HELP, urlDefault)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the result as JSON')
    .action(async (opts: { key: string; patient?: string; url: string; genesis?: string; json?: boolean }) => {
      const client = clientFor(opts.url, await loadKeys(opts.key), await genesisArg(opts));
      const patient = opts.patient === undefined ? client.id : hexArg(opts.patient, '--patient', 20);
      const records = await client.listRecords(patient);
      output(opts, { patient, records }, () =>
        records.length === 0
          ? 'no records'
          : records.map((r) => `${r.record}  ${String(r.status).padEnd(6)}  ${r.category.padEnd(16)} ${r.resourceType}`),
      );
    });
  record
    .command('erase')
    .description('erase a record: its ciphertext and keys are deleted from every node; the anchor stays')
    .requiredOption('--key <file>', 'the patient or a delegate keystore')
    .requiredOption('--id <rid>', 'record id')
    .requiredOption('--url <url>', URL_HELP, urlDefault)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the result as JSON')
    .action(async (opts: { key: string; id: string; url: string; genesis?: string; json?: boolean }) => {
      const id = hexArg(opts.id, '--id', 16);
      const client = clientFor(opts.url, await loadKeys(opts.key), await genesisArg(opts));
      const done = await client.erase(id);
      output(opts, { record: id, txHash: done.hash, height: done.height }, () => `erased ${id} at height ${done.height}`);
    });
  record
    .command('prove')
    .description("check, trusting no node, that a record's anchor is in a block committed by more than 2/3 of the genesis validators")
    .requiredOption('--id <rid>', 'record id')
    .option('--height <h>', 'the block height the record was anchored at, if known (else blocks are searched)')
    .option(
      '--key <file>',
      "sign in with this keystore: the record's patient, or a consortium member or auditor (nodes show block bodies to no one else)",
    )
    .requiredOption('--url <url>', URL_HELP, urlDefault)
    .requiredOption('--genesis <file>', 'the genesis file you trust (genesis.json) (default: $MEDLEDGER_GENESIS)', genesisDefault())
    .option('--json', 'print the result as JSON')
    .action(async (opts: { id: string; genesis: string; height?: string; key?: string; url: string; json?: boolean }) => {
      const id = hexArg(opts.id, '--id', 16);
      let genesis: ReturnType<typeof parseGenesis>;
      try {
        genesis = parseGenesis(readJsonArg(opts.genesis, 'genesis file'));
      } catch (err) {
        if (err instanceof CliError) throw err;
        throw new CliError(`${opts.genesis}: ${(err as Error).message}`, EXIT.usage, 'INVALID_FILE');
      }
      const heightHint = opts.height === undefined ? undefined : Number(opts.height);
      if (heightHint !== undefined && (!Number.isSafeInteger(heightHint) || heightHint < 1))
        throw new CliError('--height must be a positive integer', EXIT.usage, 'INVALID_ARGUMENT');
      let proof: Awaited<ReturnType<typeof proveRecord>>;
      try {
        // The proof itself trusts no node; signing in only lets the node show the anchor.
        const signedIn = opts.key === undefined ? undefined : clientFor(opts.url, await loadKeys(opts.key));
        const source = signedIn === undefined ? httpProofSource(opts.url) : { get: (path: string) => signedIn.get(path, { auth: true }) };
        proof = await proveRecord(source, genesis, id, heightHint === undefined ? {} : { heightHint });
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'BODIES_WITHHELD') throw new CliError(`${(err as Error).message} (use --key)`, EXIT.failed, code);
        if (code === 'BAD_COMMIT' || code === 'BAD_PROOF' || code === 'WRONG_CHAIN')
          throw new CliError(`NOT PROVEN: ${(err as Error).message}`, EXIT.failed, code);
        throw err;
      }
      output(
        opts,
        {
          proven: true,
          record: id,
          tx: proof.hash,
          height: proof.height,
          index: proof.index,
          blockHash: proof.blockHash,
          blockTime: proof.time,
          signedPower: proof.commit.signedPower,
          totalPower: proof.commit.totalPower,
          contentHash: proof.anchor.contentHash,
          patient: proof.anchor.patient,
        },
        () => [
          `PROVEN: record ${id} is anchored in block ${proof.height} (${proof.blockHash})`,
          `  committed by ${proof.commit.signers.length} validators, ${proof.commit.signedPower} of ${proof.commit.totalPower} voting power (more than 2/3 needed)`,
          `  transaction ${proof.hash}, leaf ${proof.index} of ${proof.proof.treeSize}, Merkle path checked against the block's tx root`,
          `  content hash ${proof.anchor.contentHash}, block time ${time(proof.time)}`,
        ],
      );
    });

  const consent = program.command('consent').description('consent grants');
  consent
    .command('grant')
    .description('grant someone access to your records; prints the grant id')
    .requiredOption('--key <file>', 'the patient (or delegate) keystore')
    .requiredOption('--to <id>', 'grantee identity id (a person or an organization)')
    .option('--category <c>', 'record category covered (repeatable)', collect)
    .option('--type <t>', 'FHIR resource type covered (repeatable)', collect)
    .option('--record <rid>', 'one record covered (repeatable)', collect)
    .option('--write', 'also allow writing records (read-write)')
    .option('--purpose <p>', `purpose of use: ${PURPOSES.join(', ')}`, 'treatment')
    .option('--expires <duration>', 'expire after e.g. 30d, 12h, 15m (block time)')
    .option('--patient <id>', "the patient, when you act as a delegate (default: the key's own id)")
    .requiredOption('--url <url>', URL_HELP, urlDefault)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the result as JSON')
    .action(
      async (opts: {
        key: string;
        to: string;
        category?: string[];
        type?: string[];
        record?: string[];
        write?: boolean;
        purpose: string;
        expires?: string;
        patient?: string;
        url: string;
        genesis?: string;
        json?: boolean;
      }) => {
        const grantee = hexArg(opts.to, '--to', 20);
        const records = (opts.record ?? []).map((r) => hexArg(r, '--record', 16));
        if ((opts.category ?? []).length + (opts.type ?? []).length + records.length === 0)
          throw new CliError('say what the grant covers: --category, --type or --record', EXIT.usage, 'INVALID_ARGUMENT');
        const purpose = purposeArg(opts.purpose);
        const expiresAt = opts.expires === undefined ? undefined : Date.now() + parseDuration(opts.expires);
        const client = clientFor(opts.url, await loadKeys(opts.key), await genesisArg(opts));
        const r = await client.grant({
          patient: opts.patient === undefined ? undefined : hexArg(opts.patient, '--patient', 20),
          grantee,
          categories: opts.category,
          resourceTypes: opts.type,
          records: records.length > 0 ? records : undefined,
          access: opts.write ? 'read-write' : 'read',
          purpose,
          expiresAt,
        });
        output(opts, { grant: r.grantId, txHash: r.txHash, expiresAt: expiresAt ?? null }, () => r.grantId);
      },
    );
  consent
    .command('revoke')
    .description('revoke a grant')
    .requiredOption('--key <file>', 'the patient (or delegate) keystore')
    .requiredOption('--grant <gid>', 'grant id')
    .requiredOption('--url <url>', URL_HELP, urlDefault)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the result as JSON')
    .action(async (opts: { key: string; grant: string; url: string; genesis?: string; json?: boolean }) => {
      const grant = hexArg(opts.grant, '--grant', 16);
      const client = clientFor(opts.url, await loadKeys(opts.key), await genesisArg(opts));
      const done = await client.revoke(grant);
      output(opts, { grant, txHash: done.hash, height: done.height }, () => `revoked ${grant} at height ${done.height}`);
    });
  consent
    .command('list')
    .description('grants you gave (as a patient) and grants naming you or your organization')
    .requiredOption('--key <file>', 'your keystore')
    .option('--all', 'include revoked and expired grants you gave')
    .requiredOption('--url <url>', URL_HELP, urlDefault)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the result as JSON')
    .action(async (opts: { key: string; all?: boolean; url: string; genesis?: string; json?: boolean }) => {
      const client = clientFor(opts.url, await loadKeys(opts.key), await genesisArg(opts));
      const [given, received] = await Promise.all([client.grants(client.id, opts.all === true), client.myGrants()]);
      const line = (g: (typeof given)[number], to: string) => {
        const scope = [...(g.scope.categories ?? []), ...(g.scope.resourceTypes ?? []), ...(g.scope.records ?? [])].join(',');
        // A grant a delegate made for the patient says so: it outlives the delegation (docs/records.md "Delegates").
        const who = g.grantedBy !== undefined && g.grantedBy !== g.patient ? `${to} by ${g.grantedBy}` : to;
        return `${g.id}  ${who}  ${g.access.padEnd(10)} ${g.purpose.padEnd(10)} ${g.active === false ? 'inactive' : 'active  '}  expires ${time(g.expiresAt)}  ${scope}`;
      };
      output(opts, { given, received }, () => [
        `given (${given.length}):`,
        ...given.map((g) => `  ${line(g, `to ${g.grantee}`)}`),
        `received (${received.length}):`,
        ...received.map((g) => `  ${line(g, `from ${g.patient}`)}`),
      ]);
    });

  program
    .command('audit')
    .description(
      "the access log of a patient's records, newest first: emergency reads apart at the top, then every read, allowed or denied (default: your own)",
    )
    .requiredOption('--key <file>', 'the patient (or delegate) keystore')
    .option('--patient <id>', 'patient id (default: yours)')
    .option('--limit <n>', 'events per page, 1 to 500', '100')
    .option('--cursor <cursor>', 'the page after this cursor (printed when more exist)')
    .option('--all', 'every page, to the oldest event')
    .requiredOption('--url <url>', URL_HELP, urlDefault)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the result as JSON')
    .action(
      async (opts: {
        key: string;
        patient?: string;
        limit: string;
        cursor?: string;
        all?: boolean;
        url: string;
        genesis?: string;
        json?: boolean;
      }) => {
        const client = clientFor(opts.url, await loadKeys(opts.key), await genesisArg(opts));
        const patient = opts.patient === undefined ? client.id : hexArg(opts.patient, '--patient', 20);
        const limit = Number(opts.limit);
        if (!/^[1-9][0-9]{0,2}$/.test(opts.limit) || limit > 500)
          throw new CliError('--limit must be an integer from 1 to 500', EXIT.usage, 'INVALID_ARGUMENT');
        const first = await client.accessLogPage(patient, { limit, ...(opts.cursor === undefined ? {} : { cursor: opts.cursor }) });
        const events = [...first.events];
        let next = first.next;
        while (opts.all === true && next !== null) {
          const page = await client.accessLogPage(patient, { limit, cursor: next });
          events.push(...page.events);
          next = page.next;
        }
        const emergency = opts.all === true ? await client.emergencyAccesses(patient) : first.emergency;
        const emergencyNext = opts.all === true ? null : first.emergencyNext;
        // Who read, in words, from their proven identities (the text only; --json keeps the ids).
        const names = opts.json === true ? new Map<string, string>() : await accessorNames(client, patient, [...emergency, ...events]);
        const who = (id: string | null) =>
          id === null ? 'someone not signed in' : id === patient ? `the patient (${id})` : `${names.get(id) ?? 'identity'} (${id})`;
        const line = (e: (typeof events)[number]) =>
          `${time(e.at)}  ${e.decision.padEnd(7)} ${e.reason.padEnd(17)} record ${e.record ?? '-'} by ${who(e.accessor)} for ${e.purpose ?? '-'}${e.emergency ? ' EMERGENCY' : ''}${e.count > 1 ? ` x${e.count} (to ${time(e.last.time)})` : ''}`;
        output(opts, { patient, emergency, emergencyNext, events, next }, () => [
          ...(emergency.length === 0
            ? []
            : [
                `emergency reads (${emergency.length}${emergencyNext === null ? '' : '+, newest; --all lists every one'}):`,
                ...emergency.map((e) => `  ${line(e)}`),
                'all events:',
              ]),
          ...(events.length === 0 ? ['no accesses yet'] : events.map(line)),
          ...(next === null ? [] : [`more events exist: run again with --cursor ${next} (or --all)`]),
        ]);
      },
    );

  program
    .command('import-fhir')
    .description('import a FHIR transaction bundle (e.g. from Synthea) as a new pseudonymous patient whose records the organization writes')
    .requiredOption('--org-key <file>', "the importing organization's admin keystore")
    .requiredOption('--file <bundle.json>', 'FHIR R4 Bundle with one Patient')
    .option('--out <file>', "where to write the patient's keystore (default: the bundle's name with .key)")
    .option('--concurrency <n>', 'records written in parallel', '16')
    .requiredOption('--url <url>', URL_HELP, urlDefault)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the result as JSON')
    .action(
      async (opts: { orgKey: string; file: string; out?: string; concurrency: string; url: string; genesis?: string; json?: boolean }) => {
        const bundlePath = resolve(opts.file);
        const keyFile = resolve(opts.out ?? join(dirname(bundlePath), `${basename(bundlePath, extname(bundlePath))}.key`));
        const concurrency = Number(opts.concurrency);
        if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > 64)
          throw new CliError('--concurrency must be an integer from 1 to 64', EXIT.usage, 'INVALID_ARGUMENT');
        const bundle = readJsonArg(bundlePath, 'bundle');
        const orgKeys = await loadKeys(opts.orgKey);
        const bar = progress(`import ${basename(bundlePath)}`);
        let result: Awaited<ReturnType<typeof importBundle>>;
        try {
          result = await importBundle({
            url: opts.url,
            genesis: await genesisArg(opts),
            orgKeys,
            bundle,
            keyFile,
            label: `patient from ${basename(bundlePath)}`,
            concurrency,
            onProgress: (d, t) => bar.update(d, t),
          });
        } catch (err) {
          if (err instanceof BundleError) throw new CliError(`${bundlePath}: ${err.message}`, EXIT.usage, 'INVALID_FILE');
          throw err;
        } finally {
          bar.stop();
        }
        output(opts, result, () => [
          `imported ${result.records.length} records for patient ${result.patientId}`,
          `patient keystore: ${result.keyFile}`,
          `organization ${result.organization} holds read-write grant ${result.grantId}`,
        ]);
      },
    );
}
