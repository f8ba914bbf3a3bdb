// Light-client commit checks (DESIGN §1.5): a header's hash, a commit's precommit signatures
// against a validator set and the set's hash, restated browser-safe from @medledger/ledger
// (light.test.ts checks both give the same bytes). Only @medledger/crypto/browser and `canonicalize`.
import { concatBytes, sha256Hex, utf8, verifyEd25519 } from '@medledger/crypto';
import type { BlockHeader, Commit, Genesis, GenesisValidator, SignedTx } from '@medledger/ledger';
import canonicalize from 'canonicalize';
import { ClientError } from './errors.js';

// The same constants as @medledger/ledger (block.ts, tx.ts); light.test.ts checks that both
// produce the same bytes, so a change on one side fails the build's tests.
const VOTE_DOMAIN = 'medledger/vote/v1\n';
const HEADER_KEYS = ['appHash', 'chainId', 'height', 'lastCommitHash', 'prevHash', 'proposer', 'time', 'txRoot'];
/** Headers since validator-set changes also carry both set hashes (older blocks carry neither). */
const HASHED_HEADER_KEYS = [...HEADER_KEYS, 'nextValidatorsHash', 'validatorsHash'].sort();
const TX_KEYS = ['body', 'chain', 'kind', 'nonce', 'sig', 'signer', 'v'];

/**
 * Codes the light client raises (as ClientError):
 * - `BAD_COMMIT`: the commit does not carry more than 2/3 of the genesis voting power in valid
 *   precommit signatures for this header (forged, duplicated, unknown or too few signatures).
 * - `BAD_PROOF`: the transaction's inclusion proof does not lead to the header's tx root, or
 *   the node's block does not hold the transaction it named.
 * - `WRONG_CHAIN`: the header is for another chain than the genesis.
 * - `TX_NOT_COMMITTED`: the node says the transaction is pending, rejected or unknown.
 * - `RECORD_NOT_FOUND`: no block holds an anchor of the record.
 * - `BODIES_WITHHELD`: the node shows this caller block headers and leaf hashes only, and
 *   the transaction to prove is not among the caller's own: sign in as a party to it (its
 *   signer, or the patient it names), a consortium member or an auditor.
 * - `ENGINE_MISMATCH`: the node answered with the other engine's blocks than the one the
 *   trusted genesis names (its `engine`; absent: embedded).
 */
export type LightErrorCode =
  | 'BAD_COMMIT'
  | 'BAD_PROOF'
  | 'WRONG_CHAIN'
  | 'TX_NOT_COMMITTED'
  | 'RECORD_NOT_FOUND'
  | 'BODIES_WITHHELD'
  | 'ENGINE_MISMATCH';

/**
 * The engine a trusted genesis names: its `engine`, or 'embedded' when absent (as
 * @medledger/ledger `genesisEngine`). Verifiers check a block by this alone, never by the
 * shape of the node's answer: otherwise a node could answer for an embedded chain in
 * CometBFT's format, signed by keys that are no longer validators, and have it checked
 * under the genesis set.
 */
export function trustedEngine(genesis: Pick<Genesis, 'engine'>): 'embedded' | 'cometbft' {
  return genesis.engine === 'cometbft' ? 'cometbft' : 'embedded';
}

/** Refuse an answer in `shape` for a chain whose genesis names another engine. Throws ClientError `ENGINE_MISMATCH`. */
export function requireEngine(genesis: Pick<Genesis, 'engine'>, shape: 'embedded' | 'cometbft', what: string): void {
  const engine = trustedEngine(genesis);
  if (shape !== engine)
    fail(
      'ENGINE_MISMATCH',
      `${what} is a ${shape === 'cometbft' ? 'CometBFT' : 'MedLedger'} block, but the trusted genesis names the ${engine} engine`,
    );
}

export function fail(code: LightErrorCode | 'MALFORMED_RESPONSE', message: string): never {
  throw new ClientError(code, message);
}

export function jcs(value: unknown): Uint8Array {
  const text = canonicalize(value);
  if (typeof text !== 'string') fail('MALFORMED_RESPONSE', 'value has no canonical JSON form');
  return utf8(text);
}

export function hasExactKeys(o: unknown, keys: readonly string[]): o is Record<string, unknown> {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return false;
  const own = Object.keys(o).sort();
  return own.length === keys.length && own.every((k, i) => k === keys[i]);
}

/** Hex SHA-256 of a header's canonical JSON (the block hash, as @medledger/ledger `blockHash`). */
export function headerHash(header: BlockHeader): string {
  return sha256Hex(jcs(header));
}

/** The signed canonical bytes of a transaction (RFC 8785 of its seven fields): its Merkle leaf data. */
export function signedTxBytes(tx: SignedTx): Uint8Array {
  if (!hasExactKeys(tx, TX_KEYS))
    fail('MALFORMED_RESPONSE', 'a transaction must have exactly the fields v, chain, kind, signer, nonce, body, sig');
  return jcs(tx);
}

/** Transaction hash: hex SHA-256 of its signed canonical bytes (DESIGN §4). */
export function signedTxHash(tx: SignedTx): string {
  return sha256Hex(signedTxBytes(tx));
}

/** What a verified commit proves: who signed, and how much of the voting power that is. */
export interface CommitCheck {
  blockHash: string;
  height: number;
  signedPower: number;
  totalPower: number;
  /** The smallest power that is more than 2/3 of the total. */
  quorumPower: number;
  signers: string[];
}

/**
 * Hash of a validator set, as @medledger/ledger `validatorSetHash`: hex SHA-256 of the
 * canonical JSON of `[{publicKey, power}]` in set order.
 */
export function validatorSetHash(validators: readonly Pick<GenesisValidator, 'publicKey' | 'power'>[]): string {
  return sha256Hex(jcs(validators.map((v) => ({ publicKey: v.publicKey, power: v.power }))));
}

/**
 * Check that `commit` finalises `header` under `genesis`: the header is for the genesis chain,
 * the commit names this header's height and hash, every signature is from a distinct genesis
 * validator and verifies as its precommit (domain `medledger/vote/v1`, JCS {chain, type,
 * height, round, blockHash}), and the signers hold more than 2/3 of the total power (DESIGN §5;
 * Tendermint's commit rule). `genesis.validators` is the set trusted for the header's height:
 * the genesis set, or the one a ValidatorSetTracker (light-sets.ts) followed to; a header that
 * names another set is refused. Throws ClientError `WRONG_CHAIN` or `BAD_COMMIT`.
 */
export function verifyCommit(
  genesis: { chainId: string; validators: readonly GenesisValidator[] },
  header: BlockHeader,
  commit: Commit,
): CommitCheck {
  if (!hasExactKeys(header, HEADER_KEYS) && !hasExactKeys(header, HASHED_HEADER_KEYS))
    fail('MALFORMED_RESPONSE', 'block header has unexpected fields');
  if (header.validatorsHash !== undefined && header.validatorsHash !== validatorSetHash(genesis.validators))
    fail('BAD_COMMIT', `block ${header.height} names a validator set other than the one trusted for its height`);
  if (header.chainId !== genesis.chainId) fail('WRONG_CHAIN', `header is for chain '${header.chainId}', not '${genesis.chainId}'`);
  if (typeof commit !== 'object' || commit === null || !Array.isArray(commit.signatures))
    fail('BAD_COMMIT', 'the block has no commit signatures');
  const hash = headerHash(header);
  if (commit.height !== header.height) fail('BAD_COMMIT', `commit is for height ${commit.height}, the header for ${header.height}`);
  if (commit.blockHash !== hash) fail('BAD_COMMIT', 'commit is for a different block than this header');
  if (!Number.isSafeInteger(commit.round) || commit.round < 0) fail('BAD_COMMIT', 'commit round must be a non-negative integer');
  const power = new Map<string, number>(genesis.validators.map((v: GenesisValidator) => [v.publicKey, v.power]));
  const totalPower = genesis.validators.reduce((s, v) => s + v.power, 0);
  const quorumPower = Math.floor((2 * totalPower) / 3) + 1;
  const message = concatBytes(
    utf8(VOTE_DOMAIN),
    jcs({ chain: genesis.chainId, type: 'precommit', height: commit.height, round: commit.round, blockHash: commit.blockHash }),
  );
  const signers: string[] = [];
  let signedPower = 0;
  for (const s of commit.signatures) {
    const p = typeof s?.validator === 'string' ? power.get(s.validator) : undefined;
    if (p === undefined) fail('BAD_COMMIT', 'commit carries a signature from a key that is not a genesis validator');
    if (signers.includes(s.validator)) fail('BAD_COMMIT', 'commit carries two signatures from one validator');
    if (typeof s.sig !== 'string' || !verifyEd25519(s.validator, message, s.sig))
      fail('BAD_COMMIT', 'commit carries an invalid precommit signature');
    signers.push(s.validator);
    signedPower += p;
  }
  if (signedPower < quorumPower)
    fail('BAD_COMMIT', `commit is signed by ${signedPower} of ${totalPower} voting power; more than 2/3 (${quorumPower}) is needed`);
  return { blockHash: hash, height: header.height, signedPower, totalPower, quorumPower, signers };
}
