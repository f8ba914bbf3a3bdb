// Where one validator's time goes for a block of `claim.submit`, stage by stage, in one
// process (no network, no other validators), on the claims bench's chain shape
// (packages/cli/src/bench-claims.ts: 50 covered patients, 8 clinicians, one-line claims).
// The claims-side twin of scripts/block-cost.mjs; docs/insurance.md "Benchmark" quotes it.
// Run after `npx tsc -b`: `node scripts/claim-cost.mjs [claims per block] [blocks]`.
// Each stage is timed with performance.now() around the very calls the node makes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyBundle, idFromPublicKey } from '@medledger/crypto';
import { parseBlock, parseSignedTx, signTx, txBytes, txHash, verifyTxSignature } from '@medledger/ledger';
import { Chain, Mempool } from '@medledger/node';
import { openSqliteStore } from '@medledger/storage';
import { signClaims } from '../packages/cli/dist/bench-claims.js';
import { precommitFor } from './stage-timing.mjs';

const perBlock = Number(process.argv[2] ?? 200);
const blocks = Number(process.argv[3] ?? 10);
const PATIENTS = 50;
const CLINICIANS = 8;
const validators = Array.from({ length: 4 }, () => generateKeyBundle());
const hospital = generateKeyBundle();
const insurer = generateKeyBundle();
const org = (name, kind, keys) => ({ name, kind, adminKey: keys.signing.publicKey, adminEncryptionKey: keys.encryption.publicKey });
const genesis = {
  chainId: 'claim-cost',
  genesisTime: Date.now() - 60_000,
  validators: validators.map((key, i) => ({
    name: `v${i}`,
    publicKey: key.signing.publicKey,
    encryptionKey: key.encryption.publicKey,
    power: 1,
  })),
  organizations: [org('General Hospital', 'hospital', hospital), org('Evergreen Health Insurance', 'insurer', insurer)],
  params: { maxBlockTxs: 10_000, maxBlockBytes: 64 * 1024 * 1024, maxClockDriftMs: 10_000 },
};
const dir = mkdtempSync(join(tmpdir(), 'medledger-claim-cost-'));
// The proposer's chain builds blocks; the validator's chain receives them, as over the wire.
const proposer = new Chain(genesis, openSqliteStore(join(dir, 'proposer.db')));
const validator = new Chain(genesis, openSqliteStore(join(dir, 'validator.db')));
const mempool = new Mempool({ maxTxs: 1_000_000, maxBytes: 1 << 30 });
// The node's commit listener (admission.ts): drop the block's claims, re-check the rest.
let recheckMs = 0;
let recheckCpuMs = 0;
validator.app.onCommitted((committed) => {
  const c0 = cpuMs();
  const t0 = performance.now();
  for (const tx of committed.txs) mempool.remove(txHash(tx));
  for (const entry of mempool.drain()) if (validator.app.recheckTx(entry.tx).code === 'ok') mempool.add(entry);
  recheckMs = performance.now() - t0;
  recheckCpuMs = cpuMs() - c0;
});

/** Wall time of `fn` (ms), its value, and the process's CPU time over it (ms): on a shared machine CPU time is the steadier figure. */
let lastCpuMs = 0;
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const time = (fn) => {
  const c0 = cpuMs();
  const t0 = performance.now();
  const value = fn();
  const wall = performance.now() - t0;
  lastCpuMs = cpuMs() - c0;
  return [wall, value];
};

const commitFor = (block) =>
  precommitFor(
    genesis.chainId,
    validators.map((key) => key.signing),
    block,
  );

/** Build, check and commit one block on both chains; every transaction must pass. */
function step(txs) {
  const block = proposer.buildBlock(txs, proposer.nextBlockTime(Date.now()), validators[0].signing.publicKey);
  validator.validateNext(block, Date.now());
  const commit = commitFor(block);
  const results = validator.commitBlock(block, commit).results;
  proposer.commitBlock(block, commit);
  const failed = results.find((r) => r.code !== 'ok');
  if (failed !== undefined) throw new Error(`setup transaction refused: ${failed.code} ${failed.log}`);
}

// Set up as the bench does: a plan, covered patients consenting to the hospital, clinicians.
const nonces = new Map();
const sign = (keys, kind, body) => {
  const nonce = nonces.get(keys) ?? 0;
  nonces.set(keys, nonce + 1);
  return signTx({ v: 1, chain: genesis.chainId, kind, signer: keys.signing.publicKey, nonce, body }, keys.signing.privateKey);
};
const SERVICES = ['99213', '99214', '185349003', '162673000', '410620009', '430193006', '140', '133'];
const planTx = sign(insurer, 'plan.publish', {
  name: 'Bench Silver',
  effectiveFrom: '2020-01-01',
  deductible: 50_000,
  oopMax: 600_000,
  coinsuranceBps: 2_000,
  network: [],
  services: SERVICES.map((code) => ({ code, allowed: 14_000 })),
});
const clinicians = Array.from({ length: CLINICIANS }, () => generateKeyBundle());
step([
  planTx,
  ...clinicians.map((keys, i) =>
    sign(hospital, 'staff.register', {
      publicKey: keys.signing.publicKey,
      encryptionKey: keys.encryption.publicKey,
      role: 'clinician',
      name: `Bench Clinician ${i}`,
    }),
  ),
]);
const patients = Array.from({ length: PATIENTS }, () => generateKeyBundle());
step(patients.map((p) => sign(p, 'identity.register', { role: 'patient', encryptionKey: p.encryption.publicKey })));
const hospitalId = idFromPublicKey(hospital.signing.publicKey);
step(
  patients.map((p) =>
    sign(p, 'consent.grant', {
      patient: idFromPublicKey(p.signing.publicKey),
      grantee: hospitalId,
      scope: { categories: ['billing'] },
      access: 'read',
      purpose: 'payment',
    }),
  ),
);
const planId = txHash(planTx).slice(0, 32);
const coverageTxs = patients.map((p, i) =>
  sign(insurer, 'coverage.add', {
    patient: idFromPublicKey(p.signing.publicKey),
    plan: planId,
    memberId: `BENCH-${i}`,
    from: '2020-01-01',
    to: '2029-12-31',
  }),
);
step(coverageTxs);
const covered = patients.map((p, i) => ({ id: idFromPublicKey(p.signing.publicKey), coverage: txHash(coverageTxs[i]).slice(0, 32) }));
const claimNonces = clinicians.map(() => 0);

// Every block's claims, signed up front; at steady state a validator admits the next block's
// claims while the current one is decided, so each commit re-checks a block's worth.
const signed = Array.from({ length: blocks + 1 }, (_, b) => {
  const { txs } = signClaims({
    chainId: genesis.chainId,
    clinicians,
    nonces: claimNonces,
    patients: covered,
    from: '2020-01-01',
    count: perBlock,
    offset: b * perBlock,
  });
  for (let s = 0; s < CLINICIANS; s++) claimNonces[s] += Math.ceil((perBlock - s) / CLINICIANS);
  return txs;
});
/** Admission (gossip): parse the peer message, check each claim as a peer's relay (signature, nonce), pool it. Returns [wall, CPU] ms. */
function admit(txs) {
  const wireTxs = JSON.stringify({ type: 'txs', txs });
  const [wall] = time(() => {
    for (const raw of JSON.parse(wireTxs).txs) {
      const tx = parseSignedTx(raw);
      const result = validator.app.checkRelayedTx(tx);
      if (result.code !== 'ok') throw new Error(`refused at admission: ${result.code} ${result.log}`);
      mempool.add({ hash: txHash(tx), tx, bytes: txBytes(tx).length });
    }
  });
  return [wall, lastCpuMs];
}
/** Per block: each stage's wall time (ms) and CPU time (ms). */
const rows = [];
let admitted = admit(signed[0]);
for (const tx of signed[0]) if (proposer.app.checkTx(tx).code !== 'ok') throw new Error('refused at the proposer');
for (let b = 0; b < blocks; b++) {
  const txs = signed[b];
  const wall = { admit: admitted[0] };
  const cpu = { admit: admitted[1] };
  const stage = (name, fn) => {
    const [ms, value] = time(fn);
    wall[name] = ms;
    cpu[name] = lastCpuMs;
    return value;
  };
  stage('verifyOnly', () => {
    for (const tx of txs) verifyTxSignature(JSON.parse(JSON.stringify(tx)));
  });
  // 1. The proposer builds (executes) the block, then serialises the proposal.
  const block = stage('proposerBuild', () => proposer.buildBlock(txs, proposer.nextBlockTime(Date.now()), validators[0].signing.publicKey));
  const wireBlock = stage('stringify', () => JSON.stringify({ type: 'proposal', block }));
  // 2. The validator reads the proposal, its transactions taken from the mempool, and checks
  // it: links, last commit, and executes it (the state tree included).
  const received = stage('parse', () => parseBlock(JSON.parse(wireBlock).block, (sig) => mempool.bySignature(sig)));
  stage('validateExecute', () => validator.validateNext(received, Date.now()));
  // Meanwhile the next block's claims arrive (admission, timed for the next row).
  admitted = admit(signed[b + 1]);
  // 3. Decided: store it (one SQLite transaction), then the commit listeners (mempool re-check).
  const commit = commitFor(block);
  stage('store', () => validator.commitBlock(received, commit));
  wall.store -= recheckMs;
  cpu.store -= recheckCpuMs;
  wall.recheck = recheckMs;
  cpu.recheck = recheckCpuMs;
  if (mempool.size !== perBlock) throw new Error(`${mempool.size} claims in the mempool, not the next block's ${perBlock}`);
  const refused = validator.loadBlock(block.header.height).results.filter((r) => r.code !== 'ok');
  if (refused.length > 0) throw new Error(`${refused.length} claims refused in the block: ${refused[0].code} ${refused[0].log}`);
  proposer.commitBlock(block, commit);
  for (const tx of signed[b + 1]) if (proposer.app.checkTx(tx).code !== 'ok') throw new Error('refused at the proposer');
  rows.push({ wall, cpu });
  const shown = Object.entries(wall).map(([k, v]) => `${k} ${Math.round(v)}/${Math.round(cpu[k])}`);
  console.log(`block ${block.header.height} (ms wall/CPU): ${shown.join(', ')}`);
}
// The first block warms caches and the JIT; the median of the rest is reported.
const median = (kind, k) => {
  const xs = rows
    .slice(1)
    .map((r) => r[kind][k])
    .sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)] ?? rows[0][kind][k];
};
const perClaim = (ms) => ((1000 * ms) / perBlock).toFixed(0).padStart(6);
console.log(`\nmedian over blocks 2–${blocks} of ${perBlock} claims: ms wall, then µs per claim wall and CPU`);
const total = { wall: 0, cpu: 0 };
for (const k of Object.keys(rows[0].wall)) {
  const [w, c] = [median('wall', k), median('cpu', k)];
  if (k !== 'verifyOnly') {
    total.wall += w;
    total.cpu += c;
  }
  console.log(`  ${k.padEnd(20)} ${w.toFixed(1).padStart(9)} ms ${perClaim(w)} µs ${perClaim(c)} µs CPU`);
}
console.log(
  `  ${'sum (not verifyOnly)'.padEnd(20)} ${total.wall.toFixed(1).padStart(9)} ms ${perClaim(total.wall)} µs ${perClaim(total.cpu)} µs CPU`,
);
rmSync(dir, { recursive: true, force: true });
