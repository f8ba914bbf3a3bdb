// `medledger backup` and `medledger restore` (docs/deploy.md "Backups"): a consistent online
// snapshot of a node home in one file, and its restore, refused under a running node.
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join, resolve } from 'node:path';
import { signEd25519 } from '@medledger/crypto';
import {
  adminBackupBytes,
  BackupError,
  type BackupResult,
  backupStoppedHome,
  HOME_FILES,
  restoreHome,
  runningNodeOf,
} from '@medledger/node';
import type { Command } from 'commander';
import { loadKeys, output } from '../cli-support.js';
import { CliError, EXIT } from '../exit-codes.js';

/**
 * POST JSON to a node's HTTPS API trusting `ca` (the certificate in its home) besides the
 * system's roots; resolves with the parsed answer, whatever its status.
 */
function postTrusting(url: string, body: unknown, ca: Buffer): Promise<unknown> {
  return new Promise((resolvePost, reject) => {
    const req = request(url, { method: 'POST', ca, headers: { 'content-type': 'application/json' }, timeout: 30_000 }, (res) => {
      let text = '';
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => {
        try {
          resolvePost(JSON.parse(text));
        } catch {
          reject(new Error(`answered ${res.statusCode} with non-JSON`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 30 s')));
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/**
 * The certificate the node serves its API with, from its home's config (`tls.cert`), when
 * the API is HTTPS: the backup request trusts it, so a home with init's self-signed
 * certificate needs no NODE_EXTRA_CA_CERTS.
 */
function homeApiCertificate(home: string, api: string): Buffer | undefined {
  if (!api.startsWith('https:')) return undefined;
  const cert = (JSON.parse(readFileSync(join(home, HOME_FILES.config), 'utf8')) as { tls?: { cert?: unknown } }).tls?.cert;
  if (typeof cert !== 'string' || !existsSync(resolve(home, cert))) return undefined;
  return readFileSync(resolve(home, cert));
}

/**
 * Ask the node running on `home` (its lock names its API) to back itself up to `out`: it holds
 * its database locked, so only it can take the snapshot. The request is signed with the home's
 * node key (passphrase: MEDLEDGER_PASSPHRASE or prompt). Throws CliError with the node's code.
 */
async function backupRunning(home: string, api: string, out: string): Promise<BackupResult> {
  const keys = await loadKeys(join(home, HOME_FILES.nodeKey));
  const chain = String((JSON.parse(readFileSync(join(home, HOME_FILES.genesis), 'utf8')) as { chainId: unknown }).chainId);
  const time = Date.now();
  const signature = signEd25519(keys.signing.privateKey, adminBackupBytes(chain, keys.signing.publicKey, out, time));
  const request = { out, time, signature };
  const ca = homeApiCertificate(home, api);
  let body: BackupResult & { error?: { code: string; message: string } };
  try {
    body = (
      ca === undefined
        ? await (
            await fetch(`${api}/v1/admin/backup`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(request),
            })
          ).json()
        : await postTrusting(`${api}/v1/admin/backup`, request, ca)
    ) as typeof body;
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    throw new CliError(
      `the node running on ${home} does not answer at ${api}: ${(err as Error).message}${cause === undefined ? '' : ` (${cause})`}`,
      EXIT.network,
      'NETWORK',
    );
  }
  if (body.error !== undefined) {
    const usage = body.error.code === 'NOT_A_HOME' || body.error.code === 'BACKUP_INVALID';
    throw new CliError(`${body.error.code}: ${body.error.message}`, usage ? EXIT.usage : EXIT.failed, body.error.code);
  }
  return body;
}

/** BackupError → CliError: a running node or an existing target is a refusal (1), a bad path or file is usage (2). */
async function refusing<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (err) {
    if (!(err instanceof BackupError)) throw err;
    const usage = err.code === 'NOT_A_HOME' || err.code === 'BACKUP_INVALID';
    throw new CliError(`${err.code}: ${err.message}`, usage ? EXIT.usage : EXIT.failed, err.code);
  }
}

export function registerBackupCommands(program: Command): void {
  program
    .command('backup')
    .description('snapshot a node home (chain database, vault, keys, config) into one file, while the node runs or not')
    .requiredOption('--home <dir>', 'the node home')
    .requiredOption('--out <file>', 'the backup file to write (must not exist; mode 0600)')
    .option('--json', 'print the result as JSON')
    .action(async (o: { home: string; out: string; json?: boolean }) => {
      const home = resolve(o.home);
      const out = resolve(o.out);
      const running = runningNodeOf(home);
      const done = await refusing(() => (running === undefined ? backupStoppedHome(home, out) : backupRunning(home, running.api, out)));
      output(
        o,
        { file: o.out, ...done },
        () => `backed up ${o.home} at height ${done.height} (${done.files} files, ${done.bytes} bytes) to ${o.out}`,
      );
    });

  program
    .command('restore')
    .description('restore a backup into a node home; refused while a node runs on it')
    .requiredOption('--from <file>', 'the backup file')
    .requiredOption('--home <dir>', 'the node home to restore into')
    .option('--overwrite', 'the home has a chain database: move it aside (data.replaced-<time>) and restore')
    .option(
      '--no-signing-hold',
      'let the restored validator sign at once; only when the lost copy cannot have signed after the backup (docs/deploy.md)',
    )
    .option('--json', 'print the result as JSON')
    .action(async (o: { from: string; home: string; overwrite?: boolean; signingHold: boolean; json?: boolean }) => {
      const done = await refusing(() =>
        restoreHome(resolve(o.from), resolve(o.home), { overwrite: o.overwrite === true, signingHold: o.signingHold }),
      );
      output(o, { home: o.home, ...done }, () => [
        `restored ${o.home} to height ${done.height} of chain ${done.chainId} (${done.files} files)`,
        ...(done.movedAside === undefined ? [] : [`the old data directory is at ${done.movedAside}`]),
        done.signingHeld
          ? 'as a validator it signs nothing until the others commit a block stamped after this restore (no double-signing with votes the lost copy made)'
          : 'signing is not held: never run the lost copy again',
      ]);
    });
}
