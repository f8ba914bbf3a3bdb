// The side-by-side table of `medledger bench --engine both`: one row per figure, one column
// per engine, and a cell that an engine cannot fill says why instead of showing a number.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { benchTable } from './bench-cometbft.js';

const embedded = {
  throughput: { txPerSecond: 1380 },
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
  const lines = benchTable(embedded, comet);
  assert.match(lines[0] ?? '', /embedded\s*\|\s*cometbft/);
  const row = (label: RegExp) => lines.find((l) => label.test(l)) ?? '';
  assert.match(row(/saturation/), /1380 \(batches of 100\).*1000 \(one tx per call/);
  assert.match(row(/latency/), /at 500 tx\/s.*310 \/ 720 ms.*400 \/ 900 ms/);
  assert.match(row(/CPU/), /50\.0 %, 150 MiB.*30\.0 %, 150 MiB \(app \+ CometBFT\)/);
  assert.match(row(/record write/), /41\.2 \/ 12\.5 ms.*not measured/);
  const withRecords = benchTable(embedded, {
    ...comet,
    records: {
      resourceBytes: 4096,
      writes: 3,
      reads: 6,
      writeMs: { p50: 900, p99: 1200 },
      readMs: { p50: 35, p99: 60 },
      readWithSignInMs: { p50: 50, p99: 80 },
    },
  });
  assert.match(withRecords.find((l) => /record write/.test(l)) ?? '', /41\.2 \/ 12\.5 ms.*900 \/ 35 ms/);
  // Every line is as wide as the header: a column per engine, aligned.
  assert.equal(new Set(lines.map((l) => l.trimEnd().length <= (lines[0] ?? '').length)).size, 1);
  const cometOnly = benchTable(undefined, comet);
  assert.match(cometOnly.find((l) => /saturation/.test(l)) ?? '', /\|\s+\| 1000/);
});
