// The last blocks CometBFT committed, as the node's transaction status needs them
// (`GET /v1/txs/:hash`): each transaction's RFC 9162 inclusion proof against the Merkle root
// of the block's transactions (the same tree MedLedger headers name). CometBFT keeps the
// blocks themselves; the node keeps the transactions of the last `capacity` blocks it saw
// committed, from the application's commit listener.
import { toHex } from '@medledger/crypto';
import { inclusionProofFromLevels, leafHash, merkleLevels, merkleRootFromLeafHashes, type SignedTx, txBytes } from '@medledger/ledger';
import type { InclusionProofView, TxProofSource } from '../block-proofs.js';

interface RecentBlock {
  hash: string;
  txs: readonly SignedTx[];
  levels?: Uint8Array[][];
}

export class CometRecentBlocks implements TxProofSource {
  private readonly blocks = new Map<number, RecentBlock>();

  constructor(private readonly opts: { capacity: number }) {}

  /** A block committed (commit listener): remember its transactions; forget the oldest beyond capacity. */
  add(height: number, hash: string, txs: readonly SignedTx[]): void {
    this.blocks.set(height, { hash, txs });
    while (this.blocks.size > this.opts.capacity) this.blocks.delete(this.blocks.keys().next().value as number);
  }

  /** The transactions of block `height` if it is among the last `capacity` committed here. */
  txsAt(height: number): readonly SignedTx[] | undefined {
    return this.blocks.get(height)?.txs;
  }

  /** The block at `height` if it is among the last `capacity` committed here, else undefined. */
  get(
    height: number,
  ): { stored: { hash: string; block: { txs: readonly SignedTx[] } }; proof(index: number): InclusionProofView } | undefined {
    const b = this.blocks.get(height);
    if (b === undefined) return undefined;
    return {
      stored: { hash: b.hash, block: { txs: b.txs } },
      proof(index) {
        b.levels ??= merkleLevels(b.txs.map((tx) => leafHash(txBytes(tx))));
        const leaves = b.levels[0] ?? [];
        return {
          leafIndex: index,
          treeSize: leaves.length,
          root: toHex(merkleRootFromLeafHashes(leaves)),
          path: inclusionProofFromLevels(b.levels, index).map(toHex),
        };
      },
    };
  }
}
