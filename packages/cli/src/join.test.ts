// Joining a running network (docs/deploy.md "Joining"), with real node processes on
// loopback: `init --join` takes a genesis only with its hash confirmed; a new node joins by
// state sync, refusing a peer whose snapshot lies, and serves reads a client proves from
// genesis; another joins by block sync from genesis; both follow new blocks as full nodes.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MedLedgerClient, TrustedGenesis } from '@medledger/client';
import { verifyCommit } from '@medledger/client/light';
import { generateKeyBundle, idFromPublicKey, sha256Hex, utf8 } from '@medledger/crypto';
import { type Genesis, genesisHash } from '@medledger/ledger';
import { checkAppHash, type ProvenStateAnswer, verifyStateProof } from '@medledger/ledger/state-proof';
import { HOME_FILES, initNetwork } from '@medledger/node';
import { freePorts, get, newSigner, post, TEST_PASSPHRASE, waitFor } from '@medledger/node/testing';
import { type RunningNode, startNodeProcess, stopNodes } from './network.js';
import { runCli } from './testing/cli.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;
const CHAIN = 'join-test';
const SNAPSHOT_INTERVAL = 10;

const dir = mkdtempSync(join(tmpdir(), 'medledger-join-'));
const running: RunningNode[] = [];
let homes: string[];
let genesis: Genesis;
let ports: Array<{ api: number; p2p: number }>;
const patients: Array<ReturnType<typeof newSigner>> = [];

// biome-ignore lint/suspicious/noExplicitAny: a test edits whatever config.json holds
const editConfig = (home: string, edit: (config: Record<string, any>) => void) => {
  const path = join(home, HOME_FILES.config);
  const config = JSON.parse(readFileSync(path, 'utf8'));
  edit(config);
  writeFileSync(path, JSON.stringify(config, null, 2));
};
const statusOf = async (url: string) => (await get(`${url}/v1/status`)).json as { height: number; lastBlockHash: string };

before(async () => {
  ports = await freePorts(6);
  ({ homes, genesis } = initNetwork({ validators: 4, out: dir, chainId: CHAIN, ports: ports.slice(0, 4) }));
  for (const home of homes)
    editConfig(home, (c) => {
      c.consensus.blockIntervalMs = 5;
      // No empty blocks: the chain stays where the test leaves it, so every peer offers the same snapshot.
      c.consensus.heartbeatMs = 0;
      c.snapshots = { interval: SNAPSHOT_INTERVAL, keep: 2 };
    });
  for (const home of homes) running.push(await startNodeProcess(home));
  const url = (running[0] as RunningNode).url;
  // A record, so the joining nodes' vaults have ciphertexts to fetch.
  const writer = new MedLedgerClient({ url, keys: generateKeyBundle(), genesis: TrustedGenesis.fromDocument(genesis) });
  const { id } = await writer.registerPatient();
  await writer.writeRecord({
    patient: id,
    resource: { resourceType: 'Observation', status: 'final', code: { text: 'Heart rate' } },
    category: 'vital-signs',
  });
  // One registration per block: the chain passes two snapshot heights.
  for (let i = 0; i < 2 * SNAPSHOT_INTERVAL + 3; i++) {
    const patient = newSigner(CHAIN);
    patients.push(patient);
    const res = await post(`${url}/v1/txs`, patient.register());
    assert.equal(res.status, 202, JSON.stringify(res.json));
    await waitFor(
      async () => ((await get(`${url}/v1/txs/${res.json.hash}`)).json.status === 'committed' ? true : undefined),
      `tx ${i}`,
      30_000,
    );
  }
});

after(async () => {
  await stopNodes(running);
  rmSync(dir, { recursive: true, force: true });
});

/** The client's whole check of a proven answer, trusting only genesis; the proven values by key. */
function verifyAnswer(answer: ProvenStateAnswer): Map<string, string | null> {
  verifyCommit(genesis, answer.header, answer.commit);
  checkAppHash(answer.header.appHash, answer.stateRoot, answer.resultsRoot);
  for (const e of answer.entries) verifyStateProof(answer.stateRoot, e.key, e.value, e.proof);
  return new Map(answer.entries.map((e) => [e.key, e.value]));
}

test('init --join takes a genesis from a URL only with its hash confirmed, and writes a private home', async () => {
  const url = (running[0] as RunningNode).url;
  const hash = genesisHash(genesis);
  const peer = `validator-0=ws://127.0.0.1:${ports[0]?.p2p}`;
  const unconfirmed = await runCli(['init', '--join', url, '--out', join(dir, 'nope'), '--peer', peer]);
  assert.equal(unconfirmed.code, 2, unconfirmed.stderr);
  assert.match(unconfirmed.stderr, new RegExp(`hashes to ${hash}`));
  const wrong = await runCli(['init', '--join', url, '--genesis-hash', 'ab'.repeat(32), '--out', join(dir, 'nope'), '--peer', peer]);
  assert.equal(wrong.code, 1, wrong.stderr);
  assert.match(wrong.stderr, /refusing to join/);
  const badPeer = await runCli([
    'init',
    '--join',
    url,
    '--genesis-hash',
    hash,
    '--out',
    join(dir, 'nope'),
    '--peer',
    'validator-9=ws://x:1',
  ]);
  assert.equal(badPeer.code, 2, badPeer.stderr);
  // Off loopback TLS is on: every peer needs wss:// and the pin of its TLS key (deploy.md §8.1).
  const tlsPeer = `validator-0=wss://127.0.0.1:${ports[0]?.p2p}`;
  const offLoopback = ['init', '--join', url, '--genesis-hash', hash, '--out', join(dir, 'nope'), '--host', '10.1.2.3'];
  const unpinned = await runCli([...offLoopback, '--peer', tlsPeer]);
  assert.equal(unpinned.code, 2, unpinned.stderr);
  assert.match(unpinned.stderr, /--peer validator-0: with TLS .* give its pin too: --peer-pin validator-0=sha256/);
  const plain = await runCli([...offLoopback, '--peer', peer, '--peer-pin', `validator-0=sha256/${'ab'.repeat(32)}`]);
  assert.equal(plain.code, 2, plain.stderr);
  assert.match(plain.stderr, /with TLS the peer URL is wss:\/\/HOST:PORT/);
  const strayPin = await runCli([...offLoopback, '--peer', tlsPeer, '--peer-pin', `validator-3=sha256/${'ab'.repeat(32)}`]);
  assert.equal(strayPin.code, 2, strayPin.stderr);
  assert.match(strayPin.stderr, /no --peer is named validator-3/);
  assert.throws(() => readdirSync(join(dir, 'nope')), 'nothing was written');

  const ok = await runCli(['init', '--join', url, '--genesis-hash', hash, '--out', join(dir, 'joined'), '--peer', peer, '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  const joined = JSON.parse(ok.stdout);
  assert.equal(joined.genesisHash, hash);
  const home = join(dir, 'joined');
  assert.equal(statSync(home).mode & 0o777, 0o700);
  for (const f of ['node.key', 'org.key', 'config.json']) assert.equal(statSync(join(home, f)).mode & 0o777, 0o600, f);
  const config = JSON.parse(readFileSync(join(home, 'config.json'), 'utf8'));
  assert.deepEqual(config.peers, [
    { name: 'validator-0', publicKey: genesis.validators[0]?.publicKey, url: `ws://127.0.0.1:${ports[0]?.p2p}`, dial: true },
  ]);
  assert.equal(config.stateSync.enabled, false);
  assert.equal(config.tls, undefined, 'on loopback TLS stays off by default');

  // With --host off loopback: the certificate is made in the home, its pin printed, peers pinned.
  const pin = `sha256/${'cd'.repeat(32)}`;
  const tlsHome = join(dir, 'joined-tls');
  const withTls = await runCli([
    'init',
    '--join',
    url,
    '--genesis-hash',
    hash,
    '--out',
    tlsHome,
    '--host',
    '10.1.2.3',
    '--peer',
    `validator-0=wss://10.1.2.4:${ports[0]?.p2p}`,
    '--peer-pin',
    `validator-0=${pin}`,
    '--json',
  ]);
  assert.equal(withTls.code, 0, withTls.stderr);
  const made = JSON.parse(withTls.stdout);
  const tlsConfig = JSON.parse(readFileSync(join(tlsHome, 'config.json'), 'utf8'));
  assert.equal(tlsConfig.api.host, '10.1.2.3');
  assert.equal(tlsConfig.p2p.host, '10.1.2.3');
  assert.deepEqual(tlsConfig.p2p.tls, { cert: 'tls/node.crt', key: 'tls/node.key' });
  assert.deepEqual(tlsConfig.tls, { cert: 'tls/node.crt', key: 'tls/node.key' });
  assert.equal(tlsConfig.peers[0].tlsPin, pin);
  const printed = await runCli(['tls', 'pin', join(tlsHome, 'tls', 'node.crt'), '--json']);
  assert.equal(JSON.parse(printed.stdout).pin, made.tlsPin, 'the pin printed is the certificate’s');
  assert.equal(statSync(join(tlsHome, 'tls', 'node.key')).mode & 0o777, 0o600);
});

test('a new node joins by state sync, refuses a peer whose snapshot lies, serves proven reads and follows new blocks', async () => {
  const [v0, v1] = [running[0] as RunningNode, running[1] as RunningNode];
  const target = await statusOf(v0.url);
  const hash = genesisHash(genesis);
  const own = ports[4] as { api: number; p2p: number };
  const out = join(dir, 'statesync');
  // validator-1 is asked first: it is the liar.
  const made = await runCli([
    'init',
    '--join',
    join(dir, 'genesis.json'),
    '--genesis-hash',
    hash,
    '--out',
    out,
    '--name',
    'new-hospital',
    '--peer',
    `validator-1=ws://127.0.0.1:${ports[1]?.p2p}`,
    '--peer',
    `validator-0=ws://127.0.0.1:${ports[0]?.p2p}`,
    '--api-port',
    String(own.api),
    '--p2p-port',
    String(own.p2p),
    '--state-sync',
    '--json',
  ]);
  assert.equal(made.code, 0, made.stderr);
  const joined = JSON.parse(made.stdout);

  // The two validators' operators let the new node in (its key in their peers) and restart.
  await stopNodes([v0, v1]);
  running.splice(0, 2);
  for (const home of homes.slice(0, 2))
    editConfig(home, (c) => c.peers.push({ name: 'new-hospital', publicKey: joined.nodePublicKey, fullNode: true }));

  // validator-1 lies: its newest snapshot holds a changed identity, its chunk hash "fixed" to match.
  const snapDir = join(homes[1] as string, 'snapshots');
  const newest = Math.max(...readdirSync(snapDir).map(Number));
  assert.equal(newest, Math.floor(target.height / SNAPSHOT_INTERVAL) * SNAPSHOT_INTERVAL);
  const manifestPath = join(snapDir, String(newest), 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const chunkPath = join(snapDir, String(newest), 'chunk-0.json');
  const victim = patients[0]?.encryption.publicKey as string;
  const original = readFileSync(chunkPath, 'utf8');
  assert.ok(original.includes(victim), 'the chunk holds the identity to forge');
  const forged = original.replace(victim, 'ee'.repeat(32));
  writeFileSync(chunkPath, forged);
  manifest.chunks[0] = sha256Hex(utf8(forged));
  writeFileSync(manifestPath, JSON.stringify(manifest));

  for (const home of homes.slice(0, 2)) running.unshift(await startNodeProcess(home));
  const node = await startNodeProcess(out);
  running.push(node);
  const log = readFileSync(join(out, 'node.log'), 'utf8');
  assert.match(log, /refused the snapshot of validator-1: the state rebuilt from the snapshot does not give the app hash/);
  assert.match(log, new RegExp(`installed the snapshot at height ${newest}`));

  // It holds no block below the snapshot, but the chain from there on, and proves reads from genesis alone.
  assert.equal((await get(`${node.url}/v1/blocks/1`)).status, 404);
  await waitFor(
    async () => ((await statusOf(node.url)).height >= target.height ? true : undefined),
    'the joined node to reach the tip',
    60_000,
  );
  assert.equal((await statusOf(node.url)).lastBlockHash, (await statusOf((running[0] as RunningNode).url)).lastBlockHash);
  const victimId = idFromPublicKey(patients[0]?.signing.publicKey as string);
  const res = await post(`${node.url}/v1/state/proofs`, { keys: ['meta/chain', `identity/${victimId}`] });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const values = verifyAnswer(res.json);
  assert.equal(JSON.parse(values.get(`identity/${victimId}`) as string).encryptionKey, victim, 'the honest snapshot was installed');
  assert.equal(JSON.parse(values.get('meta/chain') as string).chainId, CHAIN);

  // Its vault fills by vault sync with every object the snapshot's records name.
  const vaultObjects = async (u: string) =>
    Number(/^medledger_vault_objects (\d+)$/m.exec(await (await fetch(`${u}/metrics`)).text())?.[1]);
  const held = await vaultObjects((running[0] as RunningNode).url);
  assert.ok(held >= 2, `validator-0 holds ${held} objects`);
  await waitFor(async () => ((await vaultObjects(node.url)) === held ? true : undefined), 'the joined vault to fill', 60_000);

  // A block made after the join reaches it as a full node.
  const fresh = newSigner(CHAIN);
  const tx = await post(`${(running[0] as RunningNode).url}/v1/txs`, fresh.register());
  assert.equal(tx.status, 202);
  await waitFor(
    async () => ((await get(`${node.url}/v1/txs/${tx.json.hash}`)).json.status === 'committed' ? true : undefined),
    'the new tx on the joined node',
    60_000,
  );

  // `verify` replays from genesis, which this home cannot: it says so instead of failing obscurely.
  await stopNodes([node]);
  running.splice(running.indexOf(node), 1);
  const verify = await runCli(['verify', '--home', out, '--json']);
  assert.equal(verify.code, 1, verify.stderr);
  assert.match(verify.stdout + verify.stderr, /STATE_SYNCED/);
});

test('a new node joins by block sync from genesis, verifying every block, and ends on the same chain', async () => {
  const hash = genesisHash(genesis);
  const own = ports[5] as { api: number; p2p: number };
  const out = join(dir, 'blocksync');
  const made = await runCli([
    'init',
    '--join',
    join(dir, 'genesis.json'),
    '--genesis-hash',
    hash,
    '--out',
    out,
    '--name',
    'new-clinic',
    '--peer',
    `validator-2=ws://127.0.0.1:${ports[2]?.p2p}`,
    '--api-port',
    String(own.api),
    '--p2p-port',
    String(own.p2p),
    '--json',
  ]);
  assert.equal(made.code, 0, made.stderr);
  const joined = JSON.parse(made.stdout);
  const v2 = running.find((n) => n.home === homes[2]) as RunningNode;
  await stopNodes([v2]);
  running.splice(running.indexOf(v2), 1);
  editConfig(homes[2] as string, (c) => c.peers.push({ name: 'new-clinic', publicKey: joined.nodePublicKey, fullNode: true }));
  running.push(await startNodeProcess(homes[2] as string));
  const tip = await statusOf((running[0] as RunningNode).url);
  const node = await startNodeProcess(out);
  running.push(node);
  await waitFor(async () => ((await statusOf(node.url)).height >= tip.height ? true : undefined), 'block sync from genesis', 60_000);
  for (const h of [1, SNAPSHOT_INTERVAL, tip.height]) {
    const theirs = (await get(`${(running[0] as RunningNode).url}/v1/blocks/${h}`)).json.hash;
    assert.equal((await get(`${node.url}/v1/blocks/${h}`)).json.hash, theirs, `block ${h} agrees`);
  }
});
