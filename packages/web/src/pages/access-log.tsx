// The access log: every time someone opened, or tried to open, one of the patient's
// records — who, what, why, when — with refusals shown first and plainly.
import type { AccessEvent } from '@medledger/client';
import { useState } from 'react';
import { summarize } from '../fhir-view.js';
import { categoryLabel, denyReasonLabel, purposeLabel } from '../labels.js';
import { useUser } from '../session.js';
import { ErrorMessage, formatDateTime, Loading, PageTitle, shortName, useLoad } from '../ui.js';
import { describeIdentity } from './sharing.js';

export function AccessLog() {
  const user = useUser();
  const me = user.client.id;
  const [includeMine, setIncludeMine] = useState(false);
  const [onlyRefused, setOnlyRefused] = useState(false);
  const { data, error, reload } = useLoad(async () => {
    const [events, records] = await Promise.all([user.client.accessLog(me), user.client.listRecords(me)]);
    const names = new Map<string, string>();
    for (const id of new Set(events.map((e) => e.accessor).filter((a) => a !== me))) {
      names.set(
        id,
        await user.client
          .identity(id)
          .then((i) => describeIdentity((x) => user.client.identity(x), i))
          .catch(() => shortName(id)),
      );
    }
    const what = new Map(
      records.map((r) => {
        const opened = user.cache.get(r.record);
        const title = opened === undefined ? undefined : summarize(opened).title;
        return [r.record, title === undefined ? categoryLabel(r.category) : `${title} (${categoryLabel(r.category).toLowerCase()})`];
      }),
    );
    return { events, names, what };
  }, [me]);
  const shown = (data?.events ?? []).filter((e) => (includeMine || e.accessor !== me) && (!onlyRefused || e.decision !== 'allowed'));
  const refused = (data?.events ?? []).filter((e) => e.decision !== 'allowed' && e.accessor !== me).length;
  const label = (e: AccessEvent) => (e.accessor === me ? 'You' : (data?.names.get(e.accessor) ?? shortName(e.accessor)));
  return (
    <section>
      <PageTitle>Access log</PageTitle>
      <p>Every time someone opens — or tries to open — one of your records, it is written to the ledger and shown here.</p>
      {refused > 0 && (
        <div className="message warn" role="status">
          <strong>
            {refused} refused {refused === 1 ? 'attempt' : 'attempts'}.
          </strong>{' '}
          Someone tried to open a record they may not see. If you do not expect this, check who you share with on the Sharing page.
        </div>
      )}
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
      <ErrorMessage error={error} title="The access log could not be loaded." />
      {data === undefined && error === undefined && <Loading what="the access log" />}
      {data !== undefined && shown.length === 0 && <p className="empty">Nobody else has opened your records yet.</p>}
      {shown.length > 0 && (
        <ul className="log" aria-label="Access to my records, newest first">
          {shown.map((e) => {
            const allowed = e.decision === 'allowed';
            return (
              <li key={e.id} className={`card ${allowed ? 'allowed' : 'refused'}${e.emergency ? ' emergency' : ''}`}>
                <p className="outcome">
                  <span className={`badge ${allowed ? 'ok' : 'bad'}`}>{allowed ? 'Opened' : 'Refused'}</span>{' '}
                  {e.emergency && <span className="badge emergency">Emergency</span>} <time>{formatDateTime(e.at)}</time>
                </p>
                <p>
                  <strong>{label(e)}</strong> {allowed ? 'opened' : 'tried to open'} a record: {data?.what.get(e.record) ?? 'a record'}
                  {e.purpose ? `, for: ${purposeLabel(e.purpose)}` : ''}.
                </p>
                {!allowed && <p className="reason">Refused because {denyReasonLabel(e.reason)}.</p>}
                {e.emergency && (
                  <p className="reason">
                    This was emergency access: opened without your permission, in an emergency. See who and why on the My records page.
                  </p>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
