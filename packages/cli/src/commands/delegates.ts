// Delegate commands (docs/cli.md "Delegates"): a patient invites a delegate, the delegate
// accepts (only then does the delegation take effect), the patient shares existing records
// with an accepted delegate, and either side lists or ends delegations.
import type { Command } from 'commander';
import { clientFor, GENESIS_HELP, genesisArg, genesisDefault, hexArg, loadKeys, output } from '../cli-support.js';

const URL_HELP = 'node API URL (default: $MEDLEDGER_URL)';
const urlDefault = process.env.MEDLEDGER_URL;

interface Common {
  key: string;
  url: string;
  genesis?: string;
  json?: boolean;
}

export function registerDelegateCommands(program: Command): void {
  const delegate = program.command('delegate').description('delegates (guardians) who manage a patient’s records once they accept');
  delegate
    .command('set')
    .description('invite someone to be your delegate; it takes effect when they accept')
    .requiredOption('--key <file>', 'the patient keystore')
    .requiredOption('--delegate <id>', 'identity id of the delegate')
    .requiredOption('--url <url>', URL_HELP, urlDefault)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the result as JSON')
    .action(async (opts: Common & { delegate: string }) => {
      const id = hexArg(opts.delegate, '--delegate', 20);
      const client = clientFor(opts.url, await loadKeys(opts.key), await genesisArg(opts));
      const done = await client.setDelegate(id);
      output(
        opts,
        { patient: client.id, delegate: id, status: 'pending', txHash: done.hash, height: done.height },
        () => `invited ${id}; they become your delegate when they run: medledger delegate accept --patient ${client.id}`,
      );
    });
  delegate
    .command('accept')
    .description("accept a patient's invitation to be their delegate")
    .requiredOption('--key <file>', 'your (the delegate’s) keystore')
    .requiredOption('--patient <id>', 'the patient who invited you')
    .requiredOption('--url <url>', URL_HELP, urlDefault)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the result as JSON')
    .action(async (opts: Common & { patient: string }) => {
      const patient = hexArg(opts.patient, '--patient', 20);
      const client = clientFor(opts.url, await loadKeys(opts.key), await genesisArg(opts));
      const done = await client.acceptDelegation(patient);
      output(
        opts,
        { patient, delegate: client.id, status: 'accepted', txHash: done.hash, height: done.height },
        () =>
          `you are now a delegate of ${patient} (height ${done.height}); they share their existing records with: medledger delegate share`,
      );
    });
  delegate
    .command('share')
    .description('seal the keys of existing records for an accepted delegate (those they lack)')
    .requiredOption('--key <file>', 'the patient (or another accepted delegate) keystore')
    .requiredOption('--delegate <id>', 'identity id of the accepted delegate')
    .option('--patient <id>', "the patient, when you act as a delegate (default: the key's own id)")
    .requiredOption('--url <url>', URL_HELP, urlDefault)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the result as JSON')
    .action(async (opts: Common & { delegate: string; patient?: string }) => {
      const id = hexArg(opts.delegate, '--delegate', 20);
      const client = clientFor(opts.url, await loadKeys(opts.key), await genesisArg(opts));
      const patient = opts.patient === undefined ? client.id : hexArg(opts.patient, '--patient', 20);
      const r = await client.shareWithDelegate(id, patient);
      output(opts, { patient, delegate: id, shared: r.shared, txHashes: r.shareTxHashes }, () => `shared ${r.shared} record(s) with ${id}`);
    });
  delegate
    .command('list')
    .description('your delegates (as a patient) and the patients who named you, each pending or accepted')
    .requiredOption('--key <file>', 'your keystore')
    .requiredOption('--url <url>', URL_HELP, urlDefault)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the result as JSON')
    .action(async (opts: Common) => {
      const client = clientFor(opts.url, await loadKeys(opts.key), await genesisArg(opts));
      const [mine, forOthers] = await Promise.all([client.delegates(client.id), client.myDelegations()]);
      output(opts, { delegates: mine, delegating: forOthers }, () => [
        `my delegates (${mine.length}):`,
        ...mine.map((d) => `  ${d.delegate}  ${d.status}`),
        `patients who named me (${forOthers.length}):`,
        ...forOthers.map((d) => `  ${d.patient}  ${d.status}`),
      ]);
    });
  delegate
    .command('remove')
    .description('end a delegation (the patient), or step down or decline (the delegate)')
    .requiredOption('--key <file>', 'the patient or the delegate keystore')
    .requiredOption('--patient <id>', 'the patient')
    .requiredOption('--delegate <id>', 'the delegate')
    .requiredOption('--url <url>', URL_HELP, urlDefault)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the result as JSON')
    .action(async (opts: Common & { patient: string; delegate: string }) => {
      const patient = hexArg(opts.patient, '--patient', 20);
      const id = hexArg(opts.delegate, '--delegate', 20);
      const client = clientFor(opts.url, await loadKeys(opts.key), await genesisArg(opts));
      const done = await client.removeDelegate(patient, id);
      output(opts, { patient, delegate: id, txHash: done.hash, height: done.height }, () => `removed ${id} as delegate of ${patient}`);
    });
}
