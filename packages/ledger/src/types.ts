// The wire and storage shapes of the chain (DESIGN §4, §5). Every hash, key and
// signature is lowercase hex; every time is integer milliseconds since the Unix epoch.

/** The unsigned part of a transaction (DESIGN §4). */
export interface TxEnvelope<B = unknown> {
  /** Envelope version; always 1. */
  v: 1;
  /** Chain id from genesis; a transaction for another chain is refused. */
  chain: string;
  /** Transaction kind, e.g. `identity.register`. */
  kind: string;
  /** Signer's Ed25519 public key, 64 hex chars. */
  signer: string;
  /** Signer's nonce: exactly the next one in application state (first is 0). */
  nonce: number;
  /** Kind-specific body; JSON, no floats beyond integers. */
  body: B;
}

/** A signed transaction: the envelope plus an Ed25519 signature (128 hex chars). */
export interface SignedTx<B = unknown> extends TxEnvelope<B> {
  sig: string;
}

/** Block header (DESIGN §5). The block hash is SHA-256 of its canonical JSON. */
export interface BlockHeader {
  chainId: string;
  height: number;
  /** Proposer's clock, ms since epoch; strictly greater than the previous block's. */
  time: number;
  /** Hash of the previous block's header; 64 zeros at height 1. */
  prevHash: string;
  /** RFC 9162 Merkle root over the block's canonical signed transactions. */
  txRoot: string;
  /** Application hash after applying this block's transactions. */
  appHash: string;
  /** Ed25519 public key of the proposing validator. */
  proposer: string;
  /** Hash of `lastCommit` (the commit of height-1); 64 zeros at height 1. */
  lastCommitHash: string;
  /**
   * Hash of the validator set that signs this block (validator-set.ts `validatorSetHash`).
   * Absent only in blocks made before validator-set changes existed; then both are absent.
   */
  validatorsHash?: string;
  /** Hash of the validator set for the next height: a change is proven by this block's commit. */
  nextValidatorsHash?: string;
}

/** One validator's precommit signature inside a commit. */
export interface CommitSig {
  /** Validator's Ed25519 public key. */
  validator: string;
  /** Signature over the precommit sign bytes for (chain, height, round, blockHash). */
  sig: string;
}

/** Precommits of more than 2/3 of the voting power for one block (DESIGN §5). */
export interface Commit {
  height: number;
  round: number;
  blockHash: string;
  signatures: CommitSig[];
}

/** A block: header, the commit that finalised the previous block, and transactions. */
export interface Block {
  header: BlockHeader;
  /** Commit for height-1; null at height 1. */
  lastCommit: Commit | null;
  txs: SignedTx[];
}

/** A validator in genesis. Voting power is an integer ≥ 1. */
export interface GenesisValidator {
  name: string;
  /** Ed25519 public key (node and consensus key). */
  publicKey: string;
  /** X25519 public key used to seal data to this validator (emergency shares). */
  encryptionKey: string;
  power: number;
}

/** A founding organization in genesis with its admin key. */
export interface GenesisOrganization {
  name: string;
  /** organization kind: hospital, clinic, lab, insurer, pharmacy, regulator, … */
  kind: string;
  /** Admin Ed25519 public key; the organization's id is derived from it. */
  adminKey: string;
  /** Admin X25519 public key. */
  adminEncryptionKey: string;
}

/** Chain parameters fixed at genesis. */
export interface ChainParams {
  /** Most transactions in one block. */
  maxBlockTxs: number;
  /** Most canonical bytes of transactions in one block. */
  maxBlockBytes: number;
  /** How far (ms) a proposed block time may be ahead of a validator's own clock. */
  maxClockDriftMs: number;
  /** Longest emergency-access window (ms of block time); absent: 4 hours. */
  emergencyMaxDurationMs?: number;
}

/**
 * The consensus engine that makes a chain's blocks: MedLedger's embedded engine, or CometBFT
 * (docs/cometbft.md). Fixed by genesis, so a verifier knows which block format to check and
 * never takes it from a node's answer.
 */
export type ConsensusEngine = 'embedded' | 'cometbft';

/** The genesis document every node and verifier starts from. */
export interface Genesis {
  chainId: string;
  /**
   * The engine whose blocks this chain is made of; absent means 'embedded' (genesis files
   * written before engines were named). Covered by the genesis hash like every other field.
   */
  engine?: ConsensusEngine;
  /** ms since epoch; block 1's time must be later. */
  genesisTime: number;
  validators: GenesisValidator[];
  organizations: GenesisOrganization[];
  params: ChainParams;
}

/** The outcome of one transaction in a block. */
export interface TxResult {
  /** 'ok', or a stable error code such as NONCE_MISMATCH. */
  code: string;
  /** Human-readable reason; empty when ok. */
  log: string;
}
