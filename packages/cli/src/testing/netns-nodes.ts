// Real `medledger node` processes in the hosts of a NetnsLab (one network namespace each),
// with HTTPS APIs under init's self-signed certificates: start, stop and reach them from the
// test process, and run the CLI as an operator would (NODE_EXTRA_CA_CERTS naming the members'
// public certificates, docs/deploy.md "Certificates").
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import type { NodeConfig } from '@medledger/node';
import { type LabHost, type NetnsLab, TEST_PASSPHRASE, waitFor } from '@medledger/node/testing';
import { BIN, type CliRun, runCli } from './cli.js';

/** One node of the lab: its home and the host (namespace) it runs in. */
export interface LabNode {
  name: string;
  home: string;
  host: LabHost;
  child?: ChildProcess;
}

export class LabNodes {
  readonly nodes = new Map<string, LabNode>();
  /** Every node's public certificate in one PEM file: what API clients trust. */
  readonly caBundle: string;
  private readonly certs: string[] = [];

  constructor(
    private readonly lab: NetnsLab,
    dir: string,
  ) {
    this.caBundle = join(dir, 'ca-bundle.pem');
    writeFileSync(this.caBundle, '');
  }

  /** Add a node (its home made already) and trust its certificate (`tls/node.crt` in its home). */
  add(name: string, home: string, host: LabHost): LabNode {
    const node: LabNode = { name, home, host };
    this.nodes.set(name, node);
    this.certs.push(readFileSync(join(home, 'tls', 'node.crt'), 'utf8'));
    writeFileSync(this.caBundle, this.certs.join('\n'));
    return node;
  }

  get(name: string): LabNode {
    const node = this.nodes.get(name);
    if (node === undefined) throw new Error(`no lab node ${name}`);
    return node;
  }

  config(name: string): NodeConfig {
    return JSON.parse(readFileSync(join(this.get(name).home, 'config.json'), 'utf8')) as NodeConfig;
  }

  /** Change `name`'s config.json as its operator would. */
  editConfig(name: string, edit: (config: NodeConfig) => void): void {
    const config = this.config(name);
    edit(config);
    writeFileSync(join(this.get(name).home, 'config.json'), JSON.stringify(config, null, 2), { mode: 0o600 });
  }

  /** `https://ADDRESS:PORT` of `name`'s API. */
  url(name: string): string {
    const config = this.config(name);
    return `https://${this.get(name).host.address}:${config.api.port}`;
  }

  /** Start `medledger node --home` for `name` inside its host's namespace; resolves once its API serves. */
  start(name: string, timeoutMs = 120_000): Promise<void> {
    const node = this.get(name);
    const child = this.lab.spawn(node.host, [process.execPath, BIN, 'node', '--home', node.home], {
      ...process.env,
      MEDLEDGER_PASSPHRASE: TEST_PASSPHRASE,
    });
    node.child = child;
    const log = createWriteStream(join(node.home, 'node.log'), { flags: 'a' });
    child.stderr?.pipe(log);
    return new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(
        () => reject(new Error(`${name} did not serve within ${timeoutMs} ms; see ${join(node.home, 'node.log')}`)),
        timeoutMs,
      );
      child.stdout?.on('data', (c: Buffer) => {
        out += String(c);
        if (/API: https:\/\//.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (${code}) before serving; see ${join(node.home, 'node.log')}`));
      });
    });
  }

  /** Stop `name` with SIGTERM (a clean stop). */
  stop(name: string): Promise<void> {
    const child = this.get(name).child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  /** An HTTPS request to `name`'s API, trusting only the lab's certificates. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the API answered
  api(name: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: any }> {
    const target = new URL(this.url(name));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: target.hostname,
          port: Number(target.port),
          path,
          method,
          ca: readFileSync(this.caBundle),
          headers: { 'content-type': 'application/json' },
          timeout: 10_000,
        },
        (res) => {
          let text = '';
          res.on('data', (c) => {
            text += c;
          });
          res.on('end', () => {
            try {
              resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) });
            } catch {
              reject(new Error(`${name} answered ${path} with non-JSON (${res.statusCode})`));
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${name} API timed out`)));
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  /** GET `path` of `name`'s API as JSON, throwing on an error status (a light client's proof source). */
  async getJson(name: string, path: string): Promise<unknown> {
    const res = await this.api(name, 'GET', path);
    if (res.status !== 200) throw new Error(`${name} ${path}: ${res.status} ${JSON.stringify(res.json)}`);
    return res.json;
  }

  async height(name: string): Promise<number> {
    return (await this.api(name, 'GET', '/v1/status')).json.height as number;
  }

  /** Wait until `name` is at `height` or above. */
  reach(name: string, height: number, timeoutMs = 90_000): Promise<true> {
    return waitFor(async () => ((await this.height(name)) >= height ? true : undefined), `${name} to reach height ${height}`, timeoutMs);
  }

  /** The validator keys that signed the commit of block `height` on `name`. */
  async signers(name: string, height: number): Promise<string[]> {
    const { json } = await this.api(name, 'GET', `/v1/blocks/${height}`);
    return (json.commit.signatures as Array<{ validator: string }>).map((s) => s.validator);
  }

  /** Run the `medledger` CLI as an operator on the test's host, trusting the lab's certificates. */
  cli(args: string[]): Promise<CliRun> {
    return runCli(args, { env: { MEDLEDGER_PASSPHRASE: TEST_PASSPHRASE, NODE_EXTRA_CA_CERTS: this.caBundle } });
  }

  /**
   * Restart `names` one after another, each linked again to two peers before the next stops,
   * so a quorum stays up, with `edit` applied to its config while it is down.
   */
  async rollingRestart(names: string[], edit: (name: string, config: NodeConfig) => void): Promise<void> {
    for (const name of names) {
      await this.stop(name);
      this.editConfig(name, (c) => edit(name, c));
      await this.start(name);
      await waitFor(
        async () => {
          const peers = (await this.api(name, 'GET', '/v1/status')).json.peers as Array<{ connected: boolean }>;
          return peers.filter((p) => p.connected).length >= 2 ? true : undefined;
        },
        `${name} to link to its peers again`,
        60_000,
      );
    }
  }
}

/** Samples `height()` every 500 ms until stopped; reports the longest stretch without a new block. */
export function watchProgress(height: () => Promise<number>): { stop(): Promise<{ longestStallMs: number; from: number; to: number }> } {
  let last = -1;
  let lastChange = Date.now();
  let longest = 0;
  let first = -1;
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const h = await height();
        if (first < 0) first = h;
        if (h > last) {
          longest = Math.max(longest, Date.now() - lastChange);
          last = h;
          lastChange = Date.now();
        }
      } catch {
        // A node restarting is not a stall of the chain; the next sample decides.
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { longestStallMs: Math.max(longest, Date.now() - lastChange), from: first, to: last };
    },
  };
}
