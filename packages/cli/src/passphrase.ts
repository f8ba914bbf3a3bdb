// Where the CLI's keystore passphrase comes from: MEDLEDGER_PASSPHRASE for scripts, or a
// prompt on the terminal that does not echo what is typed.
import { PASSPHRASE_ENV } from '@medledger/node';
import { CliError, EXIT } from './exit-codes.js';

/**
 * The passphrase from MEDLEDGER_PASSPHRASE, or else typed at a no-echo prompt on the
 * terminal. Throws CliError(EXIT.usage) when neither is possible (no variable, no TTY).
 */
export async function getPassphrase(prompt = 'keystore passphrase: '): Promise<string> {
  const fromEnv = process.env[PASSPHRASE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!process.stdin.isTTY) throw new CliError(`set ${PASSPHRASE_ENV}, or run on a terminal to be asked for the passphrase`, EXIT.usage);
  const typed = await promptHidden(prompt);
  if (typed === '') throw new CliError('the passphrase cannot be empty', EXIT.usage);
  // Later keystores in the same run (and child node processes) use the same passphrase.
  process.env[PASSPHRASE_ENV] = typed;
  return typed;
}

function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    let typed = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new CliError('cancelled', EXIT.usage));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}
