// Governance commands (docs/governance.md): a member organization proposes and votes; members,
// their staff and validators list and show proposals. Each prints text, or JSON with --json.
import {
  type GovAction,
  type GovProposal,
  govProposal,
  govProposals,
  govPropose,
  govVote,
  type MedLedgerClient,
  validatorRotateAction,
} from '@medledger/client';
import type { Command } from 'commander';
import {
  clientFor,
  GENESIS_HELP,
  genesisArg,
  genesisDefault,
  hexArg,
  loadKeys,
  output,
  parseDuration,
  readKeystorePublic,
  runSdk as run,
} from '../cli-support.js';
import { CliError, EXIT } from '../exit-codes.js';

const usage = (msg: string) => new CliError(msg, EXIT.usage, 'INVALID_ARGUMENT');
const ACTION_TYPES = [
  'org.admit',
  'org.suspend',
  'org.reinstate',
  'org.remove',
  'validator.add',
  'validator.remove',
  'validator.power',
  'validator.rotate',
  'param.set',
  'rule.set',
];

interface Common {
  orgKey: string;
  url: string;
  genesis?: string;
  json?: boolean;
}

interface ProposeOpts extends Common {
  votingPeriod: string;
  kind?: string;
  name?: string;
  keystore?: string;
  newKey?: string;
  org?: string;
  validator?: string;
  power?: string;
  param?: string;
  value?: string;
  numerator?: string;
  denominator?: string;
}

function withCommon(cmd: Command, keyHelp: string): Command {
  return cmd
    .requiredOption('--org-key <file>', keyHelp)
    .requiredOption('--url <url>', 'API URL of any node (default: $MEDLEDGER_URL)', process.env.MEDLEDGER_URL)
    .option('--genesis <file|hash>', GENESIS_HELP, genesisDefault())
    .option('--json', 'print the result as JSON');
}

async function connect(opts: Common): Promise<MedLedgerClient> {
  return clientFor(opts.url, await loadKeys(opts.orgKey), await genesisArg(opts));
}

const need = <T>(value: T | undefined, flag: string, type: string): T => {
  if (value === undefined) throw usage(`a ${type} proposal needs ${flag}`);
  return value;
};
const int = (raw: string | undefined, flag: string, type: string): number => {
  const v = need(raw, flag, type);
  if (!/^[0-9]{1,15}$/.test(v)) throw usage(`${flag} must be a non-negative integer`);
  return Number(v);
};
const id = (raw: string | undefined, flag: string, type: string) => hexArg(need(raw, flag, type), flag, 20);

/** The action a `gov propose TYPE` asks for, from its options. Throws CliError(EXIT.usage). */
async function actionOf(type: string, o: ProposeOpts, chain: () => Promise<string>): Promise<GovAction> {
  switch (type) {
    case 'org.admit': {
      // The new organization's admin keystore: only its public part is read (no passphrase).
      const file = readKeystorePublic(need(o.keystore, '--keystore FILE (the new admin keystore)', type));
      return {
        type,
        kind: need(o.kind, '--kind', type),
        name: need(o.name, '--name', type),
        adminKey: file.publicKey,
        adminEncryptionKey: file.encryptionKey,
      };
    }
    case 'org.suspend':
    case 'org.reinstate':
    case 'org.remove':
      return { type, org: id(o.org, '--org', type) };
    case 'validator.add': {
      const file = readKeystorePublic(need(o.keystore, "--keystore FILE (the new validator's node.key)", type));
      return {
        type,
        name: need(o.name, '--name', type),
        publicKey: file.publicKey,
        encryptionKey: file.encryptionKey,
        power: o.power === undefined ? 1 : int(o.power, '--power', type),
      };
    }
    case 'validator.remove':
      return { type, validator: id(o.validator, '--validator', type) };
    case 'validator.power':
      return { type, validator: id(o.validator, '--validator', type), power: int(o.power, '--power', type) };
    case 'validator.rotate': {
      // The new key must sign its possession proof: this opens the new keystore (passphrase).
      const keys = await loadKeys(need(o.newKey, '--new-key FILE (the keystore of the new validator key)', type));
      return validatorRotateAction({
        chain: await chain(),
        validator: id(o.validator, '--validator', type),
        newSigning: keys.signing,
        encryptionKey: keys.encryption.publicKey,
      });
    }
    case 'param.set':
      return { type, param: need(o.param, '--param', type), value: int(o.value, '--value', type) };
    case 'rule.set':
      return { type, numerator: int(o.numerator, '--numerator', type), denominator: int(o.denominator, '--denominator', type) };
    default:
      throw usage(`the proposal type must be one of ${ACTION_TYPES.join(', ')}`);
  }
}

function describeAction(a: GovAction): string {
  switch (a.type) {
    case 'org.admit':
      return `admit ${a.kind} '${a.name}'`;
    case 'org.suspend':
    case 'org.reinstate':
    case 'org.remove':
      return `${a.type.slice(4)} organization ${a.org}`;
    case 'validator.add':
      return `add validator '${a.name}' with power ${a.power}`;
    case 'validator.remove':
      return `remove validator ${a.validator}`;
    case 'validator.power':
      return `set validator ${a.validator}'s power to ${a.power}`;
    case 'validator.rotate':
      return `rotate validator ${a.validator}'s key`;
    case 'param.set':
      return `set ${a.param} to ${a.value}`;
    case 'rule.set':
      return `pass with more than ${a.numerator}/${a.denominator} of the members`;
  }
}

const line = (p: GovProposal) =>
  `#${p.id} ${p.status.padEnd(8)} ${describeAction(p.action)} — ${p.tally.yes} yes, ${p.tally.no} no of ${p.tally.members} (needs ${p.tally.needed}); deadline ${new Date(p.deadline).toISOString()}`;

function details(p: GovProposal): string[] {
  return [
    line(p),
    `proposed by ${p.proposer} at height ${p.createdAt.height}`,
    ...p.votes.map((v) => `  ${v.vote.padEnd(3)} ${v.org} at height ${v.height}`),
    ...(p.closedAt === undefined ? [] : [`closed at height ${p.closedAt.height}`]),
    ...(p.effectiveHeight === undefined ? [] : [`new validator set effective from height ${p.effectiveHeight}`]),
    ...(p.reason === undefined ? [] : [`not applied: ${p.reason}`]),
    ...(p.provenAt === undefined ? ['(as the node told; pass --genesis to prove it)'] : [`proven at height ${p.provenAt}`]),
  ];
}

const proposalId = (raw: string) => {
  if (!/^[1-9][0-9]{0,11}$/.test(raw)) throw usage('--proposal must be a proposal number');
  return Number(raw);
};

export function registerGovCommands(program: Command): void {
  const gov = program.command('gov').description('consortium governance: proposals and votes of the member organizations');

  withCommon(gov.command('propose'), "your organization's admin key file")
    .description(`propose a change; TYPE is one of ${ACTION_TYPES.join(', ')}`)
    .argument('<type>', 'what to propose')
    .option('--voting-period <duration>', 'how long members may vote, in block time: 90s, 15m, 12h, 7d, 2w', '7d')
    .option('--kind <kind>', 'org.admit: hospital, clinic, lab, insurer, pharmacy, manufacturer, distributor or regulator')
    .option('--name <name>', 'org.admit, validator.add: the display name')
    .option('--keystore <file>', "org.admit: the new admin's keystore; validator.add: the new validator's node.key (public part only)")
    .option('--new-key <file>', "validator.rotate: the new validator key's keystore (it signs a possession proof)")
    .option('--org <id>', 'org.suspend, org.reinstate, org.remove: the organization id')
    .option('--validator <id>', 'validator.remove, validator.power, validator.rotate: the validator id')
    .option('--power <n>', 'validator.add (default 1), validator.power: voting power')
    .option('--param <name>', 'param.set: emergencyMaxDurationMs, maxBlockTxs, maxBlockBytes, vaultPendingBytesPerIdentity, …')
    .option('--value <n>', 'param.set: the new value (an integer)')
    .option('--numerator <n>', 'rule.set: pass with more than numerator/denominator of the members')
    .option('--denominator <n>', 'rule.set')
    .action(async (type: string, o: ProposeOpts) => {
      const period = parseDuration(o.votingPeriod);
      const client = await connect(o);
      const action = await actionOf(type, o, async () => (await run(() => client.status())).chainId);
      const p = await run(() => govPropose(client, action, period));
      output(o, p, () => [`proposal ${p.id} is open until ${new Date(p.deadline).toISOString()}`, ...details(p).slice(1)]);
    });

  withCommon(gov.command('vote'), "your organization's admin key file")
    .description('vote yes or no on an open proposal (once per organization)')
    .requiredOption('--proposal <id>', 'the proposal number', proposalId)
    .option('--yes', 'vote yes')
    .option('--no', 'vote no')
    .action(async (o: Common & { proposal: number; yes?: boolean; no?: boolean }) => {
      if (o.yes === o.no) throw usage('give exactly one of --yes or --no');
      const client = await connect(o);
      const p = await run(() => govVote(client, o.proposal, o.yes === true));
      output(o, p, () => details(p));
    });

  withCommon(gov.command('list'), 'a member organization, staff or validator key file')
    .description('list proposals, newest first, one page at a time')
    .option('--status <status>', 'only open, passed, rejected, expired or failed proposals')
    .option('--limit <n>', 'proposals per page (1–500)', '100')
    .option('--cursor <next>', '`next` of the previous page')
    .action(async (o: Common & { status?: string; limit: string; cursor?: string }) => {
      const statuses = ['open', 'passed', 'rejected', 'expired', 'failed'];
      if (o.status !== undefined && !statuses.includes(o.status)) throw usage(`--status must be one of ${statuses.join(', ')}`);
      if (!/^[1-9][0-9]{0,2}$/.test(o.limit) || Number(o.limit) > 500) throw usage('--limit must be an integer from 1 to 500');
      const client = await connect(o);
      const page = await run(() =>
        govProposals(client, {
          limit: Number(o.limit),
          ...(o.cursor === undefined ? {} : { cursor: o.cursor }),
          ...(o.status === undefined ? {} : { status: o.status as GovProposal['status'] }),
        }),
      );
      output(o, { proposals: page.items, next: page.next }, () => [
        ...(page.items.length === 0 ? ['no proposals'] : page.items.map(line)),
        ...(page.next === null ? [] : [`more: --cursor ${page.next}`]),
      ]);
    });

  withCommon(gov.command('show'), 'a member organization, staff or validator key file')
    .description('show one proposal: its action, votes, deadline and outcome (proven with --genesis)')
    .requiredOption('--proposal <id>', 'the proposal number', proposalId)
    .action(async (o: Common & { proposal: number }) => {
      const client = await connect(o);
      const p = await run(() => govProposal(client, o.proposal));
      output(o, p, () => details(p));
    });
}
