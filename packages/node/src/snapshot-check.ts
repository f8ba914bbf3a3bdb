// State snapshots (docs/deploy.md "Joining"): their wire format, and the checks a joining
// node makes before it trusts one. A snapshot is the block at its height with that block's
// commit and results (the manifest), and the whole state at that height in chunks. The
// joiner believes it only because (1) the commit carries more than 2/3 of the precommits of
// the validator set in force at the snapshot's height, followed from genesis through the
// chain's headers as the light client does (client light-sets.ts), and the block is the one
// that followed chain holds at its height, and (2) the state tree it rebuilds from the chunks,
// with the block's results, gives exactly the app hash in that header. No I/O here: the
// headers come through the `SnapshotTrust` the caller passes.
import { sha256Hex, utf8 } from '@medledger/crypto';
import {
  appHashOf,
  type Block,
  blockHash,
  type Commit,
  EMPTY_STATE_ROOT,
  type GenesisValidator,
  parseBlock,
  parseCommit,
  resultsRootOf,
  type TxResult,
  updateStateTree,
  validatorSetHash,
} from '@medledger/ledger';
import type { SnapshotInstallBatch } from '@medledger/storage';

/** Format number of the snapshot layout below; a joiner refuses others. */
export const SNAPSHOT_FORMAT = 1;
/** Largest chunk a node makes (bytes of its JSON text), well under the peer message limit. */
export const SNAPSHOT_CHUNK_BYTES = 4 * 1024 * 1024;
/** Most chunks a manifest may list (4 GiB of state at the chunk size above). */
export const MAX_SNAPSHOT_CHUNKS = 1024;

/** A snapshot's manifest, as served: everything but the state itself. */
export interface SnapshotManifest {
  format: number;
  height: number;
  block: Block;
  commit: Commit;
  results: TxResult[];
  /** SHA-256 hex of each chunk's text, in order. */
  chunks: string[];
}

export type SnapshotErrorCode = 'BAD_MANIFEST' | 'BAD_COMMIT' | 'BAD_CHUNK' | 'APP_HASH_MISMATCH';

/** Why a snapshot (or one peer's part of it) was refused. */
export class SnapshotError extends Error {
  constructor(
    readonly code: SnapshotErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SnapshotError';
  }
}

const isHex64 = (x: unknown): x is string => typeof x === 'string' && /^[0-9a-f]{64}$/.test(x);

/** SHA-256 hex of a chunk's text: what the manifest lists for it. */
export function chunkHashOf(text: string): string {
  return sha256Hex(utf8(text));
}

/**
 * Split state entries (ascending by key) into chunk texts of at most SNAPSHOT_CHUNK_BYTES
 * (a single larger entry gets a chunk of its own). Deterministic: every honest node with
 * the same state makes the same chunks, so chunks of one snapshot can come from any of them.
 */
export function encodeChunks(entries: Iterable<[string, string]>, maxBytes = SNAPSHOT_CHUNK_BYTES): string[] {
  const chunks: string[] = [];
  let parts: string[] = [];
  let bytes = 2;
  for (const entry of entries) {
    const part = JSON.stringify(entry);
    const size = Buffer.byteLength(part) + 1;
    if (parts.length > 0 && bytes + size > maxBytes) {
      chunks.push(`[${parts.join(',')}]`);
      parts = [];
      bytes = 2;
    }
    parts.push(part);
    bytes += size;
  }
  if (parts.length > 0 || chunks.length === 0) chunks.push(`[${parts.join(',')}]`);
  return chunks;
}

/**
 * The validator sets a joiner trusts, followed from genesis (client `ValidatorSetTracker`):
 * `verifyHeader` checks a commit under the set in force at the header's height and that the
 * header is the one the followed chain holds there; `validatorsAt` gives that set.
 */
export interface SnapshotTrust {
  readonly chainId: string;
  verifyHeader(header: Block['header'], commit: Commit): Promise<unknown>;
  validatorsAt(height: number): Promise<readonly GenesisValidator[]>;
}

/** A manifest that checked out, with its block hash and the validator set that signed it. */
export type CheckedManifest = SnapshotManifest & { hash: string; validators: readonly GenesisValidator[] };

/**
 * Check a manifest a peer sent: well formed, and its block's commit verifies against the
 * validator set in force at its height, followed from genesis through the chain's headers
 * (`trust`), so a set that governance replaced cannot sign a snapshot of later history.
 * Returns it typed, with the block hash and that set. Throws SnapshotError ('BAD_MANIFEST'
 * or 'BAD_COMMIT').
 */
export async function checkManifest(trust: SnapshotTrust, raw: unknown): Promise<CheckedManifest> {
  const m = raw as Partial<Record<keyof SnapshotManifest, unknown>> | null;
  if (typeof m !== 'object' || m === null) throw new SnapshotError('BAD_MANIFEST', 'the manifest is not an object');
  if (m.format !== SNAPSHOT_FORMAT) throw new SnapshotError('BAD_MANIFEST', `the manifest is not format ${SNAPSHOT_FORMAT}`);
  if (typeof m.height !== 'number' || !Number.isSafeInteger(m.height) || m.height < 1)
    throw new SnapshotError('BAD_MANIFEST', 'manifest height must be a positive integer');
  if (!Array.isArray(m.chunks) || m.chunks.length < 1 || m.chunks.length > MAX_SNAPSHOT_CHUNKS || !m.chunks.every(isHex64))
    throw new SnapshotError('BAD_MANIFEST', `manifest chunks must be 1 to ${MAX_SNAPSHOT_CHUNKS} SHA-256 hex hashes`);
  let block: Block;
  let commit: Commit;
  try {
    block = parseBlock(m.block);
    commit = parseCommit(m.commit);
  } catch (err) {
    throw new SnapshotError('BAD_MANIFEST', `the manifest's block or commit is malformed: ${(err as Error).message}`);
  }
  if (block.header.chainId !== trust.chainId) throw new SnapshotError('BAD_MANIFEST', 'the snapshot is of another chain');
  if (block.header.height !== m.height) throw new SnapshotError('BAD_MANIFEST', 'the manifest height is not its block height');
  const results = m.results;
  if (
    !Array.isArray(results) ||
    results.length !== block.txs.length ||
    !results.every((r) => typeof r === 'object' && r !== null && typeof r.code === 'string' && typeof r.log === 'string')
  )
    throw new SnapshotError('BAD_MANIFEST', 'the manifest results must be one {code, log} per transaction of its block');
  const hash = blockHash(block.header);
  let validators: readonly GenesisValidator[];
  try {
    await trust.verifyHeader(block.header, commit);
    validators = await trust.validatorsAt(block.header.height);
  } catch (err) {
    throw new SnapshotError(
      'BAD_COMMIT',
      `the snapshot block's commit does not verify against the validators in force at its height: ${(err as Error).message}`,
    );
  }
  // The header must name the set that signed it, the one the installed chain will name too.
  if (block.header.validatorsHash !== undefined && block.header.validatorsHash !== validatorSetHash(validators))
    throw new SnapshotError('BAD_COMMIT', 'the snapshot block names a validator set other than the one in force at its height');
  return { format: SNAPSHOT_FORMAT, height: m.height, block, commit, results: results as TxResult[], chunks: m.chunks, hash, validators };
}

/** Parse one chunk's text, already checked against its hash: an array of [key, value] strings. Throws SnapshotError('BAD_CHUNK'). */
export function parseChunk(text: string): Array<[string, string]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SnapshotError('BAD_CHUNK', 'a chunk is not JSON');
  }
  if (
    !Array.isArray(parsed) ||
    !parsed.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && typeof e[1] === 'string')
  )
    throw new SnapshotError('BAD_CHUNK', 'a chunk must be an array of [key, value] strings');
  return parsed as Array<[string, string]>;
}

/**
 * Rebuild the state tree from all chunks and check it against the manifest's header: keys
 * strictly ascending across chunks (no key twice), and appHashOf(rebuilt root, results
 * root) equal to the header's app hash. Returns what the store installs. Throws
 * SnapshotError('BAD_CHUNK' or 'APP_HASH_MISMATCH').
 */
export function assembleSnapshot(manifest: SnapshotManifest & { hash: string }, chunkTexts: readonly string[]): SnapshotInstallBatch {
  if (chunkTexts.length !== manifest.chunks.length) throw new SnapshotError('BAD_CHUNK', 'chunks are missing');
  const writes: Array<{ key: string; value: string }> = [];
  let last: string | undefined;
  for (const text of chunkTexts) {
    for (const [key, value] of parseChunk(text)) {
      if (last !== undefined && key <= last) throw new SnapshotError('BAD_CHUNK', 'snapshot keys are not strictly ascending');
      last = key;
      writes.push({ key, value });
    }
  }
  const tree = updateStateTree({ getTreeNode: () => undefined }, EMPTY_STATE_ROOT, writes);
  const appHash = appHashOf(tree.root, resultsRootOf(manifest.results));
  if (appHash !== manifest.block.header.appHash)
    throw new SnapshotError(
      'APP_HASH_MISMATCH',
      `the state rebuilt from the snapshot does not give the app hash of block ${manifest.height} that the validators signed`,
    );
  return { block: manifest.block, hash: manifest.hash, commit: manifest.commit, results: manifest.results, writes, tree };
}
