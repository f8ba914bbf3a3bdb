// Light-client checks (DESIGN §1.5): "this transaction is in a committed block" verified from
// the validator set trusted at its height (followed from genesis, light-sets.ts, on either
// engine), a block's commit signatures and an RFC 9162 inclusion proof, trusting no node.
// Which engine's blocks a chain has is fixed by the trusted genesis, never by the answer.
// Browser-safe: only @medledger/crypto/browser and `canonicalize`.
import { bytesEqual, fromHex, isHex, sha256, sha256Hex, toHex } from '@medledger/crypto';
import type { BlockHeader, Commit, SignedTx } from '@medledger/ledger';
import { type CometCommitJson, type CometHeaderJson, parseCometTime } from '@medledger/ledger/cometbft';
import { ClientError } from './errors.js';
import { sendRequest } from './http.js';
import { cometCommitCheck } from './light-comet.js';
import { type CommitCheck, fail, requireEngine, signedTxBytes, signedTxHash, trustedEngine } from './light-commit.js';
import { type TrustedGenesisDoc, type TrustedSets, trackerFor } from './light-sets.js';

export { cometCommitCheck } from './light-comet.js';
export {
  type CommitCheck,
  headerHash,
  type LightErrorCode,
  requireEngine,
  signedTxBytes,
  signedTxHash,
  trustedEngine,
  validatorSetHash,
  verifyCommit,
} from './light-commit.js';
export {
  genesisSetOnly,
  type HeaderSource,
  type TrustedGenesisDoc,
  type TrustedSets,
  trackerFor,
  ValidatorSetTracker,
} from './light-sets.js';

/** An RFC 9162 inclusion proof as `GET /v1/txs/:hash` returns it. */
export interface MerkleProof {
  leafIndex: number;
  treeSize: number;
  /** Audit path, leaf to root, hex. */
  path: readonly string[];
  root?: string;
}

const LEAF = new Uint8Array([0]);
const NODE = new Uint8Array([1]);

/**
 * RFC 9162 §2.1.3.2: does `proof` lead from the leaf `SHA-256(0x00 ‖ tx bytes)` to
 * `txRootHex`? Only the header's root counts; a root inside the proof is ignored. Returns
 * false, never throws, for any malformed input.
 */
export function verifyTxInclusion(tx: SignedTx, proof: MerkleProof, txRootHex: string): boolean {
  try {
    const { leafIndex, treeSize, path } = proof;
    if (!Number.isSafeInteger(leafIndex) || !Number.isSafeInteger(treeSize) || leafIndex < 0 || leafIndex >= treeSize) return false;
    if (!isHex(txRootHex, 32) || !Array.isArray(path) || !path.every((p) => isHex(p, 32))) return false;
    let fn = leafIndex;
    let sn = treeSize - 1;
    let r = sha256(LEAF, signedTxBytes(tx));
    for (const hex of path) {
      const p = fromHex(hex);
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = sha256(NODE, p, r);
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      } else {
        r = sha256(NODE, r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 && bytesEqual(r, fromHex(txRootHex));
  } catch {
    return false;
  }
}

/** Hex leaf hash `SHA-256(0x00 ‖ tx)` of a signed transaction (RFC 9162 §2.1.1). */
export function txLeafHash(tx: SignedTx): string {
  return toHex(sha256(LEAF, signedTxBytes(tx)));
}

/** RFC 9162 §2.1.1 Merkle Tree Hash over leaf hashes (hex): the root a header's `txRoot` names. */
export function rootFromLeaves(leaves: readonly string[]): string {
  const mth = (from: number, to: number): Uint8Array => {
    if (to - from === 1) return fromHex(leaves[from] as string);
    let k = 1;
    while (k * 2 < to - from) k *= 2;
    return sha256(NODE, mth(from, from + k), mth(from + k, to));
  };
  return leaves.length === 0 ? toHex(sha256(new Uint8Array())) : toHex(mth(0, leaves.length));
}

/** Where proofs come from: anything with `get(path)` answering the node's JSON (a NodeConnection does). */
export interface ProofSource {
  get(path: string): Promise<unknown>;
}

/**
 * An anonymous ProofSource for a node's base URL. Anonymous callers get block headers,
 * commits and leaf hashes, not bodies: enough to check the chain and to prove a transaction
 * you hold (`proveTx` with `opts.tx`). To find a record's anchor, sign in (a NodeConnection's
 * `get(path, {auth: true})`) as a party to it or as a consortium member or auditor.
 */
export function httpProofSource(url: string, fetchFn: typeof fetch = globalThis.fetch.bind(globalThis)): ProofSource {
  const base = url.replace(/\/+$/, '');
  return { get: (path) => sendRequest(fetchFn, base, { method: 'GET', path }) };
}

/** A transaction proven to be in a block that more than 2/3 of the validators committed. */
export interface TxProof {
  hash: string;
  tx: SignedTx;
  height: number;
  index: number;
  blockHash: string;
  /** The block's time (ms), from the verified header. */
  time: number;
  commit: CommitCheck;
  proof: MerkleProof;
  /**
   * The node's word on the transaction's result (`committed` or `rejected`). The proof
   * shows the transaction is in the committed block; block results are not in the header,
   * so this one field is not verified.
   */
  reportedStatus: string;
}

function objectAt(x: unknown, what: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) fail('MALFORMED_RESPONSE', `${what} must be an object`);
  return x as Record<string, unknown>;
}

/** A block as this caller may see it: every transaction, or only its own (by index). */
export interface VisibleBlock {
  /** Which engine made it: MedLedger's header, or CometBFT's (docs/cometbft.md). */
  engine: 'embedded' | 'cometbft';
  header: BlockHeader | CometHeaderJson;
  height: number;
  /** Block time, ms since the epoch (CometBFT's truncated to the millisecond). */
  time: number;
  /** The root the leaves must lead to: the MedLedger tx root, or CometBFT's data hash (lower-case hex). */
  txRoot: string;
  /** Every transaction, when the node served the bodies; undefined when it withheld them. */
  txs: SignedTx[] | undefined;
  /** The transactions this caller may see, by position (all of them when `txs` is set). */
  visible: Array<{ index: number; tx: SignedTx }>;
  /**
   * Each transaction's leaf, checked against the header's root: MedLedger's RFC 9162 leaf
   * hash, or under CometBFT the SHA-256 of the transaction's bytes (the data hash's leaf data).
   */
  leaves: string[];
}

/** The leaf a transaction has in a block of `engine`. */
function leafOf(engine: VisibleBlock['engine'], tx: SignedTx): string {
  return engine === 'cometbft' ? sha256Hex(signedTxBytes(tx)) : txLeafHash(tx);
}

/** Milliseconds of a CometBFT time (RFC 3339 with nanoseconds). */
function cometMs(text: string): number {
  const t = parseCometTime(text);
  return Number(t.seconds) * 1000 + Math.floor(t.nanos / 1_000_000);
}

/**
 * Parse a `GET /v1/blocks/:height` answer, full or withheld (docs/api.md), of a chain whose
 * trusted genesis is `genesis`, and check that its leaf hashes lead to the header's tx root and
 * that every transaction shown is the leaf at its position. The block must be in the format
 * of the engine genesis names. Does not check the commit. Throws ClientError `ENGINE_MISMATCH`,
 * `BAD_PROOF` or `MALFORMED_RESPONSE`.
 */
export function parseVisibleBlock(answer: Record<string, unknown>, genesis: Pick<TrustedGenesisDoc, 'engine'>): VisibleBlock {
  const block = objectAt(answer.block, 'block');
  const engine = trustedEngine(genesis);
  requireEngine(genesis, answer.engine === 'cometbft' ? 'cometbft' : 'embedded', 'the node’s block');
  const header = objectAt(block.header, 'block.header') as unknown as BlockHeader | CometHeaderJson;
  const txs = block.txs === undefined ? undefined : block.txs;
  if (txs !== undefined && !Array.isArray(txs)) fail('MALFORMED_RESPONSE', 'block.txs must be an array');
  const leaves: string[] =
    answer.leaves === undefined && Array.isArray(txs) ? (txs as SignedTx[]).map((tx) => leafOf(engine, tx)) : (answer.leaves as string[]);
  if (!Array.isArray(leaves) || !leaves.every((l) => isHex(l, 32))) fail('MALFORMED_RESPONSE', 'block leaves must be 32-byte hex hashes');
  let height: number;
  let time: number;
  let txRoot: string;
  if (engine === 'cometbft') {
    const h = header as CometHeaderJson;
    height = Number(h.height);
    try {
      time = cometMs(h.time);
    } catch {
      fail('MALFORMED_RESPONSE', 'block.header.time must be RFC 3339');
    }
    txRoot = typeof h.data_hash === 'string' ? h.data_hash.toLowerCase() : '';
    // CometBFT's data hash is the RFC 6962 root over each transaction's SHA-256 as leaf data.
    if (rootFromLeaves(leaves.map((l) => toHex(sha256(LEAF, fromHex(l))))) !== txRoot)
      fail('BAD_PROOF', `block ${String(h.height)}'s transaction hashes do not lead to its data hash`);
  } else {
    const h = header as BlockHeader;
    ({ height, time, txRoot } = h);
    if (typeof h.txRoot !== 'string' || rootFromLeaves(leaves) !== h.txRoot)
      fail('BAD_PROOF', `block ${String(h.height)}'s leaf hashes do not lead to its tx root`);
  }
  if (!Number.isSafeInteger(height) || height < 1) fail('MALFORMED_RESPONSE', 'block height must be a positive integer');
  let visible: VisibleBlock['visible'];
  if (Array.isArray(txs) && txs.length !== leaves.length)
    fail('BAD_PROOF', `block ${height} shows ${txs.length} transactions for ${leaves.length} leaves`);
  if (Array.isArray(txs)) visible = (txs as SignedTx[]).map((tx, index) => ({ index, tx }));
  else {
    const own = answer.own === undefined ? [] : answer.own;
    if (!Array.isArray(own)) fail('MALFORMED_RESPONSE', 'own must be an array');
    visible = own.map((o: unknown) => {
      const item = objectAt(o, 'own item');
      return { index: item.index as number, tx: item.tx as SignedTx };
    });
  }
  for (const v of visible) {
    if (!Number.isSafeInteger(v.index) || v.index < 0 || v.index >= leaves.length || leafOf(engine, v.tx) !== leaves[v.index])
      fail('BAD_PROOF', `block ${height} shows a transaction that is not its leaf ${String(v.index)}`);
  }
  return { engine, header, height, time, txRoot, txs: Array.isArray(txs) ? (txs as SignedTx[]) : undefined, visible, leaves };
}

/**
 * Check a CometBFT commit against `trusted.validators` (@medledger/ledger/cometbft: the
 * header hash and validator-set hash as Merkle roots, canonical vote sign bytes, more than
 * 2/3 of the power), as a CommitCheck, for a chain whose genesis names CometBFT. The set must
 * be the one trusted at the header's height: a ValidatorSetTracker (light-sets.ts) follows it.
 * Throws ClientError `ENGINE_MISMATCH`, `WRONG_CHAIN` or `BAD_COMMIT`.
 */
export function verifyCometBlockCommit(trusted: TrustedGenesisDoc, header: CometHeaderJson, commit: CometCommitJson): CommitCheck {
  requireEngine(trusted, 'cometbft', `block ${String(header?.height)}`);
  return cometCommitCheck(trusted.chainId, trusted.validators, header, commit);
}

/** RFC 9162 §2.1.3.1 audit path of leaf `index` among `leafHashes` (hex), leaf to root. */
function auditPath(leafHashes: readonly string[], index: number): string[] {
  const mth = (from: number, to: number): string => rootFromLeaves(leafHashes.slice(from, to));
  const path = (m: number, from: number, to: number): string[] => {
    if (to - from <= 1) return [];
    let k = 1;
    while (k * 2 < to - from) k *= 2;
    return m < k ? [...path(m, from, from + k), mth(from + k, to)] : [...path(m - k, from + k, to), mth(from, from + k)];
  };
  return path(index, 0, leafHashes.length);
}

/**
 * Fetch `GET /v1/blocks/:height`, check its commit against the validator set trusted at its
 * height (followed from `genesis`, or by the tracker given, light-sets.ts) and its leaves
 * against the header's tx root. Works for any caller: without bodies, `txs` is undefined and
 * `visible` holds the caller's own transactions. Throws ClientError.
 */
export async function fetchVerifiedBlock(
  source: ProofSource,
  genesis: TrustedGenesisDoc | TrustedSets,
  height: number | 'latest',
): Promise<VisibleBlock & { commit: CommitCheck }> {
  const sets = trackerFor(source, genesis);
  const answer = objectAt(await source.get(`/v1/blocks/${height}`), 'block answer');
  const block = parseVisibleBlock(answer, sets.genesis);
  if (height !== 'latest' && block.height !== height) fail('BAD_COMMIT', `asked for block ${height}, got block ${block.height}`);
  // Either engine's blocks are checked under the set followed from genesis to their height.
  const commit =
    block.engine === 'cometbft'
      ? await sets.verifyCometHeader(block.header as CometHeaderJson, objectAt(answer.commit, 'commit') as unknown as CometCommitJson)
      : await sets.verifyHeader(block.header as BlockHeader, answer.commit as Commit);
  return { ...block, commit };
}

/**
 * Prove that the transaction `hash` is committed, trusting no node: ask `source` for its
 * status and proof and for its block, then check the block's commit against `genesis`, that
 * the transaction at the proof's index hashes to `hash`, and that the proof leads to the
 * committed header's tx root. The transaction is `opts.tx` when the caller holds it (an
 * anonymous caller then needs no bodies at all), else the one the node shows this caller
 * (as a party, member or auditor). Throws ClientError (`TX_NOT_COMMITTED`, `BAD_COMMIT`,
 * `BAD_PROOF`, `WRONG_CHAIN`, `BODIES_WITHHELD`, or the node's code such as `TX_NOT_FOUND`).
 */
export async function proveTx(
  source: ProofSource,
  genesis: TrustedGenesisDoc | TrustedSets,
  hash: string,
  opts: { tx?: SignedTx } = {},
): Promise<TxProof> {
  if (!isHex(hash, 32)) throw new ClientError('INVALID_ARGUMENT', 'a transaction hash is 32-byte hex');
  const status = objectAt(await source.get(`/v1/txs/${hash}`), 'tx status');
  if (status.status !== 'committed' && status.status !== 'rejected')
    fail('TX_NOT_COMMITTED', `transaction ${hash} is ${String(status.status)}, not in a block`);
  const height = status.height;
  if (typeof height !== 'number' || !Number.isSafeInteger(height) || height < 1)
    fail('TX_NOT_COMMITTED', `the node gives no block for transaction ${hash}`);
  const block = await fetchVerifiedBlock(source, genesis, height);
  // Under CometBFT the block answer carries every leaf, checked against the signed data hash
  // (parseVisibleBlock), so the leaf at the transaction's index is its proof; the path is
  // computed here from those leaves for the record.
  let proof: MerkleProof;
  if (block.engine === 'cometbft') {
    const index = status.index;
    if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0 || index >= block.leaves.length)
      fail('BAD_PROOF', `the node gives no position in block ${height} for transaction ${hash}`);
    const hashes = block.leaves.map((l) => toHex(sha256(LEAF, fromHex(l))));
    proof = { leafIndex: index, treeSize: hashes.length, path: auditPath(hashes, index), root: block.txRoot };
  } else proof = objectAt(status.proof, 'tx.proof') as unknown as MerkleProof;
  const tx = opts.tx ?? block.visible.find((v) => v.index === proof.leafIndex)?.tx ?? (status.tx as SignedTx | undefined);
  if (tx === undefined)
    fail('BODIES_WITHHELD', `this node shows transaction ${hash} only to its parties, consortium members and auditors: sign in as one`);
  if (signedTxHash(tx) !== hash || block.leaves[proof.leafIndex] !== leafOf(block.engine, tx))
    fail('BAD_PROOF', `block ${height} does not hold transaction ${hash} where the proof says`);
  if (block.engine === 'embedded' && !verifyTxInclusion(tx, proof, block.txRoot))
    fail('BAD_PROOF', `the inclusion proof of ${hash} does not lead to block ${height}'s tx root`);
  return {
    hash,
    tx,
    height,
    index: proof.leafIndex,
    blockHash: block.commit.blockHash,
    time: block.time,
    commit: block.commit,
    proof,
    reportedStatus: status.status,
  };
}

/** A record's anchor, proven committed; `anchor` is the verified `record.anchor` body. */
export interface RecordProof extends TxProof {
  anchor: { record: string; patient: string; contentHash: string; resourceType: string; category: string; [k: string]: unknown };
}

function anchorOf(tx: SignedTx, recordId: string): RecordProof['anchor'] | undefined {
  const body = tx?.body as RecordProof['anchor'] | undefined;
  return tx?.kind === 'record.anchor' && body?.record === recordId ? body : undefined;
}

/**
 * Prove that record `recordId` was anchored in a committed block. `heightHint` (e.g. the
 * record's `anchoredAt.height` from the API) is tried first; otherwise, or when the hint is
 * wrong, blocks are searched from the newest down. The block the anchor is found in is then
 * proven with `proveTx`, so a lying node can at most make the search fail, never pass.
 * Throws ClientError (`RECORD_NOT_FOUND` and those of `proveTx`).
 */
export async function proveRecord(
  source: ProofSource,
  genesis: TrustedGenesisDoc | TrustedSets,
  recordId: string,
  opts: { heightHint?: number; maxBlocks?: number } = {},
): Promise<RecordProof> {
  if (!isHex(recordId, 16)) throw new ClientError('INVALID_ARGUMENT', 'a record id is 16-byte hex');
  // Without bodies a block still shows the caller's own transactions (a patient's anchors).
  let withheld = false;
  const sets = trackerFor(source, genesis);
  const blockTxs = async (h: number | 'latest') => {
    const block = parseVisibleBlock(objectAt(await source.get(`/v1/blocks/${h}`), 'block answer'), sets.genesis);
    if (block.txs === undefined) withheld = true;
    return { height: block.height, txs: block.visible.map((v) => v.tx) };
  };
  const find = (txs: SignedTx[]) => txs.find((t) => anchorOf(t, recordId) !== undefined);
  let found: SignedTx | undefined;
  if (opts.heightHint !== undefined) found = find((await blockTxs(opts.heightHint)).txs);
  if (found === undefined) {
    const latest = await blockTxs('latest');
    found = find(latest.txs);
    const lowest = Math.max(1, latest.height - (opts.maxBlocks ?? Number.POSITIVE_INFINITY));
    for (let h = latest.height - 1; found === undefined && h >= lowest; h--) found = find((await blockTxs(h)).txs);
  }
  if (found === undefined && withheld)
    fail(
      'BODIES_WITHHELD',
      `no block this node showed you holds an anchor of record ${recordId}; it shows block bodies only to consortium members and auditors, and each patient their own transactions: sign in as the record's patient`,
    );
  if (found === undefined) fail('RECORD_NOT_FOUND', `no block holds an anchor of record ${recordId}`);
  const proven = await proveTx(source, sets, signedTxHash(found), { tx: found });
  const anchor = anchorOf(proven.tx, recordId);
  if (anchor === undefined) fail('BAD_PROOF', `the proven transaction does not anchor record ${recordId}`);
  return { ...proven, anchor };
}
