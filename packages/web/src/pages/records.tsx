// The patient's records: a timeline in plain words, charts of measured values over time,
// and one record's detail with its ledger check and erasure.
import type { RecordMeta } from '@medledger/client';
import { useState } from 'react';
import { Chart } from '../chart.js';
import { type ChartSeries, chartSeries, summarize } from '../fhir-view.js';
import { categoryLabel } from '../labels.js';
import { checkRecordOnChain } from '../record-check.js';
import { loadRecords, resourceLookup, type ShownRecord } from '../records-data.js';
import { navigate } from '../router.js';
import { useUser } from '../session.js';
import { Summaries } from '../summaries.js';
import { TechnicalDetails } from '../technical.js';
import { Timeline } from '../timeline.js';
import { ActionButton, ErrorMessage, formatDateTime, Link, Loading, Notice, PageTitle, shortName, useLoad } from '../ui.js';
import { PatientEmergencyNotice } from './emergency.js';

/** One chart at a time, chosen from every measured value; the most often measured come first. */
export function Charts(props: { records: ShownRecord[] }) {
  const series = chartSeries(
    props.records.filter((r) => r.resource !== undefined).map((r) => ({ resource: r.resource, fallbackTime: r.time })),
  ).sort((a, b) => readings(b) - readings(a));
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  if (series.length === 0) return <p className="empty">Charts appear here once you have measurements such as blood pressure or weight.</p>;
  const shown = series.find((s) => s.title === chosen) ?? series[0];
  return (
    <div className="charts">
      <label htmlFor="chart-pick">Show</label>
      <select id="chart-pick" value={shown?.title} onChange={(e) => setChosen(e.target.value)}>
        {series.map((s) => (
          <option key={s.title} value={s.title}>
            {s.title} ({readings(s)} {readings(s) === 1 ? 'reading' : 'readings'})
          </option>
        ))}
      </select>
      {shown && <Chart key={shown.title} series={shown} idPrefix="chart" />}
    </div>
  );
}

function readings(s: ChartSeries): number {
  return Math.max(0, ...s.lines.map((l) => l.points.length));
}

/**
 * Records as a timeline or as charts, with a refresh: the patient's own view and a
 * clinician's view of a patient. `base` is where each record's detail page lives.
 */
export function RecordsBrowser(props: {
  loaded: { data: ShownRecord[] | undefined; error: unknown; reload: () => void };
  legend: string;
  base: string;
  empty: string;
  loadingWhat: string;
  errorTitle: string;
}) {
  const [view, setView] = useState<'timeline' | 'summary' | 'charts'>('timeline');
  const { data, error, reload } = props.loaded;
  return (
    <>
      <fieldset className="tabs">
        <legend className="visually-hidden">{props.legend}</legend>
        <button type="button" aria-pressed={view === 'timeline'} onClick={() => setView('timeline')}>
          Timeline
        </button>
        <button type="button" aria-pressed={view === 'summary'} onClick={() => setView('summary')}>
          Summary
        </button>
        <button type="button" aria-pressed={view === 'charts'} onClick={() => setView('charts')}>
          Charts
        </button>
        <button type="button" className="secondary" onClick={reload}>
          Refresh
        </button>
      </fieldset>
      <ErrorMessage error={error} title={props.errorTitle} />
      {data === undefined && error === undefined && <Loading what={props.loadingWhat} />}
      {data !== undefined &&
        (view === 'timeline' ? (
          <Timeline records={data} base={props.base} empty={props.empty} />
        ) : view === 'summary' ? (
          <Summaries records={data} base={props.base} />
        ) : (
          <Charts records={data} />
        ))}
    </>
  );
}

export function PatientRecords() {
  const user = useUser();
  const loaded = useLoad(() => loadRecords(user, user.client.id), [user]);
  return (
    <section>
      <PageTitle>My records</PageTitle>
      <PatientEmergencyNotice records={loaded.data} />
      <RecordsBrowser
        loaded={loaded}
        legend="How to show my records"
        base="/records"
        empty="You have no records yet. When a clinician you share with adds a record, it appears here."
        loadingWhat="your records"
        errorTitle="Your records could not be loaded."
      />
    </section>
  );
}

/** One record in full, for the patient (with erasure) or a clinician. */
export function RecordDetail(props: { recordId: string; patient: string; back: string; canErase: boolean }) {
  const user = useUser();
  // Always a fresh read: the ledger decides each time (and logs it), so a revoked grant
  // is refused here even if this session opened the record before.
  const { data, error } = useLoad(async () => {
    const listed = (await user.client.listRecords(props.patient)).find((m) => m.record === props.recordId);
    if (listed?.status === 'erased') return { meta: listed, resource: undefined };
    const { meta, resource } = await user.client.readRecord(props.recordId);
    user.cache.set(meta.record, resource);
    return { meta: listed ?? meta, resource };
  }, [props.recordId]);
  const [showRaw, setShowRaw] = useState(false);
  if (error !== undefined)
    return (
      <section>
        <PageTitle>Record</PageTitle>
        <ErrorMessage error={error} title="This record could not be opened." />
        <Link to={props.back}>Back to the records</Link>
      </section>
    );
  if (data === undefined) return <Loading what="the record" />;
  const summary = data.resource === undefined ? undefined : summarize(data.resource, resourceLookup(user));
  return (
    <section>
      <p>
        <Link to={props.back}>← Back to the records</Link>
      </p>
      <PageTitle>{summary?.title ?? 'Erased record'}</PageTitle>
      {summary && (
        <dl className="details">
          <dt>Kind</dt>
          <dd>{summary.kind}</dd>
          {summary.rows.map((row, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: rows are fixed for one record
            <div key={i} className="row">
              <dt>{row.label}</dt>
              <dd className="pre">{row.value}</dd>
            </div>
          ))}
          <dt>Filed under</dt>
          <dd>{categoryLabel(data.meta.category)}</dd>
          <dt>Added by</dt>
          <dd>{data.meta.author === user.client.id ? 'You' : <AuthorName id={String(data.meta.author)} />}</dd>
          <dt>Added on</dt>
          <dd>{formatDateTime((data.meta.anchoredAt as { time?: number })?.time)}</dd>
        </dl>
      )}
      {data.meta.status === 'erased' && <Notice>This record was erased. Its content is gone from every MedLedger server.</Notice>}
      <LedgerCheck meta={data.meta} />
      {summary && (
        <p>
          <button type="button" className="secondary" aria-expanded={showRaw} onClick={() => setShowRaw(!showRaw)}>
            {showRaw ? 'Hide' : 'Show'} technical details (FHIR)
          </button>
        </p>
      )}
      {showRaw && <pre className="raw">{JSON.stringify(data.resource, null, 2)}</pre>}
      {props.canErase && data.meta.status !== 'erased' && <EraseRecord meta={data.meta} back={props.back} />}
    </section>
  );
}

function AuthorName(props: { id: string }) {
  const user = useUser();
  const { data } = useLoad(() => user.client.identity(props.id), [props.id]);
  return <>{data?.name ?? shortName(props.id)}</>;
}

function LedgerCheck(props: { meta: RecordMeta }) {
  const user = useUser();
  const [result, setResult] = useState<Awaited<ReturnType<typeof checkRecordOnChain>> | undefined>(undefined);
  return (
    <div className="panel">
      <h2>Is this record really on the ledger?</h2>
      <p>Your browser can check, without trusting this server, that the ledger recorded this entry and that the network confirmed it.</p>
      <ActionButton
        className="secondary"
        busyText="Checking…"
        onAction={async () => setResult(await checkRecordOnChain(user.client, props.meta))}
      >
        Check this record on the ledger
      </ActionButton>
      {result && (
        <div role="status" className={`message ${result.ok ? 'ok' : 'error'}`}>
          <strong>{result.ok ? 'Confirmed: this record is on the ledger.' : 'This record could not be confirmed on the ledger.'}</strong>
          <TechnicalDetails what="how it was checked">
            <ul>
              {result.steps.map((s) => (
                <li key={s.what}>
                  {s.ok ? '✓' : '✗'} {s.what}
                </li>
              ))}
            </ul>
          </TechnicalDetails>
        </div>
      )}
    </div>
  );
}

function EraseRecord(props: { meta: RecordMeta; back: string }) {
  const user = useUser();
  const [asking, setAsking] = useState(false);
  const [understood, setUnderstood] = useState(false);
  // Kept out of the way: a rarely needed, irreversible action behind a closed disclosure.
  if (!asking)
    return (
      <details className="more more-actions">
        <summary>More actions</summary>
        <p>Erasing deletes this record's content from every MedLedger server for good.</p>
        <button type="button" className="secondary" onClick={() => setAsking(true)}>
          Erase this record…
        </button>
      </details>
    );
  return (
    <section className="panel danger-zone" aria-labelledby="erase-title">
      <h2 id="erase-title">Erase this record for good?</h2>
      <ul>
        <li>Its content is deleted from every MedLedger server. Nobody, including you, can open it again.</li>
        <li>This cannot be undone.</li>
        <li>
          The ledger keeps a note that a record existed and was erased — with no health information in it — so its history still checks out.
        </li>
        <li>People you shared it with may have kept their own copy; erasing cannot take that back.</li>
      </ul>
      <div className="choice">
        <input id="erase-ok" type="checkbox" checked={understood} onChange={(e) => setUnderstood(e.target.checked)} />
        <label htmlFor="erase-ok">I understand that erasing cannot be undone</label>
      </div>
      <div className="choices">
        {understood && (
          <ActionButton
            className="danger"
            busyText="Erasing…"
            onAction={async () => {
              await user.client.erase(props.meta.record);
              user.cache.delete(props.meta.record);
              navigate(props.back);
            }}
          >
            Erase for good
          </ActionButton>
        )}
        <button type="button" className="secondary" onClick={() => setAsking(false)}>
          Keep this record
        </button>
      </div>
    </section>
  );
}
