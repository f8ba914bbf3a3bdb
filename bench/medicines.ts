// The medicines benchmark on a fresh 4-validator network on loopback (issue 14): supply
// events committed per second and verification answer latency (packages/cli/src/bench-medicines.ts).
// Usage: node --import tsx bench/medicines.ts [eventsPerManufacturer=250] [verifications=200] [eventsPerCapture=20]
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrustedGenesis } from '@medledger/client';
import { HOME_FILES, initNetwork, type NodeConfig, readOrgKey } from '@medledger/node';
import { benchMedicines } from '../packages/cli/src/bench-medicines.js';
import { type RunningNode, startNodeProcess, stopNodes } from '../packages/cli/src/network.js';

const MANUFACTURERS = 8;
const perManufacturer = Number(process.argv[2] ?? 250);
const verifications = Number(process.argv[3] ?? 200);
const eventsPerCapture = Number(process.argv[4] ?? 20);
const dir = mkdtempSync(join(tmpdir(), 'medledger-bench-medicines-'));
const nodes: RunningNode[] = [];
try {
  process.env.MEDLEDGER_PASSPHRASE ??= 'medledger-bench-passphrase';
  const organizations = [
    ...Array.from({ length: MANUFACTURERS }, (_, i) => ({ name: `Maker ${i}`, kind: 'manufacturer' })),
    { name: 'Bench Pharmacy', kind: 'pharmacy' },
  ];
  const { homes, genesis, orgKeys } = initNetwork({ validators: 4, out: dir, chainId: 'medledger-bench-medicines', basePort: Number(process.env.BENCH_BASE_PORT ?? 37650), organizations });
  for (const home of homes) {
    const file = join(home, HOME_FILES.config);
    const config = JSON.parse(readFileSync(file, 'utf8')) as NodeConfig;
    config.rateLimit = { windowMs: 10_000, perIdentity: 10_000_000, perIp: 10_000_000 };
    writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  }
  for (const home of homes) nodes.push(await startNodeProcess(home, [], []));
  const keysOf = (i: number) => {
    const o = orgKeys[i] as (typeof orgKeys)[number];
    return readOrgKey(o.home, { file: o.file });
  };
  const result = await benchMedicines(
    {
      urls: nodes.map((n) => n.url),
      genesis: TrustedGenesis.fromDocument(genesis),
      manufacturers: Array.from({ length: MANUFACTURERS }, (_, i) => keysOf(i)),
      partner: keysOf(MANUFACTURERS),
      eventsPerManufacturer: perManufacturer,
      eventsPerCapture,
      verifications,
    },
    (line) => console.log(line),
  );
  const out = { date: new Date().toISOString(), validators: 4, cpus: (await import('node:os')).cpus().length, medicines: result };
  mkdirSync('bench/results', { recursive: true });
  const file = join('bench/results', `medicines-${out.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`wrote ${file}`);
} finally {
  await stopNodes(nodes);
  rmSync(dir, { recursive: true, force: true });
}
