// Emergency ("break-glass") access commands (docs/emergency.md): an organization grants or
// revokes the privilege, a clinician opens a window and waits for the validators' shares,
// patients, privacy officers and clinicians list windows, and a patient rotates the key.
import {
  ClientError,
  closeEmergencyWindow,
  type EmergencyListing,
  type EmergencyWindow,
  listEmergency,
  openEmergency,
  rotateEmergencyKey,
  setEmergencyPrivilege,
} from '@medledger/client';
import type { Command } from 'commander';
import { clientFor, exitCodeFor, GENESIS_HELP, genesisArg, genesisDefault, loadKeys } from '../cli-support.js';
import { EXIT } from '../exit-codes.js';
import { CliError } from './chain.js';

/** Exit code of `emergency open` when the window opened but the key could not be rebuilt yet. */
export const EXIT_PENDING = EXIT.pending;

// Refusals that mean the input was wrong, not that the operation was refused.
const USAGE_CODES = new Set(['INVALID_BODY', 'INVALID_ARGUMENT', 'INVALID_PARAM']);

function positiveInt(name: string) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!/^[0-9]+$/.test(raw) || !Number.isSafeInteger(n) || n < 1) throw new CliError(`${name} must be a positive integer`, 2);
    return n;
  };
}

function hexId(name: string) {
  return (raw: string): string => {
    if (!/^[0-9a-f]{40}$/.test(raw)) throw new CliError(`${name} must be a 20-byte hex identity id`, 2);
    return raw;
  };
}

// Turn the SDK's refusals into exit codes; the message carries the chain's stable code.
async function run<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (err) {
    if (err instanceof ClientError) {
      const exit = err.code === 'EMERGENCY_PENDING' ? EXIT_PENDING : USAGE_CODES.has(err.code) ? EXIT.usage : exitCodeFor(err);
      const message = err.message.startsWith(`${err.code}:`) ? err.message : `${err.code}: ${err.message}`;
      throw new CliError(message, exit, err.code);
    }
    throw err;
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

function describeWindow(w: EmergencyWindow): string[] {
  const lines = [
    `window ${w.id}  ${w.status}${w.active ? ` until ${iso(w.expiresAt)}` : ` (closed ${iso(w.expiresAt)})`}`,
    `  patient ${w.patient}, clinician ${w.clinician} of organization ${w.org}`,
    // The reason is sealed on chain; the SDK opened it with this key when it was sealed to it.
    `  reason: ${w.reason ?? '(sealed: only the patient, the clinician, the organization and its privacy officers can read it)'}`,
    `  opened ${iso(w.openedAt.time)} at height ${w.openedAt.height} for ${Math.round(w.durationMs / 60_000)} min; shares ${w.sharesPosted}/${w.commitments.length}, ${w.threshold} needed`,
  ];
  for (const a of w.accesses ?? []) lines.push(`  read ${String(a.record)} ${String(a.decision)} at height ${String(a.height)}`);
  return lines;
}

function printListing(listing: EmergencyListing): void {
  if (listing.as === 'patient') {
    console.log(`emergency key ${listing.emergencyKey ?? '(none)'}`);
    if (listing.rotationRecommended)
      console.log('an emergency window was opened since the key was split: rotate it with `medledger emergency rotate`');
  }
  if (listing.windows.length === 0) console.log('no emergency windows');
  for (const w of listing.windows) for (const line of describeWindow(w)) console.log(line);
}

export function registerEmergencyCommands(program: Command): void {
  const emergency = program.command('emergency').description('emergency ("break-glass") access: privilege, open, list, end, rotate');

  emergency
    .command('privilege')
    .description("grant (or with --revoke take back) one of the organization's clinicians the emergency privilege")
    .requiredOption('--org-key <file>', "the organization's admin key file (org.key in its node home)")
    .requiredOption('--clinician <id>', 'clinician identity id', hexId('--clinician'))
    .option('--revoke', 'revoke the privilege instead')
    .requiredOption('--url <url>', 'API URL of any node (default: $MEDLEDGER_URL)', process.env.MEDLEDGER_URL)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the result as JSON')
    .action(async (opts: { orgKey: string; clinician: string; revoke?: boolean; url: string; genesis?: string; json?: boolean }) => {
      const org = clientFor(opts.url, await loadKeys(opts.orgKey), await genesisArg(opts));
      const done = await run(() => setEmergencyPrivilege(org, opts.clinician, opts.revoke === true));
      const granted = opts.revoke !== true;
      if (opts.json) console.log(JSON.stringify({ clinician: opts.clinician, granted, txHash: done.hash, height: done.height }));
      else
        console.log(
          `${granted ? 'granted' : 'revoked'} the emergency privilege of ${opts.clinician} (tx ${done.hash}, height ${done.height})`,
        );
    });

  emergency
    .command('open')
    .description("open an emergency window on a patient's records and wait until enough validators posted their shares")
    .requiredOption('--key <file>', "the clinician's key file")
    .requiredOption('--patient <id>', 'patient identity id', hexId('--patient'))
    .requiredOption(
      '--reason <text>',
      'why (one line, up to 500 characters): encrypted here to the patient, you, your organization and its privacy officers; never readable on chain',
    )
    .option('--minutes <m>', 'how long the window stays open (capped by the network)', positiveInt('--minutes'), 60)
    .option('--wait <seconds>', 'how long to wait for the shares', positiveInt('--wait'), 120)
    .requiredOption('--url <url>', 'API URL of any node (default: $MEDLEDGER_URL)', process.env.MEDLEDGER_URL)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the result as JSON')
    .action(
      async (opts: {
        key: string;
        patient: string;
        reason: string;
        minutes: number;
        wait: number;
        url: string;
        genesis?: string;
        json?: boolean;
      }) => {
        const clinician = clientFor(opts.url, await loadKeys(opts.key), await genesisArg(opts));
        const opened = await run(() =>
          openEmergency(clinician, {
            patient: opts.patient,
            reason: opts.reason,
            durationMs: opts.minutes * 60_000,
            timeoutMs: opts.wait * 1000,
            onProgress: (w) => {
              if (!opts.json) process.stderr.write(`shares posted: ${w.sharesPosted}/${w.commitments.length} (${w.threshold} needed)\n`);
            },
          }),
        );
        const w = opened.window;
        if (opts.json)
          console.log(
            JSON.stringify({
              window: opened.windowId,
              patient: w.patient,
              expiresAt: w.expiresAt,
              threshold: w.threshold,
              sharesPosted: w.sharesPosted,
              badShares: opened.badShares,
              txHash: opened.txHash,
            }),
          );
        else {
          console.log(`emergency window ${opened.windowId} is open until ${iso(w.expiresAt)}; the patient's key was rebuilt`);
          if (opened.badShares.length > 0) console.log(`wrong shares from validators: ${opened.badShares.join(', ')}`);
          console.log(
            `read with: medledger record list --key ${opts.key} --patient ${w.patient} (every read is logged as emergency access)`,
          );
        }
      },
    );

  emergency
    .command('list')
    .description('emergency windows: about you (patient), by your staff (privacy officer, organization), or your own (clinician)')
    .requiredOption('--key <file>', 'your key file')
    .option('--patient <id>', 'as a delegate: the patient you act for', hexId('--patient'))
    .requiredOption('--url <url>', 'API URL of any node (default: $MEDLEDGER_URL)', process.env.MEDLEDGER_URL)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the result as JSON')
    .action(async (opts: { key: string; patient?: string; url: string; genesis?: string; json?: boolean }) => {
      const client = clientFor(opts.url, await loadKeys(opts.key), await genesisArg(opts));
      const listing = await run(() => listEmergency(client, opts.patient === undefined ? {} : { patient: opts.patient }));
      if (opts.json) {
        // Shares are sealed to the clinician, but they stay out of printed output all the same.
        // The sealed form stays out too: `reason` is the opened text (null if not sealed to this key).
        console.log(JSON.stringify({ ...listing, windows: listing.windows.map(({ shares: _shares, sealedReason: _sealed, ...w }) => w) }));
      } else printListing(listing);
    });

  emergency
    .command('end')
    .description('end an open emergency window now (the patient, their delegate, or its clinician); change the key afterwards')
    .requiredOption('--key <file>', 'the key file of the patient, their delegate or the clinician')
    .requiredOption('--window <id>', 'the window id (from `emergency list`)')
    .requiredOption('--url <url>', 'API URL of any node (default: $MEDLEDGER_URL)', process.env.MEDLEDGER_URL)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the result as JSON')
    .action(async (opts: { key: string; window: string; url: string; genesis?: string; json?: boolean }) => {
      const client = clientFor(opts.url, await loadKeys(opts.key), await genesisArg(opts));
      const done = await run(() => closeEmergencyWindow(client, opts.window));
      if (opts.json) console.log(JSON.stringify({ window: opts.window, height: done.height }));
      else console.log(`emergency window ${opts.window} ended at height ${done.height}`);
    });

  emergency
    .command('rotate')
    .description("replace the patient's emergency key: split a new one among the validators and re-wrap every record")
    .requiredOption('--key <file>', "the patient's key file")
    .requiredOption('--url <url>', 'API URL of any node (default: $MEDLEDGER_URL)', process.env.MEDLEDGER_URL)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the result as JSON')
    .action(async (opts: { key: string; url: string; genesis?: string; json?: boolean }) => {
      const patient = clientFor(opts.url, await loadKeys(opts.key), await genesisArg(opts));
      const rotated = await run(() => rotateEmergencyKey(patient, (o) => patient.putObject(o)));
      if (opts.json) console.log(JSON.stringify(rotated));
      else console.log(`new emergency key ${rotated.emergencyKey}; ${rotated.rewrapped} records re-wrapped, old envelopes deleted`);
    });
}
