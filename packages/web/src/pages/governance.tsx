// An organization admin's governance page (docs/governance.md): the consortium's proposals
// with their votes and deadlines, a yes/no vote on the open ones, and a form to propose a
// chain-parameter change. Each proposal shown is proven against the trusted genesis.
import { type GovAction, type GovProposal, govMembers, govProposal, govProposals, govPropose, govVote } from '@medledger/client';
import { type FormEvent, useState } from 'react';
import { useUser } from '../session.js';
import { ActionButton, ErrorMessage, formatDateTime, Loading, Notice, PageTitle, useLoad } from '../ui.js';

const STATUS_WORDS: Record<GovProposal['status'], string> = {
  open: 'Open for votes',
  passed: 'Passed',
  rejected: 'Rejected (too many no votes)',
  expired: 'Expired (deadline passed)',
  failed: 'Passed but could not be applied',
};

const PARAMS: Array<[string, string]> = [
  ['emergencyMaxDurationMs', 'Longest emergency access window (ms)'],
  ['maxBlockTxs', 'Transactions per block'],
  ['maxBlockBytes', 'Bytes of transactions per block'],
  ['vaultPendingBytesPerIdentity', 'Vault: bytes waiting for an anchor, per person'],
  ['vaultPendingObjectsPerIdentity', 'Vault: uploads waiting for an anchor, per person'],
  ['vaultAnchoredBytesPerIdentity', 'Vault: stored bytes, per person'],
];

/** A proposal's action in plain words, naming organizations by name where known. */
function describe(a: GovAction, names: Map<string, string>): string {
  const org = (id: string) => names.get(id) ?? `organization ${id.slice(0, 8)}…`;
  switch (a.type) {
    case 'org.admit':
      return `Admit ${a.name} (${a.kind}) as a member`;
    case 'org.suspend':
      return `Suspend ${org(a.org)}`;
    case 'org.reinstate':
      return `Reinstate ${org(a.org)}`;
    case 'org.remove':
      return `Remove ${org(a.org)} from the consortium`;
    case 'validator.add':
      return `Add validator ${a.name} (voting power ${a.power})`;
    case 'validator.remove':
      return `Remove validator ${a.validator.slice(0, 8)}…`;
    case 'validator.power':
      return `Set validator ${a.validator.slice(0, 8)}…’s voting power to ${a.power}`;
    case 'validator.rotate':
      return `Replace validator ${a.validator.slice(0, 8)}…’s key`;
    case 'param.set':
      return `Set “${PARAMS.find(([p]) => p === a.param)?.[1] ?? a.param}” to ${a.value.toLocaleString('en-US')}`;
    case 'rule.set':
      return `Pass proposals with more than ${a.numerator}/${a.denominator} of the members`;
  }
}

function ProposalCard(props: { proposal: GovProposal; me: string; names: Map<string, string>; onChanged: () => void }) {
  const user = useUser();
  const [p, setP] = useState(props.proposal);
  const mine = p.votes.find((v) => v.org === props.me);
  const headingId = `proposal-${p.id}`;
  const vote = async (yes: boolean) => {
    setP(await govVote(user.client, p.id, yes));
    props.onChanged();
  };
  return (
    <article className="panel" aria-labelledby={headingId}>
      <h3 id={headingId}>
        #{p.id}: {describe(p.action, props.names)}
      </h3>
      <p>
        <strong>{STATUS_WORDS[p.status]}</strong>
        {p.status === 'open' ? ` until ${formatDateTime(p.deadline)}` : ''}. {p.tally.yes} yes and {p.tally.no} no of {p.tally.members}{' '}
        members; it needs {p.tally.needed} yes.
      </p>
      {p.effectiveHeight !== undefined && <p>The new validator set is in effect from block {p.effectiveHeight}.</p>}
      {p.reason !== undefined && <p>Why it was not applied: {p.reason}</p>}
      <p>
        Proposed by {props.names.get(p.proposer) ?? p.proposer.slice(0, 8)} at block {p.createdAt.height}
        {p.provenAt === undefined ? '' : `; checked against the ledger at block ${p.provenAt}`}.
      </p>
      {p.votes.length > 0 && (
        <ul aria-label={`Votes on proposal ${p.id}`}>
          {p.votes.map((v) => (
            <li key={v.org}>
              {props.names.get(v.org) ?? v.org.slice(0, 8)}: {v.vote} (block {v.height})
            </li>
          ))}
        </ul>
      )}
      {p.status === 'open' && mine === undefined && (
        <div className="actions">
          <ActionButton onAction={() => vote(true)} busyText="Voting…">
            Vote yes on #{p.id}
          </ActionButton>
          <ActionButton onAction={() => vote(false)} busyText="Voting…">
            Vote no on #{p.id}
          </ActionButton>
        </div>
      )}
      {mine !== undefined && <p>Your organization voted {mine.vote}.</p>}
    </article>
  );
}

function ProposeParameter(props: { onProposed: () => void }) {
  const user = useUser();
  const [param, setParam] = useState(PARAMS[0]?.[0] as string);
  const [value, setValue] = useState('');
  const [days, setDays] = useState('7');
  const [error, setError] = useState<unknown>(undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [made, setMade] = useState<number | undefined>(undefined);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setProblem(undefined);
    setError(undefined);
    if (!/^[1-9][0-9]{0,14}$/.test(value)) return setProblem('Enter the new value as a whole number, e.g. 3600000.');
    if (!/^[1-9][0-9]?$/.test(days) || Number(days) > 90) return setProblem('Voting lasts 1 to 90 days.');
    setBusy(true);
    try {
      const p = await govPropose(user.client, { type: 'param.set', param, value: Number(value) }, Number(days) * 86_400_000);
      setMade(p.id);
      setValue('');
      props.onProposed();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="panel" onSubmit={submit} noValidate aria-labelledby="propose-title">
      <h2 id="propose-title">Propose a parameter change</h2>
      {made !== undefined && <Notice tone="ok">Proposal #{made} is open. The other members can vote on it now.</Notice>}
      <label htmlFor="gov-param">Parameter</label>
      <select id="gov-param" value={param} onChange={(e) => setParam(e.target.value)}>
        {PARAMS.map(([p, label]) => (
          <option key={p} value={p}>
            {label}
          </option>
        ))}
      </select>
      <label htmlFor="gov-value">New value</label>
      <input id="gov-value" inputMode="numeric" value={value} onChange={(e) => setValue(e.target.value)} />
      <label htmlFor="gov-days">Voting period (days)</label>
      <input id="gov-days" inputMode="numeric" value={days} onChange={(e) => setDays(e.target.value)} />
      {problem !== undefined && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      <ErrorMessage error={error} />
      <button type="submit" disabled={busy} aria-busy={busy}>
        {busy ? 'Proposing…' : 'Propose'}
      </button>
    </form>
  );
}

export function GovernancePage() {
  const user = useUser();
  const [tick, setTick] = useState(0);
  const [older, setOlder] = useState<{ items: GovProposal[]; next: string | null } | undefined>(undefined);
  const load = useLoad(async () => {
    const [page, members] = await Promise.all([govProposals(user.client, { limit: 20 }), govMembers(user.client, { limit: 500 })]);
    // Each shown proposal is proven against the trusted genesis, not only told by the node.
    const proven = await Promise.all(page.items.map((p) => govProposal(user.client, p.id)));
    const names = new Map(members.items.map((m) => [m.id, m.name ?? m.id.slice(0, 8)]));
    return { items: proven, next: page.next, names };
  }, [tick]);
  const refresh = () => {
    setOlder(undefined);
    setTick((t) => t + 1);
  };
  const more = async () => {
    const cursor = older?.next ?? load.data?.next;
    if (cursor === null || cursor === undefined) return;
    const page = await govProposals(user.client, { limit: 20, cursor });
    setOlder({ items: [...(older?.items ?? []), ...page.items], next: page.next });
  };
  const next = older === undefined ? load.data?.next : older.next;
  return (
    <section>
      <PageTitle>Governance</PageTitle>
      <p>
        The member organizations run the consortium together. A proposal passes when more than two thirds of the members vote yes, and
        lapses at its deadline otherwise. Each organization has one vote.
      </p>
      <ProposeParameter onProposed={refresh} />
      <h2>Proposals</h2>
      <ErrorMessage error={load.error} />
      {load.data === undefined && load.error === undefined && <Loading what="proposals" />}
      {load.data !== undefined && load.data.items.length === 0 && <p>No proposals yet.</p>}
      {load.data !== undefined &&
        [...load.data.items, ...(older?.items ?? [])].map((p) => (
          <ProposalCard
            key={`${tick}-${p.id}`}
            proposal={p}
            me={user.client.id}
            names={load.data?.names ?? new Map()}
            onChanged={() => {}}
          />
        ))}
      {next !== null && next !== undefined && <ActionButton onAction={more}>Show older proposals</ActionButton>}
    </section>
  );
}
