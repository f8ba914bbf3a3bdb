// Where one validator's time goes for a block of registrations, stage by stage, in one
// process (no network, no other validators): the figures behind docs/performance.md's
// profile. Run after `npx tsc -b`: `node scripts/block-cost.mjs [txs per block] [blocks]`.
// Each stage is timed with performance.now() around the very calls the node makes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '@medledger/crypto';
import { parseBlock, parseSignedTx, signTx, txBytes, txHash, verifyTxSignature } from '@medledger/ledger';
import { Chain, Mempool } from '@medledger/node';
import { openSqliteStore } from '@medledger/storage';
import { precommitFor, time, timeCpu } from './stage-timing.mjs';

const perBlock = Number(process.argv[2] ?? 5000);
const blocks = Number(process.argv[3] ?? 3);
const validators = Array.from({ length: 4 }, (_, i) => ({ i, key: generateSigningKeyPair() }));
const genesis = {
  chainId: 'block-cost',
  genesisTime: Date.now() - 60_000,
  validators: validators.map(({ i, key }) => ({
    name: `v${i}`,
    publicKey: key.publicKey,
    encryptionKey: generateEncryptionKeyPair().publicKey,
    power: 1,
  })),
  organizations: [],
  params: { maxBlockTxs: perBlock, maxBlockBytes: 64 * 1024 * 1024, maxClockDriftMs: 10_000 },
};
const dir = mkdtempSync(join(tmpdir(), 'medledger-block-cost-'));
// The proposer's chain builds blocks; the validator's chain receives them, as over the wire.
const proposer = new Chain(genesis, openSqliteStore(join(dir, 'proposer.db')));
const validator = new Chain(genesis, openSqliteStore(join(dir, 'validator.db')));
const mempool = new Mempool({ maxTxs: 1_000_000, maxBytes: 1 << 30 });
validator.app.onCommitted((committed) => {
  for (const tx of committed.txs) mempool.remove(txHash(tx));
  for (const entry of mempool.drain()) if (validator.app.recheckTx(entry.tx).code === 'ok') mempool.add(entry);
});

function registrations(n) {
  return Array.from({ length: n }, () => {
    const signing = generateSigningKeyPair();
    const body = { role: 'patient', encryptionKey: generateEncryptionKeyPair().publicKey };
    return signTx(
      { v: 1, chain: genesis.chainId, kind: 'identity.register', signer: signing.publicKey, nonce: 0, body },
      signing.privateKey,
    );
  });
}

const rows = [];
for (let b = 0; b < blocks; b++) {
  const txs = registrations(perBlock);
  const wireTxs = JSON.stringify({ type: 'txs', txs });
  const row = {};
  // 1. Gossip: parse the peer message, check each transaction as a peer's relay (signature, nonce), pool it.
  [row.admitMs] = time(() => {
    for (const raw of JSON.parse(wireTxs).txs) {
      const tx = parseSignedTx(raw);
      if (validator.app.checkRelayedTx(tx).code !== 'ok') throw new Error('refused');
      mempool.add({ hash: txHash(tx), tx, bytes: txBytes(tx).length });
    }
  });
  [row.verifyOnlyMs] = time(() => {
    for (const tx of JSON.parse(wireTxs).txs) verifyTxSignature(tx);
  });
  // 2. The proposer builds (executes) the block.
  const height = proposer.height + 1;
  const [buildMs, block] = time(() => proposer.buildBlock(txs, proposer.nextBlockTime(Date.now()), validators[0].key.publicKey));
  row.proposerBuildMs = buildMs;
  const wireBlock = JSON.stringify({ type: 'proposal', block });
  row.proposalBytes = wireBlock.length;
  [row.stringifyMs] = time(() => JSON.stringify({ type: 'proposal', block }));
  // 3. The validator reads the proposal: parsed in full (then hashed, as execution needs,
  // which new objects are not yet), or with its transactions taken from the mempool (their
  // hashes already known) and checked against the tx root.
  [row.parseFullMs] = time(() => {
    for (const tx of parseBlock(JSON.parse(wireBlock).block).txs) txHash(tx);
  });
  const [parseReuseMs, received] = time(() => parseBlock(JSON.parse(wireBlock).block, (sig) => mempool.bySignature(sig)));
  row.parseReuseMs = parseReuseMs;
  // 4. It checks the block: links, last commit, and executes it (the state tree included).
  [row.validateExecuteMs, row.validateExecuteCpuMs] = timeCpu(() => validator.validateNext(received, Date.now()));
  // 5. Decided: store it (one SQLite transaction), then the commit listeners (mempool re-check).
  const commit = precommitFor(
    genesis.chainId,
    validators.map(({ key }) => key),
    block,
  );
  [row.commitMs, row.commitCpuMs] = timeCpu(() => validator.commitBlock(received, commit));
  proposer.commitBlock(block, commit);
  rows.push(row);
  console.log(`block ${height}: ${JSON.stringify(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Math.round(v)])))}`);
}
const mean = (k) => Math.round(rows.reduce((s, r) => s + r[k], 0) / rows.length);
const perTx = (k) => ((1000 * mean(k)) / perBlock).toFixed(0);
console.log(`\nmean over ${blocks} blocks of ${perBlock} registrations (µs per transaction in brackets):`);
for (const k of Object.keys(rows[0]))
  console.log(`  ${k.padEnd(18)} ${String(mean(k)).padStart(9)}${k.endsWith('Ms') ? ` ms  (${perTx(k)} µs/tx)` : ''}`);
rmSync(dir, { recursive: true, force: true });
