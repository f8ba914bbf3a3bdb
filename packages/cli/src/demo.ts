// The demo network of `medledger start`: five organizations in genesis (two hospitals, a
// clinic, an insurer, a pharmacy), their clinicians and staff, three Synthea patients whose
// records their hospital or clinic imported, and a few consents — with every keystore
// written under <data>/demo and a sign-in sheet in <data>/demo/demo.json.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Purpose, type StaffRole, staffRegisterBody, TrustedGenesis } from '@medledger/client';
import { decryptKeystore, generateKeyBundle, type KeyBundle } from '@medledger/crypto';
import { type OrgKeyFile, readOrgKey } from '@medledger/node';
import { clientFor, writeKeys } from './cli-support.js';
import { type InsuranceDemoSummary, seedInsuranceDemo } from './demo-insurance.js';
import { type MedicinesDemo, seedMedicinesDemo } from './demo-medicines.js';
import { importBundle } from './fhir-import.js';

/** The passphrase of every demo keystore when MEDLEDGER_PASSPHRASE is unset (docs/cli.md). */
export const DEMO_PASSPHRASE = 'medledger-demo';

/** The demo's founding organizations; organization i is run from node home i mod 4. */
export const DEMO_ORGANIZATIONS = [
  { name: 'Northside General Hospital', kind: 'hospital' },
  { name: "St. Mary's Hospital", kind: 'hospital' },
  { name: 'Riverside Family Clinic', kind: 'clinic' },
  { name: 'Evergreen Health Insurance', kind: 'insurer' },
  { name: 'Main Street Pharmacy', kind: 'pharmacy' },
  // Medicines (docs/medicines.md): the supply chain's other trading partners and the regulator.
  { name: 'Acme Pharmaceuticals', kind: 'manufacturer' },
  { name: 'Cardinal Wholesale', kind: 'distributor' },
  { name: 'Drug Safety Agency', kind: 'regulator' },
  // A second pharmacy, so a patient can move a prescription (README "rx transfer").
  { name: 'Harbor Pharmacy', kind: 'pharmacy' },
];

const STAFF: Array<{ file: string; name: string; role: StaffRole; org: number }> = [
  { file: 'dr-house.key', name: 'Dr Gregory House', role: 'clinician', org: 0 },
  { file: 'dr-grey.key', name: 'Dr Meredith Grey', role: 'clinician', org: 1 },
  { file: 'dr-ross.key', name: 'Dr Doug Ross', role: 'clinician', org: 2 },
  { file: 'claims-officer.key', name: 'Claire Claims', role: 'insurer', org: 3 },
  { file: 'pharmacist.key', name: 'Phil Pharmacist', role: 'pharmacy', org: 4 },
];

// Each patient is imported by the organization that treats them.
const PATIENTS: Array<{ bundle: string; name: string; org: number }> = [
  { bundle: 'liz_conn.json', name: 'Liz Conn', org: 0 },
  { bundle: 'dannie_schmitt.json', name: 'Dannie Schmitt', org: 1 },
  { bundle: 'garrett_thompson.json', name: 'Garrett Thompson', org: 2 },
];

/** One person or organization the demo made, and how to act as them. */
export interface DemoUser {
  name: string;
  role: string;
  id: string;
  keyFile: string;
  organization?: string;
}

export interface DemoSheet {
  passphrase: string;
  passphraseFromEnv: boolean;
  url: string;
  genesis: string;
  users: DemoUser[];
  consents: Array<{ patient: string; to: string; scope: string; purpose: Purpose; grant: string }>;
  /** Clinicians whose organization gave them the emergency ("break-glass") privilege. */
  emergencyPrivilege?: string[];
  /** The insurance demo (docs/insurance.md): Evergreen's plan and the claims submitted. */
  insurance?: InsuranceDemoSummary & { insurer: string };
  /** The medicines demo (docs/medicines.md): products, stock at Main Street Pharmacy, an active prescription. */
  medicines?: MedicinesDemo;
}

const FIXTURES = fileURLToPath(new URL('../demo/synthea/', import.meta.url));

/** Path of the sign-in sheet of a demo network in `dataDir`. */
export const demoSheetPath = (dataDir: string) => join(dataDir, 'demo', 'demo.json');

/** The sign-in sheet of an already seeded demo, or undefined. */
export function readDemoSheet(dataDir: string): DemoSheet | undefined {
  const path = demoSheetPath(dataDir);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as DemoSheet) : undefined;
}

/**
 * Seed a freshly started demo network through the node at `url`: register staff, import
 * the patients, grant consents, and write the sign-in sheet. `log` gets progress lines.
 */
export async function seedDemo(opts: {
  dataDir: string;
  url: string;
  orgKeys: OrgKeyFile[];
  passphrase: string;
  passphraseFromEnv: boolean;
  log: (line: string) => void;
}): Promise<DemoSheet> {
  const dir = join(opts.dataDir, 'demo');
  mkdirSync(join(dir, 'patients'), { recursive: true });
  // The genesis this network was created with, read from disk: the demo trusts it, not the node.
  const genesis = TrustedGenesis.fromDocument(JSON.parse(readFileSync(join(opts.dataDir, 'genesis.json'), 'utf8')));
  const orgs = opts.orgKeys.map((o) => ({ ...o, keys: readOrgKey(o.home, { file: o.file, passphrase: opts.passphrase }) }));
  const users: DemoUser[] = orgs.map((o) => ({ name: o.name, role: `organization (${o.kind})`, id: o.id, keyFile: join(o.home, o.file) }));

  const staffIds: string[] = [];
  const staffKeys: KeyBundle[] = [];
  for (const s of STAFF) {
    const org = orgs[s.org] as (typeof orgs)[number];
    const keys = generateKeyBundle();
    const keyFile = join(dir, s.file);
    const file = await writeKeys(keyFile, keys, `${s.name}, ${org.name}`);
    await clientFor(opts.url, org.keys, genesis).submitAndWait(
      'staff.register',
      staffRegisterBody({ publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role: s.role, name: s.name }),
    );
    staffIds.push(file.id);
    staffKeys.push(keys);
    users.push({ name: s.name, role: s.role, id: file.id, keyFile, organization: org.name });
    opts.log(`registered ${s.role} ${s.name} at ${org.name}`);
  }

  const patients: Array<{ id: string; keyFile: string; name: string; org: number; bundlePath: string }> = [];
  for (const p of PATIENTS) {
    const org = orgs[p.org] as (typeof orgs)[number];
    const bundlePath = join(dir, 'patients', p.bundle);
    copyFileSync(join(FIXTURES, p.bundle), bundlePath);
    const keyFile = bundlePath.replace(/\.json$/, '.key');
    let last = -1;
    const result = await importBundle({
      url: opts.url,
      genesis,
      orgKeys: org.keys,
      bundle: JSON.parse(readFileSync(bundlePath, 'utf8')),
      keyFile,
      label: `demo patient ${p.name}`,
      onProgress: (d, t) => {
        const tenth = Math.floor((4 * d) / t);
        if (tenth !== last) {
          last = tenth;
          opts.log(`importing ${p.name} (by ${org.name}): ${d}/${t} records`);
        }
      },
    });
    patients.push({ id: result.patientId, keyFile, name: p.name, org: p.org, bundlePath });
    users.push({ name: `${p.name} (Synthea)`, role: 'patient', id: result.patientId, keyFile });
  }

  // A few consents beyond the importing organizations' own grants.
  const consents: DemoSheet['consents'] = [];
  const grant = async (patient: number, to: string, toName: string, categories: string[], purpose: Purpose) => {
    const p = patients[patient] as (typeof patients)[number];
    const { grantId } = await clientFor(opts.url, readKeysOf(p.keyFile, opts.passphrase), genesis).grant({
      grantee: to,
      categories,
      purpose,
    });
    consents.push({ patient: p.name, to: toName, scope: categories.join(', '), purpose, grant: grantId });
    opts.log(`${p.name} granted ${toName} ${categories.join(', ')} for ${purpose}`);
  };
  await grant(0, staffIds[1] as string, 'Dr Meredith Grey', ['problems', 'medications', 'allergies'], 'treatment');
  await grant(1, (orgs[3] as (typeof orgs)[number]).id, 'Evergreen Health Insurance', ['billing'], 'payment');
  await grant(2, (orgs[4] as (typeof orgs)[number]).id, 'Main Street Pharmacy', ['medications'], 'treatment');
  await grant(2, staffIds[0] as string, 'Dr Gregory House', ['problems', 'laboratory'], 'treatment');

  // Dr House may break the glass (docs/emergency.md), granted by his hospital.
  await clientFor(opts.url, (orgs[0] as (typeof orgs)[number]).keys, genesis).submitAndWait('emergency.privilege', {
    clinician: staffIds[0] as string,
    grant: true,
  });
  opts.log('Northside General Hospital gave Dr Gregory House the emergency access privilege');

  const evergreen = orgs[3] as (typeof orgs)[number];
  const insurance = await seedInsuranceDemo({
    url: opts.url,
    genesis,
    insurer: { id: evergreen.id, keys: evergreen.keys },
    officer: staffKeys[3] as KeyBundle,
    patients: patients.map((p) => {
      const org = orgs[p.org] as (typeof orgs)[number];
      return {
        id: p.id,
        name: p.name,
        keys: readKeysOf(p.keyFile, opts.passphrase),
        provider: { id: org.id, keys: org.keys },
        bundle: JSON.parse(readFileSync(p.bundlePath, 'utf8')),
      };
    }),
    log: opts.log,
  });

  const org = (name: string) => {
    const o = orgs.find((x) => x.name === name) as (typeof orgs)[number];
    return { id: o.id, keys: o.keys };
  };
  const garrett = patients[2] as (typeof patients)[number];
  const medicines = await seedMedicinesDemo({
    url: opts.url,
    genesis,
    manufacturer: org('Acme Pharmaceuticals'),
    wholesaler: org('Cardinal Wholesale'),
    pharmacy: org('Main Street Pharmacy'),
    regulator: org('Drug Safety Agency'),
    prescriber: staffKeys[2] as KeyBundle,
    patient: { id: garrett.id, name: garrett.name },
    log: opts.log,
  });

  const sheet: DemoSheet = {
    passphrase: opts.passphraseFromEnv ? '(your MEDLEDGER_PASSPHRASE)' : opts.passphrase,
    passphraseFromEnv: opts.passphraseFromEnv,
    url: opts.url,
    genesis: join(opts.dataDir, 'genesis.json'),
    users,
    consents,
    emergencyPrivilege: ['Dr Gregory House'],
    insurance: { ...insurance, insurer: evergreen.id },
    medicines,
  };
  writeFileSync(demoSheetPath(opts.dataDir), `${JSON.stringify(sheet, null, 2)}\n`);
  return sheet;
}

/** A patient keystore the demo just wrote, opened with the passphrase it was written with. */
function readKeysOf(keyFile: string, passphrase: string): KeyBundle {
  return decryptKeystore(JSON.parse(readFileSync(keyFile, 'utf8')), passphrase);
}

/** The sign-in sheet as lines for the terminal. */
export function demoSheetLines(sheet: DemoSheet): string[] {
  const width = Math.max(...sheet.users.map((u) => u.name.length));
  const patientKey = sheet.users.find((u) => u.role === 'patient')?.keyFile;
  return [
    'demo participants (sign in to the web UI with the keystore file as recovery file, or use the CLI):',
    ...sheet.users.map((u) => `  ${u.name.padEnd(width)}  ${u.role.padEnd(24)} ${u.keyFile}`),
    sheet.passphraseFromEnv
      ? 'every demo keystore is encrypted with your MEDLEDGER_PASSPHRASE'
      : `every demo keystore is encrypted with the demo passphrase: ${sheet.passphrase}  (MEDLEDGER_PASSPHRASE was not set)`,
    'consents:',
    ...sheet.consents.map((c) => `  ${c.patient} → ${c.to}: ${c.scope} (${c.purpose})`),
    ...(sheet.emergencyPrivilege ?? []).map((name) => `emergency access ("break the glass") may be opened by: ${name}`),
    `web app: open ${sheet.url}/ in a browser`,
    'try:',
    `  npx medledger record list --key ${patientKey} --url ${sheet.url} --genesis ${sheet.genesis}`,
    `  npx medledger audit --key ${patientKey} --url ${sheet.url} --genesis ${sheet.genesis}`,
    // Nodes show block bodies only to the record's patient and the consortium: prove signs in as the patient.
    `  npx medledger record prove --key ${patientKey} --id RECORD_ID --genesis ${sheet.genesis} --url ${sheet.url}`,
    ...(sheet.insurance === undefined
      ? []
      : [
          `  npx medledger claim list --key ${sheet.users.find((u) => u.role === 'insurer')?.keyFile} --insurer ${sheet.insurance.insurer} --url ${sheet.url} --genesis ${sheet.genesis}`,
        ]),
    ...(sheet.medicines === undefined ? [] : medicinesTryLines(sheet, sheet.medicines)),
    `(this list is saved in ${join(sheet.genesis, '..', 'demo', 'demo.json')})`,
  ];
}

/** The medicines lines of the sign-in sheet: the pharmacist scans a package and fills the waiting prescription. */
function medicinesTryLines(sheet: DemoSheet, m: MedicinesDemo): string[] {
  const pharmacist = sheet.users.find((u) => u.role === 'pharmacy')?.keyFile;
  const common = `--url ${sheet.url} --genesis ${sheet.genesis}`;
  return [
    `  npx medledger supply verify --key ${pharmacist} --code '${m.scan}' ${common}`,
    `  npx medledger rx dispense --key ${pharmacist} --rx ${m.prescription.id} --code '${m.scan}' ${common}`,
    `  npx medledger rx list --key ${pharmacist} --pharmacy ${m.pharmacy} ${common}`,
  ];
}
