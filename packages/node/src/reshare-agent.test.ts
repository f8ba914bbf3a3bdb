// The validators' re-share agents over many patients, against the real application rules in
// memory: each pages through every split, batches its dealings, submits one transaction at a
// time (never inside the commit), and stops once its part is done; together they move every
// patient's key to the new set.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromHex, generateEncryptionKeyPair, sealToPublicKey, shareCommitment, splitSecret, utf8 } from '@medledger/crypto';
import { emergencyHolders, emergencyHoldersHash, emergencyPrefixes, getSplit, registeredShareAad } from '@medledger/ehr';
import { type TestActor, testActor, testChain, testGenesis } from '@medledger/ehr/testing';
import { type SignedTx, signTx, txHash } from '@medledger/ledger';
import type { ScanOptions } from '@medledger/storage';
import { ReshareAgent } from './reshare-agent.js';

const CHAIN = 'reshare-agent-test';
const T0 = 1_700_000_000_000;

const actor = () => testActor(CHAIN);
type Actor = TestActor;

/** Four validators, two member organizations and `count` patients with real splits; four re-share agents over one mempool. */
function world(count: number, batch: number, opts: { lostKeys?: number[] } = {}) {
  const orgs = [actor(), actor()] as [Actor, Actor];
  const validators = [actor(), actor(), actor(), actor()];
  const genesis = testGenesis(CHAIN, T0, orgs, validators, { maxBlockTxs: 5000, maxBlockBytes: 1 << 24 });
  const { state, block, height, now } = testChain(genesis);
  const patients = Array.from({ length: count }, () => actor());
  const registrations: SignedTx[] = [];
  for (const p of patients) {
    const key = generateEncryptionKeyPair();
    const shares = splitSecret(fromHex(key.privateKey), 4, 3);
    registrations.push(
      p.tx('identity.register', { role: 'patient', encryptionKey: p.encryption.publicKey, emergencyKey: key.publicKey }),
      p.tx('emergency.split', {
        emergencyKey: key.publicKey,
        threshold: 3,
        shares: shares.map((s, i) => {
          const v = validators[i] as Actor;
          return {
            validator: v.id,
            x: s.x,
            commitment: shareCommitment(s),
            sealed: sealToPublicKey(v.encryption.publicKey, fromHex(s.y), utf8(registeredShareAad(p.id, v.id, key.publicKey))),
          };
        }),
      }),
    );
  }
  assert.ok(block(registrations).every((c) => c === 'ok'));

  // Each agent sees committed state through a scanning view and submits into a shared mempool.
  const mempool = new Map<string, SignedTx>();
  const deferred: Array<() => void> = [];
  const view = {
    chainId: CHAIN,
    genesis,
    state,
    height,
    tipTime: now,
    scanState(prefix: string, opts: ScanOptions = {}): Array<[string, string]> {
      const keys = [...state.values.keys()].filter((k) => k.startsWith(prefix) && (opts.after === undefined || k > opts.after)).sort();
      return keys.slice(0, opts.limit ?? keys.length).map((k) => [k, state.values.get(k) as string]);
    },
  };
  const submitted: Array<{ dealer: string; items: number }> = [];
  const agents = validators.map((v, i) => {
    // A validator that lost its encryption key (`lostKeys`) opens none of its shares.
    const encryptionKey = opts.lostKeys?.includes(i) ? generateEncryptionKeyPair().privateKey : v.encryption.privateKey;
    let nonce = 0;
    return new ReshareAgent(
      { nodeId: v.id, encryptionPrivateKeys: [encryptionKey], batch, pageSize: 64 },
      {
        view,
        isPending: (hash) => mempool.has(hash),
        log: () => {},
        defer: (fn) => deferred.push(fn),
        submitOwn: (kind, body) => {
          const tx = signTx({ v: 1, chain: CHAIN, kind, signer: v.signing.publicKey, nonce: nonce++, body }, v.signing.privateKey);
          const hash = txHash(tx);
          mempool.set(hash, tx);
          submitted.push({ dealer: v.id, items: (body.items as unknown[]).length });
          return { hash, tx };
        },
      },
    );
  });
  const tick = () => {
    for (const agent of agents) agent.onCommitted();
    // Nothing ran inside onCommitted: the work waits for its own tick.
    assert.equal(mempool.size, 0);
    for (const fn of deferred.splice(0)) fn();
    const txs = [...mempool.values()];
    mempool.clear();
    return block(txs);
  };
  let scans = 0;
  const countedView = view;
  const scanState = countedView.scanState.bind(countedView);
  countedView.scanState = (prefix: string, opts?: ScanOptions) => {
    scans += 1;
    return scanState(prefix, opts);
  };
  const addValidator = () => {
    const newcomer = actor();
    const action = {
      type: 'validator.add',
      name: 'v4',
      publicKey: newcomer.signing.publicKey,
      encryptionKey: newcomer.encryption.publicKey,
      power: 1,
    };
    block([orgs[0].tx('gov.propose', { action, votingPeriodMs: 600_000 })]);
    block([orgs[0].tx('gov.vote', { proposal: 1, vote: 'yes' }), orgs[1].tx('gov.vote', { proposal: 1, vote: 'yes' })]);
    return newcomer;
  };
  return { orgs, state, block, patients, agents, submitted, tick, view, addValidator, scans: () => scans, now };
}

test('four validators re-share 250 patients’ keys to a fifth in batches, paging through the splits, and then stop', () => {
  const PATIENTS = 250;
  const BATCH = 40;
  const { state, patients, agents, submitted, tick, view, addValidator } = world(PATIENTS, BATCH);
  // Nothing to do while the set is unchanged.
  tick();
  assert.equal(submitted.length, 0);
  assert.ok(agents.every((a) => a.status().done));

  addValidator();
  const target = emergencyHoldersHash(emergencyHolders(state));

  const started = performance.now();
  let blocks = 0;
  // The first commit after the change tells every agent; they work until their part is done.
  do {
    assert.ok(++blocks < 200, 'the agents finish');
    assert.ok(tick().every((c) => c === 'ok'));
  } while (!agents.every((a) => a.status().done));
  const ms = performance.now() - started;
  assert.ok(
    submitted.every((s) => s.items <= BATCH),
    'no transaction carries more than a batch',
  );
  const splits = view.scanState(emergencyPrefixes.splits()).map(([, v]) => JSON.parse(v));
  assert.equal(splits.length, PATIENTS);
  for (const split of splits) {
    assert.equal(split.holders, target, `patient ${split.patient} re-shared`);
    assert.equal(split.dealers.length, 3);
    assert.equal(split.shares.length, 5);
  }
  // Every patient needed three dealings; a fourth validator's racing ones are skipped, not counted.
  const dealt = submitted.reduce((n, s) => n + s.items, 0);
  assert.ok(dealt >= 3 * PATIENTS && dealt <= 4 * PATIENTS, `${dealt} dealings`);
  assert.equal(getSplit(state, (patients[0] as Actor).id)?.threshold, 4);
  console.log(
    `# re-shared ${PATIENTS} patients in ${blocks} blocks, ${submitted.length} transactions, ${Math.round(ms)} ms (dealing and applying, one process)`,
  );
});

test('a patient with an open window is re-shared after it closes, looked at alone meanwhile (no rescans of every split)', () => {
  const w = world(30, 100);
  const [org] = w.orgs;
  const patient = w.patients[0] as Actor;
  const clinician = actor();
  const sealedTo = (to: Actor) => ({ to: to.id, sealed: sealToPublicKey(to.encryption.publicKey, new Uint8Array(32)) });
  const reason = {
    iv: '00'.repeat(12),
    ct: '01'.repeat(40),
    tag: '00'.repeat(16),
    keys: [sealedTo(patient), sealedTo(clinician), sealedTo(org)],
  };
  assert.deepEqual(
    w.block([
      org.tx('staff.register', {
        publicKey: clinician.signing.publicKey,
        encryptionKey: clinician.encryption.publicKey,
        role: 'clinician',
      }),
    ]),
    ['ok'],
  );
  assert.deepEqual(w.block([org.tx('emergency.privilege', { clinician: clinician.id, grant: true })]), ['ok']);
  assert.deepEqual(w.block([clinician.tx('emergency.access', { patient: patient.id, reason, durationMs: 60_000 })]), ['ok']);
  const closesAt = w.now() + 60_000;
  w.addValidator();
  const target = emergencyHoldersHash(emergencyHolders(w.state));
  // Everyone else is re-shared; the patient with the open window keeps the split it was opened on.
  for (let i = 0; i < 8; i++) assert.ok(w.tick().every((c) => c === 'ok'));
  const holdersOf = (p: Actor) => getSplit(w.state, p.id)?.holders;
  assert.ok(w.patients.slice(1).every((p) => holdersOf(p) === target));
  assert.notEqual(holdersOf(patient), target);
  assert.ok(
    w.agents.every((a) => !a.status().done),
    'the deferred patient keeps the work open',
  );
  // While the window runs, each commit looks at that one patient only.
  const scansBefore = w.scans();
  for (let i = 0; i < 10; i++) w.tick();
  assert.equal(w.scans(), scansBefore, 'no page of splits is read while only the deferred patient is left');
  while (w.now() <= closesAt) w.tick();
  for (let i = 0; i < 6 && !w.agents.every((a) => a.status().done); i++) w.tick();
  assert.equal(holdersOf(patient), target, 're-shared once the window closed');
  assert.ok(w.agents.every((a) => a.status().done));
});

test('validators that cannot open their shares leave them to the others and stop, even when too few are left to finish', () => {
  // Two of four lost their keys: two dealings arrive, three are needed, so the old split stays live.
  const w = world(20, 100, { lostKeys: [2, 3] });
  w.addValidator();
  const target = emergencyHoldersHash(emergencyHolders(w.state));
  let blocks = 0;
  do {
    assert.ok(++blocks < 30, 'every agent finishes its part');
    assert.ok(w.tick().every((c) => c === 'ok'));
  } while (!w.agents.every((a) => a.status().done));
  assert.deepEqual(
    w.agents.map((a) => a.status().dealt),
    [20, 20, 0, 0],
  );
  assert.ok(
    w.patients.every((p) => getSplit(w.state, p.id)?.holders !== target),
    'not re-shared: too few dealers',
  );
  const scans = w.scans();
  for (let i = 0; i < 5; i++) w.tick();
  assert.equal(w.scans(), scans, 'done agents read nothing more');
});
