// Medicines commands (docs/medicines.md): products, serialized supply chain custody,
// verification and trace, and prescriptions with the atomic dispense; each with --json.
import {
  type DispenseItem,
  type Epc,
  eventTimeNow,
  getPrescription,
  listNotices,
  listPrescriptions,
  listVerifications,
  type MedicinesBody,
  type MedicinesKind,
  type MedLedgerClient,
  medicinesTx,
  parseGs1,
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

interface Common {
  key: string;
  url: string;
  genesis?: string;
  json?: boolean;
}
function withCommon(cmd: Command, keyHelp = 'your key file'): Command {
  return cmd
    .requiredOption('--key <file>', keyHelp)
    .requiredOption('--url <url>', 'API URL of any node (default: $MEDLEDGER_URL)', process.env.MEDLEDGER_URL)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the result as JSON');
}

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
  withCommon(product.command('register'), "the manufacturer organization's admin key file")
    .description('register a product under its GTIN-14 (check digit verified)')
    .requiredOption('--gtin <gtin>', 'GTIN-14', gtin)
    .requiredOption('--ndc <ndc>', 'NDC such as 12345-678-90')
    .requiredOption('--name <name>', 'product name')
    .requiredOption('--strength <s>', 'strength, e.g. "500 mg"')
    .requiredOption('--form <f>', 'dosage form, e.g. capsule')
    .requiredOption('--rxnorm <code>', 'RxNorm code prescriptions name it by')
    .action((o: Common & { gtin: string; ndc: string; name: string; strength: string; form: string; rxnorm: string }) =>
      submit(o, 'product.register', { gtin: o.gtin, ndc: o.ndc, name: o.name, strength: o.strength, form: o.form, rxnorm: o.rxnorm }),
    );

  withCommon(product.command('transfer'), "the GTIN owner's (manufacturer's) admin key file")
    .description('transfer a GTIN to another manufacturer; its history is kept')
    .requiredOption('--gtin <gtin>', 'GTIN-14', gtin)
    .requiredOption('--to <id>', 'the manufacturer organization taking it over', identityId('--to'))
    .action((o: Common & { gtin: string; to: string }) => submit(o, 'product.transfer', { gtin: o.gtin, to: o.to }));

  const supply = program.command('supply').description('serialized packages: custody, verification, recalls');
  withCommon(supply.command('commission'), "the manufacturer organization's admin key file")
    .description('commission serials of one lot')
    .requiredOption('--gtin <gtin>', 'GTIN-14', gtin)
    .requiredOption('--lot <lot>', 'lot number', token('--lot'))
    .requiredOption('--expiry <date>', 'expiry date', date('--expiry'))
    .requiredOption('--serial <serial>', 'a serial number (repeat for more)', collect(token('--serial')))
    .action((o: Common & { gtin: string; lot: string; expiry: string; serial: string[] }) =>
      submit(o, 'supply.commission', { gtin: o.gtin, lot: o.lot, expiry: o.expiry, serials: o.serial, eventTime: eventTimeNow() }),
    );
  withCommon(supply.command('ship'), "a trading partner's admin key file")
    .description('ship packages and cases you hold to a named partner, with the DSCSA transaction information and statement')
    .requiredOption('--to <id>', 'receiving organization id', identityId('--to'))
    .option('--epc <gtin:serial>', 'a package (repeat for more)', collect(epc))
    .option('--case <sscc>', 'a case (repeat for more)', collect(sscc))
    .requiredOption('--transaction <number>', 'invoice or order number')
    .requiredOption('--transaction-date <date>', 'transaction date', date('--transaction-date'))
    .requiredOption('--statement', 'make the DSCSA transaction statement (required)')
    .action((o: Common & { to: string; epc?: Epc[]; case?: string[]; transaction: string; transactionDate: string }) =>
      submit(o, 'supply.ship', {
        to: o.to,
        ...(o.epc === undefined ? {} : { epcs: o.epc }),
        ...(o.case === undefined ? {} : { cases: o.case }),
        eventTime: eventTimeNow(),
        transaction: o.transaction,
        transactionDate: o.transactionDate,
        statement: true,
      }),
    );
  withCommon(supply.command('receive'), "the addressee organization's admin key file")
    .description('receive packages and cases shipped to you')
    .option('--epc <gtin:serial>', 'a package (repeat for more)', collect(epc))
    .option('--case <sscc>', 'a case (repeat for more)', collect(sscc))
    .action((o: Common & { epc?: Epc[]; case?: string[] }) =>
      submit(o, 'supply.receive', {
        ...(o.epc === undefined ? {} : { epcs: o.epc }),
        ...(o.case === undefined ? {} : { cases: o.case }),
        eventTime: eventTimeNow(),
      }),
    );
  withCommon(supply.command('pack'), "the holder's admin key file")
    .description('pack packages you hold into a case')
    .requiredOption('--case <sscc>', 'the case SSCC', sscc)
    .requiredOption('--epc <gtin:serial>', 'a package (repeat for more)', collect(epc))
    .action((o: Common & { case: string; epc: Epc[] }) =>
      submit(o, 'supply.pack', { sscc: o.case, epcs: o.epc, eventTime: eventTimeNow() }),
    );
  withCommon(supply.command('unpack'), "the holder's admin key file")
    .description('unpack a whole case you hold')
    .requiredOption('--case <sscc>', 'the case SSCC', sscc)
    .action((o: Common & { case: string }) => submit(o, 'supply.unpack', { sscc: o.case, eventTime: eventTimeNow() }));
  withCommon(supply.command('recall'), "the manufacturer's or regulator's admin key file")
    .description('recall a lot')
    .requiredOption('--gtin <gtin>', 'GTIN-14', gtin)
    .requiredOption('--lot <lot>', 'lot number', token('--lot'))
    .requiredOption('--reason <text>', 'why')
    .action((o: Common & { gtin: string; lot: string; reason: string }) =>
      submit(o, 'supply.recall', { gtin: o.gtin, lot: o.lot, reason: o.reason, eventTime: eventTimeNow() }),
    );
  withCommon(supply.command('quarantine'), "a trading partner's admin key file")
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
      'capture an EPCIS 2.0 document: validated against the EPCIS 2.0 schema, then each event recorded as its supply transaction',
    )
    .requiredOption('--file <path>', 'the EPCISDocument (JSON / JSON-LD)')
    .action(async (o: Common & { file: string }) => {
      const doc = readJsonArg(o.file, 'EPCIS document');
      let steps: number;
      try {
        steps = epcisToTransactions(doc).length;
      } catch (err) {
        throw usage((err as Error).message);
      }
      const conn = await connect(o);
      const done = await run(() => captureEpcis(conn, doc));
      output(o, { events: steps, txs: done }, () => `${done.length} events recorded, last at height ${done.at(-1)?.height ?? 0}`);
    });
  withCommon(supply.command('decommission'), "the holder's admin key file")
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
  withCommon(supply.command('notify'), "the determining partner's admin key file")
    .description('record that an illegitimate-product determination was notified (due within 24 hours of it)')
    .requiredOption('--notice <id>', 'notification id', check(/^[0-9a-f]{32}$/, '--notice must be a 16-byte hex id'))
    .action((o: Common & { notice: string }) => submit(o, 'supply.notify', { notice: o.notice }));
  withCommon(supply.command('terminate'), "the determining partner's or the regulator's admin key file")
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
    .requiredOption('--gtin <gtin>', 'GTIN-14', gtin)
    .requiredOption('--serial <serial>', 'serial', token('--serial'))
    .option('--limit <n>', 'page size (1–500)', int('--limit', 500))
    .option('--cursor <next>', '`next` of the previous page')
    .action(async (o: Common & { gtin: string; serial: string; limit?: number; cursor?: string }) => {
      const conn = await connect(o);
      const p = await run(() =>
        traceProduct(
          conn,
          { gtin: o.gtin, serial: o.serial },
          { ...(o.limit === undefined ? {} : { limit: o.limit }), ...(o.cursor === undefined ? {} : { cursor: o.cursor }) },
        ),
      );
      output(o, p, () => [
        ...p.items.map(
          (e) => `${String(e.eventTime)} ${String(e.bizStep)} ${String(e.disposition ?? '')} by ${String(e['medledger:recordedBy'])}`,
        ),
        ...(p.next === null ? [] : [`more: --cursor ${p.next}`]),
      ]);
    });

  const rx = program.command('rx').description('prescriptions');
  withCommon(rx.command('prescribe'), "a clinician's key file")
    .description('prescribe to a chosen pharmacy; prints the prescription id')
    .requiredOption('--patient <id>', 'patient identity id', identityId('--patient'))
    .requiredOption('--pharmacy <id>', 'pharmacy organization id', identityId('--pharmacy'))
    .requiredOption('--rxnorm <code>', 'RxNorm code', check(/^\d{1,10}$/, '--rxnorm must be digits'))
    .requiredOption(
      '--request-hash <hex>',
      'SHA-256 of the encrypted FHIR MedicationRequest',
      check(/^[0-9a-f]{64}$/, '--request-hash must be 32-byte hex'),
    )
    .requiredOption('--quantity <n>', 'packages per fill', int('--quantity', 100))
    .option('--repeats <n>', 'fills after the first', int('--repeats', 12), 0)
    .requiredOption('--from <date>', 'valid from', date('--from'))
    .requiredOption('--to <date>', 'valid to', date('--to'))
    .option('--interval <days>', 'minimum days between fills', int('--interval', 365), 0)
    .action(
      (
        o: Common & {
          patient: string;
          pharmacy: string;
          rxnorm: string;
          requestHash: string;
          quantity: number;
          repeats: number;
          from: string;
          to: string;
          interval: number;
        },
      ) =>
        submit(
          o,
          'rx.prescribe',
          {
            requestHash: o.requestHash,
            patient: o.patient,
            pharmacy: o.pharmacy,
            rxnorm: o.rxnorm,
            quantity: o.quantity,
            repeats: o.repeats,
            validFrom: o.from,
            validTo: o.to,
            minIntervalDays: o.interval,
          },
          'rx',
        ),
    );
  withCommon(rx.command('dispense'), "a pharmacist's key file")
    .description('dispense a prescription with the scanned packages, checked in one transaction')
    .requiredOption('--rx <id>', 'prescription id', rxId)
    .option('--code <gs1>', 'a scanned DataMatrix with lot (10) and expiry (17) (repeat for more)', collect(scannedItem))
    .option('--item <gtin:serial:lot:expiry>', 'a package typed in (repeat for more)', collect(item))
    .action((o: Common & { rx: string; code?: DispenseItem[]; item?: DispenseItem[] }) => {
      const items = [...(o.code ?? []), ...(o.item ?? [])];
      if (items.length === 0) throw usage('give the dispensed packages with --code or --item');
      return submit(o, 'medication.dispense', { rx: o.rx, items });
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
