// MedLedger on the real CometBFT binary (docs/cometbft.md): one validator, then four on
// loopback, committing an identity registration and a record anchor end to end through
// CometBFT's RPC. Needs scripts/install-cometbft.sh; without the binary these tests fail
// with a message naming it (they are never skipped).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateEncryptionKeyPair, generateSigningKeyPair, idFromPublicKey, type SigningKeyPair, toHex } from '@medledger/crypto';
import { type Genesis, type SignedTx, signTx, txBytes, txHash } from '@medledger/ledger';
import { type CometCommitJson, type CometHeaderJson, cometResultsHash, cometTxsHash, verifyCometCommit } from '@medledger/ledger/cometbft';
import { freePort, waitFor } from '../testing/harness.js';
import { writeCometHome } from './cometbft-home.js';
import { cometBftBinary } from './cometbft-process.js';
import type { CommittedBlock } from './ehr-app.js';
import { type CometValidator, startCometValidator } from './validator.js';

const CHAIN = 'comet-test';
const CONSENSUS = {
  timeouts: { propose: 1000, proposeDelta: 500, prevote: 500, prevoteDelta: 250, precommit: 500, precommitDelta: 250 },
  blockIntervalMs: 200,
  heartbeatMs: 2000,
};

function actor(chain = CHAIN) {
  const signing = generateSigningKeyPair();
  const encryption = generateEncryptionKeyPair();
  let nonce = 0;
  return {
    signing,
    encryption,
    id: idFromPublicKey(signing.publicKey),
    tx: (kind: string, body: Record<string, unknown>): SignedTx =>
      signTx({ v: 1, chain, kind, signer: signing.publicKey, nonce: nonce++, body }, signing.privateKey),
  };
}

interface Net {
  genesis: Genesis;
  validators: CometValidator[];
  /** Every validator's committed blocks, as its own application saw them. */
  commits: Array<Map<number, CommittedBlock>>;
  restart(i: number): Promise<void>;
  cleanup(): Promise<void>;
}

/** `n` validators, each a CometBFT process plus the EHR application, on free loopback ports. */
async function startNet(n: number): Promise<Net> {
  const binary = cometBftBinary();
  const dir = mkdtempSync(join(tmpdir(), 'medledger-comet-'));
  const keys: SigningKeyPair[] = Array.from({ length: n }, () => generateSigningKeyPair());
  const org = actor();
  const genesis: Genesis = {
    chainId: CHAIN,
    genesisTime: Date.now() - 1000,
    validators: keys.map((k, i) => ({
      name: `validator-${i}`,
      publicKey: k.publicKey,
      encryptionKey: generateEncryptionKeyPair().publicKey,
      power: 1,
    })),
    organizations: [
      { name: 'General Hospital', kind: 'hospital', adminKey: org.signing.publicKey, adminEncryptionKey: org.encryption.publicKey },
    ],
    params: { maxBlockTxs: 5000, maxBlockBytes: 8 * 1024 * 1024, maxClockDriftMs: 10_000 },
  };
  const ports: Array<{ p2p: number; rpc: number; abci: number }> = [];
  for (let i = 0; i < n; i++) ports.push({ p2p: await freePort(), rpc: await freePort(), abci: await freePort() });
  keys.forEach((key, i) => {
    writeCometHome(genesis, {
      dir: join(dir, `v${i}`, 'cometbft'),
      moniker: `validator-${i}`,
      key,
      ports: ports[i] as { p2p: number; rpc: number; abci: number },
      peers: keys.flatMap((k, j) =>
        j === i ? [] : [{ publicKey: k.publicKey, host: '127.0.0.1', p2pPort: (ports[j] as { p2p: number }).p2p }],
      ),
      consensus: CONSENSUS,
      logLevel: 'error',
    });
  });
  const commits = keys.map(() => new Map<number, CommittedBlock>());
  const start = (i: number) =>
    startCometValidator(
      {
        genesis,
        statePath: join(dir, `v${i}`, 'app.db'),
        cometHome: join(dir, `v${i}`, 'cometbft'),
        abciPort: (ports[i] as { abci: number }).abci,
        rpcPort: (ports[i] as { rpc: number }).rpc,
        binary,
      },
      { log: () => {}, onCommit: (b) => (commits[i] as Map<number, CommittedBlock>).set(b.height, b) },
    );
  const validators: CometValidator[] = [];
  for (let i = 0; i < n; i++) validators.push(await start(i));
  return {
    genesis,
    validators,
    commits,
    restart: async (i) => {
      await (validators[i] as CometValidator).stop();
      validators[i] = await start(i);
    },
    cleanup: async () => {
      await Promise.all(validators.map((v) => v.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Wait until CometBFT's RPC answers with a height of at least `height`. */
async function waitHeight(v: CometValidator, height: number, timeoutMs = 60_000): Promise<number> {
  return waitFor(
    async () => {
      try {
        const s = await v.rpc.status();
        return s.height >= height ? s.height : undefined;
      } catch {
        return undefined;
      }
    },
    `CometBFT height ${height}\n${v.comet.tail()}`,
    timeoutMs,
  );
}

/** Submit through broadcast_tx_sync; asserts admission, the hash, and waits for the commit. */
async function submitAndCommit(v: CometValidator, tx: SignedTx): Promise<{ height: number; result: { code: string; log: string } }> {
  const r = await v.rpc.broadcastTxSync(txBytes(tx));
  assert.equal(r.code, 0, `CheckTx refused: ${new TextDecoder().decode(r.data)}`);
  // CometBFT's tx hash is SHA-256 of the bytes: the canonical bytes make it MedLedger's.
  assert.equal(r.hash.toLowerCase(), txHash(tx));
  const found = await waitFor(() => v.rpc.tx(txHash(tx)), `tx ${txHash(tx)} committed\n${v.comet.tail()}`, 60_000);
  return { height: found.height, result: JSON.parse(new TextDecoder().decode(found.data)) };
}

const hash = () => toHex(randomBytes(32));

/** What an outsider fetches to check block `height`: its signed header, its txs and results, and the next signed header. */
async function cometVector(v: CometValidator, height: number) {
  const signed = async (h: number) =>
    ((await v.rpc.raw('commit', { height: String(h) })) as { signed_header: { header: CometHeaderJson; commit: CometCommitJson } })
      .signed_header;
  const block = (await v.rpc.raw('block', { height: String(height) })) as { block: { data: { txs: string[] | null } } };
  const results = (await v.rpc.raw('block_results', { height: String(height) })) as {
    txs_results: Array<{ code?: number; data?: string; gas_wanted?: string; gas_used?: string }> | null;
  };
  return {
    height,
    signed: await signed(height),
    txs: block.block.data.txs ?? [],
    results: (results.txs_results ?? []).map((r) => ({
      code: r.code ?? 0,
      data: r.data ?? '',
      gasWanted: r.gas_wanted ?? '0',
      gasUsed: r.gas_used ?? '0',
    })),
    next: await signed(height + 1),
  };
}

/** Every check an outsider makes on a vector (the same ones packages/ledger/src/cometbft.test.ts runs on the stored vector). */
function verifyCometVector(genesis: Genesis, vec: Awaited<ReturnType<typeof cometVector>>): void {
  const validators = genesis.validators.map((v) => ({ publicKey: v.publicKey, power: v.power }));
  verifyCometCommit(genesis.chainId, validators, vec.signed.header, vec.signed.commit);
  verifyCometCommit(genesis.chainId, validators, vec.next.header, vec.next.commit);
  const txs = vec.txs.map((t) => new Uint8Array(Buffer.from(t, 'base64')));
  assert.equal(cometTxsHash(txs), vec.signed.header.data_hash.toLowerCase());
  const results = vec.results.map((r) => ({
    code: r.code,
    data: new Uint8Array(Buffer.from(r.data, 'base64')),
    gasWanted: BigInt(r.gasWanted),
    gasUsed: BigInt(r.gasUsed),
  }));
  assert.equal(cometResultsHash(results), vec.next.header.last_results_hash.toLowerCase());
  assert.equal(vec.next.header.last_block_id.hash, vec.signed.commit.block_id.hash);
}

function records(patient: ReturnType<typeof actor>) {
  const emergency = generateEncryptionKeyPair();
  return {
    register: patient.tx('identity.register', {
      role: 'patient',
      encryptionKey: patient.encryption.publicKey,
      emergencyKey: emergency.publicKey,
    }),
    anchor: () =>
      patient.tx('record.anchor', {
        record: toHex(randomBytes(16)),
        patient: patient.id,
        resourceType: 'Observation',
        category: 'vital-signs',
        contentHash: hash(),
        size: 300,
        envelopes: [
          { to: patient.id, hash: hash() },
          { to: 'emergency', hash: hash() },
        ],
      }),
  };
}

test('one validator on CometBFT commits a registration and a record anchor, refuses non-canonical bytes, and resumes after a restart', async () => {
  const net = await startNet(1);
  try {
    const v = net.validators[0] as CometValidator;
    await waitHeight(v, 1);
    const patient = actor();
    const txs = records(patient);
    const reg = await submitAndCommit(v, txs.register);
    assert.deepEqual(reg.result, { code: 'ok', log: '' });
    const anchor = await submitAndCommit(v, txs.anchor());
    assert.deepEqual(anchor.result, { code: 'ok', log: '' });
    // The application's own record agrees with CometBFT's index.
    assert.equal(v.app.query({ path: '/tx', data: new TextEncoder().encode(txHash(txs.register)) }).code, 0);

    // The same transaction, re-serialised with a space: same meaning, other bytes, other hash. Refused.
    const unsent = signTx(
      { v: 1, chain: CHAIN, kind: 'identity.rotate', signer: patient.signing.publicKey, nonce: 2, body: {} },
      patient.signing.privateKey,
    );
    const spaced = new TextEncoder().encode(JSON.stringify(unsent, null, 1));
    const refused = await v.rpc.broadcastTxSync(spaced);
    assert.notEqual(refused.code, 0);
    assert.equal(JSON.parse(new TextDecoder().decode(refused.data)).code, 'NOT_CANONICAL');

    // A refused-by-the-rules transaction is admitted by nobody: the wrong nonce.
    const stale = signTx(
      { v: 1, chain: CHAIN, kind: 'identity.register', signer: patient.signing.publicKey, nonce: 0, body: {} },
      patient.signing.privateKey,
    );
    const nonce = await v.rpc.broadcastTxSync(txBytes(stale));
    assert.equal(JSON.parse(new TextDecoder().decode(nonce.data)).code, 'NONCE_REUSED');

    // Restart the pair: Info answers the saved height, CometBFT replays nothing twice, and it goes on.
    const before = v.app.info().height;
    await net.restart(0);
    const again = net.validators[0] as CometValidator;
    assert.ok(again.app.info().height >= before);
    await waitHeight(again, before + 1);
    const third = await submitAndCommit(again, txs.anchor());
    assert.deepEqual(third.result, { code: 'ok', log: '' });
    assert.ok(third.height > anchor.height);
  } finally {
    await net.cleanup();
  }
});

test('four validators on CometBFT commit MedLedger transactions with one app hash per height', async () => {
  const net = await startNet(4);
  try {
    await Promise.all(net.validators.map((v) => waitHeight(v, 2, 90_000)));
    const patient = actor();
    const txs = records(patient);
    // Submitted to one validator, gossiped by CometBFT, committed by all.
    const reg = await submitAndCommit(net.validators[1] as CometValidator, txs.register);
    assert.deepEqual(reg.result, { code: 'ok', log: '' });
    const anchor = await submitAndCommit(net.validators[2] as CometValidator, txs.anchor());
    assert.deepEqual(anchor.result, { code: 'ok', log: '' });
    await Promise.all(net.validators.map((v) => waitHeight(v, anchor.height + 1, 60_000)));
    for (const height of [reg.height, anchor.height]) {
      const blocks = net.commits.map((c) => c.get(height));
      for (const b of blocks) assert.ok(b !== undefined, `every application committed height ${height}`);
      assert.equal(new Set(blocks.map((b) => b?.appHash)).size, 1, `one app hash at height ${height}`);
    }
    assert.equal(
      net.commits[3]?.get(anchor.height)?.txs.some((t) => txHash(t) === txHash(txs.register)),
      false,
    );
    assert.equal(
      net.commits[3]?.get(reg.height)?.results.every((r) => r.code === 'ok'),
      true,
    );
    // The anchor's block, checked as an outsider would, from the genesis validators alone.
    const vector = await cometVector(net.validators[0] as CometValidator, anchor.height);
    verifyCometVector(net.genesis, vector);
    // The next header carries the app hash each application computed (one block later).
    assert.equal(vector.next.header.app_hash.toLowerCase(), net.commits[0]?.get(anchor.height)?.appHash);
    if (process.env.MEDLEDGER_WRITE_COMET_VECTORS) {
      writeFileSync(process.env.MEDLEDGER_WRITE_COMET_VECTORS, `${JSON.stringify({ genesis: net.genesis, ...vector }, null, 2)}\n`);
    }
  } finally {
    await net.cleanup();
  }
});
