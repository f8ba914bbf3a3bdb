// Finding and running the pinned CometBFT binary (docs/cometbft.md). The binary comes from
// scripts/install-cometbft.sh; nothing here downloads anything.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The CometBFT release MedLedger is tested against (scripts/install-cometbft.sh pins the same). */
export const COMETBFT_VERSION = 'v0.38.26';

/** Thrown when the binary is not installed; the message names the one command that installs it. */
export class CometBftMissingError extends Error {
  readonly code = 'COMETBFT_MISSING';
  constructor(where: string) {
    super(`CometBFT ${COMETBFT_VERSION} is not installed (looked at ${where}); run scripts/install-cometbft.sh`);
    this.name = 'CometBftMissingError';
  }
}

/**
 * The binary: $MEDLEDGER_COMETBFT when set, else where scripts/install-cometbft.sh caches it
 * ($MEDLEDGER_COMETBFT_CACHE, else $XDG_CACHE_HOME or ~/.cache, then medledger/cometbft/<version>/cometbft).
 * Throws CometBftMissingError.
 */
export function cometBftBinary(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.MEDLEDGER_COMETBFT;
  const cache = env.MEDLEDGER_COMETBFT_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'medledger', 'cometbft');
  const path = fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(cache, COMETBFT_VERSION, 'cometbft');
  if (!existsSync(path)) throw new CometBftMissingError(path);
  return path;
}

/** A running `cometbft start`: its process, the tail of its output, and a way to stop it. */
export interface CometBftProcess {
  child: ChildProcess;
  /** The last lines CometBFT printed (for a failing test's message). */
  tail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Start CometBFT on `home`; `onExit` runs if it exits on its own (the supervisor stops the app then). */
export function startCometBft(
  opts: { binary: string; home: string },
  onExit?: (code: number | null, signal: string | null) => void,
): CometBftProcess {
  const child = spawn(opts.binary, ['start', '--home', opts.home], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(line);
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let stopping = false;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      if (!stopping) onExit?.(code, signal);
      resolve();
    });
  });
  return {
    child,
    tail: () => lines.slice(-40).join('\n'),
    stop: async (graceMs = 5000) => {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
