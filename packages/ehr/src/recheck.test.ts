// The cheap re-check after a commit (EhrApp.recheckTx) against the full one: seeded random
// rounds of admissions, blocks that include some of them in any order plus transactions
// this node never saw (another proposer's mempool, a signer's conflicting nonce), and the
// survivors re-checked. Both ways must give every verdict alike and leave the same nonces.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Genesis, type SignedTx, signTx, txHash } from '@medledger/ledger';
import { EhrApp, initChain } from './app.js';
import { MemoryCommittedState } from './committed.js';
import { testActor, testGenesis } from './testing/world.js';

const CHAIN = 'recheck-test';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One node: committed state and its app; `cheap` commits with the block's changes, so re-checks may replay. */
function node(genesis: Genesis, cheap: boolean) {
  const committed = new MemoryCommittedState();
  committed.apply(initChain(genesis));
  const app = new EhrApp(CHAIN, committed);
  let height = 0;
  let time = genesis.genesisTime;
  return {
    app,
    ctx: () => ({ height: height + 1, time }),
    commitBlock(txs: SignedTx[]): string[] {
      height += 1;
      time += 1000;
      const exec = app.finalizeBlock({ height, time, txs });
      committed.apply(exec);
      app.commit(cheap ? { txHashes: txs.map((tx) => txHash(tx)) } : undefined);
      return exec.results.map((r) => r.code);
    },
    recheck(tx: SignedTx): string {
      return (cheap ? app.recheckTx(tx, this.ctx()) : app.checkTx(tx, this.ctx())).code;
    },
  };
}

for (const seed of [1, 2, 3, 4, 5, 6]) {
  test(`seed ${seed}: re-checks that replay recorded effects give the full re-check's verdicts and nonces`, () => {
    const rand = mulberry32(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const org = testActor(CHAIN);
    const validator = testActor(CHAIN);
    const genesis = testGenesis(CHAIN, 1_700_000_000_000, [org], [validator]);
    const actors = Array.from({ length: 7 }, () => testActor(CHAIN));
    // Nonces are chosen here, not by the actors' counters: a block may carry a conflicting one.
    const next = new Map(actors.map((a) => [a.id, 0]));
    const sign = (a: (typeof actors)[number], nonce: number, kind: string, body: Record<string, unknown>): SignedTx =>
      signTx({ v: 1, chain: CHAIN, kind, signer: a.signing.publicKey, nonce, body }, a.signing.privateKey);
    const randomTx = (a: (typeof actors)[number], nonce: number): SignedTx => {
      const other = pick(actors.filter((x) => x !== a));
      const r = rand();
      if (nonce === 0 || r < 0.1) return sign(a, nonce, 'identity.register', { role: 'patient', encryptionKey: a.encryption.publicKey });
      if (r < 0.45) return sign(a, nonce, 'delegate.set', { delegate: other.id });
      if (r < 0.8) return sign(a, nonce, 'delegate.accept', { patient: other.id });
      return sign(
        a,
        nonce,
        'delegate.remove',
        rand() < 0.5 ? { patient: a.id, delegate: other.id } : { patient: other.id, delegate: a.id },
      );
    };
    const cheap = node(genesis, true);
    const full = node(genesis, false);
    let pending: SignedTx[] = [];
    let replayable = 0;
    for (let round = 0; round < 40; round++) {
      // Admit a few transactions on both nodes, in the same order.
      for (let i = 0; i < 12; i++) {
        const a = pick(actors);
        const tx = randomTx(a, next.get(a.id) as number);
        const verdict = cheap.app.checkTx(tx, cheap.ctx()).code;
        assert.equal(verdict, full.app.checkTx(tx, full.ctx()).code, `round ${round}: admission verdicts differ`);
        if (verdict === 'ok') {
          pending.push(tx);
          next.set(a.id, (next.get(a.id) as number) + 1);
        }
      }
      // A block: some of the pending ones in a random order, and sometimes a transaction
      // neither node admitted, at a signer's committed nonce (conflicting with its pending one).
      const included = pending.filter(() => rand() < 0.5).sort(() => rand() - 0.5);
      if (rand() < 0.5) {
        const a = pick(actors);
        const committedNonce = Number(cheap.app.query.nonce(a.signing.publicKey));
        included.push(randomTx(a, committedNonce));
      }
      assert.deepEqual(cheap.commitBlock(included), full.commitBlock(included), `round ${round}: block results differ`);
      const inBlock = new Set(included.map((tx) => txHash(tx)));
      const survivors = pending.filter((tx) => !inBlock.has(txHash(tx)));
      pending = [];
      for (const tx of survivors) {
        const verdict = cheap.recheck(tx);
        assert.equal(verdict, full.recheck(tx), `round ${round}: re-check verdicts differ for ${tx.kind}`);
        if (verdict === 'ok') pending.push(tx);
      }
      replayable += survivors.length;
      for (const a of actors) {
        assert.equal(
          cheap.app.pendingNonce(a.signing.publicKey),
          full.app.pendingNonce(a.signing.publicKey),
          `round ${round}: nonces differ`,
        );
        // Our next nonce follows what is pending (a refused survivor frees its nonce, and
        // later ones of the same signer are refused with it).
        next.set(a.id, cheap.app.pendingNonce(a.signing.publicKey));
      }
    }
    assert.ok(replayable > 50, `the rounds re-checked enough survivors to mean something (${replayable})`);
  });
}

test('a survivor whose reads the block did not touch keeps its effects without the rules running again', () => {
  const org = testActor(CHAIN);
  const validator = testActor(CHAIN);
  const genesis = testGenesis(CHAIN, 1_700_000_000_000, [org], [validator]);
  const [a, b] = [testActor(CHAIN), testActor(CHAIN)];
  const n = node(genesis, true);
  const regA = a.tx('identity.register', { role: 'patient', encryptionKey: a.encryption.publicKey });
  const regB = b.tx('identity.register', { role: 'patient', encryptionKey: b.encryption.publicKey });
  assert.equal(n.app.checkTx(regA, n.ctx()).code, 'ok');
  assert.equal(n.app.checkTx(regB, n.ctx()).code, 'ok');
  assert.deepEqual(n.commitBlock([regA]), ['ok']);
  // B's registration read nothing A's block wrote: kept as admitted, and its nonce is pending.
  assert.equal(n.recheck(regB), 'ok');
  assert.equal(n.app.pendingNonce(b.signing.publicKey), 1);
  // B's next one is admitted; then a block carries regB and another transaction of B's at the
  // same nonce (refused by its rules, but it uses the nonce): the survivor read B's nonce,
  // which the block wrote, so its rules run again and refuse it.
  const setB = b.tx('delegate.set', { delegate: a.id });
  assert.equal(n.app.checkTx(setB, n.ctx()).code, 'ok');
  const conflicting = signTx(
    { v: 1, chain: CHAIN, kind: 'delegate.remove', signer: b.signing.publicKey, nonce: 1, body: { patient: b.id, delegate: a.id } },
    b.signing.privateKey,
  );
  assert.deepEqual(n.commitBlock([regB, conflicting]), ['ok', 'NOT_FOUND']);
  assert.equal(n.recheck(setB), 'NONCE_REUSED');
  assert.equal(n.app.pendingNonce(b.signing.publicKey), 2);
});

test('a claim admitted behind others of the same coverage, signer and insurer keeps its effects after the block holding them, and the same verdicts as a full re-check', () => {
  const hospital = testActor(CHAIN);
  const insurer = testActor(CHAIN);
  const validator = testActor(CHAIN);
  // Block time after every service date below: a claim is for care already given.
  const genesis = testGenesis(CHAIN, Date.parse('2026-03-02T00:00:00Z'), [hospital], [validator]);
  genesis.organizations.push({
    name: 'Insurer',
    kind: 'insurer',
    adminKey: insurer.signing.publicKey,
    adminEncryptionKey: insurer.encryption.publicKey,
  });
  const cheap = node(genesis, true);
  const full = node(genesis, false);
  const both = (txs: SignedTx[]) => {
    const codes = cheap.commitBlock(txs);
    assert.deepEqual(full.commitBlock(txs), codes);
    assert.ok(
      codes.every((c) => c === 'ok'),
      `setup refused: ${codes}`,
    );
  };
  const patient = testActor(CHAIN);
  const planTx = insurer.tx('plan.publish', {
    name: 'Recheck',
    effectiveFrom: '2020-01-01',
    deductible: 50_000,
    oopMax: 600_000,
    coinsuranceBps: 2_000,
    network: [],
    services: [
      { code: '99213', allowed: 12_000 },
      { code: '99214', allowed: 17_500 },
    ],
  });
  both([planTx, patient.tx('identity.register', { role: 'patient', encryptionKey: patient.encryption.publicKey })]);
  const coverageTx = insurer.tx('coverage.add', {
    patient: patient.id,
    plan: txHash(planTx).slice(0, 32),
    memberId: 'M-1',
    from: '2020-01-01',
    to: '2029-12-31',
  });
  both([
    coverageTx,
    patient.tx('consent.grant', {
      patient: patient.id,
      grantee: hospital.id,
      scope: { categories: ['billing'] },
      access: 'read',
      purpose: 'payment',
    }),
  ]);
  const claim = (day: number, code: string) =>
    hospital.tx('claim.submit', {
      patient: patient.id,
      coverage: txHash(coverageTx).slice(0, 32),
      type: 'professional',
      items: [{ sequence: 1, code, serviceDate: `2026-02-${String(day).padStart(2, '0')}`, quantity: 1, charge: 15_000 }],
      contentHash: 'ab'.repeat(32),
    });
  // Four claims, each reading the accumulator, the list counts and the nonce the one before wrote.
  const claims = [claim(1, '99213'), claim(2, '99214'), claim(3, '99213'), claim(4, '99214')];
  for (const tx of claims) {
    assert.equal(cheap.app.checkTx(tx, cheap.ctx()).code, 'ok');
    assert.equal(full.app.checkTx(tx, full.ctx()).code, 'ok');
  }
  // The block holds the first two, in admission order: the last two saw exactly the values it committed.
  both(claims.slice(0, 2));
  const before = { ...cheap.app.recheckCounts };
  for (const tx of claims.slice(2)) assert.equal(cheap.recheck(tx), full.recheck(tx));
  assert.equal(cheap.app.recheckCounts.replayed - before.replayed, 2, 'both survivors replayed their admitted effects');
  assert.equal(cheap.app.recheckCounts.rerun, before.rerun);
  assert.equal(cheap.app.pendingNonce(hospital.signing.publicKey), full.app.pendingNonce(hospital.signing.publicKey));
  // A block this node did not see coming: another claim of the hospital's at the nonce the
  // third holds, for another amount. The survivors read that nonce, the accumulator and the
  // list counts, which now hold other values: their rules run again, with the full re-check's verdicts.
  const other = signTx(
    {
      v: 1,
      chain: CHAIN,
      kind: 'claim.submit',
      signer: hospital.signing.publicKey,
      nonce: 2,
      body: {
        patient: patient.id,
        coverage: txHash(coverageTx).slice(0, 32),
        type: 'professional',
        items: [{ sequence: 1, code: '99214', serviceDate: '2026-03-01', quantity: 1, charge: 9_000 }],
        contentHash: 'cd'.repeat(32),
      },
    },
    hospital.signing.privateKey,
  );
  both([other]);
  const rerunBefore = cheap.app.recheckCounts.rerun;
  const verdicts = claims.slice(2).map((tx) => cheap.recheck(tx));
  assert.deepEqual(
    verdicts,
    claims.slice(2).map((tx) => full.recheck(tx)),
  );
  assert.deepEqual(verdicts, ['NONCE_REUSED', 'ok']);
  assert.equal(cheap.app.recheckCounts.rerun - rerunBefore, 2, 'both survivors ran their rules again');
  assert.equal(cheap.app.pendingNonce(hospital.signing.publicKey), full.app.pendingNonce(hospital.signing.publicKey));
});
