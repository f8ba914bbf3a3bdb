// The application's rules as pure functions: nonces, registration, evidence, and
// deterministic app hashes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateEncryptionKeyPair, generateSigningKeyPair, idFromPublicKey, signEd25519 } from '@medledger/crypto';
import {
  appHashOf,
  type Genesis,
  MemoryStateTree,
  proposalSignBytes,
  resultsRootOf,
  type SignedTx,
  signTx,
  signVote,
  updateStateTree,
} from '@medledger/ledger';
import { type BlockExecution, EhrApp, initChain } from './app.js';
import { MemoryCommittedState } from './committed.js';
import { StateOverlay } from './state.js';

const CHAIN = 'ehr-test';

function makeGenesis() {
  const validators = [0, 1, 2, 3].map((i) => ({
    name: `v${i}`,
    signing: generateSigningKeyPair(),
    encryption: generateEncryptionKeyPair(),
  }));
  const genesis: Genesis = {
    chainId: CHAIN,
    genesisTime: 1_700_000_000_000,
    validators: validators.map((v) => ({ name: v.name, publicKey: v.signing.publicKey, encryptionKey: v.encryption.publicKey, power: 1 })),
    organizations: [],
    params: { maxBlockTxs: 1000, maxBlockBytes: 1 << 20, maxClockDriftMs: 10_000 },
  };
  return { genesis, validators };
}

/** A committed-state map with genesis applied, and an app over it. */
function setup() {
  const { genesis, validators } = makeGenesis();
  const committed = new MemoryCommittedState();
  const init = initChain(genesis);
  committed.apply(init);
  const app = new EhrApp(CHAIN, committed);
  const apply = (exec: BlockExecution) => {
    committed.apply(exec);
    app.commit();
  };
  return { genesis, validators, app, committed, apply, appHash: init.appHash };
}

function patient() {
  const signing = generateSigningKeyPair();
  const encryption = generateEncryptionKeyPair();
  return {
    signing,
    tx: (
      nonce: number,
      body: Record<string, unknown> = { role: 'patient', encryptionKey: encryption.publicKey },
      kind = 'identity.register',
    ): SignedTx => signTx({ v: 1, chain: CHAIN, kind, signer: signing.publicKey, nonce, body }, signing.privateKey),
  };
}

const ctx = { height: 1, time: 1_700_000_001_000 };

describe('ehr application', () => {
  test('a patient registers pseudonymously and the id derives from the key', () => {
    const s = setup();
    const p = patient();
    const exec = s.app.finalizeBlock({ ...ctx, txs: [p.tx(0)] });
    assert.deepEqual(exec.results, [{ code: 'ok', log: '' }]);
    s.apply(exec);
    const identity = s.app.query.identity(idFromPublicKey(p.signing.publicKey));
    assert.equal(identity?.role, 'patient');
    assert.equal(identity?.name, undefined);
    assert.equal(s.app.query.nonce(p.signing.publicKey), 1);
  });

  test('nonces must be exactly the next one; a replay after commit is refused', () => {
    const s = setup();
    const p = patient();
    assert.equal(s.app.checkTx(p.tx(1), ctx).code, 'NONCE_GAP');
    const tx = p.tx(0);
    assert.equal(s.app.checkTx(tx, ctx).code, 'ok');
    assert.equal(s.app.checkTx(tx, ctx).code, 'NONCE_REUSED', 'the mempool view already counts it');
    const exec = s.app.finalizeBlock({ ...ctx, txs: [tx] });
    s.apply(exec);
    assert.equal(s.app.checkTx(tx, ctx).code, 'NONCE_REUSED');
    const again = s.app.finalizeBlock({ height: 2, time: ctx.time + 1, txs: [tx] });
    assert.equal(again.results[0]?.code, 'NONCE_REUSED');
    assert.deepEqual(again.writes, []);
  });

  test('a refused body still consumes the nonce in a block, so it cannot be replayed', () => {
    const s = setup();
    const p = patient();
    const bad = p.tx(0, { role: 'clinician', encryptionKey: 'ab'.repeat(32) });
    const exec = s.app.finalizeBlock({ ...ctx, txs: [bad] });
    assert.equal(exec.results[0]?.code, 'INVALID_BODY');
    s.apply(exec);
    assert.equal(s.app.query.nonce(p.signing.publicKey), 1);
    assert.equal(s.app.query.identity(idFromPublicKey(p.signing.publicKey)), undefined);
  });

  test('checkTx refusing a body does not advance the pending nonce', () => {
    const s = setup();
    const p = patient();
    assert.equal(s.app.checkTx(p.tx(0, { role: 'patient', encryptionKey: 'zz' }), ctx).code, 'INVALID_BODY');
    assert.equal(s.app.pendingNonce(p.signing.publicKey), 0);
    assert.equal(s.app.checkTx(p.tx(0), ctx).code, 'ok');
  });

  test('registration refuses identifying fields, other roles, and a second registration', () => {
    const s = setup();
    const p = patient();
    const enc = generateEncryptionKeyPair().publicKey;
    assert.equal(s.app.checkTx(p.tx(0, { role: 'patient', encryptionKey: enc, mrn: '12345' }), ctx).code, 'INVALID_BODY');
    assert.equal(s.app.checkTx(p.tx(0, { role: 'validator', encryptionKey: enc }), ctx).code, 'INVALID_BODY');
    assert.equal(s.app.checkTx(p.tx(0), ctx).code, 'ok');
    assert.equal(s.app.checkTx(p.tx(1), ctx).code, 'ALREADY_REGISTERED');
  });

  test('a small-order signing key, whose one signature fits every message, cannot register', () => {
    const s = setup();
    const identity = `01${'00'.repeat(31)}`;
    const tx: SignedTx = {
      v: 1,
      chain: CHAIN,
      kind: 'identity.register',
      signer: identity,
      nonce: 0,
      body: { role: 'patient', encryptionKey: generateEncryptionKeyPair().publicKey },
      sig: `01${'00'.repeat(63)}`,
    };
    assert.equal(s.app.checkTx(tx, ctx).code, 'WEAK_KEY');
  });

  test("wrong chain, unknown kind and bad signature are refused, at a client's admission and a peer's relay alike", () => {
    const s = setup();
    const p = patient();
    const other = signTx(
      { v: 1, chain: 'other', kind: 'identity.register', signer: p.signing.publicKey, nonce: 0, body: {} },
      p.signing.privateKey,
    );
    const tx = p.tx(0);
    const forged = { ...tx, body: { ...(tx.body as object), role: 'patient', encryptionKey: 'cd'.repeat(32) } };
    for (const admit of [s.app.checkTx.bind(s.app), s.app.checkRelayedTx.bind(s.app)]) {
      assert.equal(admit(other, ctx).code, 'WRONG_CHAIN');
      assert.equal(admit(p.tx(0, {}, 'record.unknown'), ctx).code, 'UNKNOWN_KIND');
      assert.equal(admit(forged, ctx).code, 'BAD_SIGNATURE');
    }
  });

  test("a peer's relay is admitted on the shared checks alone; the block runs the rules and uses the nonce", () => {
    const s = setup();
    const p = patient();
    // Rules would refuse it (a malformed encryption key), but only the block runs them for a relay.
    const bad = p.tx(0, { role: 'patient', encryptionKey: 'zz' });
    assert.equal(s.app.checkTx(bad, ctx).code, 'INVALID_BODY');
    assert.equal(s.app.checkRelayedTx(bad, ctx).code, 'ok');
    assert.equal(s.app.pendingNonce(p.signing.publicKey), 1, 'the relay advances the pending nonce');
    assert.equal(s.app.checkRelayedTx(p.tx(1), ctx).code, 'ok', "the signer's next nonce follows it");
    const exec = s.app.finalizeBlock({ ...ctx, txs: [bad, p.tx(1)] });
    assert.deepEqual(
      exec.results.map((r) => r.code),
      ['INVALID_BODY', 'ok'],
    );
    s.apply(exec);
    assert.equal(s.app.query.nonce(p.signing.publicKey), 2, 'the refused relay used its nonce');
  });

  test("a peer's relay is refused for a nonce out of order or a signer no identity holds", () => {
    const s = setup();
    const p = patient();
    const tx = p.tx(0);
    assert.equal(s.app.checkRelayedTx(p.tx(1), ctx).code, 'NONCE_GAP');
    // A kind other than registration from a key no identity holds: a throwaway key's junk.
    const grant = {
      patient: 'ab'.repeat(16),
      grantee: 'cd'.repeat(16),
      scope: { categories: ['labs'] },
      access: 'read',
      purpose: 'treatment',
    };
    assert.equal(s.app.checkRelayedTx(patient().tx(0, grant, 'consent.grant'), ctx).code, 'UNKNOWN_SIGNER');
    assert.equal(s.app.checkRelayedTx(tx, ctx).code, 'ok');
    assert.equal(s.app.checkRelayedTx(tx, ctx).code, 'NONCE_REUSED', 'the check state already counts it');
    assert.equal(s.app.pendingNonce(p.signing.publicKey), 1, 'refusals keep nothing');
  });

  test('after a commit a relay is re-checked on the shared checks again: kept, or refused when its nonce was used', () => {
    const s = setup();
    const a = patient();
    const b = patient();
    assert.equal(s.app.checkRelayedTx(a.tx(0), ctx).code, 'ok');
    assert.equal(s.app.checkRelayedTx(b.tx(0, { role: 'patient', encryptionKey: 'zz' }), ctx).code, 'ok');
    // A block holding neither: both stay, b's without its rules running (they would refuse it).
    const other = patient();
    const first = s.app.finalizeBlock({ ...ctx, txs: [other.tx(0)] });
    s.committed.apply(first);
    s.app.commit({ txHashes: [] });
    const next = { height: 2, time: ctx.time + 1000 };
    assert.equal(s.app.recheckTx(a.tx(0), next).code, 'ok');
    assert.equal(s.app.recheckTx(b.tx(0, { role: 'patient', encryptionKey: 'zz' }), next).code, 'ok');
    // A block where another proposer's copy of a's nonce 0 (a different transaction) was included.
    const conflicting = a.tx(0, { role: 'patient', encryptionKey: generateEncryptionKeyPair().publicKey, name: 'x' });
    const second = s.app.finalizeBlock({ ...next, txs: [conflicting] });
    s.committed.apply(second);
    s.app.commit({ txHashes: [] });
    assert.equal(s.app.recheckTx(a.tx(0), { height: 3, time: next.time + 1000 }).code, 'NONCE_REUSED');
  });

  test('the same block gives the same app hash and writes on every node; a different block does not', () => {
    const a = setup();
    const committed2 = new MemoryCommittedState();
    committed2.apply(initChain(a.genesis));
    const app2 = new EhrApp(CHAIN, committed2);
    const txs = [patient().tx(0), patient().tx(0), patient().tx(0)];
    const e1 = a.app.finalizeBlock({ ...ctx, txs });
    const e2 = app2.finalizeBlock({ ...ctx, txs });
    assert.equal(e1.appHash, e2.appHash);
    assert.deepEqual(e1.writes, e2.writes);
    const e3 = app2.finalizeBlock({ ...ctx, txs: txs.slice(0, 2) });
    assert.notEqual(e3.appHash, e1.appHash);
    const e4 = app2.finalizeBlock({ ...ctx, time: ctx.time + 1, txs });
    assert.notEqual(e4.appHash, e1.appHash, 'registration records block time');
    committed2.apply(e3);
    const e5 = app2.finalizeBlock({ ...ctx, txs });
    assert.notEqual(e5.appHash, e1.appHash, 'the app hash commits to all earlier state');
  });

  test('the app hash is SHA-256 over the v2 tag, the root of all state, and the results root', () => {
    const s = setup();
    const exec = s.app.finalizeBlock({ ...ctx, txs: [patient().tx(0), patient().tx(5)] });
    assert.equal(exec.appHash, appHashOf(exec.tree.root, resultsRootOf(exec.results)));
    s.apply(exec);
    // The root after the block equals a tree built from scratch over everything committed.
    const fresh = new MemoryStateTree();
    fresh.apply(
      updateStateTree(
        fresh,
        fresh.root,
        [...s.committed.values].map(([key, value]) => ({ key, value })),
      ),
    );
    assert.equal(s.committed.stateRoot(), fresh.root);
    assert.ok(
      s.committed.values.has('meta/validators') && s.committed.values.has('meta/emergency'),
      'genesis puts the validator set in state',
    );
  });

  test('equivocation evidence is verified and recorded once', () => {
    const s = setup();
    const [reporter, culprit] = s.validators as [(typeof s.validators)[0], (typeof s.validators)[0]];
    const vote = (hash: string) => signVote(CHAIN, { type: 'prevote', height: 5, round: 1, blockHash: hash }, culprit.signing.privateKey);
    const body = {
      validator: culprit.signing.publicKey,
      height: 5,
      round: 1,
      step: 'prevote',
      first: { blockHash: 'aa'.repeat(32), sig: vote('aa'.repeat(32)) },
      second: { blockHash: 'bb'.repeat(32), sig: vote('bb'.repeat(32)) },
    };
    const ev = (nonce: number, b: Record<string, unknown>) =>
      signTx(
        { v: 1, chain: CHAIN, kind: 'evidence.equivocation', signer: reporter.signing.publicKey, nonce, body: b },
        reporter.signing.privateKey,
      );
    const exec = s.app.finalizeBlock({ ...ctx, txs: [ev(0, body), ev(1, body)] });
    assert.equal(exec.results[0]?.code, 'ok');
    assert.equal(exec.results[1]?.code, 'EVIDENCE_KNOWN');
    s.apply(exec);
    const forged = { ...body, second: { blockHash: 'bb'.repeat(32), sig: vote('cc'.repeat(32)) } };
    assert.equal(s.app.checkTx(ev(2, { ...forged, round: 2 }), ctx).code, 'BAD_SIGNATURE');
    const same = { ...body, round: 3, second: body.first, first: body.first };
    assert.equal(s.app.checkTx(ev(2, same), ctx).code, 'INVALID_BODY');
    const p = patient();
    const fromPatient = signTx(
      { v: 1, chain: CHAIN, kind: 'evidence.equivocation', signer: p.signing.publicKey, nonce: 0, body: { ...body, round: 4 } },
      p.signing.privateKey,
    );
    assert.equal(s.app.checkTx(fromPatient, ctx).code, 'UNAUTHORIZED');
    const proposal = (hash: string) =>
      signEd25519(culprit.signing.privateKey, proposalSignBytes(CHAIN, { height: 6, round: 0, blockHash: hash, validRound: -1 }));
    const propBody = {
      validator: culprit.signing.publicKey,
      height: 6,
      round: 0,
      step: 'proposal',
      first: { blockHash: 'aa'.repeat(32), validRound: -1, sig: proposal('aa'.repeat(32)) },
      second: { blockHash: 'bb'.repeat(32), validRound: -1, sig: proposal('bb'.repeat(32)) },
    };
    assert.equal(s.app.checkTx(ev(2, propBody), ctx).code, 'ok');
  });

  test('overlay changes come out sorted by key', () => {
    const o = new StateOverlay({ getState: () => undefined });
    o.set('b', '1');
    o.set('a', '2');
    o.delete('c');
    assert.deepEqual(
      o.changes().map((w) => w.key),
      ['a', 'b', 'c'],
    );
  });
});
