// The one thing a client trusts (DESIGN §1.5): a genesis document, given as the file's JSON
// or pinned by its hash. Everything else a node says is checked against it before use.
import { idFromPublicKey, isHex, sha256Hex } from '@medledger/crypto';
import type { Genesis } from '@medledger/ledger';
import { canonicalBytes } from './canonical.js';
import { ClientError } from './errors.js';

/**
 * Codes a client pinned to genesis raises (as ClientError) when a node's answer fails a check;
 * each names the check, so an error says what was refused and why:
 * - `NO_TRUSTED_GENESIS`: a function that encrypts or accepts a fact was called on a client
 *   made without a trusted genesis; it refuses rather than trust the node.
 * - `GENESIS_MISMATCH`: the node's genesis, chain id or emergency validator set is not the trusted one.
 * - `UNTRUSTED_COMMIT`: the commit is not signed by more than 2/3 of the trusted validators'
 *   voting power (forged, duplicated, unknown or too few signatures, or another chain).
 * - `HEADER_MISMATCH`: the header does not hash to the block the commit signs, or is not the
 *   height the answer claims.
 * - `APP_HASH_MISMATCH`: the header's app hash is not the hash of the state and results roots given.
 * - `STATE_PROOF_INVALID`: a state proof does not lead to the proven state root, or the answer
 *   leaves out, adds or alters an entry.
 * - `STALE_HEIGHT`: the answer is proven at a lower height than one this client already verified.
 * - `FACT_NOT_PROVEN`: the node said something (a recipient, a grant, a record, a key) that the
 *   proven state does not back.
 * - `ENGINE_MISMATCH`: the node answered with the other consensus engine's headers than the
 *   one the trusted genesis names (`engine`; absent: embedded).
 * - `EVENT_ID_MISMATCH`: an EPCIS event's eventID is not the GS1 CBV 2.0 Event Hash ID of its
 *   content (recomputed by the client; docs/medicines.md "Proven answers").
 */
export type TrustErrorCode =
  | 'NO_TRUSTED_GENESIS'
  | 'GENESIS_MISMATCH'
  | 'UNTRUSTED_COMMIT'
  | 'HEADER_MISMATCH'
  | 'APP_HASH_MISMATCH'
  | 'STATE_PROOF_INVALID'
  | 'STALE_HEIGHT'
  | 'FACT_NOT_PROVEN'
  | 'ENGINE_MISMATCH'
  | 'EVENT_ID_MISMATCH';

/** Every TrustErrorCode, for callers (the CLI, the web app) that treat them as one class. */
export const TRUST_ERROR_CODES: readonly TrustErrorCode[] = [
  'NO_TRUSTED_GENESIS',
  'GENESIS_MISMATCH',
  'UNTRUSTED_COMMIT',
  'HEADER_MISMATCH',
  'APP_HASH_MISMATCH',
  'STATE_PROOF_INVALID',
  'STALE_HEIGHT',
  'FACT_NOT_PROVEN',
  'ENGINE_MISMATCH',
  'EVENT_ID_MISMATCH',
];

/** Throw a ClientError with a trust code; the message starts with the code so logs name the check. */
export function refuse(code: TrustErrorCode, message: string): never {
  throw new ClientError(code, `${code}: ${message}`);
}

/** A genesis validator as the client uses it: its identity id derived from its key. */
export interface TrustedValidator {
  id: string;
  name: string;
  publicKey: string;
  encryptionKey: string;
  power: number;
}

function badGenesis(message: string): never {
  throw new ClientError('MALFORMED_GENESIS', `genesis: ${message}`);
}

// The fields this client relies on; the node's own parseGenesis checks the rest.
function checkGenesis(x: unknown): Genesis {
  const g = x as Genesis;
  if (typeof g !== 'object' || g === null || Array.isArray(g)) badGenesis('must be a JSON object');
  if (typeof g.chainId !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(g.chainId)) badGenesis('chainId is missing or malformed');
  if (g.engine !== undefined && g.engine !== 'embedded' && g.engine !== 'cometbft')
    badGenesis("engine must be 'embedded' or 'cometbft' (or absent, meaning 'embedded')");
  if (!Array.isArray(g.validators) || g.validators.length === 0) badGenesis('validators must be a non-empty array');
  const seen = new Set<string>();
  g.validators.forEach((v, i) => {
    if (!isHex(v?.publicKey, 32)) badGenesis(`validators[${i}].publicKey must be 32-byte hex`);
    if (!isHex(v.encryptionKey, 32)) badGenesis(`validators[${i}].encryptionKey must be 32-byte hex`);
    if (typeof v.power !== 'number' || !Number.isSafeInteger(v.power) || v.power < 1)
      badGenesis(`validators[${i}].power must be a positive integer`);
    if (seen.has(v.publicKey)) badGenesis(`validators[${i}].publicKey is listed twice`);
    seen.add(v.publicKey);
  });
  return g;
}

/** Hex SHA-256 of a genesis document's canonical JSON (RFC 8785), as @medledger/ledger `genesisHash`. */
export function genesisHashOf(genesis: unknown): string {
  return sha256Hex(canonicalBytes(genesis));
}

/** Anything that answers `GET path` with the node's JSON (a NodeConnection, httpProofSource). */
export interface GenesisSource {
  get(path: string): Promise<unknown>;
}

/**
 * The genesis a client trusts: its document, canonical hash, chain id and validator set. Made
 * from the file's JSON (`fromDocument`), or from its hash alone (`fromHash`, which fetches the
 * document from a node and refuses it unless it hashes to the pinned value).
 */
export class TrustedGenesis {
  readonly genesis: Genesis;
  /** Hex SHA-256 of the canonical JSON: the chain's fingerprint. */
  readonly hash: string;
  readonly chainId: string;
  /** The consensus engine whose blocks this chain is made of: the only one a node's answer may come from. */
  readonly engine: 'embedded' | 'cometbft';
  /** The validators in genesis order, with their identity ids. */
  readonly validators: readonly TrustedValidator[];

  private constructor(genesis: Genesis, hash: string) {
    this.genesis = genesis;
    this.hash = hash;
    this.chainId = genesis.chainId;
    this.engine = genesis.engine === 'cometbft' ? 'cometbft' : 'embedded';
    this.validators = genesis.validators.map((v) => ({
      id: idFromPublicKey(v.publicKey),
      name: v.name,
      publicKey: v.publicKey,
      encryptionKey: v.encryptionKey,
      power: v.power,
    }));
  }

  /** Trust this genesis document (the parsed genesis.json). Throws ClientError('MALFORMED_GENESIS'). */
  static fromDocument(document: unknown): TrustedGenesis {
    const genesis = checkGenesis(document);
    return new TrustedGenesis(genesis, genesisHashOf(genesis));
  }

  /**
   * Trust the genesis whose canonical hash is `hash`: fetch `GET /v1/genesis` from `source`
   * and keep it only if it hashes to `hash`. Throws ClientError `INVALID_ARGUMENT` (not a
   * 32-byte hex hash), `GENESIS_MISMATCH` (the node's genesis is another one), or the fetch's error.
   */
  static async fromHash(hash: string, source: GenesisSource): Promise<TrustedGenesis> {
    const pinned = hash.toLowerCase();
    if (!isHex(pinned, 32)) throw new ClientError('INVALID_ARGUMENT', 'a genesis hash is 32-byte hex (64 characters)');
    const document = await source.get('/v1/genesis');
    const got = genesisHashOf(document);
    if (got !== pinned) refuse('GENESIS_MISMATCH', `the node's genesis hashes to ${got}, not the trusted ${pinned}`);
    return TrustedGenesis.fromDocument(document);
  }

  /** The fingerprint in groups of four hex digits, for people to compare by eye. */
  fingerprint(): string {
    return this.hash.match(/.{4}/g)?.join(' ') ?? this.hash;
  }

  /** Shares needed to rebuild an emergency key split among the validators: more than 2/3 of them. */
  emergencyThreshold(): number {
    return Math.floor((2 * this.validators.length) / 3) + 1;
  }
}
