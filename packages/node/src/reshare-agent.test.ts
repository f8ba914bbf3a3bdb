// The validators' re-share agents over many patients, against the real application rules in
// memory: each pages through every split, batches its dealings, submits one transaction at a
// time (never inside the commit), and stops once its part is done; together they move every
// patient's key to the new set.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  fromHex,
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  idFromPublicKey,
  sealToPublicKey,
  shareCommitment,
  splitSecret,
  utf8,
} from '@medledger/crypto';
import {
  EhrApp,
  emergencyHolders,
  emergencyHoldersHash,
  emergencyParams,
  emergencyPrefixes,
  getSplit,
  initChain,
  MemoryCommittedState,
  registeredShareAad,
} from '@medledger/ehr';
import { type Genesis, type SignedTx, signTx, txHash } from '@medledger/ledger';
import type { ScanOptions } from '@medledger/storage';
import { ReshareAgent } from './reshare-agent.js';

const CHAIN = 'reshare-agent-test';
const T0 = 1_700_000_000_000;

function actor() {
  const signing = generateSigningKeyPair();
  const encryption = generateEncryptionKeyPair();
  let nonce = 0;
  return {
    signing,
    encryption,
    id: idFromPublicKey(signing.publicKey),
    tx: (kind: string, body: Record<string, unknown>): SignedTx =>
      signTx({ v: 1, chain: CHAIN, kind, signer: signing.publicKey, nonce: nonce++, body }, signing.privateKey),
  };
}
type Actor = ReturnType<typeof actor>;

test('four validators re-share 250 patients’ keys to a fifth in batches, paging through the splits, and then stop', () => {
  const PATIENTS = 250;
  const BATCH = 40;
  const orgs = [actor(), actor()] as [Actor, Actor];
  const validators = [actor(), actor(), actor(), actor()];
  const genesis: Genesis = {
    chainId: CHAIN,
    genesisTime: T0,
    validators: validators.map((v, i) => ({
      name: `v${i}`,
      publicKey: v.signing.publicKey,
      encryptionKey: v.encryption.publicKey,
      power: 1,
    })),
    organizations: orgs.map((o, i) => ({
      name: `Org ${i}`,
      kind: 'hospital',
      adminKey: o.signing.publicKey,
      adminEncryptionKey: o.encryption.publicKey,
    })),
    params: { maxBlockTxs: 5000, maxBlockBytes: 1 << 24, maxClockDriftMs: 10_000 },
  };
  const state = new MemoryCommittedState();
  state.apply(initChain(genesis));
  const app = new EhrApp(CHAIN, state, emergencyParams(genesis));
  let height = 0;
  let time = T0;
  const block = (txs: SignedTx[]): string[] => {
    height += 1;
    time += 1000;
    const exec = app.finalizeBlock({ height, time, txs });
    state.apply(exec);
    app.commit();
    return exec.results.map((r) => r.code);
  };
  const patients = Array.from({ length: PATIENTS }, () => actor());
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
    height: () => height,
    tipTime: () => time,
    scanState(prefix: string, opts: ScanOptions = {}): Array<[string, string]> {
      const keys = [...state.values.keys()].filter((k) => k.startsWith(prefix) && (opts.after === undefined || k > opts.after)).sort();
      return keys.slice(0, opts.limit ?? keys.length).map((k) => [k, state.values.get(k) as string]);
    },
  };
  const submitted: Array<{ dealer: string; items: number }> = [];
  const agents = validators.map((v) => {
    let nonce = 0;
    return new ReshareAgent(
      { nodeId: v.id, encryptionPrivateKeys: [v.encryption.privateKey], batch: BATCH, pageSize: 64 },
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
  // Nothing to do while the set is unchanged.
  tick();
  assert.equal(submitted.length, 0);
  assert.ok(agents.every((a) => a.status().done));

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
