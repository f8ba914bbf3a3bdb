// The explorer's checks, run in the browser: each block's hash, transaction root and link to
// the previous block, and its commit — more than 2/3 of the validators' power in valid
// precommits — with the light client's verifyCommit (@medledger/client/light). A chain run
// by CometBFT is checked the same way against CometBFT's own header and commit
// (docs/cometbft.md): header hash, data hash, last block id and canonical vote signatures.
// Which of the two a block must be is fixed by the genesis (its `engine`), never by the
// shape of the server's answer.
import { ClientError, type InclusionProof } from '@medledger/client';
import { verifyCometBlockCommit, verifyCommit, verifyTxInclusion } from '@medledger/client/light';
import { fromHex, sha256, sha256Hex, toHex } from '@medledger/crypto/browser';
import {
  type Block,
  blockHash,
  type Commit,
  type GenesisValidator,
  LedgerError,
  leafHash,
  merkleRootFromLeafHashes,
  parseBlock,
  parseCommit,
  parseSignedTx,
  type SignedTx,
  txBytes,
  txHash,
  txRoot,
} from '@medledger/ledger';
import {
  type CometCommitJson,
  type CometHeaderJson,
  cometHeaderHash,
  cometValidatorAddress,
  parseCometTime,
} from '@medledger/ledger/cometbft';

/**
 * A block as `GET /v1/blocks/:height` answers it. Nodes show transaction bodies only to
 * consortium members and auditors (docs/records.md "Who sees which metadata"); everyone
 * else gets `txs` undefined and each transaction's leaf hash.
 */
export interface StoredBlock {
  hash: string;
  block: Omit<Block, 'txs'> & { txs?: SignedTx[] };
  commit: Commit;
  /**
   * Each transaction's RFC 9162 leaf hash, hex: their Merkle root is the header's tx root.
   * Under CometBFT each transaction's SHA-256, the leaf data of the header's data hash.
   */
  leaves: string[];
  /**
   * A CometBFT block: its own header and commit as CometBFT signed them. `block.header` and
   * `commit` then restate them for display (height, time, data hash as `txRoot`, signers).
   */
  comet?: { header: CometHeaderJson; commit: CometCommitJson };
}

/** The validators a commit is checked against (from genesis, or the node's status). */
export type Validators = ReadonlyArray<Pick<GenesisValidator, 'publicKey' | 'power' | 'name'>>;

/** The outcome of checking one block. */
export interface BlockCheck {
  height: number;
  ok: boolean;
  /** What failed, in words, when not ok. */
  problem?: string;
  /** Names of the validators whose signatures are in the commit. */
  signers: string[];
  /** False when the node withheld the transactions: only their leaf hashes were checked. */
  bodiesChecked: boolean;
}

/** The engine a genesis names (absent: embedded): the only one whose blocks are accepted. */
export type Engine = 'embedded' | 'cometbft';

const engineWords = (e: Engine) => (e === 'cometbft' ? 'CometBFT' : 'MedLedger');

/**
 * Parse an untrusted `GET /v1/blocks/:height` answer, with or without bodies, of a chain whose
 * genesis names `engine`; a CometBFT block's signers are named by `validators` (CometBFT names
 * them by address). Throws ClientError `ENGINE_MISMATCH` for a block of the other engine, or LedgerError.
 */
export function parseStoredBlock(x: unknown, validators: Validators = [], engine: Engine = 'embedded'): StoredBlock {
  const shape: Engine = (x as { engine?: unknown })?.engine === 'cometbft' ? 'cometbft' : 'embedded';
  if (shape !== engine)
    throw new ClientError(
      'ENGINE_MISMATCH',
      `the server sent a ${engineWords(shape)} block, but the genesis says this network's blocks are ${engineWords(engine)}'s`,
    );
  if (engine === 'cometbft') return parseCometBlock(x, validators);
  const o = x as { hash?: unknown; block?: { txs?: unknown }; commit?: unknown; leaves?: unknown };
  const withheld = o?.block !== undefined && o.block !== null && o.block.txs === undefined;
  const parsed = parseBlock(withheld ? { ...o.block, txs: [] } : o?.block);
  const block: StoredBlock['block'] = withheld ? { header: parsed.header, lastCommit: parsed.lastCommit } : parsed;
  const leaves = Array.isArray(o?.leaves) ? o.leaves.map(String) : withheld ? [] : parsed.txs.map((tx) => toHex(leafHash(txBytes(tx))));
  return { hash: String(o?.hash ?? ''), block, commit: parseCommit(o?.commit), leaves };
}

function asGenesisValidators(validators: Validators): GenesisValidator[] {
  return validators.map((v) => ({ name: v.name, publicKey: v.publicKey, power: v.power, encryptionKey: '' }));
}

/** Validator names by public key, for saying who signed. */
export function validatorNames(validators: Validators): Map<string, string> {
  return new Map(validators.map((v) => [v.publicKey, v.name]));
}

/**
 * Check one block on its own and, when `previous` is given, its link to it: the header
 * hashes to the claimed hash, the transactions to the header's root, and the commit carries
 * valid precommits of more than 2/3 of `validators`' power (the set at its height) for that
 * hash. The block must be of the `engine` the genesis names. Does not throw.
 */
export function checkBlock(
  chainId: string,
  validators: Validators,
  stored: StoredBlock,
  previous?: StoredBlock,
  engine: Engine = 'embedded',
): BlockCheck {
  const shape: Engine = stored.comet === undefined ? 'embedded' : 'cometbft';
  if (shape !== engine)
    return {
      height: stored.block.header.height,
      ok: false,
      problem: `it is a ${engineWords(shape)} block, but the genesis says this network's blocks are ${engineWords(engine)}'s`,
      signers: [],
      bodiesChecked: false,
    };
  if (stored.comet !== undefined) return checkCometBlock(chainId, validators, stored, stored.comet, previous);
  const names = new Map(validators.map((v) => [v.publicKey, v.name]));
  const height = stored.block.header.height;
  const signers = stored.commit.signatures.map((s) => names.get(s.validator) ?? 'an unknown validator');
  const txs = stored.block.txs;
  const bodiesChecked = txs !== undefined;
  const fail = (problem: string): BlockCheck => ({ height, ok: false, problem, signers, bodiesChecked });
  const hash = blockHash(stored.block.header);
  if (hash !== stored.hash) return fail('the block is not the one the server says it is (its fingerprint differs)');
  if (stored.block.header.chainId !== chainId) return fail('the block belongs to another network');
  if (txs !== undefined && txRoot(txs) !== stored.block.header.txRoot) return fail('the block’s transactions do not match its header');
  if (
    !stored.leaves.every((l) => /^[0-9a-f]{64}$/.test(l)) ||
    toHex(merkleRootFromLeafHashes(stored.leaves.map((l) => fromHex(l)))) !== stored.block.header.txRoot
  )
    return fail('the block’s list of entry fingerprints does not match its header');
  if (previous !== undefined && stored.block.header.prevHash !== previous.hash)
    return fail('the block does not link to the block before it');
  try {
    verifyCommit({ chainId, validators: asGenesisValidators(validators) }, stored.block.header, stored.commit);
  } catch (err) {
    return fail(`the validators’ signatures do not confirm it (${(err as Error).message})`);
  }
  return { height, ok: true, signers, bodiesChecked };
}

/** The record.anchor transaction of `recordId` in a block, with its index, or undefined. */
export function findAnchorTx(block: StoredBlock['block'], recordId: string): { tx: SignedTx; index: number; hash: string } | undefined {
  if (block.txs === undefined) return undefined;
  const index = block.txs.findIndex((tx) => tx.kind === 'record.anchor' && (tx.body as { record?: unknown } | null)?.record === recordId);
  const tx = block.txs[index];
  return tx === undefined ? undefined : { tx, index, hash: txHash(tx) };
}

/** The outcome of a record's inclusion check. */
export interface InclusionCheck {
  ok: boolean;
  steps: Array<{ what: string; ok: boolean }>;
}

/**
 * Check that `tx` is in `stored` by the node's RFC 9162 proof, that the proof's root is the
 * block's transaction root, and that the block's commit verifies. Does not throw.
 */
export function checkInclusion(
  chainId: string,
  validators: Validators,
  stored: StoredBlock,
  tx: SignedTx,
  proof: InclusionProof,
): InclusionCheck {
  const steps: InclusionCheck['steps'] = [];
  const proofOk = verifyTxInclusion(tx, proof, stored.block.header.txRoot);
  steps.push({ what: 'The record’s entry is in the block’s list of transactions (Merkle proof)', ok: proofOk });
  steps.push({ what: 'That list is the one the block header names', ok: proof.root === stored.block.header.txRoot });
  const block = checkBlock(chainId, validators, stored);
  steps.push({ what: `More than two thirds of the validators signed the block (${block.signers.join(', ')})`, ok: block.ok });
  return { ok: steps.every((s) => s.ok), steps };
}

/** A CometBFT block answer (docs/cometbft.md) as a StoredBlock, keeping CometBFT's header and commit for the checks. */
function parseCometBlock(x: unknown, validators: Validators): StoredBlock {
  const o = x as { hash?: unknown; block?: { header?: CometHeaderJson; txs?: unknown }; commit?: CometCommitJson; leaves?: unknown };
  const header = o?.block?.header;
  const commit = o?.commit;
  if (typeof header !== 'object' || header === null || typeof commit !== 'object' || commit === null)
    throw new LedgerError('MALFORMED_BLOCK', 'a CometBFT block needs its header and commit');
  const t = parseCometTime(String(header.time));
  const byAddress = new Map(validators.map((v) => [cometValidatorAddress(v.publicKey), v.publicKey]));
  const txs = Array.isArray(o.block?.txs) ? o.block.txs.map((tx) => parseSignedTx(tx)) : undefined;
  const shown: StoredBlock['block']['header'] = {
    chainId: String(header.chain_id),
    height: Number(header.height),
    time: Number(t.seconds) * 1000 + Math.floor(t.nanos / 1_000_000),
    prevHash: String(header.last_block_id?.hash ?? '').toLowerCase(),
    txRoot: String(header.data_hash).toLowerCase(),
    appHash: String(header.app_hash).toLowerCase(),
    proposer: byAddress.get(String(header.proposer_address).toLowerCase()) ?? String(header.proposer_address).toLowerCase(),
    lastCommitHash: String(header.last_commit_hash).toLowerCase(),
  };
  const signatures = (Array.isArray(commit.signatures) ? commit.signatures : [])
    .filter((s) => s.block_id_flag === 2)
    .map((s) => ({ validator: byAddress.get(String(s.validator_address).toLowerCase()) ?? '', sig: String(s.signature) }));
  return {
    hash: String(o.hash ?? '').toLowerCase(),
    block: { header: shown, lastCommit: null, ...(txs === undefined ? {} : { txs }) },
    commit: {
      height: Number(commit.height),
      round: Number(commit.round),
      blockHash: String(commit.block_id?.hash).toLowerCase(),
      signatures,
    },
    leaves: Array.isArray(o.leaves) ? o.leaves.map(String) : [],
    comet: { header, commit },
  };
}

/**
 * A CometBFT block's checks: its header hashes to the claimed hash, its transactions' SHA-256
 * are its leaves and lead to its data hash, it names the previous block's hash, and its commit
 * carries more than 2/3 of the power in signatures over CometBFT's canonical vote bytes. Does not throw.
 */
function checkCometBlock(
  chainId: string,
  validators: Validators,
  stored: StoredBlock,
  comet: NonNullable<StoredBlock['comet']>,
  previous?: StoredBlock,
): BlockCheck {
  const names = new Map(validators.map((v) => [v.publicKey, v.name]));
  const height = stored.block.header.height;
  const signers = stored.commit.signatures.map((s) => names.get(s.validator) ?? 'an unknown validator');
  const txs = stored.block.txs;
  const bodiesChecked = txs !== undefined;
  const fail = (problem: string): BlockCheck => ({ height, ok: false, problem, signers, bodiesChecked });
  let hash: string;
  try {
    hash = cometHeaderHash(comet.header);
  } catch {
    return fail('the block’s header cannot be read');
  }
  if (hash !== stored.hash) return fail('the block is not the one the server says it is (its fingerprint differs)');
  if (comet.header.chain_id !== chainId) return fail('the block belongs to another network');
  if (txs !== undefined && (txs.length !== stored.leaves.length || txs.some((tx, i) => sha256Hex(txBytes(tx)) !== stored.leaves[i])))
    return fail('the block’s transactions do not match its header');
  const leaf = new Uint8Array([0]);
  if (
    !stored.leaves.every((l) => /^[0-9a-f]{64}$/.test(l)) ||
    toHex(merkleRootFromLeafHashes(stored.leaves.map((l) => sha256(leaf, fromHex(l))))) !== comet.header.data_hash.toLowerCase()
  )
    return fail('the block’s list of entry fingerprints does not match its header');
  if (previous !== undefined && comet.header.last_block_id.hash.toLowerCase() !== previous.hash)
    return fail('the block does not link to the block before it');
  try {
    verifyCometBlockCommit({ chainId, engine: 'cometbft', validators: asGenesisValidators(validators) }, comet.header, comet.commit);
  } catch (err) {
    return fail(`the validators’ signatures do not confirm it (${(err as Error).message})`);
  }
  return { height, ok: true, signers, bodiesChecked };
}
