// The side-by-side table of `medledger bench --engine both`: one row per figure, one column
// per engine, and a cell that an engine cannot fill says why instead of showing a number.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { benchTable } from './bench-cometbft.js';

const embedded = {
  throughput: { txPerSecond: 1380 },
  singleTxThroughput: { txPerSecond: 630 },
  latency: { offeredTxPerSecond: 500, p50Ms: 310, p99Ms: 720 },
  records: { writeMs: { p50: 41.2 }, readMs: { p50: 12.5 } },
  nodes: [
    { name: 'validator-0', cpuPercent: 60, rssMiB: 200 },
    { name: 'validator-1', cpuPercent: 40, rssMiB: 100 },
  ],
};
const comet = {
  throughput: { seconds: 5, committed: 5000, rejected: 0, txPerSecond: 1000 },
  latency: { offeredTxPerSecond: 500, committed: 2500, p50Ms: 400, p99Ms: 900 },
  nodes: [{ name: 'validator-0', cpuPercent: 30, rssMiB: 150 }],
};

test('the bench table puts both engines side by side and says what was not measured', () => {
  const lines = benchTable({ figures: embedded }, { figures: comet });
  assert.match(lines[0] ?? '', /embedded\s*\|\s*cometbft/);
  const row = (label: RegExp) => lines.find((l) => label.test(l)) ?? '';
  assert.match(row(/batched/), /1380 \(batches of 100\).*not measured: CometBFT has no batch submission API/);
  assert.match(row(/one tx per call/), /630 \(POST \/v1\/txs\).*1000 \(broadcast_tx_sync\)/);
  assert.match(row(/latency/), /at 500 tx\/s.*310 \/ 720 ms.*400 \/ 900 ms/);
  assert.match(row(/CPU/), /50\.0 %, 150 MiB.*30\.0 %, 150 MiB \(app \+ CometBFT\)/);
  assert.match(row(/record write/), /41\.2 \/ 12\.5 ms.*not measured: the records part was not run/);
  const withRecords = benchTable(
    { figures: embedded },
    {
      figures: {
        ...comet,
        records: {
          resourceBytes: 4096,
          writes: 3,
          reads: 6,
          writeMs: { p50: 900, p99: 1200 },
          readMs: { p50: 35, p99: 60 },
          readWithSignInMs: { p50: 50, p99: 80 },
        },
      },
    },
  );
  assert.match(withRecords.find((l) => /record write/.test(l)) ?? '', /41\.2 \/ 12\.5 ms.*900 \/ 35 ms/);
  // Every line is as wide as the header: a column per engine, aligned.
  assert.equal(new Set(lines.map((l) => l.trimEnd().length <= (lines[0] ?? '').length)).size, 1);
});

test('every row is there when a figure is missing, saying why instead of a number', () => {
  const cometOnly = benchTable({ missing: 'not run (--engine cometbft)' }, { figures: comet });
  assert.equal(cometOnly.length, 7, 'header, rule and five rows');
  assert.match(cometOnly.find((l) => /one tx per call/.test(l)) ?? '', /not measured: not run \(--engine cometbft\)\s*\| 1000/);
  // The embedded bench with only the tx part: records say they were not run.
  const { records: _, ...txOnly } = embedded;
  const partial = benchTable({ figures: txOnly }, { missing: 'the run failed (cometbft not installed)' });
  assert.match(partial.find((l) => /record write/.test(l)) ?? '', /not measured: the records part was not run/);
  assert.match(partial.find((l) => /latency/.test(l)) ?? '', /310 \/ 720 ms.*not measured: the run failed \(cometbft not installed\)/);
  for (const l of partial.slice(2)) assert.doesNotMatch(l, /undefined|NaN/);
});
