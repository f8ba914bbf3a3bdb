// How a node decides blocks. The solo engine serves a one-validator chain; the
// Tendermint engine drives consensus among many.

/** A peer as reported in /v1/status. */
export interface PeerStatus {
  name: string;
  publicKey: string;
  connected: boolean;
}

export interface Engine {
  start(): void;
  stop(): void;
  /** A transaction entered the mempool. */
  onTx(): void;
}
