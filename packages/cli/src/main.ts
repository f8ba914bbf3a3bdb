// The `medledger` command line. Exit codes (exit-codes.ts, docs/cli.md): 0 success, 1 the
// operation failed, 2 bad usage or input, 3 wrong passphrase, 4 node unreachable, 5 denied,
// 6 not found.
import { Command, CommanderError } from 'commander';
import { errorCodeOf, exitCodeFor } from './cli-support.js';
import { registerBackupCommands } from './commands/backup.js';
import { registerChainCommands } from './commands/chain.js';
import { registerDelegateCommands } from './commands/delegates.js';
import { registerEmergencyCommands } from './commands/emergency.js';
import { registerGovCommands } from './commands/gov.js';
import { registerInsuranceCommands } from './commands/insurance.js';
import { registerMedicinesCommands } from './commands/medicines.js';
import { registerParticipantCommands } from './commands/participants.js';
import { registerTlsCommands } from './commands/tls.js';
import { registerTokenCommand } from './commands/token.js';

const program = new Command()
  .name('medledger')
  .description('MedLedger: a permissioned blockchain for electronic health records')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();

registerChainCommands(program);
registerTlsCommands(program);
registerEmergencyCommands(program);
registerTokenCommand(program);
registerParticipantCommands(program);
registerDelegateCommands(program);
registerInsuranceCommands(program);
registerMedicinesCommands(program);
registerGovCommands(program);
registerBackupCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // The parser already explained it on stderr; --json promises one JSON document on stdout (docs/cli.md).
    if (err.exitCode !== 0 && process.argv.includes('--json'))
      process.stdout.write(`${JSON.stringify({ error: { code: 'USAGE', message: err.message.replace(/^error: /, '') } })}\n`);
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  let message = (err as Error).message;
  // The SDK says a trusted genesis is missing; the CLI says how to give one (docs/cli.md "Trusted genesis").
  if (errorCodeOf(err) === 'NO_TRUSTED_GENESIS' || message.startsWith('NO_TRUSTED_GENESIS'))
    message +=
      '; pass --genesis FILE (or its SHA-256), or set MEDLEDGER_GENESIS: `medledger start` and `medledger init` print where genesis.json is';
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify({ error: { code: errorCodeOf(err), message } })}\n`);
  process.stderr.write(`error: ${message}\n`);
  process.exit(exitCodeFor(err));
}
