// Every Claim of the Synthea fixtures imported as a claim against a plan on a real node, and
// the payer amounts the ledger computes compared with Synthea's own EOB payments
// (docs/insurance.md "Synthea claims compared"). The same arithmetic on Synthea's payment
// model (no deductible, the encounter line the patient's, 80 % of the rest) reproduces
// Synthea's payments, which checks that the two are measured alike.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TrustedGenesis } from '@medledger/client';
import { generateKeyBundle } from '@medledger/crypto';
import { adjudicateLines, type PlanVersion } from '@medledger/ehr';
import { readOrgKey } from '@medledger/node';
import { startSoloNode, TEST_PASSPHRASE, type TestNode } from '@medledger/node/testing';
import { compareWithSynthea, importSyntheaClaims, syntheaClaimsOf } from './synthea-claims.js';

// Beside the repository (../shared), or where the development machine keeps them.
const FIXTURES =
  [
    join(import.meta.dirname, '../../../../shared/fixtures/synthea'),
    join(import.meta.dirname, '../../../../../shared/fixtures/synthea'),
  ].find((d) => existsSync(d)) ?? '/work/shared/fixtures/synthea';
const bundles = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')) as Record<string, unknown>);

let net: TestNode;
before(async () => {
  net = await startSoloNode({
    organizations: [
      { name: 'General Hospital', kind: 'hospital' },
      { name: 'Evergreen Health Insurance', kind: 'insurer' },
    ],
  });
});
after(async () => {
  await net.cleanup();
});

const dollars = (cents: number) => `$${(cents / 100).toFixed(2)}`;

test("Synthea's Claims read as ledger claims: every line priced, lines summing to the claim total", () => {
  const claims = bundles.flatMap(syntheaClaimsOf);
  assert.equal(claims.length, 117);
  assert.equal(claims.filter((c) => c.syntheaPayment !== null).length, 91);
  for (const c of claims) {
    assert.equal(
      c.lines.reduce((s, l) => s + l.charge, 0),
      c.total,
      `claim ${c.id}`,
    );
    assert.ok(c.lines.every((l) => l.code !== ''));
  }
});

test("on Synthea's own payment model the ledger's arithmetic gives Synthea's EOB payments", () => {
  let exact = 0;
  let total = 0;
  const withEob = bundles.flatMap(syntheaClaimsOf).filter((c) => c.syntheaPayment !== null);
  for (const c of withEob) {
    const services = c.lines.map((l) => ({
      code: `${l.sequence}`,
      allowed: l.charge,
      maxPerPeriod: null,
      priorAuth: false,
      justifyingDiagnoses: [],
      // The encounter is the patient's (a copay of its whole fee); the rest is paid at 80 %.
      costShare: l.encounter ? { kind: 'copay' as const, amount: l.charge } : null,
    }));
    const plan = {
      plan: 'p',
      version: 1,
      insurer: 'i',
      name: 'Synthea model',
      effectiveFrom: '1900-01-01',
      deductible: 0,
      oopMax: 100_000_000_000,
      costShare: { kind: 'coinsurance' as const, bps: 2_000 },
      network: [],
      services,
      authValidityDays: 90,
      outlierMultiple: 10,
      publishedAt: { height: 1, time: 0 },
    } satisfies PlanVersion;
    const inputs = c.lines.map((l, i) => ({
      line: { sequence: l.sequence, code: `${l.sequence}`, serviceDate: c.date, quantity: 1, charge: l.charge },
      service: services[i],
      denial: null,
      allowedOverride: null,
      preauth: null,
    }));
    const benefit = adjudicateLines(plan, { deductibleMet: 0, oopMet: 0, counts: {} }, inputs).total.benefit;
    // Synthea keeps tenths of a cent per line; the ledger rounds each line's coinsurance to the cent.
    if (Math.abs(benefit - (c.syntheaPayment as number)) <= c.lines.length) exact++;
    total += benefit;
  }
  assert.equal(exact, withEob.length, `${exact} of ${withEob.length} claims within a cent per line`);
  console.log(`Synthea model: computed ${dollars(total)} for the ${withEob.length} claims with an EOB`);
});

test('every Synthea claim of the fixtures imported through a real node, and the payer amounts compared', async () => {
  const home = join(net.dir, 'node0');
  const imported = await importSyntheaClaims({
    url: net.url,
    genesis: TrustedGenesis.fromDocument(net.node.chain.genesis),
    insurer: readOrgKey(home, { file: 'org-evergreen-health-insurance.key', passphrase: TEST_PASSPHRASE }),
    provider: readOrgKey(home, { passphrase: TEST_PASSPHRASE }),
    patients: bundles.map((bundle) => ({ keys: generateKeyBundle(), bundle })),
  });
  assert.equal(imported.length, 117);
  const r = compareWithSynthea(imported);
  // Synthea bills one encounter on an institutional and a pharmacy claim: never a duplicate.
  assert.ok(!imported.some((c) => c.flags.includes('DUPLICATE') && c.synthea.type === 'pharmacy'));
  assert.equal(r.byStatus.denied ?? 0, 0, 'every code billed is in the fee schedule');
  // Prescriptions of one visit are billed as their medicines, so none is held as a duplicate.
  assert.deepEqual(r.byStatus, { adjudicated: 117 });
  // Billed = allowed (the fee schedule is the highest charge per code), so every cent billed is split.
  assert.equal(r.computedBenefit + r.computedPatient <= r.billed, true);
  console.log(
    [
      `claims ${r.claims} ${JSON.stringify(r.byStatus)}, billed ${dollars(r.billed)}:`,
      `insurer pays ${dollars(r.computedBenefit)}, patients owe ${dollars(r.computedPatient)};`,
      `the ${r.withEob.claims} with a Synthea EOB: billed ${dollars(r.withEob.billed)},`,
      `Synthea paid ${dollars(r.withEob.syntheaPayment)}, the ledger computes ${dollars(r.withEob.computedBenefit)},`,
      `${r.withEob.close} within 1 % (or $1)`,
    ].join(' '),
  );
});
