// State sync after the validator set changed by vote (docs/deploy.md §8.3), with real node
// processes on loopback. Governance replaces two of the four genesis validators; then a peer
// serves a forged snapshot whose block is signed by all four genesis keys, a commit the
// genesis set alone would accept. The joining node follows the set from genesis through the
// headers, refuses it, installs the honest snapshot of another peer, and a client pinned to
// genesis follows the set changes through the joined node's own headers.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fetchVerifiedBlock, govPropose, govVote, MedLedgerClient, TrustedGenesis, ValidatorSetTracker } from '@medledger/client';
import { idFromPublicKey } from '@medledger/crypto';
import { appHashOf, blockHash, EMPTY_STATE_ROOT, type Genesis, genesisHash, resultsRootOf, updateStateTree } from '@medledger/ledger';
import { signCommit } from '@medledger/ledger/testing';
import {
  chunkHashOf,
  encodeChunks,
  HOME_FILES,
  initNetwork,
  loadHome,
  type OrgKeyFile,
  readOrgKey,
  type SnapshotManifest,
} from '@medledger/node';
import { freePorts, get, newSigner, post, TEST_PASSPHRASE, waitFor } from '@medledger/node/testing';
import { type RunningNode, startNodeProcess, stopNodes } from './network.js';
import { runCli } from './testing/cli.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;
const CHAIN = 'state-sync-valset';
const SNAPSHOT_INTERVAL = 10;
const HOUR = 60 * 60_000;

const dir = mkdtempSync(join(tmpdir(), 'medledger-ss-valset-'));
const running: RunningNode[] = [];
after(async () => {
  await stopNodes(running);
  rmSync(dir, { recursive: true, force: true });
});

// biome-ignore lint/suspicious/noExplicitAny: a test edits whatever config.json holds
const editConfig = (home: string, edit: (config: Record<string, any>) => void) => {
  const path = join(home, HOME_FILES.config);
  const config = JSON.parse(readFileSync(path, 'utf8'));
  edit(config);
  writeFileSync(path, JSON.stringify(config, null, 2));
};
const heightOf = async (url: string) => (await get(`${url}/v1/status`)).json.height as number;

test('a snapshot signed by the genesis set after governance replaced it is refused; the honest one is installed and clients follow the set through the joined node', async () => {
  const organizations = ['Alpha Hospital', 'Beta Clinic', 'Gamma Lab', 'Delta Hospital'].map((name) => ({ name, kind: 'hospital' }));
  const ports = await freePorts(7);
  const { homes, orgKeys } = initNetwork({ validators: 6, out: dir, chainId: CHAIN, ports: ports.slice(0, 6), organizations });
  // Genesis lists validators 0–3; 4 and 5 join by vote.
  const full = JSON.parse(readFileSync(join(dir, HOME_FILES.genesis), 'utf8')) as Genesis;
  const genesis: Genesis = { ...full, validators: full.validators.slice(0, 4) };
  writeFileSync(join(dir, HOME_FILES.genesis), JSON.stringify(genesis, null, 2));
  for (const home of homes) {
    writeFileSync(join(home, HOME_FILES.genesis), JSON.stringify(genesis, null, 2));
    editConfig(home, (c) => {
      c.consensus.blockIntervalMs = 20;
      c.consensus.heartbeatMs = 200;
      c.snapshots = { interval: SNAPSHOT_INTERVAL, keep: 2 };
    });
  }
  const keys = homes.map((home) => loadHome(home).key);
  for (const home of homes.slice(0, 4)) running.push(await startNodeProcess(home));
  const url = (i: number) => (running.find((n) => n.home === homes[i]) as RunningNode).url;
  const trusted = TrustedGenesis.fromDocument(genesis);
  const org = (i: number) =>
    new MedLedgerClient({
      url: url(2),
      genesis: trusted,
      keys: readOrgKey((orgKeys[i] as OrgKeyFile).home, { file: (orgKeys[i] as OrgKeyFile).file }),
    });
  const pass = async (action: Parameters<typeof govPropose>[1]) => {
    const p = await govPropose(org(0), action, HOUR);
    await govVote(org(1), p.id, true);
    await govVote(org(2), p.id, true);
    const passed = await govVote(org(3), p.id, true);
    assert.equal(passed.status, 'passed', JSON.stringify(passed));
    return passed.effectiveHeight as number;
  };

  // A patient, whose identity the forger will change.
  const victim = newSigner(CHAIN);
  const reg = await post(`${url(2)}/v1/txs`, victim.register());
  assert.equal(reg.status, 202, JSON.stringify(reg.json));

  // Validators 4 and 5 in, 0 and 1 out: the genesis keys hold only 2 of the 4 in force.
  for (const i of [4, 5]) {
    const k = keys[i] as (typeof keys)[number];
    await pass({
      type: 'validator.add',
      name: `validator-${i}`,
      publicKey: k.signing.publicKey,
      encryptionKey: k.encryption.publicKey,
      power: 1,
    });
    // Its node starts once the vote passed (a peer link opens for a newly decided validator) and catches up.
    running.push(await startNodeProcess(homes[i] as string));
    const tip = await heightOf(url(2));
    await waitFor(async () => ((await heightOf(url(i))) >= tip ? true : undefined), `validator-${i} to catch up`, 60_000);
  }
  let changedAt = 0;
  for (const i of [0, 1])
    changedAt = await pass({ type: 'validator.remove', validator: idFromPublicKey((keys[i] as (typeof keys)[number]).signing.publicKey) });
  // A snapshot after the change.
  const snapshotAt = (Math.floor(changedAt / SNAPSHOT_INTERVAL) + 1) * SNAPSHOT_INTERVAL;
  await waitFor(async () => ((await heightOf(url(2))) >= snapshotAt + 2 ? true : undefined), 'a snapshot after the set change', 60_000);
  // The replaced validators' operators stop their nodes; the new set goes on.
  const replaced = running.filter((n) => n.home === homes[0] || n.home === homes[1]);
  await stopNodes(replaced);
  for (const n of replaced) running.splice(running.indexOf(n), 1);
  // Everyone stops making blocks while the joiner looks: every peer offers the same newest snapshot.
  const idle = running.slice();
  await stopNodes(idle);
  running.length = 0;
  for (const i of [2, 3, 4, 5]) editConfig(homes[i] as string, (c) => (c.consensus.heartbeatMs = 0));

  // Validator 2 forges its newest snapshot: the victim's encryption key changed, the app hash
  // recomputed, the block re-signed by all four genesis keys (held by whoever kept the old keys).
  const snapDir = join(homes[2] as string, 'snapshots');
  const newest = Math.max(...readdirSync(snapDir).map(Number));
  assert.ok(newest >= snapshotAt, `snapshot ${newest} is after the change at ${changedAt}`);
  const manifestPath = join(snapDir, String(newest), 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as SnapshotManifest;
  const entries: Array<[string, string]> = manifest.chunks.flatMap((_, i) =>
    JSON.parse(readFileSync(join(snapDir, String(newest), `chunk-${i}.json`), 'utf8')),
  );
  const honestKey = victim.encryption.publicKey;
  const forgedEntries = entries.map(([k, v]): [string, string] => [k, v.replace(honestKey, 'ee'.repeat(32))]);
  assert.notDeepEqual(forgedEntries, entries, 'the snapshot holds the identity to forge');
  const tree = updateStateTree(
    { getTreeNode: () => undefined },
    EMPTY_STATE_ROOT,
    forgedEntries.map(([key, value]) => ({ key, value })),
  );
  const header = { ...manifest.block.header, appHash: appHashOf(tree.root, resultsRootOf(manifest.results)) };
  const chunks = encodeChunks(forgedEntries);
  const forged: SnapshotManifest = {
    ...manifest,
    block: { ...manifest.block, header },
    commit: signCommit(
      CHAIN,
      newest,
      blockHash(header),
      keys.slice(0, 4).map((k) => k.signing),
    ),
    chunks: chunks.map(chunkHashOf),
  };
  for (const [i, chunk] of chunks.entries()) writeFileSync(join(snapDir, String(newest), `chunk-${i}.json`), chunk);
  writeFileSync(manifestPath, JSON.stringify(forged));

  // A new node joins by state sync, asking the forger first.
  const own = ports[6] as { api: number; p2p: number };
  const out = join(dir, 'joiner');
  const made = await runCli([
    'init',
    '--join',
    join(dir, HOME_FILES.genesis),
    '--genesis-hash',
    genesisHash(genesis),
    '--out',
    out,
    '--name',
    'new-hospital',
    '--peer',
    `validator-2=ws://127.0.0.1:${ports[2]?.p2p}`,
    '--peer',
    `validator-3=ws://127.0.0.1:${ports[3]?.p2p}`,
    '--api-port',
    String(own.api),
    '--p2p-port',
    String(own.p2p),
    '--state-sync',
    '--json',
  ]);
  assert.equal(made.code, 0, made.stderr);
  const joined = JSON.parse(made.stdout);
  for (const i of [2, 3])
    editConfig(homes[i] as string, (c) => c.peers.push({ name: 'new-hospital', publicKey: joined.nodePublicKey, fullNode: true }));
  for (const i of [2, 3, 4, 5]) running.push(await startNodeProcess(homes[i] as string));
  const node = await startNodeProcess(out);
  running.push(node);
  const log = readFileSync(join(out, 'node.log'), 'utf8');
  assert.match(
    log,
    /refused the snapshot of validator-2: the snapshot block's commit does not verify against the validators in force at its height/,
  );
  assert.match(log, new RegExp(`installed the snapshot at height ${newest}`));

  // The honest state was installed, and a client pinned to genesis follows the set through the joined node alone.
  const source = { get: async (path: string) => (await get(`${node.url}${path}`)).json };
  const tracker = new ValidatorSetTracker(genesis, source);
  const block = await fetchVerifiedBlock(source, tracker, newest);
  assert.equal(block.commit.blockHash, blockHash(manifest.block.header), 'the honest snapshot block');
  assert.deepEqual(
    (await tracker.validatorsAt(newest)).map((v) => v.publicKey),
    [2, 3, 4, 5].map((i) => (keys[i] as (typeof keys)[number]).signing.publicKey),
  );
  const identity = (await get(`${node.url}/v1/identities/${idFromPublicKey(victim.signing.publicKey)}`)).json;
  assert.equal(identity.encryptionKey, honestKey);
});
