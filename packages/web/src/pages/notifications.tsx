// The notification centre: for a patient, who opened their records, new records, emergency
// access, shares ending within 7 days; for a clinician, shares ending within 7 days. Read
// marks are kept on this device; the count shows in the menu.
import { listEmergency, recallNotices } from '@medledger/client';
import { useEffect, useMemo, useState } from 'react';
import { groupVerb } from '../access-groups.js';
import { localName } from '../accounts.js';
import { summarize } from '../fhir-view.js';
import { categoryLabel, denyReasonLabel, purposeLabel } from '../labels.js';
import { clinicianNotices, markSeen, type Notice, patientNotices, seenKey, seenNotices } from '../notifications.js';
import type { SignedIn } from '../session.js';
import { useUser } from '../session.js';
import { ErrorMessage, formatDate, formatDateTime, Link, Loading, PageTitle, shortName, useLoad } from '../ui.js';
import { describeIdentity } from './sharing.js';

/** Fired when notices are marked read, so the menu's count follows. */
const SEEN_EVENT = 'medledger-notices-seen';

interface Loaded {
  notices: Notice[];
  names: Map<string, string>;
  what: Map<string, string>;
}

async function loadNotices(user: SignedIn): Promise<Loaded> {
  const me = user.client.id;
  const names = new Map<string, string>();
  const what = new Map<string, string>();
  const name = async (id: string) => {
    if (names.has(id)) return;
    names.set(
      id,
      await user.client
        .identity(id)
        .then((i) => describeIdentity((x) => user.client.identity(x), i))
        .catch(() => shortName(id)),
    );
  };
  if (user.identity.role !== 'patient') {
    const grants = await user.client.myGrants();
    return { notices: clinicianNotices(grants, Date.now()), names, what };
  }
  const [page, records, listing, grants, recalls] = await Promise.all([
    user.client.accessLogPage(me, { limit: 100 }),
    user.client.listRecords(me),
    listEmergency(user.client),
    user.client.grants(me),
    recallNotices(user.client, me),
  ]);
  const windows = listing.as === 'patient' ? listing.windows : [];
  const notices = patientNotices({ me, events: page.events, records, windows, grants, recalls }, Date.now());
  for (const r of records) {
    const opened = user.cache.get(r.record);
    const category = categoryLabel(r.category).toLowerCase();
    what.set(r.record, opened === undefined ? category : `${summarize(opened).title} (${category})`);
  }
  const ids = new Set<string>();
  for (const n of notices) {
    if (n.group?.who) ids.add(n.group.who);
    if (n.emergency) ids.add(n.emergency.clinician);
    if (n.grant) ids.add(n.grant.grantee);
  }
  await Promise.all([...ids].map(name));
  return { notices, names, what };
}

/** The menu's "Notifications" with how many are unread. */
export function NotificationsLabel() {
  const user = useUser();
  const { data, reload } = useLoad(() => loadNotices(user), [user]);
  // Loaded at sign-in; loaded again whenever the Notifications page loads or marks read.
  useEffect(() => {
    window.addEventListener(SEEN_EVENT, reload);
    return () => window.removeEventListener(SEEN_EVENT, reload);
  }, [reload]);
  const seen = seenNotices(user.client.id, seenKey(user.client.keys.encryption.privateKey));
  const unread = data !== undefined ? data.notices.filter((n) => !seen(n.id)).length : 0;
  return (
    <>
      Notifications
      {unread > 0 && (
        <span className="notice-count" data-testid="unread-count">
          {unread}
          <span className="visually-hidden"> unread</span>
        </span>
      )}
    </>
  );
}

export function Notifications() {
  const user = useUser();
  const { data, error, reload } = useLoad(() => loadNotices(user), [user]);
  const key = useMemo(() => seenKey(user.client.keys.encryption.privateKey), [user]);
  const [seen, setSeen] = useState(() => seenNotices(user.client.id, key));
  const patient = user.identity.role === 'patient';
  const unread = (data?.notices ?? []).filter((n) => !seen(n.id));
  useEffect(() => {
    if (data !== undefined) window.dispatchEvent(new Event(SEEN_EVENT));
  }, [data]);
  return (
    <section>
      <PageTitle>Notifications</PageTitle>
      <p>
        {patient
          ? 'What happened to your records: who opened them, new records, emergency access, sharing that ends soon, and medicine recalls.'
          : 'Sharing by your patients that ends within 7 days.'}
      </p>
      <ErrorMessage error={error} title="Your notifications could not be loaded." />
      {data === undefined && error === undefined && <Loading what="your notifications" />}
      {data !== undefined && (
        <div className="choices">
          <button
            type="button"
            className="secondary"
            disabled={unread.length === 0}
            onClick={() => {
              markSeen(
                user.client.id,
                key,
                data.notices.map((n) => n.id),
              );
              setSeen(() => seenNotices(user.client.id, key));
              window.dispatchEvent(new Event(SEEN_EVENT));
            }}
          >
            Mark all as read
          </button>
          <button type="button" className="secondary" onClick={reload}>
            Refresh
          </button>
        </div>
      )}
      {data !== undefined && (
        <p role="status">
          {unread.length === 0
            ? 'No new notifications.'
            : `${unread.length} new ${unread.length === 1 ? 'notification' : 'notifications'}.`}
        </p>
      )}
      {data !== undefined && data.notices.length === 0 && <p className="empty">Nothing to tell you yet.</p>}
      {data !== undefined && data.notices.length > 0 && (
        <ul className="log notifications" aria-label="Notifications, newest first">
          {data.notices.map((n) => (
            <li key={n.id} className={`card ${seen(n.id) ? '' : 'unread'}${n.kind === 'emergency' ? ' emergency' : ''}`}>
              <p className="outcome">
                {!seen(n.id) && <span className="badge neutral">New</span>} <NoticeText n={n} data={data} patient={patient} />
              </p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function NoticeText(props: { n: Notice; data: Loaded; patient: boolean }) {
  const { n, data } = props;
  const who = (id: string | null) => (id === null ? 'Someone who was not signed in' : (data.names.get(id) ?? shortName(id)));
  if (n.group !== undefined) {
    const g = n.group;
    const one = data.what.get(g.entries[0]?.record ?? '') ?? 'a record';
    return (
      <>
        <strong>{who(g.who)}</strong> {groupVerb(g, one)} on {formatDate(g.day)}
        {g.purposes.length > 0 ? `, for: ${g.purposes.map(purposeLabel).join(', ')}` : ''}
        {g.kind === 'refused' ? ` — refused because ${g.reasons.map(denyReasonLabel).join('; ')}` : ''}.{' '}
        <Link to={g.kind === 'added' ? '/records' : '/access-log'}>{g.kind === 'added' ? 'See my records' : 'See the access log'}</Link>
      </>
    );
  }
  if (n.emergency !== undefined) {
    const e = n.emergency;
    return (
      <>
        <span className="badge emergency">Emergency</span> <strong>{who(e.clinician)}</strong> opened emergency access to your records on{' '}
        {formatDateTime(n.at)}
        {e.active ? `; it is open until ${formatDateTime(e.expiresAt)}` : `; it ended ${formatDateTime(e.expiresAt)}`}
        {e.records > 0 ? ` (${e.records} ${e.records === 1 ? 'record' : 'records'} opened)` : ''}.{' '}
        <Link to="/records">See who and why</Link>
      </>
    );
  }
  if (n.recall !== undefined) {
    const r = n.recall;
    return (
      <>
        <span className="badge bad">Recall</span> A pack of medicine you were given (lot {r.lot}, serial {r.serial}) was recalled on{' '}
        {formatDate(n.at)}: {r.recall.reason}. Ask your pharmacy what to do. <Link to="/medicines">See my medicines</Link>
      </>
    );
  }
  if (n.grant !== undefined) {
    const g = n.grant;
    const other = props.patient ? who(g.grantee) : (localName(g.patient) ?? `Patient …${g.patient.slice(-4)}`);
    return (
      <>
        {props.patient ? (
          <>
            Your sharing with <strong>{other}</strong> ends on {formatDate(g.expiresAt)}. <Link to="/sharing">Review my sharing</Link>
          </>
        ) : (
          <>
            <strong>{other}</strong>’s sharing with you ends on {formatDate(g.expiresAt)}.{' '}
            <Link to={`/clinician/patients/${g.patient}`}>Open the patient</Link>
          </>
        )}
      </>
    );
  }
  return null;
}
