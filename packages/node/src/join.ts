// `init --join` (docs/deploy.md "Joining"): the home of a new organization's node for a
// network that is already running. It holds the genesis the operator confirmed, a fresh node
// key and organization admin key (encrypted keystores), and a config that dials the peers
// it was given. The node runs as a full node (follows the chain, serves reads) until the
// members admit the organization and add its node as a validator by vote.
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encryptKeystore, generateKeyBundle, idFromPublicKey } from '@medledger/crypto';
import { type Genesis, genesisHash } from '@medledger/ledger';
import { defaultConfig, HOME_DIR_MODE, HOME_FILE_MODE, HOME_FILES, type NodeConfig, type PeerConfig, passphraseFromEnv } from './home.js';
import { TLS_FILES } from './init-tls.js';
import { checkPeerList } from './p2p-tls.js';

/** A peer a joining node is given: a genesis validator's name or a node's public key, and its P2P URL. */
export interface JoinPeer {
  /** A validator name from genesis, or a 64-hex node public key (another full node). */
  who: string;
  url: string;
  /** With TLS: the pin of the peer's certificate key (`medledger tls pin` of its public certificate). */
  tlsPin?: string;
}

export interface JoinOptions {
  genesis: Genesis;
  out: string;
  /** This node's name in logs and peers' configs (default 'joining-node'). */
  name?: string;
  peers: readonly JoinPeer[];
  apiPort?: number;
  p2pPort?: number;
  /** Start by state sync from a peer's snapshot instead of replaying from genesis. */
  stateSync?: boolean;
  /** The address the node listens on and is reached at (api.host and p2p.host; default 127.0.0.1). */
  host?: string;
  /**
   * Mutual TLS for peer links and HTTPS for the API (tls/ files named in config; the caller
   * makes the certificate with `writeHomeCertificate`). Every peer then needs `wss://` and a pin.
   */
  tls?: boolean;
  /** Passphrase for both keystores (default MEDLEDGER_PASSPHRASE). */
  passphrase?: string;
}

/** What the operator hands on: keys the members vote on and the peers' operators list. */
export interface JoinedHome {
  home: string;
  genesisHash: string;
  nodePublicKey: string;
  orgAdminKey: string;
  orgId: string;
  peers: PeerConfig[];
  /** The config.json written (with TLS, the certificate it names is still to be made). */
  config: NodeConfig;
}

const HEX_KEY = /^[0-9a-f]{64}$/;

/**
 * Resolve `--peer` values against the trusted genesis: a validator's name gives its key, so
 * the handshake proves the peer is that validator. Throws an Error naming the bad value.
 */
export function joinPeers(genesis: Genesis, peers: readonly JoinPeer[]): PeerConfig[] {
  return peers.map((p) => {
    const { who, url } = p;
    if (!/^wss?:\/\/[^\s/]+/.test(url)) throw new Error(`--peer ${who}=${url}: the URL must be ws://HOST:PORT or wss://HOST:PORT`);
    const validator = genesis.validators.find((v) => v.name === who);
    const publicKey = validator?.publicKey ?? (HEX_KEY.test(who) ? who : undefined);
    if (publicKey === undefined)
      throw new Error(`--peer ${who}=${url}: '${who}' is neither a validator named in genesis nor a 64-hex node public key`);
    return {
      name: validator?.name ?? `node-${who.slice(0, 8)}`,
      publicKey,
      url,
      dial: true,
      ...(p.tlsPin === undefined ? {} : { tlsPin: p.tlsPin }),
    };
  });
}

/**
 * Write the home at `out`: genesis.json (as confirmed), config.json (its peers dialed by
 * this node, state sync on or off), node.key and org.key (fresh keys, encrypted), modes
 * 0700/0600. Refuses an existing home. Throws an Error naming the problem.
 */
export function initJoinHome(opts: JoinOptions): JoinedHome {
  const passphrase = opts.passphrase ?? passphraseFromEnv();
  const dir = opts.out;
  if (existsSync(join(dir, HOME_FILES.genesis))) throw new Error(`${dir} already holds a node home; choose another --out`);
  if (opts.peers.length === 0) throw new Error('give at least one --peer NAME=ws://HOST:PORT to sync from');
  const peers = joinPeers(opts.genesis, opts.peers);
  // Checked before anything is written: with TLS every peer is wss:// and pinned, without it ws://.
  checkPeerList(peers, opts.tls === true);
  const nodeKey = generateKeyBundle();
  const orgKey = generateKeyBundle();
  const name = opts.name ?? 'joining-node';
  mkdirSync(join(dir, 'data'), { recursive: true, mode: HOME_DIR_MODE });
  chmodSync(dir, HOME_DIR_MODE);
  chmodSync(join(dir, 'data'), HOME_DIR_MODE);
  const base = defaultConfig(name, opts.apiPort ?? 26650, opts.p2pPort ?? 26651);
  const host = opts.host ?? base.api.host;
  const config: NodeConfig = {
    ...base,
    api: { ...base.api, host },
    p2p: { ...base.p2p, host, ...(opts.tls === true ? { tls: { ...TLS_FILES } } : {}) },
    ...(opts.tls === true ? { tls: { ...TLS_FILES } } : {}),
    peers,
    stateSync: { enabled: opts.stateSync === true },
  };
  const write = (file: string, value: unknown) => {
    writeFileSync(join(dir, file), `${JSON.stringify(value, null, 2)}\n`, { mode: HOME_FILE_MODE });
    chmodSync(join(dir, file), HOME_FILE_MODE);
  };
  write(HOME_FILES.genesis, opts.genesis);
  write(HOME_FILES.config, config);
  write(HOME_FILES.nodeKey, encryptKeystore(nodeKey, passphrase, { label: `node ${name}` }));
  write(HOME_FILES.orgKey, encryptKeystore(orgKey, passphrase, { label: `${name} organization` }));
  return {
    home: dir,
    genesisHash: genesisHash(opts.genesis),
    nodePublicKey: nodeKey.signing.publicKey,
    orgAdminKey: orgKey.signing.publicKey,
    orgId: idFromPublicKey(orgKey.signing.publicKey),
    peers,
    config,
  };
}
