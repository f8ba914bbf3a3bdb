// The records timeline: cards newest first, narrowed by kind, date and words; a visit's claim
// and insurance statement shown inside the visit's card; results outside their range marked.
import { useState } from 'react';
import { type Flag, flagWord } from './clinical-values.js';
import { type Json, obj, objs, referenceId } from './fhir-json.js';
import { categoryLabel, friendlyError } from './labels.js';
import type { ShownRecord } from './records-data.js';
import { formatDate, Link } from './ui.js';

/** The visits a claim or statement bills for (FHIR `item[].encounter`). */
function billedVisits(resource: unknown): string[] {
  const r = obj(resource);
  if (r === undefined || (r.resourceType !== 'Claim' && r.resourceType !== 'ExplanationOfBenefit')) return [];
  return objs(r.item)
    .flatMap((item) => objs(item.encounter).map(referenceId))
    .filter((id): id is string => id !== undefined);
}

/**
 * Pair each claim and statement with the visit it bills for, when that visit is among the
 * records shown: the visit's record id maps to its bills, oldest first.
 */
export function billingByVisit(records: readonly ShownRecord[]): Map<string, ShownRecord[]> {
  const visitByFhirId = new Map<string, string>();
  for (const r of records) {
    const res = r.resource as Json | undefined;
    if (res?.resourceType === 'Encounter' && typeof res.id === 'string') visitByFhirId.set(res.id, r.meta.record);
  }
  const out = new Map<string, ShownRecord[]>();
  for (const r of records) {
    const visit = billedVisits(r.resource)
      .map((id) => visitByFhirId.get(id))
      .find((v) => v !== undefined);
    if (visit === undefined) continue;
    out.set(visit, [...(out.get(visit) ?? []), r]);
  }
  // The claim before the insurer's statement about it.
  const order = (r: ShownRecord) => ((r.resource as Json | undefined)?.resourceType === 'Claim' ? 0 : 1);
  for (const bills of out.values()) bills.sort((a, b) => a.time - b.time || order(a) - order(b));
  return out;
}

function kindOf(r: ShownRecord): string {
  return r.summary?.kind ?? categoryLabel(r.meta.category);
}

/** The day (local) a date input names, as [start, end) in ms; undefined when empty. */
function dayBounds(value: string): [number, number] | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  const [y, m, d] = value.split('-').map(Number) as [number, number, number];
  return [new Date(y, m - 1, d).getTime(), new Date(y, m - 1, d + 1).getTime()];
}

function matchesText(r: ShownRecord, words: string): boolean {
  if (words === '') return true;
  const hay = [
    r.summary?.title,
    r.summary?.value,
    kindOf(r),
    categoryLabel(r.meta.category),
    ...(r.summary?.rows ?? []).flatMap((x) => [x.label, x.value]),
  ]
    .join(' ')
    .toLowerCase();
  return words
    .toLowerCase()
    .split(/\s+/)
    .every((w) => hay.includes(w));
}

/**
 * Records as cards, newest first, each linking to its detail page under `base`, with filters.
 * The organizations and practitioners a history names are listed apart, under a disclosure.
 */
export function Timeline(props: { records: ShownRecord[]; base: string; empty: string }) {
  const [kind, setKind] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [words, setWords] = useState('');
  if (props.records.length === 0) return <p className="empty">{props.empty}</p>;
  const bills = billingByVisit(props.records);
  const attached = new Set([...bills.values()].flat().map((r) => r.meta.record));
  const listed = props.records.filter((r) => !attached.has(r.meta.record));
  const kinds = [...new Set(listed.filter((r) => r.meta.category !== 'administrative').map(kindOf))].sort();
  const start = dayBounds(from)?.[0];
  const end = dayBounds(to)?.[1];
  const shown = listed.filter(
    (r) =>
      (kind === '' || kindOf(r) === kind) &&
      (start === undefined || r.time >= start) &&
      (end === undefined || r.time < end) &&
      (matchesText(r, words.trim()) || (bills.get(r.meta.record) ?? []).some((b) => matchesText(b, words.trim()))),
  );
  const main = shown.filter((r) => r.meta.category !== 'administrative');
  const admin = shown.filter((r) => r.meta.category === 'administrative');
  const filtering = kind !== '' || from !== '' || to !== '' || words.trim() !== '';
  return (
    <>
      <search className="record-filters" aria-label="Filter the records">
        <div>
          <label htmlFor="tl-words">Search</label>
          <input id="tl-words" type="search" value={words} onChange={(e) => setWords(e.target.value)} placeholder="e.g. cholesterol" />
        </div>
        <div>
          <label htmlFor="tl-kind">Kind</label>
          <select id="tl-kind" value={kind} onChange={(e) => setKind(e.target.value)}>
            <option value="">All kinds</option>
            {kinds.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="tl-from">From</label>
          <input id="tl-from" type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </div>
        <div>
          <label htmlFor="tl-to">Until</label>
          <input id="tl-to" type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        </div>
      </search>
      <p role="status" className="hint">
        {filtering && (
          <span data-testid="filter-count">
            Showing {main.length} of {listed.filter((r) => r.meta.category !== 'administrative').length} records.
          </span>
        )}
        {filtering && (
          <button
            type="button"
            className="link"
            onClick={() => {
              setKind('');
              setFrom('');
              setTo('');
              setWords('');
            }}
          >
            {' '}
            Clear the filters
          </button>
        )}
      </p>
      {main.length === 0 && filtering && <p className="empty">No records match these filters.</p>}
      <RecordCards records={main} base={props.base} label="Records, newest first" bills={bills} />
      {admin.length > 0 && (
        <details className="more">
          <summary>Organizations and practitioners in these records ({admin.length})</summary>
          <RecordCards records={admin} base={props.base} label="Organizations and practitioners" bills={bills} />
        </details>
      )}
    </>
  );
}

/** High or low, in words (never colour alone). */
export function FlagBadge(props: { flag: Flag }) {
  if (props.flag === undefined) return null;
  return <span className={`badge flag-${props.flag}`}>{flagWord(props.flag)}</span>;
}

function RecordCards(props: { records: ShownRecord[]; base: string; label: string; bills: Map<string, ShownRecord[]> }) {
  return (
    <ol className="timeline" aria-label={props.label}>
      {props.records.map((r) => {
        const bills = props.bills.get(r.meta.record) ?? [];
        return (
          <li key={r.meta.record} className={`card ${r.meta.status === 'erased' ? 'erased' : ''}`}>
            <p className="kind">
              {kindOf(r)} · <time>{formatDate(r.time)}</time>
            </p>
            {r.meta.status === 'erased' ? (
              <p className="title">Erased record</p>
            ) : r.summary ? (
              <>
                <p className="title">
                  <Link to={`${props.base}/${r.meta.record}`}>{r.summary.title}</Link>
                </p>
                {r.summary.value && (
                  <p className="value">
                    {r.summary.value} <FlagBadge flag={r.summary.flag} />
                  </p>
                )}
              </>
            ) : (
              <p className="title">
                <Link to={`${props.base}/${r.meta.record}`}>{categoryLabel(r.meta.category)}</Link>
                <span className="problem"> — could not be opened: {friendlyError(r.error)}</span>
              </p>
            )}
            {bills.length > 0 && (
              <div className="bills">
                <p className="kind">Billing for this visit</p>
                <ul aria-label={`Billing for ${r.summary?.title ?? 'this visit'}`}>
                  {bills.map((b) => (
                    <li key={b.meta.record}>
                      <Link to={`${props.base}/${b.meta.record}`}>{b.summary?.title ?? categoryLabel(b.meta.category)}</Link>
                      {b.summary?.value ? `: ${b.summary.value}` : ''}
                    </li>
                  ))}
                </ul>
              </div>
            )}
          </li>
        );
      })}
    </ol>
  );
}
