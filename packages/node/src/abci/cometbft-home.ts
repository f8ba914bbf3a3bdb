// Writes a validator's CometBFT home (docs/cometbft.md) from the MedLedger genesis and the
// validator's MedLedger key: CometBFT signs with Ed25519 as MedLedger does, so the same key
// is its validator key and node key, and the genesis lists the same validators and power.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TimeoutConfig } from '@medledger/consensus';
import { sha256 } from '@medledger/crypto';
import type { Genesis } from '@medledger/ledger';
import { requireGenesisEngine } from '../engine-check.js';

/** Where one validator's CometBFT listens, and how it reaches the others. */
export interface CometHomeOpts {
  /** The CometBFT home directory to write (config/ and data/ inside). */
  dir: string;
  moniker: string;
  /** The validator's Ed25519 seed (hex) and public key (hex), from its MedLedger node key. */
  key: { privateKey: string; publicKey: string };
  /** Loopback ports: CometBFT's p2p and RPC, and the ABCI socket the MedLedger app serves. */
  ports: { p2p: number; rpc: number; abci: number };
  /** Every other validator: its public key and p2p port on `host`. */
  peers: Array<{ publicKey: string; host: string; p2pPort: number }>;
  /** MedLedger's timeouts (ms), block interval (timeout_commit) and heartbeat (empty-block interval). */
  consensus: { timeouts: TimeoutConfig; blockIntervalMs: number; heartbeatMs: number };
  /** CometBFT log level; 'error' keeps test output readable. */
  logLevel?: string;
}

const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

/** CometBFT's address (and node id) of an Ed25519 key: the first 20 bytes of SHA-256 of the public key. */
export function cometAddress(publicKeyHex: string): string {
  return Buffer.from(sha256(new Uint8Array(Buffer.from(publicKeyHex, 'hex'))).subarray(0, 20)).toString('hex');
}

/**
 * CometBFT's genesis.json for a MedLedger genesis. `app_state` is the MedLedger genesis
 * itself (InitChain checks it); genesis_time is 1 ms after MedLedger's, because CometBFT
 * stamps block 1 with genesis_time and MedLedger wants block 1 after genesis.
 */
export function cometGenesis(genesis: Genesis): Record<string, unknown> {
  return {
    genesis_time: new Date(genesis.genesisTime + 1).toISOString(),
    chain_id: genesis.chainId,
    initial_height: '1',
    consensus_params: {
      // Room for the header and last commit beyond the transactions PrepareProposal keeps.
      block: { max_bytes: String(genesis.params.maxBlockBytes + 1024 * 1024), max_gas: '-1' },
      evidence: { max_age_num_blocks: '100000', max_age_duration: '172800000000000', max_bytes: '1048576' },
      validator: { pub_key_types: ['ed25519'] },
      version: { app: '1' },
      abci: { vote_extensions_enable_height: '0' },
    },
    validators: genesis.validators.map((v) => ({
      address: cometAddress(v.publicKey).toUpperCase(),
      pub_key: { type: 'tendermint/PubKeyEd25519', value: b64(v.publicKey) },
      power: String(v.power),
      name: v.name,
    })),
    app_hash: '',
    app_state: genesis,
  };
}

const dur = (ms: number) => `${ms}ms`;

/** The config.toml entries MedLedger sets; CometBFT fills every other from its defaults. */
export function cometConfigToml(opts: CometHomeOpts): string {
  const t = opts.consensus.timeouts;
  const peers = opts.peers.map((p) => `${cometAddress(p.publicKey)}@${p.host}:${p.p2pPort}`).join(',');
  return `# Written by 'medledger init --engine cometbft' (docs/cometbft.md).
proxy_app = "tcp://127.0.0.1:${opts.ports.abci}"
moniker = ${JSON.stringify(opts.moniker)}
log_level = ${JSON.stringify(opts.logLevel ?? 'info')}
abci = "socket"

[rpc]
laddr = "tcp://127.0.0.1:${opts.ports.rpc}"

[p2p]
laddr = "tcp://127.0.0.1:${opts.ports.p2p}"
persistent_peers = "${peers}"
addr_book_strict = false
allow_duplicate_ip = true
pex = false

[mempool]
recheck = true

[consensus]
timeout_propose = "${dur(t.propose)}"
timeout_propose_delta = "${dur(t.proposeDelta)}"
timeout_prevote = "${dur(t.prevote)}"
timeout_prevote_delta = "${dur(t.prevoteDelta)}"
timeout_precommit = "${dur(t.precommit)}"
timeout_precommit_delta = "${dur(t.precommitDelta)}"
timeout_commit = "${dur(opts.consensus.blockIntervalMs)}"
create_empty_blocks = true
create_empty_blocks_interval = "${dur(opts.consensus.heartbeatMs)}"

[tx_index]
indexer = "kv"
`;
}

/** CometBFT's priv_validator_key.json for an Ed25519 key pair (hex). */
function privValidatorKeyJson(key: { privateKey: string; publicKey: string }): string {
  return `${JSON.stringify(
    {
      address: cometAddress(key.publicKey).toUpperCase(),
      pub_key: { type: 'tendermint/PubKeyEd25519', value: b64(key.publicKey) },
      priv_key: { type: 'tendermint/PrivKeyEd25519', value: b64(key.privateKey + key.publicKey) },
    },
    null,
    2,
  )}\n`;
}

/** The public key (hex) CometBFT signs with in the home `cometHome`. */
export function cometValidatorPublicKey(cometHome: string): string {
  const file = JSON.parse(readFileSync(join(cometHome, 'config', 'priv_validator_key.json'), 'utf8')) as { pub_key: { value: string } };
  return Buffer.from(file.pub_key.value, 'base64').toString('hex');
}

/**
 * Make CometBFT in `cometHome` sign with `key` (a rotated validator key) from its next start:
 * only config/priv_validator_key.json changes. The signer state (data/priv_validator_state.json)
 * stays, so the new key still never signs at or below a height the old one signed.
 */
export function writeCometValidatorKey(cometHome: string, key: { privateKey: string; publicKey: string }): void {
  writeFileSync(join(cometHome, 'config', 'priv_validator_key.json'), privValidatorKeyJson(key), { encoding: 'utf8', mode: 0o600 });
}

/** Write config.toml, genesis.json, the validator and node keys and a fresh signer state. */
export function writeCometHome(genesis: Genesis, opts: CometHomeOpts): void {
  // Only a genesis that names CometBFT is run on it (a chain's engine is fixed by genesis).
  requireGenesisEngine(genesis, 'cometbft');
  const config = join(opts.dir, 'config');
  const data = join(opts.dir, 'data');
  mkdirSync(config, { recursive: true });
  mkdirSync(data, { recursive: true });
  const priv = { type: 'tendermint/PrivKeyEd25519', value: b64(opts.key.privateKey + opts.key.publicKey) };
  const secret = { encoding: 'utf8' as const, mode: 0o600 };
  writeFileSync(join(config, 'config.toml'), cometConfigToml(opts));
  writeFileSync(join(config, 'genesis.json'), `${JSON.stringify(cometGenesis(genesis), null, 2)}\n`);
  writeFileSync(join(config, 'priv_validator_key.json'), privValidatorKeyJson(opts.key), secret);
  writeFileSync(join(config, 'node_key.json'), `${JSON.stringify({ priv_key: priv }, null, 2)}\n`, secret);
  writeFileSync(join(data, 'priv_validator_state.json'), `${JSON.stringify({ height: '0', round: 0, step: 0 }, null, 2)}\n`);
}
