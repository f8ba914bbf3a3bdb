// Micro-measurement of one claim's execute path (docs/insurance.md "What a claim costs to
// execute"): the application alone, in memory, no consensus or storage. An insurer with a plan
// of eight services covers 1,000 patients who consent to a hospital; blocks of 1,000
// `claim.submit` transactions (one two-line claim per patient) are executed twice: the first run
// verifies the signatures (a node verifies each once, at admission), the second is what
// `finalizeBlock` costs a validator for the claims themselves, including the state root. In
// between, the claim rules alone are timed through `checkTx`, as admission and the mempool
// re-check run them (signatures already verified, no state root).
// Usage: node --import tsx bench/claim-execute.ts [blocks]
import { generateEncryptionKeyPair, generateSigningKeyPair, idFromPublicKey } from '@medledger/crypto';
import { type Genesis, type SignedTx, signTx } from '@medledger/ledger';
import { EhrApp, initChain } from '../packages/ehr/src/app.js';
import { MemoryCommittedState } from '../packages/ehr/src/committed.js';

const CHAIN = 'claim-execute';
const T0 = Date.parse('2026-01-10T00:00:00Z');
const PATIENTS = 1_000;
const blocks = Number(process.argv[2] ?? 5);

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

const hospital = actor();
const insurer = actor();
const validator = actor();
const org = (name: string, kind: string, a: ReturnType<typeof actor>) => ({
  name,
  kind,
  adminKey: a.signing.publicKey,
  adminEncryptionKey: a.encryption.publicKey,
});
const genesis: Genesis = {
  chainId: CHAIN,
  genesisTime: T0,
  validators: [{ name: 'v0', publicKey: validator.signing.publicKey, encryptionKey: validator.encryption.publicKey, power: 1 }],
  organizations: [org('General Hospital', 'hospital', hospital), org('Evergreen Health Insurance', 'insurer', insurer)],
  params: { maxBlockTxs: 10_000, maxBlockBytes: 64 << 20, maxClockDriftMs: 10_000 },
};
const state = new MemoryCommittedState();
state.apply(initChain(genesis));
const app = new EhrApp(CHAIN, state);
let height = 0;
let now = T0;
function run(txs: SignedTx[]): number {
  height += 1;
  now += 1000;
  const exec = app.finalizeBlock({ height, time: now, txs });
  const failed = exec.results.filter((r) => r.code !== 'ok');
  if (failed.length > 0) throw new Error(`${failed.length} failed: ${failed[0]?.code} ${failed[0]?.log}`);
  state.apply(exec);
  app.commit();
  return exec.results.length;
}

const CODES = ['185349003', '185345009', '410620009', '162673000', '390906007', '50849002', '698314001', '308646001'];
const planTx = insurer.tx('plan.publish', {
  name: 'Bench',
  effectiveFrom: '2020-01-01',
  deductible: 50_000,
  oopMax: 300_000,
  coinsuranceBps: 2000,
  network: [hospital.id],
  services: CODES.map((code) => ({ code, allowed: 20_000 })),
});
run([planTx]);
const { txHash } = await import('@medledger/ledger');
const planId = txHash(planTx).slice(0, 32);
const patients = Array.from({ length: PATIENTS }, () => actor());
run(patients.map((p) => p.tx('identity.register', { role: 'patient', encryptionKey: p.encryption.publicKey })));
run(
  patients.map((p) =>
    p.tx('consent.grant', { patient: p.id, grantee: hospital.id, scope: { categories: ['billing'] }, access: 'read', purpose: 'payment' }),
  ),
);
const coverageTxs = patients.map((p, i) =>
  insurer.tx('coverage.add', { patient: p.id, plan: planId, memberId: `M-${i}`, from: '2026-01-01', to: '2026-12-31' }),
);
run(coverageTxs);
const coverages = coverageTxs.map((t) => txHash(t).slice(0, 32));

const perClaim: number[] = [];
const cpuPerClaim: number[] = [];
const rulesPerClaim: number[] = [];
for (let b = 0; b < blocks; b++) {
  const day = String(1 + (b % 28)).padStart(2, '0');
  const txs = patients.map((p, i) =>
    hospital.tx('claim.submit', {
      patient: p.id,
      coverage: coverages[i],
      type: 'institutional',
      items: [
        { sequence: 1, code: CODES[b % 8], serviceDate: `2026-02-${day}`, quantity: 1, charge: 15_000 },
        { sequence: 2, code: CODES[(b + 1) % 8], serviceDate: `2026-02-${day}`, quantity: 1, charge: 9_000 },
      ],
      contentHash: 'ab'.repeat(32),
    }),
  );
  // First run: signatures verified and cached, as admission does on a node.
  app.finalizeBlock({ height: height + 1, time: now + 1000, txs });
  // The claim rules alone, as admission and the mempool re-check run them (no state root).
  const a0 = process.cpuUsage();
  for (const tx of txs) {
    const r = app.checkTx(tx, { height: height + 1, time: now });
    if (r.code !== 'ok') throw new Error(`checkTx failed: ${r.code} ${r.log}`);
  }
  const admitted = process.cpuUsage(a0);
  rulesPerClaim.push((admitted.user + admitted.system) / txs.length);
  app.commit();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  run(txs);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  perClaim.push(wall / txs.length);
  cpuPerClaim.push((cpu.user + cpu.system) / txs.length);
  console.log(
    `block ${b + 1}: ${txs.length} claims executed and applied in ${wall.toFixed(0)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU: ${((wall * 1000) / txs.length).toFixed(0)} µs per claim`,
  );
}
const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
console.log(
  `p50 per claim: ${(p50(perClaim) * 1000).toFixed(0)} µs wall, ${p50(cpuPerClaim).toFixed(0)} µs CPU (${blocks} blocks of ${PATIENTS}); the rules alone (checkTx): ${p50(rulesPerClaim).toFixed(0)} µs CPU`,
);
