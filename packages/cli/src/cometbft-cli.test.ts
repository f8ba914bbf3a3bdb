// `medledger init --engine cometbft` and `medledger node --engine cometbft` with the real
// CometBFT binary (scripts/install-cometbft.sh): the pair commits a transaction submitted
// through CometBFT's RPC and one submitted through the MedLedger API, dies together when
// CometBFT is killed -9, and resumes on restart without losing the acknowledged transactions.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '@medledger/crypto';
import { type Genesis, signTx, txBytes, txHash } from '@medledger/ledger';
import { CometRpc, cometBftBinary } from '@medledger/node';
import { freePortRange, TEST_PASSPHRASE, waitFor } from '@medledger/node/testing';
import { BIN, runCli } from './testing/cli.js';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;
const dir = mkdtempSync(join(tmpdir(), 'medledger-comet-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** `medledger node --engine cometbft`, resolved once it prints its RPC URL, CometBFT's pid and its API URL. */
function startNode(
  home: string,
): Promise<{ child: ChildProcess; rpc: CometRpc; cometPid: number; api: string; exited: Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'node', '--home', home, '--engine', 'cometbft'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.stderr?.on('data', (c: Buffer) => {
      err += String(c);
    });
    child.stdout?.on('data', (c: Buffer) => {
      out += String(c);
      const m = /CometBFT RPC: (\S+) \(cometbft pid (\d+)\)/.exec(out);
      const api = /node \S+ API: (\S+)/.exec(out);
      if (m !== null && api !== null)
        resolve({ child, rpc: new CometRpc(m[1] as string), cometPid: Number(m[2]), api: api[1] as string, exited });
    });
    void exited.then((code) => reject(new Error(`node exited ${code} before starting\n${out}\n${err}`)));
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('init --engine cometbft writes CometBFT homes; node --engine cometbft commits, dies with CometBFT, and resumes after either is killed -9', async () => {
  cometBftBinary(); // fails naming scripts/install-cometbft.sh when missing
  const base = await freePortRange(4);
  const init = await runCli([
    'init',
    '--validators',
    '1',
    '--out',
    join(dir, 'net'),
    '--base-port',
    String(base),
    '--engine',
    'cometbft',
    '--json',
  ]);
  assert.equal(init.code, 0, init.stderr);
  const home = (JSON.parse(init.stdout) as { homes: string[] }).homes[0] as string;
  const genesis = JSON.parse(readFileSync(join(dir, 'net', 'genesis.json'), 'utf8')) as Genesis;
  const cometGenesis = JSON.parse(readFileSync(join(home, 'cometbft', 'config', 'genesis.json'), 'utf8'));
  assert.equal(cometGenesis.chain_id, genesis.chainId);
  assert.equal(Buffer.from(cometGenesis.validators[0].pub_key.value, 'base64').toString('hex'), genesis.validators[0]?.publicKey);
  assert.deepEqual(cometGenesis.app_state, genesis);
  // The engine is part of genesis (and so of its hash): a node asked to run the embedded engine
  // on it, or a verify that would check it as the embedded engine's, is refused.
  assert.equal(genesis.engine, 'cometbft');
  const embeddedRun = await runCli(['node', '--home', home], { timeoutMs: 60_000 });
  assert.notEqual(embeddedRun.code, 0);
  assert.match(embeddedRun.stderr, /ENGINE_MISMATCH|names the cometbft engine/);
  const embeddedVerify = await runCli(['verify', '--home', home, '--engine', 'embedded']);
  assert.equal(embeddedVerify.code, 2);
  assert.match(embeddedVerify.stderr, /ENGINE_MISMATCH/);
  assert.match(
    readFileSync(join(home, 'cometbft', 'config', 'config.toml'), 'utf8'),
    new RegExp(`proxy_app = "tcp://127.0.0.1:${base + 3}"`),
  );

  let node = await startNode(home);
  try {
    await waitFor(async () => ((await node.rpc.status().catch(() => undefined))?.height ?? 0) >= 1 || undefined, 'block 1', 60_000);
    const signing = generateSigningKeyPair();
    const tx = signTx(
      {
        v: 1,
        chain: genesis.chainId,
        kind: 'identity.register',
        signer: signing.publicKey,
        nonce: 0,
        body: { role: 'patient', encryptionKey: generateEncryptionKeyPair().publicKey },
      },
      signing.privateKey,
    );
    const sent = await node.rpc.broadcastTxSync(txBytes(tx));
    assert.equal(sent.code, 0);
    const committed = await waitFor(() => node.rpc.tx(txHash(tx)), 'the registration committed', 60_000);
    // The same node's MedLedger API takes a transaction and reports it committed.
    const viaApiKey = generateSigningKeyPair();
    const viaApi = signTx(
      {
        v: 1,
        chain: genesis.chainId,
        kind: 'identity.register',
        signer: viaApiKey.publicKey,
        nonce: 0,
        body: { role: 'patient', encryptionKey: generateEncryptionKeyPair().publicKey },
      },
      viaApiKey.privateKey,
    );
    const posted = await fetch(`${node.api}/v1/txs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(viaApi),
    });
    assert.equal(posted.status, 202);
    const apiStatus = async (url: string) =>
      (await (await fetch(`${url}/v1/txs/${txHash(viaApi)}`)).json()) as { status: string; height?: number };
    const apiCommitted = await waitFor(
      async () => ((await apiStatus(node.api)).status === 'committed' ? apiStatus(node.api) : undefined),
      'the API transaction committed',
      60_000,
    );
    // CometBFT indexes a block's transactions after the block commits (its indexer service runs
    // behind the commit), so under load the app may say committed a moment before the index has it.
    const rpc = node.rpc;
    const indexed = await waitFor(
      async () => (await rpc.tx(txHash(viaApi))) ?? undefined,
      "CometBFT's index has the API transaction",
      30_000,
    );
    assert.equal(indexed.height, apiCommitted.height, "CometBFT's index agrees with the API");

    // kill -9 CometBFT: the node stops its application and exits 1 (supervised pair).
    process.kill(node.cometPid, 'SIGKILL');
    assert.equal(await node.exited, 1);

    node = await startNode(home);
    const status = await waitFor(
      async () => {
        const s = await node.rpc.status().catch(() => undefined);
        return s !== undefined && s.height > committed.height ? s : undefined;
      },
      'blocks after the restart',
      60_000,
    );
    assert.ok(status.height > committed.height);
    const again = await node.rpc.tx(txHash(tx));
    assert.equal(again?.height, committed.height, 'the acknowledged transaction is still committed at its height');

    // kill -9 the application (the node process): CometBFT loses its ABCI connections and
    // stops itself; on restart Info's saved height and CometBFT's stores agree and it goes on.
    const beforeCrash = (await node.rpc.status()).height;
    node.child.kill('SIGKILL');
    await node.exited;
    const orphan = node.cometPid;
    await waitFor(() => (alive(orphan) ? undefined : true), 'CometBFT to stop without its application', 30_000);
    node = await startNode(home);
    await waitFor(
      async () => ((await node.rpc.status().catch(() => undefined))?.height ?? 0) > beforeCrash || undefined,
      'blocks after the app crash',
      60_000,
    );
    assert.equal((await node.rpc.tx(txHash(tx)))?.height, committed.height);
    const afterCrash = await apiStatus(node.api);
    assert.equal(afterCrash.status, 'committed', 'the API still reports the acknowledged transaction after the app was killed -9');
    assert.equal(afterCrash.height, apiCommitted.height);

    // The chain CometBFT made is re-verified by the same command as the embedded engine's.
    const verified = await runCli(['verify', '--home', home, '--engine', 'cometbft', '--json']);
    assert.equal(verified.code, 0, verified.stderr);
    const v = JSON.parse(verified.stdout) as { ok: boolean; blocks: number; txs: number };
    assert.equal(v.ok, true);
    assert.equal(v.txs, 2);
    assert.ok(v.blocks >= committed.height);

    // SIGTERM stops both, cleanly.
    node.child.kill('SIGTERM');
    assert.equal(await node.exited, 0);
    assert.equal(alive(node.cometPid), false);
    assert.ok(existsSync(join(home, 'data', 'app.db')));
  } finally {
    if (node.child.exitCode === null) node.child.kill('SIGKILL');
    if (alive(node.cometPid)) process.kill(node.cometPid, 'SIGKILL');
  }
});
