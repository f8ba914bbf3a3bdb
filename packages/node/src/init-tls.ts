// `medledger init --tls`: a certificate and key per node home, written 0600 under tls/,
// serving the node's HTTPS API and its mutual-TLS peer links, with every peer entry switched
// to wss:// and pinned to that peer's key (docs/deploy.md "Certificates").
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOME_DIR_MODE, HOME_FILE_MODE, HOME_FILES, type NodeConfig } from './home.js';
import { makeNodeCertificate, type NodeCertificate } from './node-cert.js';

/** Where init puts a node's TLS files, relative to its home. */
export const TLS_FILES = { cert: 'tls/node.crt', key: 'tls/node.key' } as const;

/** What `addNodeCertificates` made for one home. */
export interface HomeCertificate {
  home: string;
  name: string;
  pin: string;
  /** The certificate's public copy beside genesis (`out/tls/<name>.crt`), for clients of the API. */
  publicCert: string;
}

/** Wildcard listen addresses name no host a certificate could be for. */
const ANY_ADDRESS = new Set(['0.0.0.0', '::', '']);

function writePrivate(path: string, text: string): void {
  writeFileSync(path, text, { mode: HOME_FILE_MODE });
  chmodSync(path, HOME_FILE_MODE);
}

/**
 * Make a fresh certificate and key for the node home `home` (for its API and p2p hosts,
 * `extraHosts` and loopback) and write them 0600 under `tls/`. `config` is its parsed
 * config.json. Refuses (Error) a home that already has a TLS key: a new key changes the
 * pin every peer holds, so it is never replaced silently.
 */
export async function writeHomeCertificate(
  home: string,
  config: NodeConfig,
  opts: { extraHosts?: string[]; now?: number } = {},
): Promise<NodeCertificate> {
  if (existsSync(join(home, TLS_FILES.key))) throw new Error(`${home} already has ${TLS_FILES.key}; not replacing a TLS key`);
  const dir = join(home, 'tls');
  mkdirSync(dir, { recursive: true, mode: HOME_DIR_MODE });
  chmodSync(dir, HOME_DIR_MODE);
  const hosts = [config.api.host, config.p2p.host, ...(opts.extraHosts ?? []), '127.0.0.1', '::1', 'localhost'].filter(
    (h) => !ANY_ADDRESS.has(h),
  );
  const cert = await makeNodeCertificate({ name: config.name, hosts, ...(opts.now === undefined ? {} : { now: opts.now }) });
  writePrivate(join(home, TLS_FILES.cert), cert.cert);
  writePrivate(join(home, TLS_FILES.key), cert.key);
  return cert;
}

/**
 * Give each of `homes` (written by initNetwork into `out`) a fresh certificate for its API and
 * p2p hosts plus loopback, turn on HTTPS for its API and mutual TLS for its peer links, and pin
 * each peer entry to that peer's certificate key. A public copy of every certificate goes to
 * `out/tls/<node name>.crt`, for API clients that trust it (NODE_EXTRA_CA_CERTS). Refuses a
 * home that already has TLS files.
 */
export async function addNodeCertificates(out: string, homes: string[], now?: number): Promise<HomeCertificate[]> {
  const configs = homes.map((home) => JSON.parse(readFileSync(join(home, HOME_FILES.config), 'utf8')) as NodeConfig);
  const made: HomeCertificate[] = [];
  const pinByKey = new Map<string, string>();
  const publicDir = join(out, 'tls');
  mkdirSync(publicDir, { recursive: true });
  for (const [i, home] of homes.entries()) {
    const config = configs[i] as NodeConfig;
    const cert = await writeHomeCertificate(home, config, now === undefined ? {} : { now });
    const publicCert = join(publicDir, `${config.name}.crt`);
    writeFileSync(publicCert, cert.cert, { mode: 0o644 });
    // The node's own validator key, read from another home's peer list (each home lists all others).
    const ownKey = configs.flatMap((c) => c.peers).find((p) => p.name === config.name)?.publicKey;
    if (ownKey !== undefined) pinByKey.set(ownKey, cert.pin);
    made.push({ home, name: config.name, pin: cert.pin, publicCert });
  }
  for (const [i, home] of homes.entries()) {
    const config = configs[i] as NodeConfig;
    config.tls = { ...TLS_FILES };
    config.p2p.tls = { ...TLS_FILES };
    config.peers = config.peers.map((p) => {
      const pin = pinByKey.get(p.publicKey);
      if (pin === undefined) throw new Error(`${home}: peer ${p.name} is not one of the homes given`);
      return { ...p, ...(p.url === undefined ? {} : { url: p.url.replace(/^ws:\/\//, 'wss://') }), tlsPin: pin };
    });
    writePrivate(join(home, HOME_FILES.config), `${JSON.stringify(config, null, 2)}\n`);
  }
  return made;
}
