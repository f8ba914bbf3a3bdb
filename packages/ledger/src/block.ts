// Blocks, votes and commits (DESIGN §5): hashes, signed vote bytes, boundary parsing of
// untrusted blocks and commits, and the commit rule (more than 2/3 of voting power).
import { concatBytes, isHex, signEd25519, utf8, verifyEd25519 } from '@medledger/crypto';
import { canonicalBytes, hashCanonical } from './canonical.js';
import { LedgerError } from './errors.js';
import { txRoot } from './merkle.js';
import { parseSignedTx, txBytes } from './tx.js';
import type { Block, BlockHeader, ChainParams, Commit, CommitSig, GenesisValidator, SignedTx } from './types.js';

/** 32 zero bytes in hex: the previous-block and last-commit hash at height 1. */
export const ZERO_HASH = '0'.repeat(64);

export const VOTE_DOMAIN = 'medledger/vote/v1\n';
export const PROPOSAL_DOMAIN = 'medledger/proposal/v1\n';

/** Block hash: hex SHA-256 of the header's canonical JSON. */
export function blockHash(header: BlockHeader): string {
  return hashCanonical(header);
}

/** Hash of a commit, as carried in the next header's `lastCommitHash`. */
export function commitHash(commit: Commit): string {
  return hashCanonical(commit);
}

export interface VoteData {
  type: 'prevote' | 'precommit';
  height: number;
  round: number;
  blockHash: string | null;
}

/** Bytes a prevote or precommit signature covers: domain tag, then JCS with the chain id. */
export function voteSignBytes(chainId: string, vote: VoteData): Uint8Array {
  const { type, height, round, blockHash } = vote;
  return concatBytes(utf8(VOTE_DOMAIN), canonicalBytes({ chain: chainId, type, height, round, blockHash }));
}

/** Sign a vote; returns the signature hex. */
export function signVote(chainId: string, vote: VoteData, privateKeyHex: string): string {
  return signEd25519(privateKeyHex, voteSignBytes(chainId, vote));
}

/** Bytes a proposal signature covers. */
export function proposalSignBytes(
  chainId: string,
  p: { height: number; round: number; blockHash: string; validRound: number },
): Uint8Array {
  const { height, round, blockHash, validRound } = p;
  return concatBytes(utf8(PROPOSAL_DOMAIN), canonicalBytes({ chain: chainId, height, round, blockHash, validRound }));
}

/** Smallest voting power that is more than 2/3 of the total. */
export function quorumPower(validators: readonly GenesisValidator[]): number {
  const total = validators.reduce((s, v) => s + v.power, 0);
  return Math.floor((2 * total) / 3) + 1;
}

const isHeight = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 1;
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

function exactKeys(o: Record<string, unknown>, keys: string[], what: string, code: 'MALFORMED_BLOCK' | 'MALFORMED_COMMIT'): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw new LedgerError(code, `${what} has unknown field '${k}'`);
  for (const k of keys) if (!(k in o)) throw new LedgerError(code, `${what} is missing '${k}'`);
}

function asObject(x: unknown, what: string, code: 'MALFORMED_BLOCK' | 'MALFORMED_COMMIT'): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new LedgerError(code, `${what} must be an object`);
  return x as Record<string, unknown>;
}

/** Check untrusted input is a well-formed commit. Throws LedgerError('MALFORMED_COMMIT'). */
export function parseCommit(x: unknown): Commit {
  const c = asObject(x, 'commit', 'MALFORMED_COMMIT');
  exactKeys(c, ['height', 'round', 'blockHash', 'signatures'], 'commit', 'MALFORMED_COMMIT');
  const bad = (m: string): never => {
    throw new LedgerError('MALFORMED_COMMIT', m);
  };
  if (!isHeight(c.height)) bad('commit.height must be a positive integer');
  if (!isCount(c.round)) bad('commit.round must be a non-negative integer');
  if (!isHex(c.blockHash, 32)) bad('commit.blockHash must be 32-byte hex');
  if (!Array.isArray(c.signatures)) bad('commit.signatures must be an array');
  const signatures = (c.signatures as unknown[]).map((s, i): CommitSig => {
    const o = asObject(s, `commit.signatures[${i}]`, 'MALFORMED_COMMIT');
    exactKeys(o, ['validator', 'sig'], `commit.signatures[${i}]`, 'MALFORMED_COMMIT');
    if (!isHex(o.validator, 32)) bad(`commit.signatures[${i}].validator must be 32-byte hex`);
    if (!isHex(o.sig, 64)) bad(`commit.signatures[${i}].sig must be 64-byte hex`);
    return { validator: o.validator as string, sig: o.sig as string };
  });
  return { height: c.height as number, round: c.round as number, blockHash: c.blockHash as string, signatures };
}

/**
 * Where `parseBlock` may find a transaction it already holds, by signature (a node's
 * mempool): the object is reused instead of parsed, canonicalised and hashed again.
 */
export type KnownTxs = (sig: string) => SignedTx | undefined;

/**
 * Check untrusted input is a well-formed block (shape only). Throws LedgerError('MALFORMED_BLOCK').
 * With `known`, a transaction whose signature, signer and nonce match one held is taken as
 * that one, and the block is refused unless its transactions give its header's tx root: a
 * match can only ever stand for the very bytes the header commits to, and the caller knows
 * the body is the header's.
 */
export function parseBlock(x: unknown, known?: KnownTxs): Block {
  const b = asObject(x, 'block', 'MALFORMED_BLOCK');
  exactKeys(b, ['header', 'lastCommit', 'txs'], 'block', 'MALFORMED_BLOCK');
  const h = asObject(b.header, 'block.header', 'MALFORMED_BLOCK');
  // Blocks made before validator-set changes carry neither set hash; newer ones carry both.
  const hashed = 'validatorsHash' in h || 'nextValidatorsHash' in h;
  exactKeys(
    h,
    [
      'chainId',
      'height',
      'time',
      'prevHash',
      'txRoot',
      'appHash',
      'proposer',
      'lastCommitHash',
      ...(hashed ? ['validatorsHash', 'nextValidatorsHash'] : []),
    ],
    'block.header',
    'MALFORMED_BLOCK',
  );
  const bad = (m: string): never => {
    throw new LedgerError('MALFORMED_BLOCK', m);
  };
  if (typeof h.chainId !== 'string' || h.chainId.length === 0) bad('header.chainId must be a non-empty string');
  if (!isHeight(h.height)) bad('header.height must be a positive integer');
  if (!isCount(h.time)) bad('header.time must be a non-negative integer (ms)');
  for (const k of [
    'prevHash',
    'txRoot',
    'appHash',
    'proposer',
    'lastCommitHash',
    ...(hashed ? ['validatorsHash', 'nextValidatorsHash'] : []),
  ])
    if (!isHex(h[k], 32)) bad(`header.${k} must be 32-byte hex`);
  if (!Array.isArray(b.txs)) bad('block.txs must be an array');
  let lastCommit: Commit | null = null;
  if (b.lastCommit !== null) {
    try {
      lastCommit = parseCommit(b.lastCommit);
    } catch (err) {
      bad(`block.lastCommit: ${(err as Error).message}`);
    }
  }
  const txs = (b.txs as unknown[]).map((t, i) => {
    const held = known === undefined ? undefined : heldTx(t, known);
    if (held !== undefined) return held;
    try {
      return parseSignedTx(t);
    } catch (err) {
      return bad(`block.txs[${i}]: ${(err as Error).message}`);
    }
  });
  const header: BlockHeader = {
    chainId: h.chainId as string,
    height: h.height as number,
    time: h.time as number,
    prevHash: h.prevHash as string,
    txRoot: h.txRoot as string,
    appHash: h.appHash as string,
    proposer: h.proposer as string,
    lastCommitHash: h.lastCommitHash as string,
    ...(hashed ? { validatorsHash: h.validatorsHash as string, nextValidatorsHash: h.nextValidatorsHash as string } : {}),
  };
  if (known !== undefined && txRoot(txs) !== header.txRoot) bad('block.txs do not match header.txRoot');
  return { header, lastCommit, txs };
}

/** The held transaction `raw` names by signature, if its signer and nonce agree too. */
function heldTx(raw: unknown, known: KnownTxs): SignedTx | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (typeof r.sig !== 'string') return undefined;
  const tx = known(r.sig);
  return tx !== undefined && tx.signer === r.signer && tx.nonce === r.nonce ? tx : undefined;
}

/**
 * Rules a block must meet on its own: chain id, tx root, last-commit presence and hash,
 * size limits, and every transaction for this chain. Throws LedgerError.
 */
export function validateBlockBasic(block: Block, opts: { chainId: string; params: ChainParams }): void {
  const h = block.header;
  if (h.chainId !== opts.chainId) throw new LedgerError('WRONG_CHAIN', `block is for chain '${h.chainId}'`);
  if (block.txs.length > opts.params.maxBlockTxs)
    throw new LedgerError('BLOCK_TOO_LARGE', `block has more than ${opts.params.maxBlockTxs} transactions`);
  let bytes = 0;
  for (const tx of block.txs) {
    if (tx.chain !== opts.chainId) throw new LedgerError('WRONG_CHAIN', 'block carries a transaction for another chain');
    bytes += txBytes(tx).length;
  }
  if (bytes > opts.params.maxBlockBytes)
    throw new LedgerError('BLOCK_TOO_LARGE', `block transactions exceed ${opts.params.maxBlockBytes} bytes`);
  if (txRoot(block.txs) !== h.txRoot) throw new LedgerError('BAD_TX_ROOT', `block ${h.height} transactions do not match its tx root`);
  if (h.height === 1) {
    if (block.lastCommit !== null) throw new LedgerError('BAD_LAST_COMMIT', 'block 1 cannot carry a last commit');
    if (h.lastCommitHash !== ZERO_HASH || h.prevHash !== ZERO_HASH)
      throw new LedgerError('BAD_LAST_COMMIT', 'block 1 must have zero previous and last-commit hashes');
  } else {
    if (block.lastCommit === null)
      throw new LedgerError('BAD_LAST_COMMIT', `block ${h.height} must carry the commit of block ${h.height - 1}`);
    if (commitHash(block.lastCommit) !== h.lastCommitHash)
      throw new LedgerError('BAD_LAST_COMMIT', `block ${h.height} last commit does not match its hash`);
    if (block.lastCommit.height !== h.height - 1)
      throw new LedgerError('BAD_LAST_COMMIT', `block ${h.height} last commit is for the wrong height`);
  }
}

/**
 * The commit rule: signatures from distinct genesis validators, each verifying as a
 * precommit for (chain, height, round, blockHash), with summed power more than 2/3 of
 * the total. Throws LedgerError('BAD_COMMIT') saying which part failed.
 */
export function verifyCommit(
  chainId: string,
  validators: readonly GenesisValidator[],
  commit: Commit,
  expectedHeight: number,
  expectedBlockHash: string,
): void {
  if (commit.height !== expectedHeight)
    throw new LedgerError('BAD_COMMIT', `commit is for height ${commit.height}, expected ${expectedHeight}`);
  if (commit.blockHash !== expectedBlockHash) throw new LedgerError('BAD_COMMIT', 'commit is for a different block');
  const power = new Map(validators.map((v) => [v.publicKey, v.power]));
  const bytes = voteSignBytes(chainId, { type: 'precommit', height: commit.height, round: commit.round, blockHash: commit.blockHash });
  const seen = new Set<string>();
  let signed = 0;
  for (const s of commit.signatures) {
    const p = power.get(s.validator);
    if (p === undefined) throw new LedgerError('BAD_COMMIT', 'commit carries a signature from an unknown validator');
    if (seen.has(s.validator)) throw new LedgerError('BAD_COMMIT', 'commit carries two signatures from one validator');
    seen.add(s.validator);
    if (!verifyEd25519(s.validator, bytes, s.sig)) throw new LedgerError('BAD_COMMIT', 'commit carries an invalid precommit signature');
    signed += p;
  }
  if (signed < quorumPower(validators)) throw new LedgerError('BAD_COMMIT', 'commit has signatures from 2/3 or less of the voting power');
}
