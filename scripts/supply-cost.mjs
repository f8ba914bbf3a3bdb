// What one validator spends per EPCIS supply event, in one process (no network, no other
// validators): blocks of commissioning events sent one per transaction, against the same
// number of events in `supply.capture` transactions (docs/medicines.md "Benchmark").
// Run after `npx tsc -b`: `node scripts/supply-cost.mjs [events per block] [blocks] [events per capture] [both|single|capture]`
// (defaults 4000, 3, 20, both; one mode alone for a CPU profile of it, `node --cpu-prof`). Each stage is timed with performance.now() around the very calls the
// node makes: admission (signature, nonce and rules into the mempool), the proposer's build, the
// validator's check and execution of the proposal, and the commit (SQLite, then the mempool
// re-check of what is left).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '@medledger/crypto';
import { parseBlock, parseSignedTx, signTx, txBytes, txHash } from '@medledger/ledger';
import { Chain, Mempool } from '@medledger/node';
import { openSqliteStore } from '@medledger/storage';
import { precommitFor, time } from './stage-timing.mjs';

const perBlock = Number(process.argv[2] ?? 4000);
const blocks = Number(process.argv[3] ?? 3);
const perCapture = Number(process.argv[4] ?? 20);
const mode = process.argv[5] ?? 'both';
const MAKERS = 8;
const validators = Array.from({ length: 4 }, (_, i) => ({ i, key: generateSigningKeyPair() }));
const makers = Array.from({ length: MAKERS }, (_, i) => ({ i, key: generateSigningKeyPair(), nonce: 0 }));
const genesisTime = Date.now() - 60_000;
const genesis = {
  chainId: 'supply-cost',
  genesisTime,
  validators: validators.map(({ i, key }) => ({
    name: `v${i}`,
    publicKey: key.publicKey,
    encryptionKey: generateEncryptionKeyPair().publicKey,
    power: 1,
  })),
  organizations: makers.map(({ i, key }) => ({
    name: `Maker ${i}`,
    kind: 'manufacturer',
    adminKey: key.publicKey,
    adminEncryptionKey: generateEncryptionKeyPair().publicKey,
  })),
  params: { maxBlockTxs: 1_000_000, maxBlockBytes: 256 * 1024 * 1024, maxClockDriftMs: 10_000 },
};

/** A GTIN-14 for maker `i` with its GS1 check digit. */
function gtin(i) {
  const data = `00388${String(i).padStart(8, '0')}`;
  let sum = 0;
  for (let k = 0; k < 13; k++) sum += Number(data[k]) * (k % 2 === 0 ? 3 : 1);
  return `${data}${(10 - (sum % 10)) % 10}`;
}
const sign = (m, kind, body) =>
  signTx({ v: 1, chain: genesis.chainId, kind, signer: m.key.publicKey, nonce: m.nonce++, body }, m.key.privateKey);
const eventTime = `${new Date(genesisTime).toISOString().slice(0, 19)}Z`;
let serial = 0;
const commission = (m) => ({ gtin: gtin(m.i), lot: 'COST', expiry: '2030-12-31', serials: [`S${serial++}`], eventTime });

/** `events` commissioning events, one per transaction or `perCapture` to a capture, spread over the makers. */
function transactions(events, capture) {
  const txs = [];
  if (!capture) for (let n = 0; n < events; n++) txs.push(sign(makers[n % MAKERS], 'supply.commission', commission(makers[n % MAKERS])));
  else
    for (let n = 0; n < events / perCapture; n++) {
      const m = makers[n % MAKERS];
      txs.push(
        sign(m, 'supply.capture', {
          events: Array.from({ length: perCapture }, () => ({ kind: 'supply.commission', body: commission(m) })),
        }),
      );
    }
  return txs;
}

/**
 * A fresh chain for each mode: the proposer's builds blocks, the validator's receives them as
 * over the wire (a mode run after the other would pay for the larger state the first left).
 */
function freshChains(dir) {
  const proposer = new Chain(genesis, openSqliteStore(join(dir, 'proposer.db')));
  const validator = new Chain(genesis, openSqliteStore(join(dir, 'validator.db')));
  const mempool = new Mempool({ maxTxs: 1_000_000, maxBytes: 1 << 30 });
  validator.app.onCommitted((committed) => {
    for (const tx of committed.txs) mempool.remove(txHash(tx));
    for (const entry of mempool.drain()) if (validator.app.recheckTx(entry.tx).code === 'ok') mempool.add(entry);
  });
  for (const m of makers) m.nonce = 0;
  return { proposer, validator, mempool };
}

/** One block of `txs` through admission, build, validation and commit, timed; throws if any is refused. */
function runBlock({ proposer, validator, mempool }, txs) {
  const wire = JSON.stringify({ type: 'txs', txs });
  const row = {};
  [row.admitMs] = time(() => {
    for (const raw of JSON.parse(wire).txs) {
      const tx = parseSignedTx(raw);
      const r = validator.app.checkRelayedTx(tx);
      if (r.code !== 'ok') throw new Error(`refused at admission: ${r.code} ${r.log}`);
      mempool.add({ hash: txHash(tx), tx, bytes: txBytes(tx).length });
    }
  });
  const height = proposer.height + 1;
  const [buildMs, block] = time(() => proposer.buildBlock(txs, proposer.nextBlockTime(Date.now()), validators[0].key.publicKey));
  row.proposerBuildMs = buildMs;
  const wireBlock = JSON.stringify({ type: 'proposal', block });
  const [parseMs, received] = time(() => parseBlock(JSON.parse(wireBlock).block, (sig) => mempool.bySignature(sig)));
  row.parseMs = parseMs;
  [row.validateExecuteMs] = time(() => validator.validateNext(received, Date.now()));
  const commit = precommitFor(
    genesis.chainId,
    validators.map(({ key }) => key),
    block,
  );
  let finalized;
  [row.commitMs, finalized] = time(() => validator.commitBlock(received, commit));
  proposer.commitBlock(block, commit);
  const refused = finalized.results.filter((r) => r.code !== 'ok');
  if (refused.length > 0) throw new Error(`block ${height}: ${refused.length} refused, e.g. ${refused[0].code} ${refused[0].log}`);
  return row;
}

/**
 * µs per event of each stage: the fastest of the blocks, the one least disturbed by other work
 * on a shared machine (a mean moves with other processes' load far more than with the code).
 */
const perEvent = (rows) => {
  const keys = Object.keys(rows[0]);
  const best = (k) => Math.min(...rows.map((r) => r[k]));
  return Object.fromEntries([
    ...keys.map((k) => [k, (1000 * best(k)) / perBlock]),
    ['total', keys.reduce((s, k) => s + (1000 * best(k)) / perBlock, 0)],
  ]);
};
const root = mkdtempSync(join(tmpdir(), 'medledger-supply-cost-'));
const results = {};
for (const capture of { both: [false, true], single: [false], capture: [true] }[mode]) {
  const label = capture ? `captures of ${perCapture}` : 'one event per transaction';
  const chains = freshChains(mkdtempSync(join(root, 'run-')));
  // Setup: a product per maker.
  runBlock(
    chains,
    makers.map((m) =>
      sign(m, 'product.register', { gtin: gtin(m.i), name: `Cost ${m.i}`, strength: '1 mg', form: 'tablet', rxnorm: String(800000 + m.i) }),
    ),
  );
  const rows = [];
  for (let b = 0; b < blocks; b++) {
    const row = runBlock(chains, transactions(perBlock, capture));
    rows.push(row);
    console.log(`${label}, block ${b + 1}: ${JSON.stringify(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Math.round(v)])))}`);
  }
  results[label] = perEvent(rows);
}
console.log(`\nµs per event, each stage's fastest of ${blocks} blocks of ${perBlock} commissioning events (8 manufacturers):`);
const labels = Object.keys(results);
console.log(`  ${'stage'.padEnd(20)}${labels.map((l) => l.padStart(28)).join('')}`);
for (const k of Object.keys(results[labels[0]]))
  console.log(`  ${k.padEnd(20)}${labels.map((l) => results[l][k].toFixed(0).padStart(28)).join('')}`);
rmSync(root, { recursive: true, force: true });
