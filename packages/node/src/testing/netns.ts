// Hosts for multi-host tests on one machine: a Linux network namespace per host, each with
// its own address on a veth pair to a bridge, made by the test and removed after it (also
// after a failure or a crash of the test process). Needs root and iproute2; `tc netem`
// adds delay between hosts where the kernel has it.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';

/** One namespace standing for a host. */
export interface LabHost {
  index: number;
  /** Namespace name (`ip netns exec NAME …`). */
  ns: string;
  /** The host's IPv4 address on the lab network. */
  address: string;
  /** The bridge side of its veth pair: set down to cut the host off. */
  link: string;
}

const run = (args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const quietly = (args: string[]): void => {
  try {
    run(args);
  } catch {}
};

/**
 * Why this machine cannot make network namespaces, or undefined when it can: tried for real
 * (add and delete a probe namespace), so only a kernel or sandbox that forbids it skips.
 * Throws when iproute2 itself is missing, which is a setup error, not a reason to skip.
 */
export function netnsUnavailable(): string | undefined {
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    throw new Error("the namespace tests need iproute2's `ip` command (apt-get install iproute2)");
  }
  const probe = `mlprobe${process.pid}`;
  try {
    run(['netns', 'add', probe]);
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? (err as Error).message).trim();
    return `network namespaces are not allowed here (ip netns add: ${stderr}); these tests need root on a kernel that permits them`;
  }
  quietly(['netns', 'del', probe]);
  return undefined;
}

/** A /24 under 10.0.0.0/8 that no interface or route of this machine uses yet. */
function freeSubnet(): string {
  const inUse = `${run(['-4', 'addr'])}\n${run(['-4', 'route'])}`;
  for (let attempt = 0; attempt < 200; attempt++) {
    const prefix = `10.${200 + ((process.pid + attempt * 7) % 50)}.${(process.pid * 31 + attempt * 13) % 250}`;
    if (!inUse.includes(`${prefix}.`)) return prefix;
  }
  throw new Error('no free 10.x.y.0/24 subnet for the namespace lab');
}

let labsMade = 0;
/** Signals that end a test run early; the lab is removed before the process goes. */
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * `count` hosts on one bridge (`<id>br`), host i at `<subnet>.(10+i)`, the bridge at
 * `<subnet>.1` so the test process reaches every host. A second bridge (`<id>bs`) holds the
 * hosts moved off by `split`. Every name carries the test process id, so labs of tests running
 * side by side do not meet (and a letter tells labs of one process apart).
 */
export class NetnsLab {
  readonly hosts: LabHost[] = [];
  /** The test process's address on the lab network. */
  readonly gateway: string;
  private readonly id: string;
  private readonly bridge: string;
  private readonly splitBridge: string;
  private readonly children = new Set<ChildProcess>();
  private destroyed = false;
  private readonly onExit = () => this.destroySync();
  /** A test run stopped by a signal (a CI timeout) removes the lab too, then dies of that signal as it would have. */
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.destroySync();
    process.kill(process.pid, signal);
  };

  private constructor(count: number) {
    // Unique per lab: several labs of one test process may exist at once.
    this.id = `ml${process.pid % 100_000}${String.fromCharCode(97 + (labsMade++ % 26))}`;
    this.bridge = `${this.id}br`;
    this.splitBridge = `${this.id}bs`;
    const subnet = freeSubnet();
    this.gateway = `${subnet}.1`;
    process.once('exit', this.onExit);
    for (const signal of STOP_SIGNALS) process.once(signal, this.onSignal);
    try {
      run(['link', 'add', this.bridge, 'type', 'bridge']);
      run(['addr', 'add', `${this.gateway}/24`, 'dev', this.bridge]);
      run(['link', 'set', this.bridge, 'up']);
      run(['link', 'add', this.splitBridge, 'type', 'bridge']);
      run(['link', 'set', this.splitBridge, 'up']);
      for (let i = 0; i < count; i++) {
        const host: LabHost = { index: i, ns: `${this.id}-h${i}`, address: `${subnet}.${10 + i}`, link: `${this.id}v${i}` };
        const inside = `${this.id}p${i}`;
        run(['netns', 'add', host.ns]);
        this.hosts.push(host);
        run(['link', 'add', host.link, 'type', 'veth', 'peer', 'name', inside]);
        run(['link', 'set', inside, 'netns', host.ns]);
        this.inNs(host, ['ip', 'link', 'set', inside, 'name', 'eth0']);
        this.inNs(host, ['ip', 'addr', 'add', `${host.address}/24`, 'dev', 'eth0']);
        this.inNs(host, ['ip', 'link', 'set', 'eth0', 'up']);
        this.inNs(host, ['ip', 'link', 'set', 'lo', 'up']);
        run(['link', 'set', host.link, 'master', this.bridge]);
        run(['link', 'set', host.link, 'up']);
      }
    } catch (err) {
      this.destroySync();
      throw err;
    }
  }

  /** Make a lab of `count` hosts. Throws (after removing what it made) when a step fails. */
  static create(count: number): NetnsLab {
    return new NetnsLab(count);
  }

  /** Run a command inside `host`'s namespace and return its stdout. */
  inNs(host: LabHost, argv: string[]): string {
    return execFileSync('ip', ['netns', 'exec', host.ns, ...argv], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Start a long-running process inside `host`'s namespace; destroy() stops it. */
  spawn(host: LabHost, argv: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
    // `ip netns exec` execs the command, so the child's pid is the command's own.
    const child = spawn('ip', ['netns', 'exec', host.ns, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Cut `host` off the network: its bridge-side link goes down (`ip link set … down`). */
  cut(host: LabHost): void {
    run(['link', 'set', host.link, 'down']);
  }

  /** Bring a cut host back. */
  restore(host: LabHost): void {
    run(['link', 'set', host.link, 'up']);
  }

  /**
   * Partition the network: `group` moves to a bridge of its own, so its hosts reach each
   * other but no host outside it (nor the test process, which is on the first bridge).
   */
  split(group: LabHost[]): void {
    for (const host of group) run(['link', 'set', host.link, 'master', this.splitBridge]);
  }

  /** Undo `split`: every host back on the first bridge. */
  join(): void {
    for (const host of this.hosts) run(['link', 'set', host.link, 'master', this.bridge]);
  }

  /**
   * Delay every packet each host sends by `ms` (tc netem on its eth0), so any two hosts are
   * `ms` apart one way. Returns why not when the kernel has no netem; 0 removes the delay.
   */
  delay(ms: number): string | undefined {
    for (const host of this.hosts) {
      try {
        if (ms === 0) this.inNs(host, ['tc', 'qdisc', 'del', 'dev', 'eth0', 'root']);
        else this.inNs(host, ['tc', 'qdisc', 'replace', 'dev', 'eth0', 'root', 'netem', 'delay', `${ms}ms`]);
      } catch (err) {
        return `tc netem is not available: ${String((err as { stderr?: unknown }).stderr ?? (err as Error).message).trim()}`;
      }
    }
    return undefined;
  }

  /** Stop every process started in the lab (SIGTERM, then SIGKILL after `graceMs`), then remove it. */
  async destroy(graceMs = 5_000): Promise<void> {
    await Promise.all(
      [...this.children].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
    this.destroySync();
  }

  /** Remove namespaces, veths and bridges; safe to call twice and from an exit handler. */
  private destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    process.off('exit', this.onExit);
    for (const signal of STOP_SIGNALS) process.off(signal, this.onSignal);
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const host of this.hosts) {
      quietly(['link', 'del', host.link]);
      quietly(['netns', 'del', host.ns]);
    }
    quietly(['link', 'del', this.bridge]);
    quietly(['link', 'del', this.splitBridge]);
  }
}
