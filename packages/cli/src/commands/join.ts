// `medledger init --join GENESIS_OR_URL --out DIR` (docs/deploy.md "Joining"): the home of a
// new organization's node for a running network. A genesis fetched from a node's URL is not
// trusted for having come from there: the operator confirms its hash (printed) against the
// one the consortium gave them, or passes it as --genesis-hash, as a client pinned to genesis
// would (DESIGN §1.5).
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { type Genesis, genesisHash, parseGenesis } from '@medledger/ledger';
import { initJoinHome, isLoopbackHost, type JoinPeer, writeHomeCertificate } from '@medledger/node';
import { CliError, EXIT } from '../exit-codes.js';
import { requestJson } from '../http.js';
import { getPassphrase } from '../passphrase.js';

export interface InitJoinCliOptions {
  join: string;
  out: string;
  name?: string;
  genesisHash?: string;
  peer: string[];
  apiPort?: number;
  p2pPort?: number;
  stateSync?: boolean;
  /** This node's address (api.host and p2p.host). */
  host?: string;
  /** Mutual TLS and HTTPS: default on when --host is not loopback. */
  tls?: boolean;
  /** `NAME=sha256/…`: the pin of a --peer's TLS key. */
  peerPin?: string[];
  json?: boolean;
}

/** `--peer NAME=URL`: a genesis validator's name (or a node key) and its P2P URL. */
function parsePeer(raw: string): JoinPeer {
  const at = raw.indexOf('=');
  if (at < 1)
    throw new CliError(`--peer ${raw}: write it as NAME=ws://HOST:PORT (NAME: a validator name from genesis, or a node key)`, EXIT.usage);
  return { who: raw.slice(0, at), url: raw.slice(at + 1) };
}

/** The genesis document from a file, or from `URL/v1/genesis` of a running node (untrusted until confirmed). */
async function readGenesis(source: string): Promise<{ genesis: Genesis; fromUrl: boolean }> {
  const fromUrl = /^https?:\/\//.test(source);
  let raw: unknown;
  try {
    raw = fromUrl ? await requestJson(`${source.replace(/\/+$/, '')}/v1/genesis`) : JSON.parse(readFileSync(resolve(source), 'utf8'));
  } catch (err) {
    if (!fromUrl && !existsSync(resolve(source))) throw new CliError(`--join ${source}: no such genesis file`, EXIT.usage);
    throw new CliError(`--join ${source}: could not read the genesis: ${(err as Error).message}`, fromUrl ? EXIT.network : EXIT.usage);
  }
  try {
    return { genesis: parseGenesis(raw), fromUrl };
  } catch (err) {
    throw new CliError(`--join ${source}: not a genesis document: ${(err as Error).message}`, EXIT.usage);
  }
}

/**
 * The operator's word that `hash` is their consortium's genesis: `--genesis-hash` must equal
 * it; else, for a genesis fetched from a URL, a terminal prompt asks them to type yes. A
 * file they were handed is their own trust decision, as for `--genesis` in the client.
 */
async function confirmGenesis(hash: string, opts: InitJoinCliOptions, fromUrl: boolean): Promise<void> {
  if (opts.genesisHash !== undefined) {
    if (opts.genesisHash.toLowerCase() !== hash)
      throw new CliError(
        `the genesis hashes to ${hash}, not the --genesis-hash ${opts.genesisHash} you were given: refusing to join`,
        EXIT.failed,
        'GENESIS_MISMATCH',
      );
    return;
  }
  if (!fromUrl) return;
  if (!process.stdin.isTTY)
    throw new CliError(
      `the genesis fetched from ${opts.join} hashes to ${hash}; compare it with the one your consortium gave you and pass it as --genesis-hash`,
      EXIT.usage,
    );
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(
    `The node at ${opts.join} sent a genesis with SHA-256\n  ${hash}\nA node cannot vouch for itself: is this the hash your consortium gave you? Type yes to trust it: `,
  );
  rl.close();
  if (answer.trim().toLowerCase() !== 'yes')
    throw new CliError('genesis not confirmed: nothing written', EXIT.failed, 'GENESIS_NOT_CONFIRMED');
}

/** `--peer-pin NAME=PIN` values attached to the `--peer` of that name; a pin for no --peer is a usage error. */
function withPins(peers: JoinPeer[], raw: readonly string[]): JoinPeer[] {
  const pins = new Map<string, string>();
  for (const entry of raw) {
    const at = entry.indexOf('=');
    if (at < 1) throw new CliError(`--peer-pin ${entry}: write it as NAME=sha256/… (medledger tls pin prints one)`, EXIT.usage);
    const name = entry.slice(0, at);
    if (!peers.some((p) => p.who === name)) throw new CliError(`--peer-pin ${entry}: no --peer is named ${name}`, EXIT.usage);
    pins.set(name, entry.slice(at + 1));
  }
  return peers.map((p) => (pins.has(p.who) ? { ...p, tlsPin: pins.get(p.who) as string } : p));
}

export async function runInitJoin(opts: InitJoinCliOptions): Promise<void> {
  const peers = withPins(opts.peer.map(parsePeer), opts.peerPin ?? []);
  const host = opts.host ?? '127.0.0.1';
  // As for a new network: TLS by default once the node is reached off loopback.
  const tls = opts.tls ?? !isLoopbackHost(host);
  for (const p of peers) {
    if (tls && p.tlsPin === undefined)
      throw new CliError(
        `--peer ${p.who}: with TLS (--host off loopback, or --tls) give its pin too: --peer-pin ${p.who}=sha256/… (medledger tls pin of its certificate)`,
        EXIT.usage,
      );
    if (tls && !p.url.startsWith('wss://'))
      throw new CliError(`--peer ${p.who}=${p.url}: with TLS the peer URL is wss://HOST:PORT`, EXIT.usage);
  }
  const { genesis, fromUrl } = await readGenesis(opts.join);
  const hash = genesisHash(genesis);
  await confirmGenesis(hash, opts, fromUrl);
  const passphrase = await getPassphrase('passphrase for the new keystores: ', { confirm: true });
  let joined: ReturnType<typeof initJoinHome>;
  try {
    joined = initJoinHome({
      genesis,
      out: resolve(opts.out),
      peers,
      passphrase,
      stateSync: opts.stateSync === true,
      host,
      tls,
      ...(opts.name === undefined ? {} : { name: opts.name }),
      ...(opts.apiPort === undefined ? {} : { apiPort: opts.apiPort }),
      ...(opts.p2pPort === undefined ? {} : { p2pPort: opts.p2pPort }),
    });
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.usage);
  }
  // The certificate's key is made here, on the joining host, and never leaves it: only its pin does.
  const tlsPin = tls ? (await writeHomeCertificate(joined.home, joined.config)).pin : undefined;
  const { config: _config, ...result } = joined;
  if (opts.json) {
    console.log(JSON.stringify({ ...result, ...(tlsPin === undefined ? {} : { tlsPin }) }));
    return;
  }
  const name = opts.name ?? 'joining-node';
  console.log(`wrote ${joined.home} (node.key, org.key encrypted with the passphrase) for chain ${genesis.chainId}`);
  console.log(`genesis SHA-256 ${joined.genesisHash}`);
  console.log(`node key:               ${joined.nodePublicKey}`);
  console.log(`organization admin key: ${joined.orgAdminKey} (id ${joined.orgId})`);
  console.log(`peers (dialed by this node): ${joined.peers.map((p) => `${p.name} ${p.url}`).join(', ')}`);
  if (tlsPin !== undefined) console.log(`TLS pin of this node:   ${tlsPin} (tls/node.crt; HTTPS and mutual TLS are on)`);
  const pinPart = tlsPin === undefined ? '' : `, "tlsPin": "${tlsPin}"`;
  console.log('next:');
  console.log(
    `  1. each peer's operator adds {"name": "${name}", "publicKey": "${joined.nodePublicKey}", "fullNode": true${pinPart}} to "peers" in its config.json and restarts it`,
  );
  console.log(`  2. start this node: MEDLEDGER_PASSPHRASE=… medledger node --home ${joined.home}  (a full node until admitted)`);
  console.log(`  3. a member proposes: medledger gov propose org.admit --kind hospital --name '…' --keystore ${joined.home}/org.key …`);
  console.log(`     then validator.add --keystore ${joined.home}/node.key; the members vote (docs/governance.md)`);
}
