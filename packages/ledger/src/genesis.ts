// The genesis document: validators, founding organizations and chain parameters.
import { isHex } from '@medledger/crypto';
import { hashCanonical } from './canonical.js';
import { LedgerError } from './errors.js';
import type { ConsensusEngine, Genesis } from './types.js';

function bad(message: string): never {
  throw new LedgerError('MALFORMED_GENESIS', message);
}

const isPositiveInt = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 1;

/** Check a genesis document and return it typed. Throws LedgerError('MALFORMED_GENESIS') naming the field. */
export function parseGenesis(x: unknown): Genesis {
  const g = x as Genesis;
  if (typeof g !== 'object' || g === null) bad('genesis must be an object');
  if (typeof g.chainId !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(g.chainId))
    bad('chainId must be 1–64 letters, digits, dots, dashes or underscores');
  if (g.engine !== undefined && g.engine !== 'embedded' && g.engine !== 'cometbft')
    bad("engine must be 'embedded' or 'cometbft' (or absent, meaning 'embedded')");
  if (typeof g.genesisTime !== 'number' || !Number.isSafeInteger(g.genesisTime) || g.genesisTime < 0)
    bad('genesisTime must be ms since the epoch');
  if (!Array.isArray(g.validators) || g.validators.length === 0) bad('validators must be a non-empty array');
  const keys = new Set<string>();
  g.validators.forEach((v, i) => {
    if (typeof v.name !== 'string' || v.name.length === 0) bad(`validators[${i}].name must be a non-empty string`);
    if (!isHex(v.publicKey, 32)) bad(`validators[${i}].publicKey must be 32-byte hex`);
    if (!isHex(v.encryptionKey, 32)) bad(`validators[${i}].encryptionKey must be 32-byte hex`);
    if (!isPositiveInt(v.power)) bad(`validators[${i}].power must be a positive integer`);
    if (keys.has(v.publicKey)) bad(`validators[${i}].publicKey is listed twice`);
    keys.add(v.publicKey);
  });
  if (!Array.isArray(g.organizations)) bad('organizations must be an array');
  g.organizations.forEach((o, i) => {
    if (typeof o.name !== 'string' || o.name.length === 0) bad(`organizations[${i}].name must be a non-empty string`);
    if (typeof o.kind !== 'string' || o.kind.length === 0) bad(`organizations[${i}].kind must be a non-empty string`);
    if (!isHex(o.adminKey, 32)) bad(`organizations[${i}].adminKey must be 32-byte hex`);
    if (!isHex(o.adminEncryptionKey, 32)) bad(`organizations[${i}].adminEncryptionKey must be 32-byte hex`);
  });
  const p = g.params;
  if (typeof p !== 'object' || p === null) bad('params must be an object');
  if (!isPositiveInt(p.maxBlockTxs)) bad('params.maxBlockTxs must be a positive integer');
  if (!isPositiveInt(p.maxBlockBytes)) bad('params.maxBlockBytes must be a positive integer');
  if (!isPositiveInt(p.maxClockDriftMs)) bad('params.maxClockDriftMs must be a positive integer');
  if (p.emergencyMaxDurationMs !== undefined && !isPositiveInt(p.emergencyMaxDurationMs))
    bad('params.emergencyMaxDurationMs must be a positive integer');
  return g;
}

/**
 * The engine a genesis names: its `engine`, or 'embedded' when absent. Every verifier asks
 * this, never the shape of a node's answer: a node could otherwise answer in the other
 * engine's format and have it checked under rules that do not hold for this chain.
 */
export function genesisEngine(genesis: Pick<Genesis, 'engine'>): ConsensusEngine {
  return genesis.engine ?? 'embedded';
}

/** Hex SHA-256 of the genesis document's canonical JSON: what a light client pins. */
export function genesisHash(genesis: Genesis): string {
  return hashCanonical(genesis);
}
