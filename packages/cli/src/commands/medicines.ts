// Medicines commands (docs/medicines.md): products, serialized supply chain custody,
// verification and trace, and prescriptions with the atomic dispense; each with --json.

import { randomBytes } from 'node:crypto';
import {
  ClientError,
  type DispenseItem,
  dispense,
  type Epc,
  eventTimeNow,
  getEpcisEvent,
  getPrescription,
  listNotices,
  listPrescriptions,
  listVerifications,
  type MedicinesBody,
  type MedicinesKind,
  type MedLedgerClient,
  medicinesTx,
  oneYearOn,
  parseGs1,
  prescribe,
  recallNotices,
  type ScannedIdentifier,
  traceProduct,
  verifyProduct,
} from '@medledger/client';
import { captureEpcis, epcisToTransactions } from '@medledger/client/epcis';
import type { Command } from 'commander';
import { clientFor, GENESIS_HELP, genesisArg, genesisDefault, loadKeys, output, readJsonArg, runSdk as run } from '../cli-support.js';
import { CliError, EXIT } from '../exit-codes.js';

const usage = (msg: string) => new CliError(msg, EXIT.usage, 'INVALID_ARGUMENT');
const check = (re: RegExp, what: string) => (raw: string) => {
  if (!re.test(raw)) throw usage(what);
  return raw;
};
const identityId = (name: string) => check(/^[0-9a-f]{40}$/, `${name} must be a 20-byte hex identity id`);
const rxId = check(/^[0-9a-f]{32}$/, '--rx must be a 16-byte hex prescription id');
const date = (name: string) => check(/^\d{4}-\d{2}-\d{2}$/, `${name} must be a date YYYY-MM-DD`);
const gtin = check(/^\d{14}$/, '--gtin must be a GTIN-14 of 14 digits');
const token = (name: string) => check(/^[A-Za-z0-9-]{1,20}$/, `${name} must be up to 20 letters, digits or "-"`);
const int = (name: string, max: number) => (raw: string) => {
  if (!/^[0-9]{1,6}$/.test(raw) || Number(raw) > max) throw usage(`${name} must be an integer from 0 to ${max}`);
  return Number(raw);
};
const collect =
  <T>(parse: (raw: string) => T) =>
  (raw: string, prev: T[] = []) => [...prev, parse(raw)];
interface ShipOpts {
  epc?: Epc[];
  serial?: Array<{ gtin?: string; serial: string }>;
  gtin?: string;
  case?: string[];
}
const epcsOf = (o: ShipOpts) => {
  const epcs = packagesOf(o);
  return epcs === undefined ? {} : { epcs };
};
const epc = (raw: string): Epc => {
  const m = /^(\d{14}):([A-Za-z0-9-]{1,20})$/.exec(raw);
  if (m === null) throw usage('--epc must be GTIN:SERIAL');
  return { gtin: m[1] as string, serial: m[2] as string };
};
const item = (raw: string): DispenseItem => {
  const m = /^(\d{14}):([A-Za-z0-9-]{1,20}):([A-Za-z0-9-]{1,20}):(\d{4}-\d{2}-\d{2})$/.exec(raw);
  if (m === null) throw usage('--item must be GTIN:SERIAL:LOT:EXPIRY (expiry YYYY-MM-DD)');
  return { gtin: m[1] as string, serial: m[2] as string, lot: m[3] as string, expiry: m[4] as string };
};
const pageOpts = (o: { limit?: number; cursor?: string }) => ({
  ...(o.limit === undefined ? {} : { limit: o.limit }),
  ...(o.cursor === undefined ? {} : { cursor: o.cursor }),
});
/** A scanned GS1 code (element string or Digital Link), parsed by the SDK's GS1 libraries. */
const scanned = (raw: string): ScannedIdentifier => {
  try {
    return parseGs1(raw);
  } catch (err) {
    throw usage(`--code: ${(err as Error).message}`);
  }
};
const scannedItem = (raw: string): DispenseItem => {
  const id = scanned(raw);
  if (id.lot === undefined || id.expiry === undefined) throw usage('--code must carry the lot (10) and expiry (17) to dispense');
  return { gtin: id.gtin, serial: id.serial, lot: id.lot, expiry: id.expiry };
};
const sscc = check(/^\d{18}$/, '--case must be an SSCC of 18 digits');
/** `--serial` of ship, receive and trace: `GTIN:SERIAL`, or a bare serial of the product named by `--gtin`. */
const serialRef = (raw: string): { gtin?: string; serial: string } => {
  const m = /^(?:(\d{14}):)?([A-Za-z0-9-]{1,20})$/.exec(raw);
  if (m === null) throw usage('--serial must be SERIAL (with --gtin) or GTIN:SERIAL');
  return m[1] === undefined ? { serial: m[2] as string } : { gtin: m[1], serial: m[2] as string };
};
/** The packages named by --epc and --serial (bare serials take --gtin). */
function packagesOf(o: { epc?: Epc[]; serial?: Array<{ gtin?: string; serial: string }>; gtin?: string }): Epc[] | undefined {
  const named = (o.serial ?? []).map((s) => {
    const g = s.gtin ?? o.gtin;
    if (g === undefined) throw usage(`--serial ${s.serial} needs --gtin (or write it GTIN:${s.serial})`);
    return { gtin: g, serial: s.serial };
  });
  const all = [...(o.epc ?? []), ...named];
  return all.length === 0 ? undefined : all;
}
/** Serial numbers for `--count`: 12 characters of an unambiguous alphabet (no 0/O, 1/I), 60 random bits each. */
const SERIAL_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
export function newSerials(count: number): string[] {
  const out = new Set<string>();
  while (out.size < count) out.add([...randomBytes(12)].map((b) => SERIAL_ALPHABET[b & 31]).join(''));
  return [...out];
}

interface Common {
  key: string;
  url: string;
  genesis?: string;
  json?: boolean;
}
/**
 * The options every medicines command takes. An organization's commands take its admin key as
 * `--org-key` (issue 14's name); `--key`, the name these commands had first, still works.
 */
function withCommon(cmd: Command, keyHelp = 'your key file', keyFlag: 'key' | 'org-key' = 'key'): Command {
  const keyed =
    keyFlag === 'key'
      ? cmd.requiredOption('--key <file>', keyHelp)
      : cmd
          .option('--org-key <file>', keyHelp)
          .option('--key <file>', 'the same as --org-key')
          .hook('preAction', (_self, action) => {
            const o = action.opts<{ orgKey?: string; key?: string }>();
            if ((o.orgKey === undefined) === (o.key === undefined)) throw usage('give --org-key FILE (the organization admin key file)');
            action.setOptionValue('key', o.orgKey ?? o.key);
          });
  return keyed
    .requiredOption('--url <url>', 'API URL of any node (default: $MEDLEDGER_URL)', process.env.MEDLEDGER_URL)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the result as JSON');
}

interface ProductDetailOptions {
  ndc?: string;
  strength?: string;
  form?: string;
  rxnorm?: string;
}
/** The optional product details given on the command line (none given: none sent). */
const productDetails = (o: ProductDetailOptions) => ({
  ...(o.ndc === undefined ? {} : { ndc: o.ndc }),
  ...(o.strength === undefined ? {} : { strength: o.strength }),
  ...(o.form === undefined ? {} : { form: o.form }),
  ...(o.rxnorm === undefined ? {} : { rxnorm: o.rxnorm }),
});

/** Submit one transaction and print its hash and height (and the id it created, when asked). */
async function submit<K extends MedicinesKind>(opts: Common, kind: K, body: MedicinesBody<K>, idName?: string): Promise<void> {
  const done = await run(async () => medicinesTx(await connect(opts), kind, body));
  const data =
    idName === undefined ? { txHash: done.txHash, height: done.height } : { [idName]: done.id, txHash: done.txHash, height: done.height };
  output(opts, data, () => (idName === undefined ? `${kind} committed at height ${done.height}` : done.id));
}
/** A client pinned to the trusted genesis (--genesis or MEDLEDGER_GENESIS): answers it shows are proven. */
const connect = async (opts: Common): Promise<MedLedgerClient> =>
  clientFor(opts.url, await loadKeys(opts.key), await genesisArg({ url: opts.url, genesis: opts.genesis }));

export function registerMedicinesCommands(program: Command): void {
  const product = program.command('product').description('medicinal products (GS1 GTIN)');
  withCommon(product.command('register'), "the manufacturer organization's admin key file", 'org-key')
    .description('register a product under its GTIN-14 (check digit verified); only --gtin and --name are required')
    .requiredOption('--gtin <gtin>', 'GTIN-14', gtin)
    .requiredOption('--name <name>', 'product name')
    .option('--ndc <ndc>', 'US National Drug Code such as 12345-678-90 (a product without one: leave it out)')
    .option('--strength <s>', 'strength, e.g. "500 mg" (shown in the DSCSA transaction information)')
    .option('--form <f>', 'dosage form, e.g. capsule (shown in the DSCSA transaction information)')
    .option('--rxnorm <code>', 'RxNorm code prescriptions name it by (without it, no prescription can be filled with it)')
    .action((o: Common & ProductDetailOptions & { gtin: string; name: string }) =>
      submit(o, 'product.register', { gtin: o.gtin, name: o.name, ...productDetails(o) }),
    );

  withCommon(product.command('update'), "the GTIN owner's (manufacturer's) admin key file", 'org-key')
    .description(
      "fill in a product's missing details (at least one); a detail once given never changes (a changed product needs its own GTIN); each update is kept in its history",
    )
    .requiredOption('--gtin <gtin>', 'GTIN-14', gtin)
    .option('--ndc <ndc>', 'US National Drug Code such as 12345-678-90')
    .option('--strength <s>', 'strength, e.g. "500 mg"')
    .option('--form <f>', 'dosage form, e.g. capsule')
    .option('--rxnorm <code>', 'RxNorm code prescriptions name it by')
    .action((o: Common & ProductDetailOptions & { gtin: string }) => {
      const details = productDetails(o);
      if (Object.keys(details).length === 0) throw usage('give at least one of --ndc, --strength, --form, --rxnorm');
      return submit(o, 'product.update', { gtin: o.gtin, ...details });
    });

  withCommon(product.command('transfer'), "the GTIN owner's (manufacturer's) admin key file", 'org-key')
    .description('transfer a GTIN to another manufacturer; its history is kept')
    .requiredOption('--gtin <gtin>', 'GTIN-14', gtin)
    .requiredOption('--to <id>', 'the manufacturer organization taking it over', identityId('--to'))
    .action((o: Common & { gtin: string; to: string }) => submit(o, 'product.transfer', { gtin: o.gtin, to: o.to }));

  const supply = program.command('supply').description('serialized packages: custody, verification, recalls');
  withCommon(supply.command('commission'), "the manufacturer organization's admin key file", 'org-key')
    .description('commission serials of one lot')
    .requiredOption('--gtin <gtin>', 'GTIN-14', gtin)
    .requiredOption('--lot <lot>', 'lot number', token('--lot'))
    .requiredOption('--expiry <date>', 'expiry date', date('--expiry'))
    .option('--count <n>', 'how many new serials to commission (1–500); they are printed', int('--count', 500))
    .option('--serial <serial>', 'a serial number of your own (repeat for more), instead of --count', collect(token('--serial')))
    .action(async (o: Common & { gtin: string; lot: string; expiry: string; serial?: string[]; count?: number }) => {
      if ((o.serial === undefined) === (o.count === undefined) || o.count === 0)
        throw usage('give --count N (1–500) or --serial S, one of them');
      const serials = o.serial ?? newSerials(o.count as number);
      const body = { gtin: o.gtin, lot: o.lot, expiry: o.expiry, serials, eventTime: eventTimeNow() };
      const done = await run(async () => medicinesTx(await connect(o), 'supply.commission', body));
      output(o, { serials, txHash: done.txHash, height: done.height }, () => serials);
    });
  withCommon(supply.command('ship'), "a trading partner's admin key file", 'org-key')
    .description('ship packages and cases you hold to a named partner, with the DSCSA transaction information and statement')
    .requiredOption('--to <id>', 'receiving organization id', identityId('--to'))
    .option('--serial <serials...>', 'packages: SERIAL (with --gtin) or GTIN:SERIAL, one or more', collect(serialRef))
    .option('--gtin <gtin>', 'the product of bare --serial values', gtin)
    .option('--epc <gtin:serial>', 'a package (repeat for more; the same as --serial GTIN:SERIAL)', collect(epc))
    .option('--case <sscc>', 'a case (repeat for more)', collect(sscc))
    .requiredOption('--transaction <number>', 'invoice or order number')
    .option('--transaction-date <date>', 'transaction date (default: today, UTC)', date('--transaction-date'))
    .requiredOption('--statement', 'make the DSCSA transaction statement (required)')
    .action((o: Common & ShipOpts & { to: string; transaction: string; transactionDate?: string }) =>
      submit(o, 'supply.ship', {
        to: o.to,
        ...epcsOf(o),
        ...(o.case === undefined ? {} : { cases: o.case }),
        eventTime: eventTimeNow(),
        transaction: o.transaction,
        transactionDate: o.transactionDate ?? eventTimeNow().slice(0, 10),
        statement: true,
      }),
    );
  withCommon(supply.command('receive'), "the addressee organization's admin key file", 'org-key')
    .description('receive packages and cases shipped to you')
    .option('--serial <serials...>', 'packages: SERIAL (with --gtin) or GTIN:SERIAL, one or more', collect(serialRef))
    .option('--gtin <gtin>', 'the product of bare --serial values', gtin)
    .option('--epc <gtin:serial>', 'a package (repeat for more; the same as --serial GTIN:SERIAL)', collect(epc))
    .option('--case <sscc>', 'a case (repeat for more)', collect(sscc))
    .action((o: Common & ShipOpts) =>
      submit(o, 'supply.receive', {
        ...epcsOf(o),
        ...(o.case === undefined ? {} : { cases: o.case }),
        eventTime: eventTimeNow(),
      }),
    );
  withCommon(supply.command('cancel'), "the sender organization's admin key file", 'org-key')
    .description('take back packages and cases you shipped to an organization suspended or removed since')
    .option('--serial <serials...>', 'packages: SERIAL (with --gtin) or GTIN:SERIAL, one or more', collect(serialRef))
    .option('--gtin <gtin>', 'the product of bare --serial values', gtin)
    .option('--epc <gtin:serial>', 'a package (repeat for more; the same as --serial GTIN:SERIAL)', collect(epc))
    .option('--case <sscc>', 'a case (repeat for more)', collect(sscc))
    .action((o: Common & ShipOpts) =>
      submit(o, 'supply.cancel', {
        ...epcsOf(o),
        ...(o.case === undefined ? {} : { cases: o.case }),
        eventTime: eventTimeNow(),
      }),
    );
  withCommon(supply.command('pack'), "the holder's admin key file", 'org-key')
    .description('pack packages you hold into a case')
    .requiredOption('--case <sscc>', 'the case SSCC', sscc)
    .requiredOption('--epc <gtin:serial>', 'a package (repeat for more)', collect(epc))
    .action((o: Common & { case: string; epc: Epc[] }) =>
      submit(o, 'supply.pack', { sscc: o.case, epcs: o.epc, eventTime: eventTimeNow() }),
    );
  withCommon(supply.command('unpack'), "the holder's admin key file", 'org-key')
    .description('unpack a whole case you hold')
    .requiredOption('--case <sscc>', 'the case SSCC', sscc)
    .action((o: Common & { case: string }) => submit(o, 'supply.unpack', { sscc: o.case, eventTime: eventTimeNow() }));
  withCommon(supply.command('recall'), "the manufacturer's or regulator's admin key file", 'org-key')
    .description('recall a lot')
    .requiredOption('--gtin <gtin>', 'GTIN-14', gtin)
    .requiredOption('--lot <lot>', 'lot number', token('--lot'))
    .requiredOption('--reason <text>', 'why')
    .action((o: Common & { gtin: string; lot: string; reason: string }) =>
      submit(o, 'supply.recall', { gtin: o.gtin, lot: o.lot, reason: o.reason, eventTime: eventTimeNow() }),
    );
  withCommon(supply.command('quarantine'), "a trading partner's admin key file", 'org-key')
    .description('quarantine a serial (holder, manufacturer, regulator) or a lot (manufacturer, regulator) as suspect or illegitimate')
    .requiredOption('--gtin <gtin>', 'GTIN-14', gtin)
    .option('--serial <serial>', 'one serial', token('--serial'))
    .option('--lot <lot>', 'a whole lot', token('--lot'))
    .requiredOption('--kind <kind>', 'suspect or illegitimate', check(/^(suspect|illegitimate)$/, '--kind must be suspect or illegitimate'))
    .requiredOption('--reason <text>', 'why')
    .action((o: Common & { gtin: string; serial?: string; lot?: string; kind: 'suspect' | 'illegitimate'; reason: string }) => {
      if ((o.serial === undefined) === (o.lot === undefined)) throw usage('give --serial or --lot, exactly one');
      return submit(o, 'supply.quarantine', {
        gtin: o.gtin,
        ...(o.serial === undefined ? {} : { serial: o.serial }),
        ...(o.lot === undefined ? {} : { lot: o.lot }),
        kind: o.kind,
        reason: o.reason,
        eventTime: eventTimeNow(),
      });
    });
  withCommon(supply.command('capture'), "a trading partner's admin key file")
    .description(
      "capture an EPCIS 2.0 document: validated against GS1's published EPCIS 2.0 schema and MedLedger's profile of it, then all its events recorded in one transaction (all or none)",
    )
    .requiredOption('--file <path>', 'the EPCISDocument (JSON / JSON-LD)')
    .action(async (o: Common & { file: string }) => {
      const doc = readJsonArg(o.file, 'EPCIS document');
      let steps: number;
      try {
        steps = epcisToTransactions(doc).length;
      } catch (err) {
        // INVALID_ARGUMENT (not valid EPCIS 2.0) or EPCIS_NOT_SUPPORTED (valid, not recorded by MedLedger).
        const code = err instanceof ClientError ? err.code : 'INVALID_ARGUMENT';
        throw new CliError(`${code}: ${(err as Error).message}`, EXIT.usage, code);
      }
      const conn = await connect(o);
      const done = await run(() => captureEpcis(conn, doc));
      const first = done[0];
      output(
        o,
        { events: steps, txHash: first?.txHash, height: first?.height, eventIDs: done.map((d) => d.eventIDs[0] ?? null) },
        () => `${done.length} events recorded in one transaction at height ${first?.height ?? 0}`,
      );
    });
  withCommon(supply.command('decommission'), "the holder's admin key file", 'org-key')
    .description('destroy packages you hold, or decommission them (samples, export, theft); they leave the supply chain')
    .requiredOption('--epc <gtin:serial>', 'a package (repeat for more)', collect(epc))
    .option('--destroy', 'destroyed (default: decommissioned)')
    .requiredOption('--reason <text>', 'why')
    .action((o: Common & { epc: Epc[]; destroy?: boolean; reason: string }) =>
      submit(o, 'supply.decommission', {
        epcs: o.epc,
        kind: o.destroy === true ? 'destroy' : 'decommission',
        reason: o.reason,
        eventTime: eventTimeNow(),
      }),
    );
  withCommon(supply.command('notify'), "the determining partner's admin key file", 'org-key')
    .description('record that an illegitimate-product determination was notified (due within 24 hours of it)')
    .requiredOption('--notice <id>', 'notification id', check(/^[0-9a-f]{32}$/, '--notice must be a 16-byte hex id'))
    .action((o: Common & { notice: string }) => submit(o, 'supply.notify', { notice: o.notice }));
  withCommon(supply.command('terminate'), "the determining partner's or the regulator's admin key file", 'org-key')
    .description('terminate a notification that was made')
    .requiredOption('--notice <id>', 'notification id', check(/^[0-9a-f]{32}$/, '--notice must be a 16-byte hex id'))
    .requiredOption('--reason <text>', 'why')
    .action((o: Common & { notice: string; reason: string }) => submit(o, 'supply.terminate', { notice: o.notice, reason: o.reason }));
  withCommon(supply.command('notices'), "the regulator's, a manufacturer's or a partner's key file")
    .description('illegitimate-product notifications you may see, with their status (overdue after 24 hours)')
    .option('--limit <n>', 'page size (1–500)', int('--limit', 500))
    .option('--cursor <next>', '`next` of the previous page')
    .action(async (o: Common & { limit?: number; cursor?: string }) => {
      const conn = await connect(o);
      const p = await run(() => listNotices(conn, pageOpts(o)));
      output(o, p, () => [
        ...(p.items.length === 0 && p.next === null ? ['no illegitimate-product notifications'] : []),
        ...p.items.map(
          (n) =>
            `${String(n.id)} ${String(n.status)} GTIN ${String(n.gtin)} ${n.serial === null ? `lot ${String(n.lot)}` : `serial ${String(n.serial)}`}`,
        ),
        ...(p.next === null ? [] : [`more: --cursor ${p.next}`]),
      ]);
    });
  withCommon(supply.command('verifications'), "the regulator's admin key file")
    .description('the verification log: every verification request and its answer, oldest first')
    .option('--limit <n>', 'page size (1–500)', int('--limit', 500))
    .option('--cursor <next>', '`next` of the previous page')
    .action(async (o: Common & { limit?: number; cursor?: string }) => {
      const conn = await connect(o);
      const p = await run(() => listVerifications(conn, pageOpts(o)));
      output(o, p, () => [
        ...p.items.map(
          (v) =>
            `${new Date(Number(v.time)).toISOString()} ${String(v.requester)} ${String(v.gtin)}/${String(v.serial)} ${v.verified === true ? 'verified' : String(v.reason)}`,
        ),
        ...(p.next === null ? [] : [`more: --cursor ${p.next}`]),
      ]);
    });
  withCommon(supply.command('verify'), "a trading partner's key file")
    .description('verify a product identifier at the last block time (the request is logged on chain); exits 0 only when verified')
    .option('--code <gs1>', "the scanned DataMatrix: '(01)…(21)…(10)…(17)…', raw with group separators, or a GS1 Digital Link URI", scanned)
    .option('--gtin <gtin>', 'GTIN-14 (instead of --code)', gtin)
    .option('--serial <serial>', 'serial (instead of --code)', token('--serial'))
    .option('--lot <lot>', 'lot as printed', token('--lot'))
    .option('--expiry <date>', 'expiry as printed', date('--expiry'))
    .action(async (o: Common & { code?: ScannedIdentifier; gtin?: string; serial?: string; lot?: string; expiry?: string }) => {
      if ((o.code === undefined) === (o.gtin === undefined || o.serial === undefined))
        throw usage('give --code, or --gtin and --serial (with --lot and --expiry as printed)');
      const id: ScannedIdentifier = o.code ?? {
        gtin: o.gtin as string,
        serial: o.serial as string,
        ...(o.lot === undefined ? {} : { lot: o.lot }),
        ...(o.expiry === undefined ? {} : { expiry: o.expiry }),
      };
      const conn = await connect(o);
      const v = await run(() => verifyProduct(conn, id));
      output(o, v, () => (v.verified ? 'verified' : `not verified: ${v.reason}`));
      if (!v.verified) process.exitCode = EXIT.denied;
    });
  withCommon(supply.command('trace'), "a trading partner's key file")
    .description("a package's EPCIS events, oldest first")
    .requiredOption('--serial <serial>', 'GTIN:SERIAL, or SERIAL with --gtin', serialRef)
    .option('--gtin <gtin>', 'GTIN-14 of a bare --serial', gtin)
    .option('--limit <n>', 'page size (1–500)', int('--limit', 500))
    .option('--cursor <next>', '`next` of the previous page')
    .action(async (o: Common & { gtin?: string; serial: { gtin?: string; serial: string }; limit?: number; cursor?: string }) => {
      const [pkg] = packagesOf({ serial: [o.serial], ...(o.gtin === undefined ? {} : { gtin: o.gtin }) }) as Epc[];
      const conn = await connect(o);
      const p = await run(() =>
        traceProduct(conn, pkg as Epc, {
          ...(o.limit === undefined ? {} : { limit: o.limit }),
          ...(o.cursor === undefined ? {} : { cursor: o.cursor }),
        }),
      );
      output(o, p, () => [
        ...p.items.map(
          (e) => `${String(e.eventTime)} ${String(e.bizStep)} ${String(e.disposition ?? '')} by ${String(e['medledger:recordedBy'])}`,
        ),
        ...(p.next === null ? [] : [`more: --cursor ${p.next}`]),
      ]);
    });
  withCommon(supply.command('event'), "a trading partner's key file")
    .description('one recorded EPCIS event by its Event Hash ID (as `supply capture` and `supply trace` print it), proven')
    .requiredOption('--id <eventID>', 'ni:///sha-256;<hex>?ver=CBV2.0')
    .action(async (o: Common & { id: string }) => {
      const conn = await connect(o);
      const e = await run(() => getEpcisEvent(conn, o.id));
      output(o, e, () => [
        `${String(e.type)} ${String(e.action)} ${String(e.bizStep)} ${String(e.eventTime)} by ${String(e['medledger:recordedBy'])}`,
        ...(typeof e.parentID === 'string' ? [`case ${e.parentID}`] : []),
        ...((e.childEPCs ?? e.epcList ?? []) as string[]),
      ]);
    });

  const rx = program.command('rx').description('prescriptions');
  withCommon(rx.command('prescribe'), "a clinician's key file")
    .description(
      "prescribe to the patient's chosen pharmacy: the FHIR MedicationRequest goes into the patient's encrypted records, " +
        'its hash and the fill rules on chain; prints the prescription id',
    )
    .requiredOption('--patient <id>', 'patient identity id', identityId('--patient'))
    .requiredOption('--pharmacy <id>', 'pharmacy organization id', identityId('--pharmacy'))
    .requiredOption('--rxnorm <code>', 'RxNorm code', check(/^\d{1,10}$/, '--rxnorm must be digits'))
    .requiredOption('--quantity <n>', 'packages per fill', int('--quantity', 100))
    .option('--repeats <n>', 'fills after the first', int('--repeats', 12), 0)
    .option('--days-between <d>', 'minimum days between fills', int('--days-between', 365))
    .option('--interval <days>', 'the same as --days-between', int('--interval', 365))
    .option('--from <date>', 'first day it may be filled (default: today, UTC)', date('--from'))
    .option('--to <date>', 'last day it may be filled (default: a year on)', date('--to'))
    .option('--instructions <text>', 'dosage instructions, kept in the encrypted MedicationRequest only')
    .option(
      '--request-hash <hex>',
      'a MedicationRequest already written to the patient’s records: its SHA-256 (then nothing new is written)',
      check(/^[0-9a-f]{64}$/, '--request-hash must be 32-byte hex'),
    )
    .action(
      async (
        o: Common & {
          patient: string;
          pharmacy: string;
          rxnorm: string;
          requestHash?: string;
          quantity: number;
          repeats: number;
          daysBetween?: number;
          interval?: number;
          from?: string;
          to?: string;
          instructions?: string;
        },
      ) => {
        if (o.daysBetween !== undefined && o.interval !== undefined) throw usage('give --days-between or --interval, not both');
        const daysBetween = o.daysBetween ?? o.interval ?? 0;
        if (o.quantity === 0) throw usage('--quantity must be at least 1');
        const validFrom = o.from ?? eventTimeNow().slice(0, 10);
        const validTo = o.to ?? oneYearOn(validFrom);
        if (validTo < validFrom) throw usage('--to must not be before --from');
        const conn = await connect(o);
        const done = await run(() =>
          o.requestHash === undefined
            ? prescribe(conn, {
                patient: o.patient,
                pharmacy: o.pharmacy,
                rxnorm: o.rxnorm,
                quantity: o.quantity,
                repeats: o.repeats,
                daysBetween,
                validFrom,
                validTo,
                ...(o.instructions === undefined ? {} : { instructions: o.instructions }),
              })
            : medicinesTx(conn, 'rx.prescribe', {
                requestHash: o.requestHash,
                patient: o.patient,
                pharmacy: o.pharmacy,
                rxnorm: o.rxnorm,
                quantity: o.quantity,
                repeats: o.repeats,
                validFrom,
                validTo,
                minIntervalDays: daysBetween,
              }),
        );
        output(o, { rx: done.id, txHash: done.txHash, height: done.height, validFrom, validTo }, () => done.id);
      },
    );
  withCommon(rx.command('dispense'), "a pharmacist's key file")
    .description('dispense a prescription with the scanned packages, checked in one transaction')
    .requiredOption('--rx <id>', 'prescription id', rxId)
    .option('--code <gs1>', 'a scanned DataMatrix with lot (10) and expiry (17) (repeat for more)', collect(scannedItem))
    .option('--item <gtin:serial:lot:expiry>', 'a package typed in (repeat for more)', collect(item))
    .action(async (o: Common & { rx: string; code?: DispenseItem[]; item?: DispenseItem[] }) => {
      const items = [...(o.code ?? []), ...(o.item ?? [])];
      if (items.length === 0) throw usage('give the dispensed packages with --code or --item');
      // Writes the MedicationDispense into the patient's encrypted records in the same transaction.
      const done = await run(async () => dispense(await connect(o), { rx: o.rx, items }));
      output(
        o,
        { record: done.recordId, txHash: done.txHash, height: done.height },
        () => `dispensed at height ${done.height}; record ${done.recordId}`,
      );
    });
  withCommon(rx.command('transfer'), "the patient's key file")
    .description('move an unfilled prescription to another pharmacy')
    .requiredOption('--rx <id>', 'prescription id', rxId)
    .requiredOption('--pharmacy <id>', 'pharmacy organization id', identityId('--pharmacy'))
    .action((o: Common & { rx: string; pharmacy: string }) => submit(o, 'rx.transfer', { rx: o.rx, pharmacy: o.pharmacy }));
  withCommon(rx.command('cancel'), "the prescriber's key file")
    .description('cancel a prescription')
    .requiredOption('--rx <id>', 'prescription id', rxId)
    .action((o: Common & { rx: string }) => submit(o, 'rx.cancel', { rx: o.rx }));
  withCommon(rx.command('show'), 'your key file')
    .description('one prescription')
    .requiredOption('--rx <id>', 'prescription id', rxId)
    .action(async (o: Common & { rx: string }) => {
      const conn = await connect(o);
      const p = await run(() => getPrescription(conn, o.rx));
      output(o, p, () => `prescription ${o.rx}: ${String(p.status)}, ${String(p.fills)} of ${Number(p.repeats) + 1} fills used`);
    });
  withCommon(rx.command('notices'), "the patient's (or a delegate's) key file")
    .description('recall notices: packages dispensed to the patient whose lot is recalled')
    .requiredOption('--patient <id>', 'patient identity id', identityId('--patient'))
    .action(async (o: Common & { patient: string }) => {
      const conn = await connect(o);
      const notices = await run(() => recallNotices(conn, o.patient));
      output(o, { notices }, () =>
        notices.length === 0
          ? 'no recall notices'
          : notices.map((n) => `RECALL ${n.gtin} lot ${n.lot} (serial ${n.serial}, prescription ${n.prescription}): ${n.recall.reason}`),
      );
    });
  withCommon(rx.command('list'), 'your key file')
    .description("a patient's prescriptions, or those a pharmacy holds")
    .option('--patient <id>', 'patient identity id', identityId('--patient'))
    .option('--pharmacy <id>', 'pharmacy organization id', identityId('--pharmacy'))
    .option('--limit <n>', 'page size (1–500)', int('--limit', 500))
    .option('--cursor <next>', '`next` of the previous page')
    .action(async (o: Common & { patient?: string; pharmacy?: string; limit?: number; cursor?: string }) => {
      if ((o.patient === undefined) === (o.pharmacy === undefined)) throw usage('give --patient or --pharmacy, exactly one');
      const conn = await connect(o);
      const by = o.patient === undefined ? 'pharmacies' : 'patients';
      const p = await run(() =>
        listPrescriptions(conn, {
          by,
          id: (o.patient ?? o.pharmacy) as string,
          ...(o.limit === undefined ? {} : { limit: o.limit }),
          ...(o.cursor === undefined ? {} : { cursor: o.cursor }),
        }),
      );
      output(o, p, () => [
        ...p.items.map(
          (x) => `${String(x.id)} RxNorm ${String(x.rxnorm)} ${String(x.status)} ${String(x.fills)}/${Number(x.repeats) + 1} fills`,
        ),
        ...(p.next === null ? [] : [`more: --cursor ${p.next}`]),
      ]);
    });
}
