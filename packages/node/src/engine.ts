// How a node decides blocks, as the wiring (node.ts) sees an engine: started, stopped, and
// told when the mempool has work. The embedded Tendermint engine (tendermint.ts) is one; it
// drives the application through chain.ts and application.ts (docs/architecture.md).

/** A peer as reported in /v1/status. */
export interface PeerStatus {
  name: string;
  publicKey: string;
  connected: boolean;
}

export interface Engine {
  start(): void;
  stop(): void;
  /** A transaction entered the mempool; `tx`, when given, is gossiped to the peers. */
  onTx(tx?: unknown): void;
}
