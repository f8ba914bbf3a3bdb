// What storing a block costs one validator, with the tree journal (the default) and without it
// (`--no-journal`: every block's tree nodes written to state_nodes in its own transaction, as
// before docs/state.md "The tree journal"). One process, one store: a chain is filled with
// `prefill` registrations in blocks of 2,000, then `blocks` blocks of `perBlock` registrations
// are built and stored, and for each the store's commit is timed and the bytes this process
// handed to write() (/proc/self/io wchar: the WAL, checkpoints into the database file, the
// journal) are counted. Run after `npx tsc -b`:
//   node scripts/tree-journal-cost.mjs [perBlock=100] [blocks=60] [prefill=40000] [--no-journal]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '@medledger/crypto';
import { signTx } from '@medledger/ledger';
import { Chain } from '@medledger/node';
import { openSqliteStore } from '@medledger/storage';
import { precommitFor, timeCpu } from './stage-timing.mjs';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const journal = !process.argv.includes('--no-journal');
const [perBlock, blocks, prefill] = [Number(args[0] ?? 100), Number(args[1] ?? 60), Number(args[2] ?? 40_000)];
const validators = Array.from({ length: 4 }, () => generateSigningKeyPair());
const genesis = {
  chainId: 'tree-journal-cost',
  genesisTime: Date.now() - 3_600_000,
  validators: validators.map((key, i) => ({
    name: `v${i}`,
    publicKey: key.publicKey,
    encryptionKey: generateEncryptionKeyPair().publicKey,
    power: 1,
  })),
  organizations: [],
  params: { maxBlockTxs: Math.max(perBlock, 2000), maxBlockBytes: 64 * 1024 * 1024, maxClockDriftMs: 10_000 },
};
const dir = mkdtempSync(join(tmpdir(), 'medledger-journal-cost-'));
const store = openSqliteStore(join(dir, 'chain.db'), journal ? {} : { treeJournal: { maxAgeBlocks: 0 } });
const chain = new Chain(genesis, store);

const registrations = (n) =>
  Array.from({ length: n }, () => {
    const signing = generateSigningKeyPair();
    const body = { role: 'patient', encryptionKey: generateEncryptionKeyPair().publicKey };
    return signTx(
      { v: 1, chain: genesis.chainId, kind: 'identity.register', signer: signing.publicKey, nonce: 0, body },
      signing.privateKey,
    );
  });
const wchar = () => Number(/^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1]);
let clock = genesis.genesisTime;
function store1(txs) {
  clock += 1_000;
  const block = chain.buildBlock(txs, chain.nextBlockTime(clock), validators[0].publicKey);
  const commit = precommitFor(genesis.chainId, validators, block);
  const w0 = wchar();
  const [ms, cpuMs] = timeCpu(() => chain.commitBlock(block, commit));
  return { ms, cpuMs, bytes: wchar() - w0 };
}

for (let done = 0; done < prefill; done += 2000) store1(registrations(Math.min(2000, prefill - done)));
const rows = [];
for (let b = 0; b < blocks; b++) rows.push(store1(registrations(perBlock)));
// The last half: past the journal's 32-block window, so both runs are in their steady state.
const tail = rows.slice(Math.floor(blocks / 2));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `${journal ? 'journal' : 'no journal'}: blocks of ${perBlock} registrations over ${prefill} keys, median of the last ${tail.length} of ${blocks}: ` +
    `store ${median(tail.map((r) => r.ms)).toFixed(1)} ms wall, ${median(tail.map((r) => r.cpuMs)).toFixed(1)} ms CPU, ` +
    `${(median(tail.map((r) => r.bytes)) / 1024 / 1024).toFixed(2)} MiB written`,
);
store.close();
rmSync(dir, { recursive: true, force: true });
