// The committed state the application reads: key-value state plus the authenticated state
// tree over it (docs/state.md). The node's store implements it; MemoryCommittedState is the
// in-memory twin for tests.
import { MemoryStateTree, type StateTreeReader, type StateTreeUpdate } from '@medledger/ledger';
import type { StateReader } from './state.js';

/** Committed state and its tree: what `finalizeBlock` computes the next app hash from. */
export interface CommittedState extends StateReader, StateTreeReader {
  /** Root of the committed state tree (hex). */
  stateRoot(): string;
}

/** What applying a block changes: the state writes and the tree update (as BlockExecution has). */
export interface CommittedChanges {
  writes: ReadonlyArray<{ key: string; value: string | null }>;
  tree: StateTreeUpdate;
}

/** Committed state in memory: apply each block's execution after "storing" it. */
export class MemoryCommittedState implements CommittedState {
  readonly values = new Map<string, string>();
  private readonly tree = new MemoryStateTree();

  getState(key: string): string | undefined {
    return this.values.get(key);
  }

  getTreeNode(hash: string): Uint8Array | undefined {
    return this.tree.getTreeNode(hash);
  }

  stateRoot(): string {
    return this.tree.root;
  }

  /** Apply a block's (or genesis's) writes and tree update. */
  apply(changes: CommittedChanges): void {
    for (const w of changes.writes) {
      if (w.value === null) this.values.delete(w.key);
      else this.values.set(w.key, w.value);
    }
    this.tree.apply(changes.tree);
  }
}
