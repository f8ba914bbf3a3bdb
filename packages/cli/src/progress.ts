// Progress for long imports: a bar (cli-progress) on a terminal, plain lines otherwise, on
// stderr so that --json output on stdout stays one document.
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

/** A progress reporter titled `title`; `quiet` reports nothing. */
export function progress(title: string, opts: { quiet?: boolean } = {}): Progress {
  if (opts.quiet) return { update: () => {}, stop: () => {} };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${title} [{bar}] {value}/{total} records`, stream: process.stderr, hideCursor: true, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(done, total) {
        if (!started) {
          bar.start(total, done);
          started = true;
        } else bar.update(done);
      },
      stop: () => bar.stop(),
    };
  }
  // Plain lines: the start, every tenth of the way, and the end.
  let lastTenth = -1;
  return {
    update(done, total) {
      const tenth = total === 0 ? 10 : Math.floor((10 * done) / total);
      if (tenth === lastTenth) return;
      lastTenth = tenth;
      process.stderr.write(`${title}: ${done}/${total} records\n`);
    },
    stop: () => {},
  };
}
