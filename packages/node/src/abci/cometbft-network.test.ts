// MedLedger on the real CometBFT binary (docs/cometbft.md): one validator, then four on
// loopback, committing an identity registration and a record anchor end to end through
// CometBFT's RPC, and a block limit lowered by vote holding on the real binary. Needs
// scripts/install-cometbft.sh; without the binary these tests fail
// with a message naming it (they are never skipped).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { type Genesis, signTx, txBytes, txHash } from '@medledger/ledger';
import { type CometCommitJson, type CometHeaderJson, cometResultsHash, cometTxsHash, verifyCometCommit } from '@medledger/ledger/cometbft';
import { actor, CHAIN, records, startNet, submitAndCommit, waitHeight } from '../testing/cometbft-net.js';
import { waitFor } from '../testing/harness.js';
import { CometBftMissingError, cometBftBinary } from './cometbft-process.js';
import type { CometValidator } from './validator.js';
import { rpcBlockSource, verifyCometChain } from './verify-comet.js';

const pick = (r: { ok: boolean; height?: number; code?: string }) => (r.ok ? { ok: true } : { ok: false, height: r.height, code: r.code });

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

test('without the CometBFT binary the engine fails naming the install script (never a silent skip)', () => {
  assert.throws(
    () => cometBftBinary({ MEDLEDGER_COMETBFT: '/nonexistent/cometbft' }),
    (err: unknown) => err instanceof CometBftMissingError && /scripts\/install-cometbft\.sh/.test(err.message),
  );
  assert.throws(() => cometBftBinary({ MEDLEDGER_COMETBFT_CACHE: '/nonexistent' }), CometBftMissingError);
});

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

    // An outsider re-verifies the whole chain from the genesis alone, replaying the application.
    await waitHeight(again, third.height + 1);
    const source = rpcBlockSource(again.rpc);
    const verified = await verifyCometChain(net.genesis, source);
    assert.equal(verified.ok, true, JSON.stringify(verified));
    assert.ok(verified.ok && verified.blocks >= third.height && verified.txs === 3);
    // A node that serves another result, or drops a transaction, is caught.
    const lyingResults = {
      ...source,
      results: async (h: number) =>
        (await source.results(h)).map((r) =>
          h === anchor.height ? { ...r, data: new TextEncoder().encode('{"code":"ok","log":"x"}') } : r,
        ),
    };
    assert.deepEqual(pick(await verifyCometChain(net.genesis, lyingResults)), {
      ok: false,
      height: anchor.height,
      code: 'RESULTS_MISMATCH',
    });
    const droppingTxs = { ...source, txs: async (h: number) => (h === anchor.height ? [] : source.txs(h)) };
    assert.deepEqual(pick(await verifyCometChain(net.genesis, droppingTxs)), { ok: false, height: anchor.height, code: 'BAD_TX_ROOT' });
    const otherGenesis = { ...net.genesis, genesisTime: net.genesis.genesisTime + 1 };
    assert.deepEqual(pick(await verifyCometChain(otherGenesis, source)), { ok: false, height: 1, code: 'APP_HASH_MISMATCH' });

    // The application's state deleted (the recovery for a corrupt state): CometBFT replays
    // every block into a fresh one, which reaches the same app hashes.
    const before3 = net.commits[0]?.get(third.height)?.appHash;
    assert.ok(before3 !== undefined);
    net.commits[0]?.clear();
    await net.restart(0, { wipeState: true });
    const rebuilt = net.validators[0] as CometValidator;
    await waitFor(() => (rebuilt.app.info().height > third.height ? true : undefined), 'the replay into a fresh state', 60_000);
    assert.equal(net.commits[0]?.get(third.height)?.appHash, before3);
    assert.ok(net.commits[0]?.has(1), 'replayed from block 1');
  } finally {
    await net.cleanup();
  }
});

test('on CometBFT a maxBlockTxs lowered by governance bounds every block from the next one on', async () => {
  const net = await startNet(1);
  try {
    const v = net.validators[0] as CometValidator;
    await waitHeight(v, 1);
    const action = { type: 'param.set', param: 'maxBlockTxs', value: 2 };
    assert.deepEqual((await submitAndCommit(v, net.org.tx('gov.propose', { action, votingPeriodMs: 3_600_000 }))).result, {
      code: 'ok',
      log: '',
    });
    const passed = await submitAndCommit(v, net.org.tx('gov.vote', { proposal: 1, vote: 'yes' }));
    assert.deepEqual(passed.result, { code: 'ok', log: '' });
    // Twelve transactions in CometBFT's mempool at once: at most two per block, none lost.
    const txs = Array.from({ length: 12 }, () => {
      const a = actor();
      return a.tx('identity.register', { role: 'patient', encryptionKey: a.encryption.publicKey });
    });
    for (const tx of txs) assert.equal((await v.rpc.broadcastTxSync(txBytes(tx))).code, 0);
    const heights = await Promise.all(txs.map((tx) => waitFor(() => v.rpc.tx(txHash(tx)), `tx ${txHash(tx)} committed`, 60_000)));
    const perBlock = new Map<number, number>();
    for (const { height } of heights) perBlock.set(height, (perBlock.get(height) ?? 0) + 1);
    assert.ok(Math.max(...perBlock.values()) <= 2, `transactions per block: ${JSON.stringify([...perBlock])}`);
    const after = [...(net.commits[0]?.values() ?? [])].filter((b) => b.height > passed.height);
    assert.ok(after.length >= 6);
    for (const b of after) assert.ok(b.txs.length <= 2, `block ${b.height} holds ${b.txs.length} transactions`);
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
