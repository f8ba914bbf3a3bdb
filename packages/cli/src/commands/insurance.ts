// Insurance commands (docs/insurance.md): plans, coverage, eligibility, prior authorization and
// claims, each with --json. Amounts are integer cents, dates 'YYYY-MM-DD'.
import {
  addCoverage,
  type ClaimView,
  checkEligibility,
  decidePreauth,
  disputeClaim,
  fhirEligibility,
  getClaim,
  getPreauth,
  listInsurance,
  type MedLedgerClient,
  type PlanPublishBody,
  type PreauthView,
  payClaimWithEob,
  publishPlan,
  requestPreauth,
  resolveClaim,
  reviewClaim,
  submitClaim,
} from '@medledger/client';
import type { Command } from 'commander';
import { clientFor, GENESIS_HELP, genesisArg, genesisDefault, loadKeys, output, readJsonArg, runSdk as run } from '../cli-support.js';
import { CliError, EXIT } from '../exit-codes.js';
import { fetchToken } from './token.js';

const check = (re: RegExp, what: string) => (raw: string) => {
  if (!re.test(raw)) throw new CliError(`${what}`, EXIT.usage, 'INVALID_ARGUMENT');
  return raw;
};
const identityId = (name: string) => check(/^[0-9a-f]{40}$/, `${name} must be a 20-byte hex identity id`);
const objectId = (name: string) => check(/^[0-9a-f]{32}$/, `${name} must be a 16-byte hex id`);
const date = (name: string) => check(/^\d{4}-\d{2}-\d{2}$/, `${name} must be a date YYYY-MM-DD`);
const code = (name: string) => check(/^[A-Za-z0-9][A-Za-z0-9.-]{0,39}$/, `${name} must be a code of letters, digits, "." and "-"`);
const reasonCode = check(/^[A-Z][A-Z0-9_]{1,39}$/, '--reason must be a reason code such as MEDICAL_NECESSITY');
const cents = (name: string) => (raw: string) => {
  if (!/^[0-9]{1,12}$/.test(raw)) throw new CliError(`${name} must be a whole number of cents`, EXIT.usage, 'INVALID_ARGUMENT');
  return Number(raw);
};
const positive = (name: string) => (raw: string) => {
  if (!/^[1-9][0-9]{0,3}$/.test(raw)) throw new CliError(`${name} must be an integer from 1 to 9999`, EXIT.usage, 'INVALID_ARGUMENT');
  return Number(raw);
};
const collect =
  <T>(parse: (raw: string) => T) =>
  (raw: string, prev: T[] = []) => [...prev, parse(raw)];

const dollars = (c: number) => `$${Math.trunc(c / 100)}.${String(Math.abs(c) % 100).padStart(2, '0')}`;

interface Common {
  url: string;
  genesis?: string;
  json?: boolean;
}
// Pinned to the trusted genesis (--genesis or MEDLEDGER_GENESIS): claims are encrypted records.
async function client(keyFile: string, url: string, genesis: string | undefined): Promise<MedLedgerClient> {
  return clientFor(url, await loadKeys(keyFile), await genesisArg({ url, genesis }));
}
function withCommon(cmd: Command, keyFlag = '--key <file>', keyHelp = 'your key file'): Command {
  return cmd
    .requiredOption(keyFlag, keyHelp)
    .requiredOption('--url <url>', 'API URL of any node (default: $MEDLEDGER_URL)', process.env.MEDLEDGER_URL)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the result as JSON');
}

function describePreauth(p: PreauthView): string[] {
  const d = p.decision;
  const lines = [`prior authorization ${p.id}: ${p.status}`];
  if (d !== null) lines.push(`  ${d.approved ? 'approved' : 'denied'} (${d.reasonCode})${d.late ? ', decided after the deadline' : ''}`);
  if (d?.authNumber) lines.push(`  authorization number ${d.authNumber}, valid ${d.validFrom} to ${d.validTo}`);
  if (p.deadline !== null && d === null) lines.push(`  decision due by ${new Date(p.deadline).toISOString()}`);
  return lines;
}

function describeClaim(c: ClaimView): string[] {
  const current = c.adjudications.at(-1);
  const lines = [
    `claim ${c.id}: ${c.status}${c.flags.length > 0 ? ` (flags: ${c.flags.join(', ')})` : ''}${c.disputeOpen ? ', disputed' : ''}`,
  ];
  if (current !== undefined) {
    const t = current.total;
    lines.push(
      `  billed ${dollars(t.submitted ?? 0)}, allowed ${dollars(t.allowed ?? 0)}, insurer pays ${dollars(t.benefit ?? 0)}, patient owes ${dollars(t.patient ?? 0)} (deductible ${dollars(t.deductible ?? 0)}, copay/coinsurance ${dollars(t.costShare ?? 0)})`,
    );
    for (const l of current.lines)
      if (l.denial !== null) lines.push(`  line ${String(l.sequence)} ${String(l.code)} denied: ${String(l.denial)}`);
  }
  if (c.adjudications.length > 1) lines.push(`  ${c.adjudications.length - 1} earlier adjudication(s) superseded`);
  lines.push(`  outstanding ${dollars(c.outstanding)}`);
  return lines;
}

export function registerInsuranceCommands(program: Command): void {
  const plan = program.command('plan').description('insurance plans');
  withCommon(plan.command('publish'), '--org-key <file>', "the insurer organization's admin key file")
    .description('publish a plan (or, with "plan" in the file, its next version); prints the plan id')
    .requiredOption('--file <plan.json>', 'the plan: name, effectiveFrom, deductible, oopMax, copay or coinsuranceBps, network, services')
    .action(async (opts: Common & { orgKey: string; file: string }) => {
      const body = readJsonArg(opts.file, 'plan file') as PlanPublishBody;
      const done = await run(async () => publishPlan(await client(opts.orgKey, opts.url, opts.genesis), body));
      output(opts, { plan: done.id, txHash: done.txHash, height: done.height }, () => done.id);
    });

  const coverage = program.command('coverage').description("patients' insurance coverage");
  withCommon(coverage.command('add'), '--key <file>', 'an insurer organization or insurer staff key file')
    .description("register a patient's coverage under a plan; prints the coverage id")
    .requiredOption('--patient <id>', 'patient identity id', identityId('--patient'))
    .requiredOption('--plan <id>', 'plan id', objectId('--plan'))
    .requiredOption('--member <id>', 'member id (the insurer’s number, no names)')
    .requiredOption('--from <date>', 'coverage start', date('--from'))
    .requiredOption('--to <date>', 'coverage end', date('--to'))
    .option('--relationship <r>', 'subscriber relationship: self, spouse, child, parent, common, injured, other', 'self')
    .action(
      async (
        opts: Common & { key: string; patient: string; plan: string; member: string; from: string; to: string; relationship: string },
      ) => {
        const done = await run(async () =>
          addCoverage(await client(opts.key, opts.url, opts.genesis), {
            patient: opts.patient,
            plan: opts.plan,
            memberId: opts.member,
            relationship: opts.relationship,
            from: opts.from,
            to: opts.to,
          }),
        );
        output(opts, { coverage: done.id, txHash: done.txHash, height: done.height }, () => done.id);
      },
    );

  withCommon(program.command('eligibility'))
    .description("check a patient's eligibility for a service at your organization (needs their payment or treatment consent)")
    .requiredOption('--patient <id>', 'patient identity id', identityId('--patient'))
    .requiredOption('--service <code>', 'service code', code('--service'))
    .option('--date <date>', 'service date (default: the last block’s date)', date('--date'))
    .option('--quantity <n>', 'units', positive('--quantity'))
    .option('--fhir', "ask the node's FHIR endpoint (CoverageEligibilityRequest/$submit, a SMART token for your key), proven the same way")
    .action(async (opts: Common & { key: string; patient: string; service: string; date?: string; quantity?: number; fhir?: boolean }) => {
      if (opts.fhir === true) return fhirEligibilityCommand(opts);
      const answer = await run(async () =>
        checkEligibility(await client(opts.key, opts.url, opts.genesis), {
          patient: opts.patient,
          service: opts.service,
          ...(opts.date === undefined ? {} : { date: opts.date }),
          ...(opts.quantity === undefined ? {} : { quantity: opts.quantity }),
        }),
      );
      output(opts, answer, () => {
        const b = answer.best as Record<string, number | string | boolean | null> | null;
        if (b === null) return `not covered: the patient has no coverage on record`;
        return [
          `${b.covered ? 'covered' : 'not covered'} (${String(b.reason)}) on ${String(answer.date)} under coverage ${String(b.coverage)}`,
          `  prior authorization ${b.priorAuthRequired ? 'required' : 'not required'}; ${b.remainingCount === null ? 'no count limit' : `${String(b.remainingCount)} left this period`}`,
          `  deductible left ${dollars(Number(b.deductibleRemaining))}, out-of-pocket left ${dollars(Number(b.oopRemaining))}`,
          `  estimated patient share ${dollars(Number(b.estimatedPatientShare))} of ${dollars(Number(b.allowed))}`,
        ];
      });
    });

  const preauth = program.command('preauth').description('prior authorization');
  withCommon(preauth.command('request'))
    .description('request prior authorization for a service (provider staff with consent); the plan may decide at once')
    .requiredOption('--patient <id>', 'patient identity id', identityId('--patient'))
    .requiredOption('--coverage <id>', 'coverage id', objectId('--coverage'))
    .requiredOption('--service <code>', 'service code', code('--service'))
    .option('--quantity <n>', 'units', positive('--quantity'), 1)
    .option('--diagnosis <code>', 'a diagnosis code (repeatable)', collect(code('--diagnosis')), [])
    .option('--record <id>', 'a supporting record id (repeatable)', collect(objectId('--record')), [])
    .option('--urgent', 'urgent: decided within 72 hours instead of 7 days')
    .action(
      async (
        opts: Common & {
          key: string;
          patient: string;
          coverage: string;
          service: string;
          quantity: number;
          diagnosis: string[];
          record: string[];
          urgent?: boolean;
        },
      ) => {
        const done = await run(async () =>
          requestPreauth(await client(opts.key, opts.url, opts.genesis), {
            patient: opts.patient,
            coverage: opts.coverage,
            items: [{ code: opts.service, quantity: opts.quantity }],
            diagnoses: opts.diagnosis,
            supportingRecords: opts.record,
            urgent: opts.urgent === true,
          }),
        );
        output(opts, done.preauth, () => describePreauth(done.preauth));
      },
    );

  withCommon(preauth.command('decide'), '--key <file>', 'insurer staff key file')
    .description('approve or deny a pended prior authorization (insurer staff)')
    .requiredOption('--id <preauth>', 'prior authorization id', objectId('--id'))
    .option('--approve', 'approve')
    .option('--deny', 'deny (needs --text)')
    .requiredOption('--reason <code>', 'reason code, e.g. MEDICAL_NECESSITY', reasonCode)
    .option('--text <text>', 'reason in words (required for a denial; public on chain, no clinical details)')
    .option('--from <date>', 'approval valid from (default: today)', date('--from'))
    .option('--to <date>', 'approval valid to (default: 90 days on)', date('--to'))
    .option('--auth-number <n>', 'authorization number (default: the request id)')
    .action(
      async (
        opts: Common & {
          key: string;
          id: string;
          approve?: boolean;
          deny?: boolean;
          reason: string;
          text?: string;
          from?: string;
          to?: string;
          authNumber?: string;
        },
      ) => {
        if (opts.approve === opts.deny) throw new CliError('give exactly one of --approve and --deny', EXIT.usage, 'INVALID_ARGUMENT');
        const today = new Date().toISOString().slice(0, 10);
        const validFrom = opts.from ?? today;
        const validTo = opts.to ?? new Date(Date.parse(`${validFrom}T00:00:00Z`) + 90 * 86_400_000).toISOString().slice(0, 10);
        const p = await run(async () =>
          decidePreauth(await client(opts.key, opts.url, opts.genesis), {
            preauth: opts.id,
            approve: opts.approve === true,
            reasonCode: opts.reason,
            ...(opts.text === undefined ? {} : { text: opts.text }),
            ...(opts.approve ? { validFrom, validTo, ...(opts.authNumber === undefined ? {} : { authNumber: opts.authNumber }) } : {}),
          }),
        );
        output(opts, p, () => describePreauth(p));
      },
    );

  withCommon(preauth.command('show'))
    .description('show a prior authorization (insurer, patient or provider)')
    .requiredOption('--id <preauth>', 'prior authorization id', objectId('--id'))
    .action(async (opts: Common & { key: string; id: string }) => {
      const p = await run(async () => getPreauth(await client(opts.key, opts.url, opts.genesis), opts.id));
      output(opts, p, () => describePreauth(p));
    });

  const claim = program.command('claim').description('insurance claims');
  withCommon(claim.command('submit'))
    .description('submit a FHIR Claim (provider staff with consent): written encrypted to the patient’s records, adjudicated on chain')
    .requiredOption('--patient <id>', 'patient identity id', identityId('--patient'))
    .requiredOption('--coverage <id>', 'coverage id', objectId('--coverage'))
    .requiredOption('--file <claim.json>', 'a FHIR R4 Claim (use: claim)')
    .option('--preauth <id>', 'prior authorization id', objectId('--preauth'))
    .action(async (opts: Common & { key: string; patient: string; coverage: string; file: string; preauth?: string }) => {
      const resource = readJsonArg(opts.file, 'claim file') as Record<string, unknown>;
      const done = await run(async () =>
        submitClaim(await client(opts.key, opts.url, opts.genesis), {
          patient: opts.patient,
          coverage: opts.coverage,
          claim: resource,
          ...(opts.preauth === undefined ? {} : { preauth: opts.preauth }),
        }),
      );
      output(opts, done.claim, () => describeClaim(done.claim));
    });

  withCommon(claim.command('show'))
    .description('show a claim with its adjudication (insurer, patient or provider)')
    .requiredOption('--id <claim>', 'claim id', objectId('--id'))
    .action(async (opts: Common & { key: string; id: string }) => {
      const c = await run(async () => getClaim(await client(opts.key, opts.url, opts.genesis), opts.id));
      output(opts, c, () => describeClaim(c));
    });

  withCommon(claim.command('list'))
    .description('list claims: yours as a patient, your organization’s as a provider, or your insurer’s queue')
    .option('--patient <id>', 'a patient’s claims', identityId('--patient'))
    .option('--provider <id>', 'a provider organization’s claims', identityId('--provider'))
    .option('--insurer <id>', 'an insurer’s claims', identityId('--insurer'))
    .option('--status <s>', 'adjudicated, denied, review, paid or disputed')
    .option('--limit <n>', 'page size (1–500)', positive('--limit'))
    .option('--cursor <c>', '`next` of the previous page')
    .action(
      async (
        opts: Common & {
          key: string;
          patient?: string;
          provider?: string;
          insurer?: string;
          status?: string;
          limit?: number;
          cursor?: string;
        },
      ) => {
        const by = [
          ['patients', opts.patient],
          ['providers', opts.provider],
          ['insurers', opts.insurer],
        ].filter(([, v]) => v !== undefined) as Array<['patients' | 'providers' | 'insurers', string]>;
        if (by.length !== 1) throw new CliError('give exactly one of --patient, --provider and --insurer', EXIT.usage, 'INVALID_ARGUMENT');
        const [[path, id]] = by as [['patients' | 'providers' | 'insurers', string]];
        const page = await run(async () =>
          listInsurance<ClaimView>(await client(opts.key, opts.url, opts.genesis), {
            by: path,
            id,
            of: 'claims',
            ...(opts.status === undefined ? {} : { status: opts.status }),
            ...(opts.limit === undefined ? {} : { limit: opts.limit }),
            ...(opts.cursor === undefined ? {} : { cursor: opts.cursor }),
          }),
        );
        output(opts, { claims: page.items, next: page.next }, () => [
          ...(page.items.length === 0 ? ['no claims'] : page.items.flatMap(describeClaim)),
          ...(page.next === null ? [] : [`more: --cursor ${page.next}`]),
        ]);
      },
    );

  withCommon(claim.command('review'), '--key <file>', 'insurer staff key file')
    .description('release a claim held in review (--approve) or deny it (--deny --text)')
    .requiredOption('--id <claim>', 'claim id', objectId('--id'))
    .option('--approve', 'release it: adjudicated now, the flags set aside')
    .option('--deny', 'deny it')
    .requiredOption('--reason <code>', 'reason code', reasonCode)
    .option('--text <text>', 'reason in words (required for a denial)')
    .action(async (opts: Common & { key: string; id: string; approve?: boolean; deny?: boolean; reason: string; text?: string }) => {
      if (opts.approve === opts.deny) throw new CliError('give exactly one of --approve and --deny', EXIT.usage, 'INVALID_ARGUMENT');
      const c = await run(async () =>
        reviewClaim(await client(opts.key, opts.url, opts.genesis), {
          claim: opts.id,
          approve: opts.approve === true,
          reasonCode: opts.reason,
          ...(opts.text === undefined ? {} : { text: opts.text }),
        }),
      );
      output(opts, c, () => describeClaim(c));
    });

  withCommon(claim.command('pay'), '--key <file>', 'insurer staff key file')
    .description(
      "record payment of an adjudicated claim (the amount owed, in cents) and write the ExplanationOfBenefit to the patient's records",
    )
    .requiredOption('--id <claim>', 'claim id', objectId('--id'))
    .option('--amount <cents>', 'amount paid in cents (default: what is owed)', cents('--amount'))
    .requiredOption('--date <date>', 'payment date', date('--date'))
    .action(async (opts: Common & { key: string; id: string; amount?: number; date: string }) => {
      const paid = await run(async () => {
        const conn = await client(opts.key, opts.url, opts.genesis);
        const amount = opts.amount ?? (await getClaim(conn, opts.id)).outstanding;
        return payClaimWithEob(conn, { claim: opts.id, amount, date: opts.date });
      });
      output(opts, { ...paid.claim, eob: paid.eob }, () => [
        ...describeClaim(paid.claim),
        'recordId' in paid.eob
          ? `  explanation of benefit written to the patient's records: ${paid.eob.recordId}`
          : `  paid, but the explanation of benefit was not written (${paid.eob.error.code}: ${paid.eob.error.message})`,
      ]);
    });

  withCommon(claim.command('dispute'))
    .description('dispute an adjudication (the patient, a delegate or the provider, within 180 days)')
    .requiredOption('--id <claim>', 'claim id', objectId('--id'))
    .requiredOption('--reason <text>', 'why (public on chain: no clinical details)')
    .action(async (opts: Common & { key: string; id: string; reason: string }) => {
      const c = await run(async () =>
        disputeClaim(await client(opts.key, opts.url, opts.genesis), { claim: opts.id, reason: opts.reason }),
      );
      output(opts, c, () => describeClaim(c));
    });

  withCommon(claim.command('resolve'), '--key <file>', 'insurer staff key file')
    .description('uphold or overturn the open dispute; an overturn re-adjudicates the claim')
    .requiredOption('--id <claim>', 'claim id', objectId('--id'))
    .option('--uphold', 'keep the adjudication')
    .option('--overturn', 're-adjudicate (prior-authorization requirement waived, flags set aside)')
    .requiredOption('--reason <text>', 'why')
    .option(
      '--allowed <seq=cents>',
      'set a line’s allowed amount on overturn (repeatable)',
      collect(check(/^[1-9][0-9]{0,3}=[0-9]{1,12}$/, '--allowed must be SEQUENCE=CENTS')),
      [],
    )
    .action(async (opts: Common & { key: string; id: string; uphold?: boolean; overturn?: boolean; reason: string; allowed: string[] }) => {
      if (opts.uphold === opts.overturn) throw new CliError('give exactly one of --uphold and --overturn', EXIT.usage, 'INVALID_ARGUMENT');
      const allowed = opts.allowed.map((a) => {
        const [sequence, amount] = a.split('=').map(Number) as [number, number];
        return { sequence, amount };
      });
      const c = await run(async () =>
        resolveClaim(await client(opts.key, opts.url, opts.genesis), {
          claim: opts.id,
          outcome: opts.overturn ? 'overturn' : 'uphold',
          reason: opts.reason,
          ...(allowed.length === 0 ? {} : { allowed }),
        }),
      );
      output(opts, c, () => describeClaim(c));
    });
}

/**
 * `medledger eligibility --fhir`: the same question on the FHIR endpoint of the node at
 * `--url`, its CoverageEligibilityResponse proven by the SDK (fhirEligibility) before it is
 * shown. The FHIR answer is for one unit, so `--quantity` does not apply.
 */
async function fhirEligibilityCommand(opts: Common & { key: string; patient: string; service: string; date?: string; quantity?: number }) {
  if (opts.quantity !== undefined)
    throw new CliError('--quantity does not apply with --fhir (the FHIR answer is for one unit)', EXIT.usage, 'INVALID_ARGUMENT');
  const base = `${opts.url.replace(/\/+$/, '')}/fhir/R4`;
  const { response } = await run(async () => {
    const conn = await client(opts.key, opts.url, opts.genesis);
    const { access_token } = await fetchToken({ keyFile: opts.key, url: base });
    return fhirEligibility(conn, {
      patient: opts.patient,
      services: [opts.service],
      token: access_token,
      fhirBase: base,
      ...(opts.date === undefined ? {} : { date: opts.date }),
    });
  });
  output(opts, response, () => {
    type Benefit = {
      type: { text?: string; coding?: Array<{ code: string }> };
      allowedMoney?: { value: number };
      allowedUnsignedInt?: number;
    };
    type Item = { excluded: boolean; description: string; authorizationRequired: boolean; benefit: Benefit[] };
    const insurance = response.insurance as Array<{ coverage: { reference: string }; item: Item[] }>;
    if (insurance.length === 0) return 'not covered: the patient has no coverage on record';
    return insurance.flatMap(({ coverage, item: [x] }) => {
      if (x === undefined) return [];
      const of = (code: string) => x.benefit.find((b) => b.type.coding?.[0]?.code === code || b.type.text === code);
      const usd = (code: string) => `$${(of(code)?.allowedMoney?.value ?? 0).toFixed(2)}`;
      const left = of('visit')?.allowedUnsignedInt;
      return [
        `${x.excluded ? 'not covered' : 'covered'} (${x.description}) on ${String(response.servicedDate)} under ${coverage.reference}`,
        `  prior authorization ${x.authorizationRequired ? 'required' : 'not required'}; ${left === undefined ? 'no count limit' : `${left} left this period`}`,
        `  deductible left ${usd('deductible')}, out-of-pocket left ${usd('copay-maximum')}`,
        ...(x.excluded ? [] : [`  estimated patient share ${usd('estimated patient share')}`]),
      ];
    });
  });
}
