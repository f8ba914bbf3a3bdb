// Offline verification of a node's stored chain (the `medledger verify` command): every
// block as stored on disk is parsed, checked by ledger's pure verifyChain, and the
// application is replayed from genesis to the same app hashes.
import {
  type Block,
  blockHash,
  type ChainVerification,
  type Commit,
  type Genesis,
  parseBlock,
  parseCommit,
  verifyChain,
} from '@medledger/ledger';
import { MemoryStore, type NodeStore } from '@medledger/storage';
import { Chain } from './chain.js';

/** Thrown while reading stored blocks, carrying the height that could not be read. */
class StoredBlockError extends Error {
  constructor(
    readonly height: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function* storedBlocks(store: NodeStore): Generator<{ block: Block; commit: Commit }> {
  const tip = store.tipHeight();
  for (let h = 1; h <= tip; h++) {
    const raw = store.loadBlockRaw(h);
    if (raw === undefined) throw new StoredBlockError(h, 'HEIGHT_GAP', `block ${h} is missing from the store`);
    let block: Block;
    let commit: Commit;
    try {
      block = parseBlock(JSON.parse(raw.block));
      commit = parseCommit(JSON.parse(raw.commit));
    } catch (err) {
      throw new StoredBlockError(h, 'MALFORMED_BLOCK', `stored block ${h} cannot be read: ${(err as Error).message}`);
    }
    if (blockHash(block.header) !== raw.hash) {
      throw new StoredBlockError(h, 'BAD_BLOCK_HASH', `stored block ${h} does not match its recorded hash`);
    }
    yield { block, commit };
  }
}

/**
 * Verify everything in `store` against `genesis`: links, tx roots, tx signatures, commit
 * signatures, and an application replay into a scratch in-memory store.
 */
export function verifyStoredChain(genesis: Genesis, store: NodeStore): ChainVerification {
  const base = store.baseHeight();
  if (base > 1)
    return {
      ok: false,
      height: 1,
      code: 'STATE_SYNCED',
      reason: `this node joined by state sync at height ${base} and holds no block below it, so its chain cannot be replayed from genesis; verify a node that holds the whole chain`,
    };
  const replay = new Chain(genesis, new MemoryStore());
  const commits = new Map<number, Commit>();
  const blocks = (function* () {
    for (const entry of storedBlocks(store)) {
      const height = entry.block.header.height;
      commits.set(height, entry.commit);
      // A new validator set is read from the replayed state, never the store's (chain.ts nextValidatorsOf).
      yield {
        ...entry,
        get nextValidators() {
          return replay.nextValidatorsOf(height);
        },
      };
    }
  })();
  try {
    return verifyChain(genesis, blocks, {
      replay: (block) => {
        const height = block.header.height;
        const commit = commits.get(height) as Commit;
        commits.delete(height);
        try {
          return replay.commitBlock(block, commit).appHash;
        } catch (err) {
          throw new StoredBlockError(height, 'REPLAY_FAILED', `replaying block ${height} failed: ${(err as Error).message}`);
        }
      },
    });
  } catch (err) {
    if (err instanceof StoredBlockError) return { ok: false, height: err.height, code: err.code, reason: err.message };
    throw err;
  }
}
