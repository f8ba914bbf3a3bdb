// The application behind its ABCI-shaped interface, driven directly as an engine (embedded
// or a CometBFT adapter) would: info, checkTx, prepare/process/finalize, commit, query.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateEncryptionKeyPair, generateSigningKeyPair, idFromPublicKey } from '@medledger/crypto';
import { initChain, keys } from '@medledger/ehr';
import { type Block, type BlockHeader, blockHash, type Genesis, type SignedTx, type TxResult, txRoot, ZERO_HASH } from '@medledger/ledger';
import { MemoryStore, SqliteAppState } from '@medledger/storage';
import { EhrApplication } from './application.js';
import { ownTxSubmitter } from './own-tx.js';
import type { CommittedBlock } from './ports.js';
import { newSigner } from './testing/harness.js';

const CHAIN = 'app-test';

function makeGenesis(): Genesis {
  const v = { signing: generateSigningKeyPair(), encryption: generateEncryptionKeyPair() };
  return {
    chainId: CHAIN,
    genesisTime: 1_700_000_000_000,
    validators: [{ name: 'v0', publicKey: v.signing.publicKey, encryptionKey: v.encryption.publicKey, power: 1 }],
    organizations: [],
    params: { maxBlockTxs: 1000, maxBlockBytes: 1 << 20, maxClockDriftMs: 10_000 },
  };
}

/** The block a proposer would build from a prepared proposal (what chain.ts buildBlock does). */
function blockOf(genesis: Genesis, height: number, time: number, txs: SignedTx[], appHash: string): { block: Block; hash: string } {
  const header: BlockHeader = {
    chainId: genesis.chainId,
    height,
    time,
    prevHash: ZERO_HASH,
    txRoot: txRoot(txs),
    appHash,
    proposer: genesis.validators[0]?.publicKey as string,
    lastCommitHash: ZERO_HASH,
  };
  return { block: { header, lastCommit: null, txs }, hash: blockHash(header) };
}

test('an engine drives the application through info, checkTx, prepare, process, finalize, commit and query', () => {
  const genesis = makeGenesis();
  const store = new MemoryStore();
  const app = new EhrApplication(genesis, store);
  assert.deepEqual(app.info(), { height: 0, appHash: initChain(genesis).appHash });

  const alice = newSigner(CHAIN);
  const tx = alice.register(0);
  assert.equal(app.checkTx(tx).code, 'ok');
  assert.notEqual(app.checkTx(alice.register(0)).code, 'ok', 'a second tx at the same nonce is refused at admission');

  const time = genesis.genesisTime + 1_000;
  const prepared = app.prepareProposal({ height: 1, time, proposer: genesis.validators[0]?.publicKey as string, txs: [tx] });
  assert.deepEqual(prepared.txs, [tx]);
  const { block, hash } = blockOf(genesis, 1, time, prepared.txs, prepared.appHash);

  const lying = blockOf(genesis, 1, time, [tx], ZERO_HASH);
  const refused = app.processProposal({ hash: lying.hash, height: 1, time, txs: [tx], appHash: ZERO_HASH });
  assert.equal(refused.accept, false, 'a block whose app hash differs from the execution is rejected');
  assert.deepEqual(app.processProposal({ hash, height: 1, time, txs: block.txs, appHash: prepared.appHash }), { accept: true });

  const finalized = app.finalizeBlock({ hash, height: 1, time, txs: block.txs });
  assert.equal(finalized.appHash, prepared.appHash);
  assert.deepEqual(
    finalized.results.map((r) => r.code),
    ['ok'],
  );
  assert.equal(app.info().height, 0, 'finalizeBlock changes no committed state');

  const heard: CommittedBlock[] = [];
  app.onCommitted((c) => heard.push(c));
  app.commit({ block, hash, commit: { height: 1, round: 0, blockHash: hash, signatures: [] } });
  assert.deepEqual(app.info(), { height: 1, appHash: prepared.appHash });
  assert.equal(heard.length, 1, 'each commit listener hears the block once');
  assert.equal(heard[0]?.height, 1);
  assert.deepEqual(heard[0]?.txs, [tx]);
  assert.ok((heard[0]?.writes.length ?? 0) > 0, 'the listener sees the state writes (the vault and emergency agent read them)');
  assert.equal(store.tipHeight(), 1, 'the block and its state were stored together');

  assert.deepEqual(app.query('nonce', alice.signing.publicKey), { path: 'nonce', nonce: 1 });
  const identity = app.query('identity', idFromPublicKey(alice.signing.publicKey));
  assert.equal(identity.path === 'identity' && identity.identity?.role, 'patient');
  const proven = app.query('prove', keys.nonce(alice.signing.publicKey));
  assert.equal(proven.path === 'prove' && proven.entry.value, '1');
  assert.equal(app.pendingNonce(alice.signing.publicKey), 1);

  // A restarted node reads its committed state and tip back from the store.
  const reopened = new EhrApplication(genesis, store);
  assert.deepEqual(reopened.info(), app.info());
  reopened.checkStoredState(1, prepared.appHash);
  assert.throws(() => reopened.checkStoredState(1, ZERO_HASH), { name: 'ChainError', code: 'CORRUPT' });
});

test("the node's own transactions are signed at the signer's pending nonce and admitted through checkTx", () => {
  const genesis = makeGenesis();
  const app = new EhrApplication(genesis, new MemoryStore());
  const nodeKey = generateSigningKeyPair();
  const other = generateSigningKeyPair();
  const admitted: SignedTx[] = [];
  const submit = ownTxSubmitter(
    { chainId: CHAIN, nodeKey },
    {
      pendingNonce: (signer) => app.pendingNonce(signer),
      admit: (tx) => {
        const result = app.checkTx(tx);
        if (result.code !== 'ok') throw new Error(result.code);
        admitted.push(tx);
      },
    },
  );
  const body = { role: 'patient', encryptionKey: generateEncryptionKeyPair().publicKey };
  const first = submit('identity.register', body);
  assert.equal(first.tx.signer, nodeKey.publicKey, 'the node key signs unless another key is named');
  assert.equal(first.tx.nonce, 0);
  const second = submit('identity.register', { role: 'patient', encryptionKey: generateEncryptionKeyPair().publicKey }, other);
  assert.equal(second.tx.signer, other.publicKey);
  assert.equal(second.tx.nonce, 0);
  assert.deepEqual(admitted, [first.tx, second.tx]);
  assert.throws(() => submit('identity.register', body), /.+/, 'a refused transaction throws and is not admitted');
  assert.equal(admitted.length, 2);
});

test('the state-only commit (CometBFT) reaches the app hash the block commit reaches, tells listeners, survives a reopen, and each store takes only its own commit', () => {
  const genesis = makeGenesis();
  const dir = mkdtempSync(join(tmpdir(), 'medledger-app-state-'));
  try {
    const alice = newSigner(CHAIN);
    const tx = alice.register(0);
    const time = genesis.genesisTime + 1_000;

    const embedded = new EhrApplication(genesis, new MemoryStore());
    const prepared = embedded.prepareProposal({ height: 1, time, proposer: genesis.validators[0]?.publicKey as string, txs: [tx] });
    const { block, hash } = blockOf(genesis, 1, time, prepared.txs, prepared.appHash);
    embedded.finalizeBlock({ hash, height: 1, time, txs: [tx] });
    embedded.commit({ block, hash, commit: { height: 1, round: 0, blockHash: hash, signatures: [] } });

    let file = new SqliteAppState(join(dir, 'app.db'));
    let stateOnly = new EhrApplication(genesis, file);
    const seen: CommittedBlock[] = [];
    stateOnly.onCommitted((c) => seen.push(c));
    const req = { hash: 'ab'.repeat(32), height: 1, time, txs: [tx] };
    const fin = stateOnly.finalizeBlock(req);
    assert.throws(() => stateOnly.commit({ block, hash, commit: { height: 1, round: 0, blockHash: hash, signatures: [] } }), /commitState/);
    stateOnly.commitState(req, [{ hash: 'cd'.repeat(32), result: fin.results[0] as TxResult }]);
    assert.deepEqual(stateOnly.info(), embedded.info(), 'one execution path: both engines reach the same app hash');
    assert.deepEqual(
      seen.map((c) => [c.height, c.txs.length]),
      [[1, 1]],
    );
    assert.equal(file.findTx('cd'.repeat(32))?.height, 1, 'the engine-named tx index is saved with the state');
    assert.equal(stateOnly.query('nonce', alice.signing.publicKey).path, 'nonce');
    file.close();

    file = new SqliteAppState(join(dir, 'app.db'));
    stateOnly = new EhrApplication(genesis, file);
    assert.deepEqual(stateOnly.info(), embedded.info(), 'the saved tip is read back on restart');
    assert.equal(stateOnly.lastBlockTime, time);
    file.close();

    assert.throws(() => embedded.commitState({ ...req, height: 2 }, []), /commit it with commit/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
