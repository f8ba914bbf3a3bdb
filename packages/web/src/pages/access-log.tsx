// The access log: who opened, tried to open, or added the patient's records, grouped by
// person and day ("Dr Grey opened 12 records on Dec 4", which records under a disclosure),
// newest first, page by page, with filters. Emergency reads come first, in a section of
// their own, so no number of other events can push them out of view; repeated refusals show
// once with how many times they happened.
import type { AccessEvent, RecordMeta } from '@medledger/client';
import { useRef, useState } from 'react';
import { entriesFromEvents, entriesFromRecords, groupByPersonAndDay, groupVerb, type LogGroup } from '../access-groups.js';
import { summarize } from '../fhir-view.js';
import { categoryLabel, denyReasonLabel, purposeLabel } from '../labels.js';
import { useUser } from '../session.js';
import { ErrorMessage, formatDate, formatDateTime, Loading, PageTitle, shortName, useLoad } from '../ui.js';
import { describeIdentity } from './sharing.js';

const PAGE = 50;

type Shown = 'all' | 'opened' | 'refused' | 'added';

/** The person filter's value for attempts without a sign-in (no id). */
const NOT_SIGNED_IN = '-';

function dayStart(value: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  const [y, m, d] = value.split('-').map(Number) as [number, number, number];
  return new Date(y, m - 1, d).getTime();
}

function timeOfDay(ms: number): string {
  return new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

export function AccessLog() {
  const user = useUser();
  const me = user.client.id;
  const [includeMine, setIncludeMine] = useState(false);
  const [shownKind, setShownKind] = useState<Shown>('all');
  const [person, setPerson] = useState('');
  const [from, setFrom] = useState('');
  const [until, setUntil] = useState('');
  const [words, setWords] = useState('');
  const [older, setOlder] = useState<{
    events: AccessEvent[];
    next: string | null;
    emergency: AccessEvent[];
    emergencyNext: string | null;
  }>();
  const [moreError, setMoreError] = useState<unknown>();
  // Display names of accessors, kept across pages.
  const names = useRef(new Map<string, string>()).current;
  const nameAll = async (ids: Array<string | null>) => {
    const unnamed = [...new Set(ids)].filter((id): id is string => id !== null && id !== me && !names.has(id));
    await Promise.all(
      unnamed.map(async (id) => {
        const name = await user.client
          .identity(id)
          .then((i) => describeIdentity((x) => user.client.identity(x), i))
          .catch(() => shortName(id));
        names.set(id, name);
      }),
    );
  };
  const { data, error, reload } = useLoad(async () => {
    setOlder(undefined);
    const [page, records] = await Promise.all([user.client.accessLogPage(me, { limit: PAGE }), user.client.listRecords(me)]);
    await nameAll([...page.emergency, ...page.events].map((e) => e.accessor).concat(records.map((r) => String(r.author))));
    const what = new Map(
      records.map((r) => {
        const opened = user.cache.get(r.record);
        const title = opened === undefined ? undefined : summarize(opened).title;
        return [r.record, title === undefined ? categoryLabel(r.category) : `${title} (${categoryLabel(r.category).toLowerCase()})`];
      }),
    );
    return { page, what, records: records as RecordMeta[] };
  }, [me]);
  const events = [...(data?.page.events ?? []), ...(older?.events ?? [])];
  const emergency = [...(data?.page.emergency ?? []), ...(older?.emergency ?? [])];
  const next = older === undefined ? (data?.page.next ?? null) : older.next;
  const emergencyNext = older === undefined ? (data?.page.emergencyNext ?? null) : older.emergencyNext;
  const loadMore = async (which: 'events' | 'emergency') => {
    setMoreError(undefined);
    try {
      const base = older ?? { events: [], next, emergency: [], emergencyNext };
      if (which === 'events' && next !== null) {
        const page = await user.client.accessLogPage(me, { limit: PAGE, cursor: next });
        await nameAll(page.events.map((e) => e.accessor));
        setOlder({ ...base, events: [...base.events, ...page.events], next: page.next });
      } else if (which === 'emergency' && emergencyNext !== null) {
        const page = await user.client.emergencyAccessPage(me, { limit: PAGE, cursor: emergencyNext });
        await nameAll(page.items.map((e) => e.accessor));
        setOlder({ ...base, emergency: [...base.emergency, ...page.items], emergencyNext: page.next });
      }
    } catch (err) {
      setMoreError(err);
    }
  };
  const label = (who: string | null) =>
    who === null ? 'Someone who was not signed in' : who === me ? 'You' : (names.get(who) ?? shortName(who));
  const recordName = (record: string | null) => (record === null ? 'a record' : (data?.what.get(record) ?? 'a record'));
  const allGroups = groupByPersonAndDay([...entriesFromEvents(events), ...entriesFromRecords(data?.records ?? [], me)]);
  const people = [...new Set(allGroups.map((g) => g.who).filter((w) => w !== me))].map((w) => ({ id: w ?? NOT_SIGNED_IN, name: label(w) }));
  const start = dayStart(from);
  const endDay = dayStart(until);
  const end = endDay === undefined ? undefined : endDay + 86_400_000;
  const search = words.trim().toLowerCase();
  const groups = allGroups.filter(
    (g) =>
      (includeMine || g.who !== me) &&
      (shownKind === 'all' || g.kind === shownKind) &&
      (person === '' || (g.who ?? NOT_SIGNED_IN) === person) &&
      (start === undefined || g.last >= start) &&
      (end === undefined || g.first < end) &&
      (search === '' ||
        [label(g.who), ...g.entries.map((e) => recordName(e.record)), ...g.purposes.map(purposeLabel)]
          .join(' ')
          .toLowerCase()
          .includes(search)),
  );
  const refused = allGroups.filter((g) => g.kind === 'refused' && g.who !== me).reduce((n, g) => n + g.times, 0);
  const filtering = shownKind !== 'all' || person !== '' || from !== '' || until !== '' || search !== '';
  const emergencyGroups = groupByPersonAndDay(entriesFromEvents(emergency));
  const card = (g: LogGroup) => <GroupCard key={g.key} g={g} who={label(g.who)} recordName={recordName} />;
  return (
    <section>
      <PageTitle>Access log</PageTitle>
      <p>
        Every time someone opens — or tries to open — one of your records, it is written to the ledger and shown here, newest first, one
        line per person and day. Records a clinician added are listed too.
      </p>
      <ErrorMessage error={error} title="The access log could not be loaded." />
      {data === undefined && error === undefined && <Loading what="the access log" />}
      {emergency.length > 0 && (
        <section aria-label="Emergency access to my records">
          <h2>Emergency access</h2>
          <p>These records were opened in an emergency, without your permission. They are always listed here first.</p>
          <ul className="log" aria-label="Emergency access to my records, newest first">
            {emergencyGroups.map(card)}
          </ul>
          {emergencyNext !== null && (
            <button type="button" className="secondary" onClick={() => void loadMore('emergency')}>
              Show older emergency access
            </button>
          )}
        </section>
      )}
      {refused > 0 && (
        <div className="message warn" role="status">
          <strong>
            {refused} refused {refused === 1 ? 'attempt' : 'attempts'}
            {next !== null ? ' in the newest part of the log' : ''}.
          </strong>{' '}
          Someone tried to open a record they may not see. If you do not expect this, check who you share with on the Sharing page.
        </div>
      )}
      <h2>All access</h2>
      <search className="log-filters" aria-label="Filter the access log">
        <div>
          <label htmlFor="log-what">Show</label>
          <select id="log-what" value={shownKind} onChange={(e) => setShownKind(e.target.value as Shown)}>
            <option value="all">Everything</option>
            <option value="opened">Records opened</option>
            <option value="refused">Refused attempts</option>
            <option value="added">Records added by others</option>
          </select>
        </div>
        <div>
          <label htmlFor="log-person">Who</label>
          <select id="log-person" value={person} onChange={(e) => setPerson(e.target.value)}>
            <option value="">Everyone</option>
            {people.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="log-from">From</label>
          <input id="log-from" type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </div>
        <div>
          <label htmlFor="log-until">Until</label>
          <input id="log-until" type="date" value={until} onChange={(e) => setUntil(e.target.value)} />
        </div>
        <div>
          <label htmlFor="log-words">Search</label>
          <input id="log-words" type="search" value={words} onChange={(e) => setWords(e.target.value)} placeholder="a name or a record" />
        </div>
      </search>
      <div className="filters">
        <div className="choice">
          <input id="log-mine" type="checkbox" checked={includeMine} onChange={(e) => setIncludeMine(e.target.checked)} />
          <label htmlFor="log-mine">Include my own views</label>
        </div>
        <button type="button" className="secondary" onClick={reload}>
          Refresh
        </button>
      </div>
      {filtering && (
        <p role="status" className="hint">
          {groups.length} of {allGroups.filter((g) => includeMine || g.who !== me).length} lines match the filters.
        </p>
      )}
      {data !== undefined && groups.length === 0 && next === null && (
        <p className="empty">{filtering ? 'Nothing in the log matches these filters.' : 'Nobody else has opened your records yet.'}</p>
      )}
      {groups.length > 0 && (
        <ul className="log" aria-label="Access to my records, newest first">
          {groups.map(card)}
        </ul>
      )}
      <ErrorMessage error={moreError} title="More of the access log could not be loaded." />
      {next !== null && (
        <button type="button" className="secondary" onClick={() => void loadMore('events')}>
          Show older access
        </button>
      )}
    </section>
  );
}

/** One person's events of one kind on one day; the records themselves under a disclosure. */
function GroupCard(props: { g: LogGroup; who: string; recordName: (record: string | null) => string }) {
  const { g } = props;
  const tone = g.kind === 'refused' ? 'refused' : g.kind === 'added' ? 'added' : 'allowed';
  const one = g.records === 1 ? props.recordName(g.entries[0]?.record ?? null) : '';
  const span = g.first === g.last ? `at ${timeOfDay(g.first)}` : `from ${timeOfDay(g.first)} to ${timeOfDay(g.last)}`;
  return (
    <li className={`card ${tone}${g.emergency ? ' emergency' : ''}`}>
      <p className="outcome">
        <span className={`badge ${g.kind === 'refused' ? 'bad' : g.kind === 'added' ? 'neutral' : 'ok'}`}>
          {g.kind === 'refused' ? 'Refused' : g.kind === 'added' ? 'Added' : 'Opened'}
        </span>{' '}
        {g.emergency && <span className="badge emergency">Emergency</span>} <time>{formatDate(g.day)}</time>, {span}
      </p>
      <p>
        <strong>{props.who}</strong> {groupVerb(g, one)}
        {g.emergency
          ? ', for: emergency care (emergency access)'
          : g.purposes.length > 0
            ? `, for: ${g.purposes.map(purposeLabel).join(', ')}`
            : ''}
        .
      </p>
      {g.kind === 'refused' && <p className="reason">Refused because {g.reasons.map(denyReasonLabel).join('; ')}.</p>}
      {g.emergency && g.kind === 'opened' && (
        <p className="reason">
          This was emergency access: opened without your permission, in an emergency. See who and why on the My records page.
        </p>
      )}
      {g.entries.length > 1 && (
        <details className="log-group">
          <summary>Show which records ({g.entries.length})</summary>
          <ul className="accesses">
            {g.entries.map((e, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a group's entries are fixed once loaded
              <li key={i}>
                {props.recordName(e.record)}, {formatDateTime(e.at)}
                {e.times > 1 ? ` — ${e.times} times` : ''}
              </li>
            ))}
          </ul>
        </details>
      )}
    </li>
  );
}
