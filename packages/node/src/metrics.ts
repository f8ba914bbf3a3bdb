// Prometheus metrics of one node (docs/deploy.md "Monitoring"), with prom-client: one registry
// per node (no module-level singleton, so nodes in one process do not mix their figures).
// Gauges read the node through narrow ports when scraped; the counters and histograms are fed
// by the node as blocks commit and transactions are refused.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What the metrics read from the node when scraped. */
export interface MetricsPorts {
  height: () => number;
  /** The consensus round at the current height, or undefined when not running consensus. */
  round: () => number | undefined;
  peers: () => { connected: number; configured: number };
  mempool: () => { txs: number; bytes: number };
  vault: () => { objects: number; bytes: number };
  /** This validator's re-sharing of emergency keys toward the current set (reshare-agent.ts). */
  reshare: () => { dealt: number; done: boolean };
}

/** A node's metrics; `text()` is the Prometheus exposition the `/metrics` route serves. */
export class NodeMetrics {
  readonly registry = new Registry();
  private readonly commitLatency: Histogram;
  private readonly appExecution: Histogram;
  private readonly rejected: Counter<'code'>;

  constructor(ports: MetricsPorts) {
    const registers = [this.registry];
    const gauge = (name: string, help: string, read: () => number | undefined) =>
      new Gauge({
        name,
        help,
        registers,
        collect(this: Gauge) {
          const v = read();
          if (v !== undefined) this.set(v);
        },
      });
    gauge('medledger_height', 'Height of the last committed block', ports.height);
    gauge('medledger_consensus_round', 'Consensus round at the current height', ports.round);
    gauge('medledger_peers_connected', 'Peers with an open, authenticated connection', () => ports.peers().connected);
    gauge('medledger_peers_configured', 'Peers in this node configuration', () => ports.peers().configured);
    gauge('medledger_mempool_txs', 'Transactions waiting in the mempool', () => ports.mempool().txs);
    gauge('medledger_mempool_bytes', 'Canonical bytes of the transactions in the mempool', () => ports.mempool().bytes);
    gauge('medledger_vault_objects', 'Objects (ciphertexts and key envelopes) held in this node vault', () => ports.vault().objects);
    gauge('medledger_vault_bytes', 'Bytes held in this node vault', () => ports.vault().bytes);
    gauge(
      'medledger_emergency_reshare_pending',
      '1 while this validator still has emergency shares to re-share to the current validator set, else 0',
      () => (ports.reshare().done ? 0 : 1),
    );
    gauge(
      'medledger_emergency_reshare_dealt',
      'Patients whose emergency share this validator dealt to the current validator set since it changed',
      () => ports.reshare().dealt,
    );
    this.commitLatency = new Histogram({
      name: 'medledger_commit_latency_seconds',
      help: "From a block's time (its proposer's clock) to its commit on this node",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers,
    });
    this.appExecution = new Histogram({
      name: 'medledger_app_execution_seconds',
      help: 'Time the application took to execute one block (finalizeBlock)',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    });
    this.rejected = new Counter({
      name: 'medledger_rejected_txs_total',
      help: 'Transactions refused at admission or in a block, by stable error code',
      labelNames: ['code'],
      registers,
    });
  }

  /** A block committed here `latencyMs` after its block time (clamped at 0: clocks differ by up to the drift bound). */
  observeCommit(latencyMs: number): void {
    this.commitLatency.observe(Math.max(0, latencyMs) / 1000);
  }

  observeAppExecution(ms: number): void {
    this.appExecution.observe(ms / 1000);
  }

  countRejected(code: string): void {
    this.rejected.inc({ code });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
