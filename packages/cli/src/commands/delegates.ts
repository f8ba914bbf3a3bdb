// Delegate commands (docs/cli.md "Delegates"): a patient invites a delegate, the delegate
// accepts (only then does the delegation take effect), the patient shares existing records
// with an accepted delegate, and either side lists or ends delegations (the patient can
// revoke, in the same command, the shares the delegate made, which outlive the delegation).
import type { Grant } from '@medledger/client';
import type { Command } from 'commander';
import { clientFor, errorCodeOf, exitCodeFor, GENESIS_HELP, genesisArg, genesisDefault, hexArg, loadKeys, output } from '../cli-support.js';
import { CliError, EXIT } from '../exit-codes.js';

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
    .description(
      'end a delegation (the patient), or step down or decline (the delegate); shares the delegate made stay until revoked (--revoke-their-shares)',
    )
    .requiredOption('--key <file>', 'the patient or the delegate keystore')
    .requiredOption('--patient <id>', 'the patient')
    .requiredOption('--delegate <id>', 'the delegate')
    .option('--revoke-their-shares', 'the patient: also revoke every active share (grant) this delegate made, and print them')
    .requiredOption('--url <url>', URL_HELP, urlDefault)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the result as JSON')
    .action(async (opts: Common & { patient: string; delegate: string; revokeTheirShares?: boolean }) => {
      const patient = hexArg(opts.patient, '--patient', 20);
      const id = hexArg(opts.delegate, '--delegate', 20);
      const genesis = await genesisArg(opts);
      const client = clientFor(opts.url, await loadKeys(opts.key), genesis);
      const asPatient = client.id === patient;
      if (opts.revokeTheirShares === true && !asPatient)
        throw new CliError(
          '--revoke-their-shares is for the patient; a delegate stepping down revokes their shares first with: medledger consent revoke',
          EXIT.usage,
          'INVALID_ARGUMENT',
        );
      // Refused before anything is signed: which shares are theirs is read from proven state only.
      if (opts.revokeTheirShares === true && genesis === undefined)
        throw new CliError(
          '--revoke-their-shares needs a trusted genesis (--genesis or MEDLEDGER_GENESIS) to find the shares they made; nothing was removed',
          EXIT.usage,
          'NO_TRUSTED_GENESIS',
        );
      const done = await client.removeDelegate(patient, id);
      const removed = { patient, delegate: id, txHash: done.hash, height: done.height };
      const removedLine = `removed ${id} as delegate of ${patient}`;
      if (!asPatient) return output(opts, removed, () => removedLine);
      if (genesis === undefined)
        return output(opts, { ...removed, theirActiveShares: null }, () => [
          removedLine,
          'the shares they made were not checked (no trusted genesis); they stay in force until revoked: see them with medledger consent list --genesis FILE',
        ]);
      // Listed after the removal, from the proven complete list: a delegate can make no share
      // once removed, so none they made while this ran is missed.
      const theirs = await afterRemoval(removedLine, () => client.grantsMadeBy(patient, id));
      if (opts.revokeTheirShares !== true)
        return output(opts, { ...removed, theirActiveShares: theirs.map((g) => g.id) }, () => [
          removedLine,
          ...(theirs.length === 0
            ? []
            : [
                `${id} made ${theirs.length} share(s) for you that are still active; they keep working until you revoke them:`,
                ...theirs.map((g) => `  ${shareLine(g)}`),
                `revoke one with: medledger consent revoke --key ${opts.key} --grant ID`,
              ]),
        ]);
      const revoked: Array<{ grant: string; grantee: string; txHash: string; height: number }> = [];
      for (const g of theirs) {
        const stillActive = theirs.slice(revoked.length).map((x) => x.id);
        const progress = `${removedLine}; revoked ${revoked.length} of the ${theirs.length} share(s) they made; still active: ${stillActive.join(', ')}`;
        const r = await afterRemoval(progress, () => client.revoke(g.id));
        revoked.push({ grant: g.id, grantee: g.grantee, txHash: r.hash, height: r.height });
      }
      output(opts, { ...removed, revoked }, () => [
        removedLine,
        theirs.length === 0 ? `${id} made no share that is still active` : `revoked ${theirs.length} share(s) ${id} made:`,
        ...theirs.map((g, i) => `  ${shareLine(g)}  (revoked at height ${revoked[i]?.height})`),
      ]);
    });
}

/** One share in a line: id, grantee, what it covers, until when. */
function shareLine(g: Grant): string {
  const scope = [...(g.scope.categories ?? []), ...(g.scope.resourceTypes ?? []), ...(g.scope.records ?? [])].join(',');
  const until = g.expiresAt === undefined ? 'no end' : `until ${new Date(g.expiresAt).toISOString()}`;
  return `${g.id}  to ${g.grantee}  ${g.access} ${g.purpose}  ${until}  ${scope}`;
}

/** Run a step after the removal committed: a failure says what is already done, keeping the error's exit code. */
async function afterRemoval<T>(done: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw new CliError(`${done}; then: ${err instanceof Error ? err.message : String(err)}`, exitCodeFor(err), errorCodeOf(err));
  }
}
