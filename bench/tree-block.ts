// Micro-benchmark of the state tree's per-block cost on a real SQLite store (docs/state.md
// "What it costs a node"): a store with 10,000 keys, then blocks of 3,000 new keys (what
// 1,000 identity registrations write), timing the tree update (execute) and commitBlock
// (store) separately. Usage: node --import tsx bench/tree-block.ts [blocks]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type StateTreeReader, type StateTreeUpdate, updateStateTree } from '@medledger/ledger';
import { fakeBatch } from '../packages/storage/src/conformance.js';
import { openSqliteStore } from '../packages/storage/src/sqlite.js';
import { TreeNodeCache } from '../packages/node/src/tree-cache.js';

/** The cache before this change (one map, emptied when full), for paired runs: OLD=1. */
class OldCache implements StateTreeReader {
  private readonly cache = new Map<string, Uint8Array>();
  constructor(private readonly store: StateTreeReader) {}
  getTreeNode(hash: string): Uint8Array | undefined {
    const hit = this.cache.get(hash);
    if (hit !== undefined) return hit;
    const node = this.store.getTreeNode(hash);
    if (node !== undefined) this.remember(hash, node);
    return node;
  }
  add(update: StateTreeUpdate): void {
    for (const n of update.put) this.remember(n.hash, n.bytes);
  }
  private remember(hash: string, node: Uint8Array): void {
    if (this.cache.size >= 30_000) this.cache.clear();
    this.cache.set(hash, node);
  }
}
let misses = 0;
const blocks = Number(process.argv[2] ?? 10);
const dir = mkdtempSync(join(tmpdir(), 'tree-bench-'));
const store = openSqliteStore(join(dir, 'node.db'));
const value = (i: number) => JSON.stringify({ id: `id-${i}`, key: 'k'.repeat(64), enc: 'e'.repeat(44), role: 'patient', n: i });
const counted: StateTreeReader = { getTreeNode: (h) => (misses++, store.getTreeNode(h)) };
const reader = process.env.OLD ? new OldCache(counted) : new TreeNodeCache(counted);
let next = 0;
const writes = (n: number) => Array.from({ length: n }, () => ({ key: `identity/${next}`, value: value(next++) }));
const first = writes(10_000);
let tree = updateStateTree(reader, store.stateRoot(), first);
store.commitBlock(fakeBatch(1, first, 1, tree));
reader.add(tree);
const exec: number[] = [];
const save: number[] = [];
const execCpu: number[] = [];
const rows: number[] = [];
for (let h = 2; h < 2 + blocks; h++) {
  const w = writes(2_000);
  // A registration also bumps an existing key (the signer's nonce): 1,000 updates.
  for (let i = 0; i < 1_000; i++) w.push({ key: `identity/${(h * 7919 + i * 13) % next}`, value: value(h * 100_000 + i) });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  tree = updateStateTree(reader, store.stateRoot(), w);
  const t1 = performance.now();
  const c1 = process.cpuUsage(c0);
  store.commitBlock(fakeBatch(h, w, 1, tree));
  reader.add(tree);
  const t2 = performance.now();
  execCpu.push((c1.user + c1.system) / 1000);
  exec.push(t1 - t0);
  save.push(t2 - t1);
  rows.push(tree.put.length + tree.remove.length);
}
const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]?.toFixed(0);
console.log(`execute p50 ${p50(exec)} ms (cpu ${p50(execCpu)} ms)  store p50 ${p50(save)} ms  rows/block ${p50(rows)}  store reads ${misses}  root ${store.stateRoot().slice(0, 16)}`);
store.close();
rmSync(dir, { recursive: true });

