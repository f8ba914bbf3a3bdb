// The access log: every time someone opened, or tried to open, one of the patient's
// records — who, what, why, when — newest first, page by page. Emergency reads come first,
// in a section of their own, so no number of other events can push them out of view;
// repeated refusals show once with how many times they happened.
import type { AccessEvent } from '@medledger/client';
import { useRef, useState } from 'react';
import { summarize } from '../fhir-view.js';
import { categoryLabel, denyReasonLabel, purposeLabel } from '../labels.js';
import { useUser } from '../session.js';
import { ErrorMessage, formatDateTime, Loading, PageTitle, shortName, useLoad } from '../ui.js';
import { describeIdentity } from './sharing.js';

const PAGE = 50;

export function AccessLog() {
  const user = useUser();
  const me = user.client.id;
  const [includeMine, setIncludeMine] = useState(false);
  const [onlyRefused, setOnlyRefused] = useState(false);
  const [older, setOlder] = useState<{
    events: AccessEvent[];
    next: string | null;
    emergency: AccessEvent[];
    emergencyNext: string | null;
  }>();
  const [moreError, setMoreError] = useState<unknown>();
  // Display names of accessors, kept across pages.
  const names = useRef(new Map<string, string>()).current;
  const nameAll = async (events: AccessEvent[]) => {
    const unnamed = [...new Set(events.map((e) => e.accessor))].filter((id): id is string => id !== null && id !== me && !names.has(id));
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
    await nameAll([...page.emergency, ...page.events]);
    const what = new Map(
      records.map((r) => {
        const opened = user.cache.get(r.record);
        const title = opened === undefined ? undefined : summarize(opened).title;
        return [r.record, title === undefined ? categoryLabel(r.category) : `${title} (${categoryLabel(r.category).toLowerCase()})`];
      }),
    );
    return { page, what };
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
        await nameAll(page.events);
        setOlder({ ...base, events: [...base.events, ...page.events], next: page.next });
      } else if (which === 'emergency' && emergencyNext !== null) {
        const page = await user.client.emergencyAccessPage(me, { limit: PAGE, cursor: emergencyNext });
        await nameAll(page.items);
        setOlder({ ...base, emergency: [...base.emergency, ...page.items], emergencyNext: page.next });
      }
    } catch (err) {
      setMoreError(err);
    }
  };
  const times = (e: AccessEvent) => (typeof e.count === 'number' && e.count > 1 ? e.count : 1);
  const shown = events.filter((e) => (includeMine || e.accessor !== me) && (!onlyRefused || e.decision !== 'allowed'));
  const refused = events.filter((e) => e.decision !== 'allowed' && e.accessor !== me).reduce((n, e) => n + times(e), 0);
  const label = (e: AccessEvent) =>
    e.accessor === null ? 'Someone who was not signed in' : e.accessor === me ? 'You' : (names.get(e.accessor) ?? shortName(e.accessor));
  const recordName = (e: AccessEvent) => (e.record === null ? 'a record' : (data?.what.get(e.record) ?? 'a record'));
  const card = (e: AccessEvent) => {
    const allowed = e.decision === 'allowed';
    const n = times(e);
    return (
      <li key={`${e.node}-${e.id}`} className={`card ${allowed ? 'allowed' : 'refused'}${e.emergency ? ' emergency' : ''}`}>
        <p className="outcome">
          <span className={`badge ${allowed ? 'ok' : 'bad'}`}>{allowed ? 'Opened' : 'Refused'}</span>{' '}
          {e.emergency && <span className="badge emergency">Emergency</span>} <time>{formatDateTime(e.at)}</time>
          {n > 1 && e.last !== undefined && (
            <>
              {' '}
              to <time>{formatDateTime(e.last.time)}</time>
            </>
          )}
        </p>
        <p>
          <strong>{label(e)}</strong> {allowed ? 'opened' : 'tried to open'} a record: {recordName(e)}
          {e.emergency ? ', for: emergency care (emergency access)' : e.purpose ? `, for: ${purposeLabel(e.purpose)}` : ''}
          {n > 1 ? ` — ${n} times` : ''}.
        </p>
        {!allowed && <p className="reason">Refused because {denyReasonLabel(e.reason)}.</p>}
        {e.emergency && allowed && (
          <p className="reason">
            This was emergency access: opened without your permission, in an emergency. See who and why on the My records page.
          </p>
        )}
      </li>
    );
  };
  return (
    <section>
      <PageTitle>Access log</PageTitle>
      <p>Every time someone opens — or tries to open — one of your records, it is written to the ledger and shown here, newest first.</p>
      <ErrorMessage error={error} title="The access log could not be loaded." />
      {data === undefined && error === undefined && <Loading what="the access log" />}
      {emergency.length > 0 && (
        <section aria-label="Emergency access to my records">
          <h2>Emergency access</h2>
          <p>These records were opened in an emergency, without your permission. They are always listed here first.</p>
          <ul className="log" aria-label="Emergency access to my records, newest first">
            {emergency.map(card)}
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
      <div className="filters">
        <div className="choice">
          <input id="log-refused" type="checkbox" checked={onlyRefused} onChange={(e) => setOnlyRefused(e.target.checked)} />
          <label htmlFor="log-refused">Only refused attempts</label>
        </div>
        <div className="choice">
          <input id="log-mine" type="checkbox" checked={includeMine} onChange={(e) => setIncludeMine(e.target.checked)} />
          <label htmlFor="log-mine">Include my own views</label>
        </div>
        <button type="button" className="secondary" onClick={reload}>
          Refresh
        </button>
      </div>
      {data !== undefined && shown.length === 0 && next === null && <p className="empty">Nobody else has opened your records yet.</p>}
      {shown.length > 0 && (
        <ul className="log" aria-label="Access to my records, newest first">
          {shown.map(card)}
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
