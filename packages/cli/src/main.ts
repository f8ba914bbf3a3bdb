// The `medledger` command line. Exit codes: 0 success, 1 the operation failed (e.g. the
// chain did not verify), 2 bad usage or input.
import { Command, CommanderError } from 'commander';
import { registerChainCommands } from './commands/chain.js';
import { registerEmergencyCommands } from './commands/emergency.js';
import { registerTokenCommand } from './commands/token.js';

const program = new Command()
  .name('medledger')
  .description('MedLedger: a permissioned blockchain for electronic health records')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();

registerChainCommands(program);
registerEmergencyCommands(program);
registerTokenCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  process.stderr.write(`error: ${(err as Error).message}\n`);
  process.exit(typeof (err as { exitCode?: number }).exitCode === 'number' ? (err as { exitCode: number }).exitCode : 1);
}
