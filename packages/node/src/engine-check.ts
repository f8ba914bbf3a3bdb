// The engine is part of genesis (docs/cometbft.md "The engine is fixed by genesis"): a node
// asked to run one engine refuses a genesis that names the other, before it opens anything.
import { type ConsensusEngine, type Genesis, genesisEngine } from '@medledger/ledger';

/** Thrown at startup when the genesis names another engine than the one the node was asked to run. */
export class EngineMismatchError extends Error {
  readonly code = 'ENGINE_MISMATCH';
  constructor(message: string) {
    super(message);
    this.name = 'EngineMismatchError';
  }
}

/** Refuse to run `engine` on `genesis` unless genesis names it (absent names 'embedded'). Throws EngineMismatchError. */
export function requireGenesisEngine(genesis: Pick<Genesis, 'engine' | 'chainId'>, engine: ConsensusEngine): void {
  const named = genesisEngine(genesis);
  if (named === engine) return;
  const how = named === 'cometbft' ? "start it with '--engine cometbft'" : "start it without '--engine cometbft'";
  throw new EngineMismatchError(
    `the genesis of chain '${genesis.chainId}' names the ${named} engine, not ${engine}: ${how}, or make a new chain with 'medledger init --engine ${engine}'`,
  );
}
