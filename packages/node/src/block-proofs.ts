// Committed blocks as the read routes need them: parsed once, with each transaction's leaf
// hash and the Merkle tree's levels. `GET /v1/txs/:hash` proves inclusion and
// `GET /v1/blocks/:height` lists leaves; without this, each call re-read the whole block
// and re-hashed every transaction in it (a 5,000-tx block cost ~10 ms per status lookup, so
// one client checking its batch's statuses could starve consensus).
import { toHex } from '@medledger/crypto';
import type { SignedTx } from '@medledger/ledger';
import { inclusionProofFromLevels, leafHash, merkleLevels, txBytes } from '@medledger/ledger';
import type { StoredBlock } from '@medledger/storage';

export interface InclusionProofView {
  leafIndex: number;
  treeSize: number;
  root: string;
  path: string[];
}

export interface ProvableBlock {
  stored: StoredBlock;
  /** RFC 9162 leaf hash of each transaction, hex, in block order. */
  leaves: string[];
  /** Inclusion proof of the transaction at `index` against the header's tx root. */
  proof(index: number): InclusionProofView;
}

/** What a transaction's status needs of its block: its hash, its transactions and an inclusion proof (admission.ts). */
export interface TxProofSource {
  get(
    height: number,
  ): { stored: { hash: string; block: { txs: readonly SignedTx[] } }; proof(index: number): InclusionProofView } | undefined;
}

export interface BlockProofsOptions {
  /** How many recent blocks to keep parsed and hashed (a few MB each at the block size cap). */
  capacity: number;
}

export interface BlockProofsDeps {
  loadBlock(height: number): StoredBlock | undefined;
}

export class BlockProofs {
  /** Least recently used first (Map keeps insertion order). */
  private readonly cache = new Map<number, ProvableBlock>();

  constructor(
    private readonly opts: BlockProofsOptions,
    private readonly deps: BlockProofsDeps,
  ) {}

  /** The committed block at `height`, or undefined if there is none. Blocks never change once committed. */
  get(height: number): ProvableBlock | undefined {
    const hit = this.cache.get(height);
    if (hit !== undefined) {
      this.cache.delete(height);
      this.cache.set(height, hit);
      return hit;
    }
    const stored = this.deps.loadBlock(height);
    if (stored === undefined) return undefined;
    const block = provable(stored);
    this.cache.set(height, block);
    while (this.cache.size > this.opts.capacity) this.cache.delete(this.cache.keys().next().value as number);
    return block;
  }
}

function provable(stored: StoredBlock): ProvableBlock {
  const hashes = stored.block.txs.map((tx) => leafHash(txBytes(tx)));
  const leaves = hashes.map(toHex);
  let levels: Uint8Array[][] | undefined;
  return {
    stored,
    leaves,
    proof(index) {
      levels ??= merkleLevels(hashes);
      return {
        leafIndex: index,
        treeSize: hashes.length,
        root: stored.block.header.txRoot,
        path: inclusionProofFromLevels(levels, index).map(toHex),
      };
    },
  };
}
