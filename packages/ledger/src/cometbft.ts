// Checking CometBFT v0.38 blocks without trusting a node (docs/cometbft.md, "Verification"):
// the header hash and validator-set hash as Merkle roots of protobuf-encoded fields, the
// canonical precommit sign bytes, a commit's signatures against a validator set, and the
// transaction and result hashes a header commits to. CometBFT's Merkle tree is RFC 6962's,
// the one merkle.ts implements. Protobuf coding is cosmjs-types' (its messages where it has
// them; its BinaryWriter for CanonicalVote and the gogoproto wrappers, which it lacks), and
// every function is checked against blocks made by the real binary (cometbft.test.ts).
// Browser-safe (the SDK's light client and the web app verify with it): only
// @medledger/crypto/browser and cosmjs-types (cometbft-safety.test.ts walks its imports).
import { fromHex, sha256, toHex, verifyEd25519 } from '@medledger/crypto/browser';
import { BinaryWriter } from 'cosmjs-types/binary';
import { Timestamp } from 'cosmjs-types/google/protobuf/timestamp';
import { ExecTxResult } from 'cosmjs-types/tendermint/abci/types';
import { BlockID } from 'cosmjs-types/tendermint/types/types';
import { SimpleValidator } from 'cosmjs-types/tendermint/types/validator';
import { Consensus } from 'cosmjs-types/tendermint/version/types';
import { LedgerError } from './errors.js';

/** RFC 6962 / RFC 9162 Merkle root of `leafData` (leaf 0x00, node 0x01): the tree CometBFT and merkle.ts use. */
function merkleRoot(leafData: readonly Uint8Array[]): Uint8Array {
  if (leafData.length === 0) return sha256();
  let level = leafData.map((d) => sha256(LEAF, d));
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(sha256(NODE, level[i] as Uint8Array, level[i + 1] as Uint8Array));
    if (level.length % 2 === 1) next.push(level[level.length - 1] as Uint8Array);
    level = next;
  }
  return level[0] as Uint8Array;
}
const LEAF = new Uint8Array([0]);
const NODE = new Uint8Array([1]);

/** A block id as CometBFT's RPC writes it (upper-case hex). */
export interface CometBlockIdJson {
  hash: string;
  parts: { total: number; hash: string };
}

/** A header as CometBFT's RPC (`commit`, `block`) writes it. */
export interface CometHeaderJson {
  version: { block: string; app?: string };
  chain_id: string;
  height: string;
  time: string;
  last_block_id: CometBlockIdJson;
  last_commit_hash: string;
  data_hash: string;
  validators_hash: string;
  next_validators_hash: string;
  consensus_hash: string;
  app_hash: string;
  last_results_hash: string;
  evidence_hash: string;
  proposer_address: string;
}

/** One commit signature: flag 1 absent, 2 for the block, 3 for nil. */
export interface CometCommitSigJson {
  block_id_flag: number;
  validator_address: string;
  timestamp: string;
  signature: string | null;
}

export interface CometCommitJson {
  height: string;
  round: number;
  block_id: CometBlockIdJson;
  signatures: CometCommitSigJson[];
}

/** A validator: its Ed25519 public key (hex) and voting power. */
export interface CometValidator {
  publicKey: string;
  power: number;
}

const BLOCK_ID_FLAG_COMMIT = 2;
const PRECOMMIT_TYPE = 2;

const hexBytes = (h: string, what: string): Uint8Array => {
  if (!/^([0-9a-fA-F]{2})*$/.test(h)) throw new LedgerError('MALFORMED_COMMIT', `${what} is not hex`);
  return fromHex(h.toLowerCase());
};

/**
 * RFC 3339 time with up to 9 fractional digits as protobuf seconds and nanos, exactly
 * (a JavaScript Date keeps only milliseconds). Throws LedgerError('MALFORMED_COMMIT').
 */
export function parseCometTime(text: string): { seconds: bigint; nanos: number } {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(text);
  const ms = m === null ? Number.NaN : Date.parse(`${m[1]}Z`);
  if (m === null || Number.isNaN(ms)) throw new LedgerError('MALFORMED_COMMIT', `time '${text.slice(0, 40)}' is not RFC 3339 UTC`);
  return { seconds: BigInt(ms / 1000), nanos: Number((m[2] ?? '').padEnd(9, '0')) };
}

function blockIdProto(id: CometBlockIdJson): BlockID {
  return {
    hash: hexBytes(id.hash, 'block id hash'),
    partSetHeader: { total: id.parts.total, hash: hexBytes(id.parts.hash, 'part set hash') },
  };
}

// gogoproto's well-known wrappers (StringValue, Int64Value, BytesValue): field 1, omitted when empty.
const wrapString = (s: string) => (s === '' ? new Uint8Array(0) : new BinaryWriter().uint32(10).string(s).finish());
const wrapInt64 = (n: bigint) => (n === 0n ? new Uint8Array(0) : new BinaryWriter().uint32(8).int64(n).finish());
const wrapBytes = (b: Uint8Array) => (b.length === 0 ? new Uint8Array(0) : new BinaryWriter().uint32(10).bytes(b).finish());

/** The header hash (block id hash): Merkle root of its 14 protobuf-encoded fields (CometBFT types.Header.Hash). Lower-case hex. */
export function cometHeaderHash(h: CometHeaderJson): string {
  const fields = [
    Consensus.encode({ block: BigInt(h.version.block), app: BigInt(h.version.app ?? '0') }).finish(),
    wrapString(h.chain_id),
    wrapInt64(BigInt(h.height)),
    Timestamp.encode(parseCometTime(h.time)).finish(),
    BlockID.encode(blockIdProto(h.last_block_id)).finish(),
    ...[
      h.last_commit_hash,
      h.data_hash,
      h.validators_hash,
      h.next_validators_hash,
      h.consensus_hash,
      h.app_hash,
      h.last_results_hash,
      h.evidence_hash,
      h.proposer_address,
    ].map((x) => wrapBytes(hexBytes(x, 'header hash field'))),
  ];
  return toHex(merkleRoot(fields));
}

/** CometBFT's address of an Ed25519 key: the first 20 bytes of SHA-256 of the public key (hex). */
export function cometValidatorAddress(publicKeyHex: string): string {
  return toHex(sha256(fromHex(publicKeyHex)).subarray(0, 20));
}

/** Validators in CometBFT's set order: voting power descending, then address ascending. */
export function cometValidatorOrder(validators: readonly CometValidator[]): CometValidator[] {
  return [...validators].sort((a, b) => {
    if (a.power !== b.power) return b.power - a.power;
    const x = cometValidatorAddress(a.publicKey);
    const y = cometValidatorAddress(b.publicKey);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/** The validator-set hash a header carries: Merkle root of each SimpleValidator's bytes, in set order. Lower-case hex. */
export function cometValidatorSetHash(validators: readonly CometValidator[]): string {
  const leaves = cometValidatorOrder(validators).map((v) =>
    SimpleValidator.encode({ pubKey: { ed25519: fromHex(v.publicKey) }, votingPower: BigInt(v.power) }).finish(),
  );
  return toHex(merkleRoot(leaves));
}

/**
 * Sign bytes of a precommit for a block (CometBFT types.VoteSignBytes): the length-prefixed
 * CanonicalVote {type, height sfixed64, round sfixed64, block_id, timestamp, chain_id}.
 */
export function cometPrecommitSignBytes(
  chainId: string,
  height: bigint,
  round: number,
  blockId: CometBlockIdJson,
  time: string,
): Uint8Array {
  const id = blockIdProto(blockId);
  const w = new BinaryWriter();
  w.uint32(8).int32(PRECOMMIT_TYPE);
  if (height !== 0n) w.uint32(17).sfixed64(height);
  if (round !== 0) w.uint32(25).sfixed64(BigInt(round));
  // CanonicalBlockID {hash, part_set_header (always present)}.
  w.uint32(34).fork();
  if (id.hash.length > 0) w.uint32(10).bytes(id.hash);
  w.uint32(18).fork();
  if (id.partSetHeader.total !== 0) w.uint32(8).uint32(id.partSetHeader.total);
  if (id.partSetHeader.hash.length > 0) w.uint32(18).bytes(id.partSetHeader.hash);
  w.ldelim();
  w.ldelim();
  w.uint32(42).fork();
  Timestamp.encode(parseCometTime(time), w);
  w.ldelim();
  if (chainId !== '') w.uint32(50).string(chainId);
  const body = w.finish();
  return new BinaryWriter().bytes(body).finish();
}

/**
 * Check that `commit` finalises `header` for `validators` (the set at that height):
 * the header's validator-set hash is theirs, the commit names the header's hash, every
 * block signature verifies over its canonical sign bytes, and they carry more than 2/3
 * of the voting power. Throws LedgerError('BAD_COMMIT' or 'MALFORMED_COMMIT').
 */
export function verifyCometCommit(
  chainId: string,
  validators: readonly CometValidator[],
  header: CometHeaderJson,
  commit: CometCommitJson,
): void {
  const bad = (why: string) => new LedgerError('BAD_COMMIT', `CometBFT commit for height ${header.height}: ${why}`);
  if (header.chain_id !== chainId) throw bad(`chain '${header.chain_id}' is not '${chainId}'`);
  if (commit.height !== header.height) throw bad('commit and header heights differ');
  if (cometValidatorSetHash(validators) !== header.validators_hash.toLowerCase())
    throw bad("the header's validator-set hash is not the trusted set's");
  if (cometHeaderHash(header) !== commit.block_id.hash.toLowerCase()) throw bad('the commit is for another block than this header');
  const set = cometValidatorOrder(validators);
  if (commit.signatures.length !== set.length) throw bad(`${commit.signatures.length} signatures for ${set.length} validators`);
  const total = set.reduce((n, v) => n + v.power, 0);
  let signed = 0;
  commit.signatures.forEach((s, i) => {
    if (s.block_id_flag !== BLOCK_ID_FLAG_COMMIT) return;
    const v = set[i] as CometValidator;
    if (s.validator_address.toLowerCase() !== cometValidatorAddress(v.publicKey))
      throw bad(`signature ${i} is not from validator ${i} of the set`);
    if (s.signature === null) throw bad(`signature ${i} is missing`);
    const sig = toHex(base64Bytes(s.signature, `signature ${i}`));
    const bytes = cometPrecommitSignBytes(chainId, BigInt(commit.height), commit.round, commit.block_id, s.timestamp);
    if (!verifyEd25519(v.publicKey, bytes, sig)) throw bad(`signature ${i} does not verify`);
    signed += v.power;
  });
  if (3 * signed <= 2 * total) throw bad(`signatures carry ${signed} of ${total} voting power, not more than 2/3`);
}

/** Standard base64 (RFC 4648 §4) as bytes, with atob, so browsers can verify too. */
function base64Bytes(text: string, what: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new LedgerError('MALFORMED_COMMIT', `${what} is not base64`);
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** The data hash a header carries for its transactions: Merkle root of SHA-256 of each. Lower-case hex. */
export function cometTxsHash(txs: readonly Uint8Array[]): string {
  return toHex(merkleRoot(txs.map((tx) => sha256(tx))));
}

/**
 * The last-results hash the next header carries: Merkle root of each result's deterministic
 * fields (code, data, gas wanted, gas used). Lower-case hex.
 */
export function cometResultsHash(results: ReadonlyArray<{ code: number; data: Uint8Array; gasWanted?: bigint; gasUsed?: bigint }>): string {
  const leaves = results.map((r) =>
    ExecTxResult.encode(
      ExecTxResult.fromPartial({ code: r.code, data: r.data, gasWanted: r.gasWanted ?? 0n, gasUsed: r.gasUsed ?? 0n }),
    ).finish(),
  );
  return toHex(merkleRoot(leaves));
}
