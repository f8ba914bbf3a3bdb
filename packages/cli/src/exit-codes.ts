// The CLI's exit codes, a stable contract for scripts (docs/cli.md "Exit codes").

export const EXIT = {
  /** Done. */
  ok: 0,
  /** The operation failed: the node refused or rejected it, a check (verify, prove) failed. */
  failed: 1,
  /** Bad usage or input: unknown option, missing argument, unreadable or invalid file. */
  usage: 2,
  /** A keystore did not open: wrong passphrase, or the file was altered. */
  passphrase: 3,
  /** No answer from the node (connection refused, timeout). */
  network: 4,
  /** The node said no: not signed in, access denied, not authorized. */
  denied: 5,
  /** What was asked for does not exist or was erased. */
  notFound: 6,
} as const;

/** An error that carries the process exit code to use and, optionally, a stable code for --json. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly code = 'CLI_ERROR',
  ) {
    super(message);
  }
}
