// The chain as the node's wiring (node.ts) uses it, whichever engine decides the blocks: the
// embedded engine's `Chain` (chain.ts) or CometBFT's view of the same application
// (abci/comet-chain.ts).
import type { GenesisValidator } from '@medledger/ledger';
import type { NodeStore } from '@medledger/storage';
import type { EhrApplication } from './application.js';
import type { RouteChain } from './route-deps.js';

export interface NodeChain extends RouteChain {
  readonly app: EhrApplication;
  /** The node's store: chain state and tx index, vault objects, outbox and metadata. */
  readonly store: NodeStore;
  /** Hash of the latest block (ZERO_HASH or '' before one is known). */
  readonly tipHash: string;
  /** The app hash after the latest block. */
  readonly appHash: string;
  /** Startup check of what is stored; throws with the first problem. */
  checkStoredChain(): void;
  /** The validator set that signs block `height` (up to the next one). */
  validatorsFor(height: number): readonly GenesisValidator[];
  /** The genesis block limits, lowered by governance. */
  blockLimits(): { maxBlockTxs: number; maxBlockBytes: number };
}
