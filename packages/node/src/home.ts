// Node homes: the config, genesis and key files one node runs from, and `init`, which
// writes a home per validator with a shared genesis.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TimeoutConfig } from '@medledger/consensus';
import { decryptKeystore, encryptKeystore, generateKeyBundle, idFromPublicKey, type KeyBundle } from '@medledger/crypto';
import { type ConsensusEngine, type Genesis, parseGenesis } from '@medledger/ledger';
import { DEFAULT_VAULT_QUOTAS } from './vault.js';

/**
 * A peer of this node: its node key (for the handshake) and WebSocket URL. Of two peers that
 * list each other, the one with the smaller key dials. A peer without `url` is never dialed,
 * only accepted (a joining full node, which dials in itself); `dial: true` makes this node
 * dial it whatever the keys (a joining node dials the peers it was given).
 */
export interface PeerConfig {
  name: string;
  publicKey: string;
  /** `ws://HOST:PORT`, or `wss://HOST:PORT` when `p2p.tls` is set. */
  url?: string;
  dial?: boolean;
  /**
   * Not a validator, but a full node this operator lets connect (a joining organization's
   * node): without it only the validators in effect may open a link.
   */
  fullNode?: boolean;
  /**
   * With `p2p.tls`: the pin (node-cert.ts certificatePin) of the peer's TLS key. A peer link
   * whose certificate has another key is refused at the TLS layer, in both directions.
   */
  tlsPin?: string;
}

/** Everything a node reads from `config.json` in its home. */
export interface NodeConfig {
  name: string;
  api: { host: string; port: number };
  /**
   * Peer links; with `tls` (PEM certificate and key, paths relative to the home) they are
   * mutual TLS, each side pinning the other's key by its `peers[].tlsPin`.
   */
  p2p: { host: string; port: number; tls?: { cert: string; key: string } };
  peers: PeerConfig[];
  /** Largest accepted HTTP request body, bytes (default 1 MiB). */
  bodyLimitBytes: number;
  mempool: { maxTxs: number; maxBytes: number };
  /** Gatekeeper session lifetimes (ms); defaults: 15 min idle, 8 h absolute. */
  sessions?: { idleTimeoutMs: number; maxLifetimeMs: number };
  /**
   * This node is its organization's system for hospital-wide shares: it opens the
   * organization's envelopes with `org.key` (from `orgKeyHome`, default this home) and
   * re-seals a record's key to the staff member the read gate lets read it (org-reseal.ts).
   */
  reseal?: { orgKeyHome?: string; enabled?: boolean };
  consensus: {
    /** Pause after a commit before the next block, so transactions batch (ms). */
    blockIntervalMs: number;
    /**
     * Make an empty block after this long idle (ms), so block time, by which grants and
     * emergency windows expire, keeps up with the clock; 0 never makes empty blocks.
     */
    heartbeatMs: number;
    /** Tendermint timeouts (ms), each growing by its delta per round. */
    timeouts: TimeoutConfig;
  };
  /**
   * API rate limits: requests per `windowMs` for each signed-in identity (keyed by its
   * session) and for each client IP without a session; over it answers 429 RATE_LIMITED.
   * Default: api.ts DEFAULT_RATE_LIMIT.
   */
  rateLimit?: { windowMs: number; perIdentity: number; perIp: number };
  /** Serve the API over HTTPS: PEM certificate and key files (paths relative to the home). */
  tls?: { cert: string; key: string };
  /**
   * Off-chain objects: largest accepted (bytes), how long an upload may wait for its anchor
   * (ms), and per-identity quotas on this node (vault.ts DEFAULT_VAULT_QUOTAS).
   */
  vault?: {
    maxObjectBytes: number;
    unanchoredTtlMs: number;
    quotas?: { pendingBytesPerIdentity?: number; pendingObjectsPerIdentity?: number; anchoredBytesPerIdentity?: number };
  };
  /**
   * What one authenticated validator peer may send per second before it is disconnected
   * (default: p2p.ts DEFAULT_PEER_BUDGET, 5,000 messages and 256 MiB).
   */
  peerBudget?: { messagesPerSecond: number; bytesPerSecond: number };
  /** Emergency access: `postShares: false` keeps this validator from posting its shares (default true). */
  emergency?: { postShares: boolean };
  /**
   * State snapshots this node makes and serves to joining nodes (snapshots.ts): at every
   * `interval` blocks, the newest `keep` kept. Default DEFAULT_SNAPSHOT_CONFIG; interval 0 makes none.
   */
  snapshots?: { interval: number; keep: number };
  /**
   * Joining by state sync (state-sync.ts): a node that starts with no block fetches the
   * newest snapshot its peers offer, checked against the validators' commit, instead of
   * replaying every block from genesis. Written by `init --join --state-sync`.
   */
  stateSync?: { enabled: boolean; discoverMs?: number };
}

/**
 * Vault limits when config.json has none: 4 MiB objects, uploads kept 10 minutes unanchored,
 * and per identity 32 MiB / 50,000 uploads pending and 2 GiB anchored on this node.
 */
export const DEFAULT_VAULT_CONFIG = {
  maxObjectBytes: 4 * 1024 * 1024,
  unanchoredTtlMs: 10 * 60_000,
  quotas: { ...DEFAULT_VAULT_QUOTAS },
};

/** Defaults for a node on loopback; `init` writes them out so operators can edit them. */
export function defaultConfig(name: string, apiPort: number, p2pPort: number): NodeConfig {
  return {
    name,
    api: { host: '127.0.0.1', port: apiPort },
    p2p: { host: '127.0.0.1', port: p2pPort },
    peers: [],
    bodyLimitBytes: 1024 * 1024,
    mempool: { maxTxs: 50_000, maxBytes: 64 * 1024 * 1024 },
    consensus: {
      blockIntervalMs: 200,
      heartbeatMs: 5000,
      timeouts: { propose: 1000, proposeDelta: 500, prevote: 500, prevoteDelta: 250, precommit: 500, precommitDelta: 250 },
    },
    vault: { ...DEFAULT_VAULT_CONFIG },
  };
}

export const HOME_FILES = {
  config: 'config.json',
  genesis: 'genesis.json',
  /** The node's own keys, an encrypted keystore (MEDLEDGER_PASSPHRASE). */
  nodeKey: 'node.key',
  /**
   * Optional: the validator key a `validator.rotate` vote names, encrypted like node.key. The
   * node signs consensus messages with it at the heights whose validator set holds it
   * (docs/governance.md "Rotating a validator key").
   */
  nextNodeKey: 'node.next.key',
  /** The admin keystore of the organization that runs this validator (registers its staff). */
  orgKey: 'org.key',
  db: 'data/chain.db',
} as const;

/** A loaded home: paths plus parsed config, genesis and node key. */
export interface NodeHome {
  dir: string;
  config: NodeConfig;
  genesis: Genesis;
  key: KeyBundle;
  /** `node.next.key`, when the home has one: this validator's key after a rotation by vote. */
  nextKey?: KeyBundle;
  dbPath: string;
}

function readJsonFile(path: string, what: string): unknown {
  if (!existsSync(path)) throw new Error(`${what} not found at ${path}; run 'medledger init' first`);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new Error(`${what} at ${path} is not valid JSON`);
  }
}

/** The environment variable every keystore of a node home is encrypted with. */
export const PASSPHRASE_ENV = 'MEDLEDGER_PASSPHRASE';

/** The passphrase from MEDLEDGER_PASSPHRASE. Throws an Error saying to set it when unset or empty. */
export function passphraseFromEnv(): string {
  const p = process.env[PASSPHRASE_ENV];
  if (p === undefined || p === '') throw new Error(`set ${PASSPHRASE_ENV} to the passphrase of this node home's keystores`);
  return p;
}

/**
 * Read and decrypt a keystore file (crypto keystore format). Throws an Error naming the
 * file when it is missing, not a keystore, or the passphrase does not open it (that Error
 * has `code` 'BAD_PASSPHRASE').
 */
export function readKeystoreFile(path: string, what: string, passphrase: string): KeyBundle {
  const file = readJsonFile(path, what);
  try {
    return decryptKeystore(file, passphrase);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'BAD_PASSPHRASE')
      throw Object.assign(new Error(`${what} at ${path}: wrong passphrase (${PASSPHRASE_ENV}), or the file was altered`), {
        code: 'BAD_PASSPHRASE',
      });
    throw new Error(`${what} at ${path} is not a keystore file: ${(err as Error).message}`);
  }
}

/** Directories of a home are created 0700 and its files 0600: keys, chain and vault are private. */
export const HOME_DIR_MODE = 0o700;
export const HOME_FILE_MODE = 0o600;
/** Mode bits a home, its data directory and its keys and database may not have: group write, any access by others. */
const OPEN_MODE_BITS = 0o027;

/**
 * Refuse a home other users can read or change: the home, its data directory, its key
 * files, the FHIR custody directory and the chain database (with its -wal/-shm). Throws an Error naming the first
 * offending path and the chmod that fixes it. Windows has no such modes and is skipped.
 */
export function checkHomePermissions(dir: string): void {
  if (process.platform === 'win32') return;
  const data = join(dir, 'data');
  const db = join(dir, HOME_FILES.db);
  const candidates = [
    dir,
    data,
    // Custodial patients' keystores (fhir/custody.ts).
    join(dir, 'fhir-custody'),
    // TLS keys written by init --tls (node-cert.ts).
    join(dir, 'tls'),
    join(dir, 'tls', 'node.key'),
    ...readdirSync(dir)
      .filter((f) => f.endsWith('.key'))
      .map((f) => join(dir, f)),
    db,
    `${db}-wal`,
    `${db}-shm`,
  ];
  for (const path of candidates) {
    if (!existsSync(path)) continue;
    const mode = statSync(path).mode & 0o777;
    if ((mode & OPEN_MODE_BITS) !== 0) {
      throw Object.assign(
        new Error(
          `refusing to start: ${path} has mode ${mode.toString(8).padStart(4, '0')}, so other users can read or change this node's keys and chain; run: chmod -R go-rwx ${dir}`,
        ),
        { code: 'HOME_PERMISSIONS' },
      );
    }
  }
}

/**
 * Read a node home; the node key is decrypted with `passphrase` (default: MEDLEDGER_PASSPHRASE).
 * Throws an Error whose message says which file is missing or bad, or (code
 * 'HOME_PERMISSIONS') that the home is open to other users and the chmod to run.
 */
export function loadHome(dir: string, passphrase?: string): NodeHome {
  const config = { ...defaultConfig('node', 0, 0), ...(readJsonFile(join(dir, HOME_FILES.config), 'config') as NodeConfig) };
  const genesis = parseGenesis(readJsonFile(join(dir, HOME_FILES.genesis), 'genesis'));
  checkHomePermissions(dir);
  const key = readKeystoreFile(join(dir, HOME_FILES.nodeKey), 'node key', passphrase ?? passphraseFromEnv());
  const nextKeyPath = join(dir, HOME_FILES.nextNodeKey);
  const nextKey = existsSync(nextKeyPath) ? readKeystoreFile(nextKeyPath, 'next node key', passphrase ?? passphraseFromEnv()) : undefined;
  mkdirSync(join(dir, 'data'), { recursive: true, mode: HOME_DIR_MODE });
  const dbPath = join(dir, HOME_FILES.db);
  // SQLite gives its -wal and -shm files the database file's mode, so creating the
  // (empty) database 0600 here keeps all three private.
  if (!existsSync(dbPath)) closeSync(openSync(dbPath, 'a', HOME_FILE_MODE));
  return { dir, config, genesis, key, ...(nextKey === undefined ? {} : { nextKey }), dbPath };
}

/**
 * The PEM certificate and key of this node's peer links (`config.p2p.tls`, paths relative
 * to the home), or undefined when the links are plain. Throws an Error naming a missing file.
 */
export function readPeerTls(home: Pick<NodeHome, 'dir' | 'config'>): { cert: Buffer; key: Buffer } | undefined {
  const tls = home.config.p2p.tls;
  if (tls === undefined) return undefined;
  const read = (file: string, what: string) => {
    const path = resolve(home.dir, file);
    if (!existsSync(path)) throw new Error(`config p2p.tls: ${what} not found at ${path}`);
    return readFileSync(path);
  };
  return { cert: read(tls.cert, 'certificate'), key: read(tls.key, 'key') };
}

/**
 * The admin keys of an organization that runs the validator at `home`: `org.key` (the
 * home's first organization) or another keystore file of the home named by `file`,
 * decrypted with `passphrase` (default: MEDLEDGER_PASSPHRASE). Tests and tools read
 * organization keys only through this function, so the keystore format lives in one place.
 */
export function readOrgKey(home: string, opts: { file?: string; passphrase?: string } = {}): KeyBundle {
  return readKeystoreFile(join(home, opts.file ?? HOME_FILES.orgKey), 'organization key', opts.passphrase ?? passphraseFromEnv());
}

/** Write a JSON file; `mode` 0600 (every file in a home) unless it is meant to be shared. */
function writeJson(path: string, value: unknown, mode = HOME_FILE_MODE): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`, { mode });
  chmodSync(path, mode);
}

/** Options for writing a local network's homes. */
export interface InitOptions {
  validators: number;
  out: string;
  chainId?: string;
  /** First API port; node i uses basePort + 2i for the API and basePort + 2i + 1 for p2p. */
  basePort?: number;
  /** Explicit ports per node (tests pass free ports); overrides basePort. */
  ports?: Array<{ api: number; p2p: number }>;
  /**
   * The address of each node's host (IP or DNS name), one per validator: each node listens
   * on it and its peers dial it. Default: all on 127.0.0.1.
   */
  hosts?: string[];
  /** Clock used for the genesis time (tests inject one). */
  now?: () => number;
  /**
   * Founding organizations, in order; organization i is run from node home i mod N (the
   * first of a home has `org.key`, any further one `org-<slug>.key`). Default: one
   * hospital per validator.
   */
  organizations?: Array<{ name: string; kind: string }>;
  /** Passphrase for every keystore written (default: MEDLEDGER_PASSPHRASE). */
  passphrase?: string;
  /**
   * The consensus engine the genesis names (default 'embedded', written as no field so older
   * verifiers read the file unchanged). 'cometbft' then needs `initCometHomes` for each home.
   */
  engine?: ConsensusEngine;
}

/** Where a founding organization's admin keystore is, after `initNetwork`. */
export interface OrgKeyFile {
  name: string;
  kind: string;
  id: string;
  home: string;
  /** File name inside `home`, for `readOrgKey(home, {file})`. */
  file: string;
}

const slug = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

/**
 * Write one home per validator under `out/node0 … node{N-1}`, with fresh keys, a shared
 * genesis listing every validator, and each node's peers set to all the others. Refuses
 * to overwrite an existing home.
 */
export function initNetwork(opts: InitOptions): { homes: string[]; genesis: Genesis; orgKeys: OrgKeyFile[] } {
  const n = opts.validators;
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new Error('--validators must be an integer from 1 to 100');
  const passphrase = opts.passphrase ?? passphraseFromEnv();
  const orgs = opts.organizations ?? Array.from({ length: n }, (_, i) => ({ name: `Organization ${i}`, kind: 'hospital' }));
  const basePort = opts.basePort ?? 26650;
  const ports = Array.from({ length: n }, (_, i) => opts.ports?.[i] ?? { api: basePort + 2 * i, p2p: basePort + 2 * i + 1 });
  if (opts.hosts !== undefined && opts.hosts.length !== n) throw new Error(`--hosts names ${opts.hosts.length} hosts for ${n} validators`);
  const hosts = Array.from({ length: n }, (_, i) => opts.hosts?.[i] ?? '127.0.0.1');
  // An IPv6 address in a URL is bracketed (RFC 3986 §3.2.2).
  const urlHost = (h: string) => (h.includes(':') ? `[${h}]` : h);
  const keys = Array.from({ length: n }, () => generateKeyBundle());
  const orgKeys = orgs.map(() => generateKeyBundle());
  const names = keys.map((_, i) => `validator-${i}`);
  const genesis: Genesis = {
    chainId: opts.chainId ?? 'medledger-local',
    ...(opts.engine === 'cometbft' ? { engine: 'cometbft' as const } : {}),
    genesisTime: (opts.now ?? Date.now)(),
    validators: keys.map((k, i) => ({
      name: names[i] as string,
      publicKey: k.signing.publicKey,
      encryptionKey: k.encryption.publicKey,
      power: 1,
    })),
    // Each validator is run by a founding organization, whose admin registers its staff.
    organizations: orgKeys.map((k, i) => ({
      name: orgs[i]?.name as string,
      kind: orgs[i]?.kind as string,
      adminKey: k.signing.publicKey,
      adminEncryptionKey: k.encryption.publicKey,
    })),
    params: { maxBlockTxs: 5000, maxBlockBytes: 8 * 1024 * 1024, maxClockDriftMs: 10_000 },
  };
  const homes: string[] = [];
  const orgFiles: OrgKeyFile[] = new Array(orgs.length);
  for (let i = 0; i < n; i++) {
    const dir = join(opts.out, `node${i}`);
    if (existsSync(join(dir, HOME_FILES.genesis))) throw new Error(`${dir} already holds a node home; choose another --out`);
    mkdirSync(join(dir, 'data'), { recursive: true, mode: HOME_DIR_MODE });
    // mkdir's mode is masked by the umask and does not apply to an existing directory.
    chmodSync(dir, HOME_DIR_MODE);
    chmodSync(join(dir, 'data'), HOME_DIR_MODE);
    const own = ports[i] as { api: number; p2p: number };
    const config = defaultConfig(names[i] as string, own.api, own.p2p);
    config.api.host = hosts[i] as string;
    config.p2p.host = hosts[i] as string;
    config.peers = keys.flatMap((k, j) =>
      j === i
        ? []
        : [{ name: names[j] as string, publicKey: k.signing.publicKey, url: `ws://${urlHost(hosts[j] as string)}:${ports[j]?.p2p}` }],
    );
    writeJson(join(dir, HOME_FILES.config), config);
    writeJson(join(dir, HOME_FILES.genesis), genesis);
    writeJson(join(dir, HOME_FILES.nodeKey), encryptKeystore(keys[i] as KeyBundle, passphrase, { label: `node ${names[i]}` }));
    orgKeys.forEach((k, j) => {
      if (j % n !== i) return;
      const org = orgs[j] as { name: string; kind: string };
      const file = j < n ? HOME_FILES.orgKey : `org-${slug(org.name) || j}.key`;
      writeJson(join(dir, file), encryptKeystore(k, passphrase, { label: org.name }));
      orgFiles[j] = { ...org, id: idFromPublicKey(k.signing.publicKey), home: dir, file };
    });
    homes.push(dir);
  }
  // The network's genesis is public: it is what every participant and client pins.
  writeJson(join(opts.out, HOME_FILES.genesis), genesis, 0o644);
  // In genesis order, whichever home each organization's keystore went to.
  return { homes, genesis, orgKeys: orgFiles };
}
