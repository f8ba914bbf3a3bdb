// The EHR application behind the ABCI port, without CometBFT: a crash between FinalizeBlock
// and Commit leaves Info at the previous height and the replayed block gives the same app
// hash; the app hash equals the embedded engine's for the same block; proposals with
// non-canonical bytes are refused; another chain's genesis is refused at InitChain; block
// limits lowered by governance bound what PrepareProposal builds and ProcessProposal accepts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { generateEncryptionKeyPair, generateSigningKeyPair, idFromPublicKey } from '@medledger/crypto';
import { EhrApp, emergencyParams, initChain, MAX_TX_BYTES, MemoryCommittedState } from '@medledger/ehr';
import { type Genesis, signTx, txBytes, verifyStateProof } from '@medledger/ledger';
import { SqliteAppState } from '@medledger/storage';
import { EngineMismatchError } from '../engine-check.js';
import type { AbciBlock } from './app-port.js';
import { AppStateCorruptError, EhrAbciApp, GenesisMismatchError } from './ehr-app.js';

const dir = mkdtempSync(join(tmpdir(), 'medledger-abci-app-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_700_000_000_000;
const validatorKey = generateSigningKeyPair();
const org = generateSigningKeyPair();
const genesis: Genesis = {
  chainId: 'abci-app-test',
  engine: 'cometbft',
  genesisTime: T0,
  validators: [{ name: 'v0', publicKey: validatorKey.publicKey, encryptionKey: generateEncryptionKeyPair().publicKey, power: 1 }],
  organizations: [
    { name: 'General Hospital', kind: 'hospital', adminKey: org.publicKey, adminEncryptionKey: generateEncryptionKeyPair().publicKey },
  ],
  params: { maxBlockTxs: 100, maxBlockBytes: 1 << 20, maxClockDriftMs: 10_000 },
};
const enc = new TextEncoder();
const initReq = (g: Genesis = genesis) => ({
  chainId: g.chainId,
  appState: enc.encode(JSON.stringify(g)),
  initialHeight: 1,
  validators: g.validators.map((v) => ({ publicKey: v.publicKey, power: v.power })),
});

const patient = generateSigningKeyPair();
const register = signTx(
  {
    v: 1,
    chain: genesis.chainId,
    kind: 'identity.register',
    signer: patient.publicKey,
    nonce: 0,
    body: { role: 'patient', encryptionKey: generateEncryptionKeyPair().publicKey },
  },
  patient.privateKey,
);
const block1: AbciBlock = { height: 1, time: T0 + 1, txs: [txBytes(register)], hash: 'aa'.repeat(32) };

function open(name: string) {
  const store = new SqliteAppState(join(dir, name));
  return { store, app: new EhrAbciApp(genesis, { store }) };
}

test('a crash between FinalizeBlock and Commit leaves Info at the saved height, and the replay gives the same app hash', () => {
  let { store, app } = open('crash.db');
  assert.deepEqual(app.info(), { height: 0, appHash: new Uint8Array(0) });
  app.initChain(initReq());
  assert.equal(app.checkTx(txBytes(register), false).code, 'ok');
  assert.equal(app.processProposal(block1), true);
  const first = app.finalizeBlock(block1);
  assert.deepEqual(first.results, [{ code: 'ok', log: '' }]);
  store.close(); // the process dies before Commit

  ({ store, app } = open('crash.db'));
  assert.equal(app.info().height, 0, 'nothing of block 1 was saved');
  app.initChain(initReq()); // CometBFT calls InitChain again for an app at height 0
  const replay = app.finalizeBlock(block1);
  assert.deepEqual(replay.appHash, first.appHash);
  app.commit();
  assert.equal(app.info().height, 1);
  store.close();

  // A state whose root no longer hashes to the saved app hash is refused at startup.
  store = new SqliteAppState(join(dir, 'crash.db'));
  const damaged = Object.assign(Object.create(store) as SqliteAppState, { stateRoot: () => '00'.repeat(32) });
  assert.throws(() => new EhrAbciApp(genesis, { store: damaged }), AppStateCorruptError);
  store.close();

  ({ store, app } = open('crash.db'));
  assert.deepEqual(app.info(), { height: 1, appHash: first.appHash });
  // The committed registration is proven against the stored state root.
  const answer = JSON.parse(new TextDecoder().decode(app.query({ path: '/state', data: enc.encode(`nonce/${patient.publicKey}`) }).value));
  assert.equal(answer.value, '1');
  verifyStateProof(answer.stateRoot, answer.key, answer.value, answer.proof);
  assert.equal(app.checkTx(txBytes(register), false).code, 'NONCE_REUSED');
  // abci_query answers anyone reaching CometBFT's RPC: keys that are not public are refused.
  const patientId = idFromPublicKey(patient.publicKey);
  for (const key of [`granteelist/${patientId}`, 'node/tip']) {
    const refused = app.query({ path: '/state', data: enc.encode(key) });
    assert.equal(refused.code, 2, key);
    assert.equal(refused.value.length, 0);
  }
  store.close();
});

test('the app hash under CometBFT equals the embedded engine app hash for the same block', () => {
  const { store, app } = open('same.db');
  app.initChain(initReq());
  const viaAbci = app.finalizeBlock(block1);
  store.close();
  const state = new MemoryCommittedState();
  state.apply(initChain(genesis));
  const embedded = new EhrApp(genesis.chainId, state, emergencyParams(genesis)).finalizeBlock({ height: 1, time: T0 + 1, txs: [register] });
  assert.equal(Buffer.from(viaAbci.appHash).toString('hex'), embedded.appHash);
});

test('a proposal with non-canonical or malformed transaction bytes is rejected, and FinalizeBlock still answers for it', () => {
  const { store, app } = open('proposal.db');
  app.initChain(initReq());
  const spaced = enc.encode(JSON.stringify(register, null, 1));
  assert.equal(app.checkTx(spaced, false).code, 'NOT_CANONICAL');
  assert.equal(app.checkTx(enc.encode('{"__proto__":{}}'), false).code, 'MALFORMED_TX');
  assert.equal(app.processProposal({ ...block1, txs: [spaced], hash: 'bb'.repeat(32) }), false);
  assert.equal(app.processProposal({ ...block1, height: 2, hash: 'cc'.repeat(32) }), false, 'not the next height');
  // Should more than 2/3 decide such a block anyway, each tx gets a result, the same on every validator.
  const decided = app.finalizeBlock({ ...block1, txs: [spaced, txBytes(register)], hash: 'dd'.repeat(32) });
  assert.deepEqual(
    decided.results.map((r) => r.code),
    ['NOT_CANONICAL', 'ok'],
  );
  store.close();
});

test("InitChain refuses another chain's genesis, chain id or validators", () => {
  const { store, app } = open('genesis.db');
  const other: Genesis = { ...genesis, genesisTime: T0 + 5 };
  assert.throws(() => app.initChain(initReq(other)), GenesisMismatchError);
  assert.throws(() => app.initChain({ ...initReq(), chainId: 'other' }), GenesisMismatchError);
  assert.throws(() => app.initChain({ ...initReq(), validators: [{ publicKey: org.publicKey, power: 1 }] }), GenesisMismatchError);
  assert.throws(() => app.initChain({ ...initReq(), appState: enc.encode('not json') }), GenesisMismatchError);
  store.close();
});

test("double-signing-under-cometbft: CometBFT's misbehavior list is recorded as equivocation evidence in state and app hash", async () => {
  const { abciHandler } = await import('./handler.js');
  const { Request, MisbehaviorType } = await import('cosmjs-types/tendermint/abci/types');
  const { cometValidatorAddress } = await import('@medledger/ledger/cometbft');
  const run = (name: string, withEvidence: boolean) => {
    const { store, app } = open(name);
    const handle = abciHandler(app);
    const misbehavior = withEvidence
      ? [
          {
            type: MisbehaviorType.DUPLICATE_VOTE,
            validator: { address: Buffer.from(cometValidatorAddress(validatorKey.publicKey), 'hex'), power: 1n },
            height: 1n,
            totalVotingPower: 1n,
          },
        ]
      : [];
    const fin = handle(
      Request.fromPartial({
        finalizeBlock: {
          height: 1n,
          time: { seconds: BigInt((T0 + 1000) / 1000), nanos: 0 },
          txs: [txBytes(register)],
          hash: new Uint8Array(32).fill(0xaa),
          misbehavior,
        },
      }),
    );
    handle(Request.fromPartial({ commit: {} }));
    const appHash = Buffer.from(fin.finalizeBlock?.appHash ?? new Uint8Array()).toString('hex');
    const key = `evidence/${validatorKey.publicKey}/1/-1/duplicate-vote`;
    const record = app.application.state.getState(key);
    store.close();
    return { appHash, record };
  };
  const clean = run('evidence-clean.db', false);
  const reported = run('evidence-reported.db', true);
  assert.equal(clean.record, undefined);
  assert.ok(reported.record !== undefined, 'the evidence is in committed state');
  assert.deepEqual(JSON.parse(reported.record), {
    validator: validatorKey.publicKey,
    height: 1,
    round: -1,
    step: 'duplicate-vote',
    reportedBy: 'cometbft',
    committedAt: 1,
  });
  assert.notEqual(reported.appHash, clean.appHash, 'the app hash commits to the evidence');
});

test('the application refuses a genesis that names the embedded engine (the engine is fixed by genesis)', () => {
  const store = new SqliteAppState(join(dir, 'engine.db'));
  try {
    for (const other of [
      { ...genesis, engine: 'embedded' as const },
      { ...genesis, engine: undefined },
    ])
      assert.throws(
        () => new EhrAbciApp(other, { store }),
        (e: Error & { code?: string }) => e instanceof EngineMismatchError && e.code === 'ENGINE_MISMATCH',
      );
  } finally {
    store.close();
  }
});

test('CheckTx refuses a transaction over the 1 MiB admission limit even when the genesis block limit is larger (TX_TOO_LARGE), as the embedded engine does', () => {
  const roomy: Genesis = { ...genesis, params: { ...genesis.params, maxBlockBytes: 8 << 20 } };
  const store = new SqliteAppState(join(dir, 'size.db'));
  const app = new EhrAbciApp(roomy, { store });
  app.initChain(initReq(roomy));
  const big = new Uint8Array((1 << 20) + 1).fill(0x20);
  const outcome = app.checkTx(big, false);
  assert.equal(outcome.code, 'TX_TOO_LARGE');
  assert.match(outcome.log, /at most 1048576/);
  // At the limit the size check passes and the bytes are judged as a transaction.
  assert.notEqual(app.checkTx(new Uint8Array(1 << 20).fill(0x20), false).code, 'TX_TOO_LARGE');
  store.close();
});

/**
 * An app on `g` at height 2 where the one member organization proposed (block 1) and passed
 * (block 2) `param.set` of `param` to `value`; `next(txs)` is a block at height 3.
 */
function withVotedLimit(name: string, g: Genesis, param: 'maxBlockTxs' | 'maxBlockBytes', value: number) {
  const store = new SqliteAppState(join(dir, name));
  const app = new EhrAbciApp(g, { store });
  app.initChain(initReq(g));
  let nonce = 0;
  const orgTx = (kind: string, body: Record<string, unknown>) =>
    txBytes(signTx({ v: 1, chain: g.chainId, kind, signer: org.publicKey, nonce: nonce++, body }, org.privateKey));
  const limitsBefore = app.blockLimits();
  const run = (height: number, tx: Uint8Array) => {
    const block: AbciBlock = { height, time: T0 + height * 1000, txs: [tx], hash: height.toString(16).padStart(64, '0') };
    assert.equal(app.processProposal(block), true);
    assert.deepEqual(
      app.finalizeBlock(block).results.map((r) => r.code),
      ['ok'],
    );
    app.commit();
  };
  run(1, orgTx('gov.propose', { action: { type: 'param.set', param, value }, votingPeriodMs: 3_600_000 }));
  const limitsWhileOpen = app.blockLimits();
  run(2, orgTx('gov.vote', { proposal: 1, vote: 'yes' }));
  const next = (txs: Uint8Array[], tag: number): AbciBlock => ({
    height: 3,
    time: T0 + 3000,
    txs,
    hash: tag.toString(16).padStart(64, 'f'),
  });
  return { store, app, limitsBefore, limitsWhileOpen, next };
}

/** A canonical patient registration of exactly `size` bytes (its body padded; execution refuses the pad, which a proposal check does not look at). */
function registrationOf(chainId: string, size?: number): Uint8Array {
  const who = generateSigningKeyPair();
  const make = (pad: string) =>
    txBytes(
      signTx(
        {
          v: 1,
          chain: chainId,
          kind: 'identity.register',
          signer: who.publicKey,
          nonce: 0,
          body: { role: 'patient', encryptionKey: generateEncryptionKeyPair().publicKey, ...(size === undefined ? {} : { pad }) },
        },
        who.privateKey,
      ),
    );
  if (size === undefined) return make('');
  const bytes = make('x'.repeat(size - make('').length));
  assert.equal(bytes.length, size);
  return bytes;
}

test('a maxBlockTxs lowered by governance bounds what PrepareProposal builds and ProcessProposal accepts from the next block on', () => {
  const { store, app, limitsBefore, limitsWhileOpen, next } = withVotedLimit('voted-txs.db', genesis, 'maxBlockTxs', 2);
  assert.deepEqual(limitsBefore, { maxBlockTxs: 100, maxBlockBytes: 1 << 20 });
  assert.deepEqual(limitsWhileOpen, limitsBefore, 'an open proposal changes nothing');
  assert.deepEqual(app.blockLimits(), { maxBlockTxs: 2, maxBlockBytes: 1 << 20 });
  const txs = [1, 2, 3, 4, 5].map(() => registrationOf(genesis.chainId));
  // An honest proposer takes the mempool in order, up to the voted count.
  assert.deepEqual(app.prepareProposal({ height: 3, txs, maxTxBytes: 1 << 30 }), txs.slice(0, 2));
  // A faulty proposer's block over the voted count is refused; one within it is accepted.
  assert.equal(app.processProposal(next(txs.slice(0, 3), 1)), false, 'three transactions over a voted limit of two');
  assert.equal(app.processProposal(next(txs.slice(0, 2), 2)), true);
  assert.equal(app.processProposal(next([], 3)), true);
  store.close();
});

test('a maxBlockBytes lowered by governance bounds what PrepareProposal builds and ProcessProposal accepts, with CometBFT’s maxTxBytes still a bound', () => {
  const roomy: Genesis = { ...genesis, params: { ...genesis.params, maxBlockBytes: 4 * MAX_TX_BYTES } };
  const { store, app, limitsBefore, next } = withVotedLimit('voted-bytes.db', roomy, 'maxBlockBytes', MAX_TX_BYTES);
  assert.equal(limitsBefore.maxBlockBytes, 4 * MAX_TX_BYTES);
  assert.deepEqual(app.blockLimits(), { maxBlockTxs: 100, maxBlockBytes: MAX_TX_BYTES });
  // Two canonical transactions of exactly the voted limit together, and the same plus one byte.
  const half = MAX_TX_BYTES / 2;
  const a = registrationOf(roomy.chainId, half);
  const b = registrationOf(roomy.chainId, half);
  const bPlusOne = registrationOf(roomy.chainId, half + 1);
  const c = registrationOf(roomy.chainId, 1000);
  // An honest proposer stops at the voted limit (the genesis limit would take all three)...
  assert.deepEqual(app.prepareProposal({ height: 3, txs: [a, bPlusOne, c], maxTxBytes: 1 << 30 }), [a]);
  assert.deepEqual(app.prepareProposal({ height: 3, txs: [a, b, c], maxTxBytes: 1 << 30 }), [a, b]);
  // ...and at CometBFT's own maxTxBytes when that is smaller.
  assert.deepEqual(app.prepareProposal({ height: 3, txs: [a, b, c], maxTxBytes: half + 10 }), [a]);
  // A faulty proposer's block one byte over the voted limit is refused; one at the limit is accepted.
  assert.equal(app.processProposal(next([a, bPlusOne], 1)), false, 'one byte over the voted limit');
  assert.equal(app.processProposal(next([a, b], 2)), true);
  store.close();
});
