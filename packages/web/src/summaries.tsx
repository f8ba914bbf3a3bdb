// The summary a clinician or patient looks for first: problems, medications, allergies and
// vaccinations, each current one once, drawn from the records the viewer may open.
import { conceptText, type Json, obj, str } from './fhir-json.js';
import type { ShownRecord } from './records-data.js';
import { FlagBadge } from './timeline.js';
import { formatDate, Link } from './ui.js';

interface Section {
  id: string;
  title: string;
  types: readonly string[];
  empty: string;
}

const SECTIONS: readonly Section[] = [
  { id: 'problems', title: 'Problems', types: ['Condition'], empty: 'No diagnoses in these records.' },
  {
    id: 'medications',
    title: 'Medications',
    types: ['MedicationRequest', 'MedicationStatement', 'MedicationDispense'],
    empty: 'No medications in these records.',
  },
  { id: 'allergies', title: 'Allergies', types: ['AllergyIntolerance'], empty: 'No allergies recorded in these records.' },
  { id: 'immunizations', title: 'Vaccinations', types: ['Immunization'], empty: 'No vaccinations in these records.' },
];

/** Current before past: an active problem or medication first, then by date, newest first. */
function isCurrent(r: ShownRecord): boolean {
  const res = r.resource as Json | undefined;
  const clinical = conceptText(res?.clinicalStatus)?.toLowerCase();
  if (clinical !== undefined) return clinical === 'active' || clinical === 'recurrence' || clinical === 'relapse';
  const status = str(res?.status);
  return status === undefined || status === 'active' || status === 'completed' || status === 'intended';
}

/** For vaccinations: the latest dose of each vaccine, with how many doses there were. */
function latestPerVaccine(items: ShownRecord[]): Array<{ record: ShownRecord; doses: number }> {
  const byName = new Map<string, ShownRecord[]>();
  for (const r of items) {
    const key = (r.summary?.title ?? '').toLowerCase();
    byName.set(key, [...(byName.get(key) ?? []), r]);
  }
  return [...byName.values()]
    .map((rs) => ({ record: rs.reduce((a, b) => (b.time > a.time ? b : a)), doses: rs.length }))
    .sort((a, b) => b.record.time - a.record.time);
}

export function Summaries(props: { records: ShownRecord[]; base: string }) {
  const opened = props.records.filter((r) => r.summary !== undefined && r.meta.status !== 'erased');
  return (
    <div className="summaries">
      <nav aria-label="Summary sections" className="jump">
        {SECTIONS.map((s) => (
          <a key={s.id} href={`#summary-${s.id}`}>
            {s.title}
          </a>
        ))}
      </nav>
      {SECTIONS.map((section) => {
        const items = opened
          .filter((r) => section.types.includes(String(obj(r.resource)?.resourceType)))
          .sort((a, b) => Number(isCurrent(b)) - Number(isCurrent(a)) || b.time - a.time);
        const rows = section.id === 'immunizations' ? latestPerVaccine(items) : items.map((record) => ({ record, doses: 1 }));
        return (
          <section key={section.id} aria-labelledby={`summary-${section.id}`} className="panel">
            <h2 id={`summary-${section.id}`}>
              {section.title} ({rows.length})
            </h2>
            {rows.length === 0 ? (
              <p className="empty">{section.empty}</p>
            ) : (
              <ul className="plain summary-list" aria-label={section.title}>
                {rows.map(({ record: r, doses }) => (
                  <li key={r.meta.record}>
                    <Link to={`${props.base}/${r.meta.record}`}>{r.summary?.title}</Link>
                    {r.summary?.value ? <span className="value"> — {r.summary.value}</span> : null} <FlagBadge flag={r.summary?.flag} />
                    <span className="hint">
                      {' '}
                      · {section.id === 'immunizations' ? 'last given' : isCurrent(r) ? 'since' : 'recorded'} {formatDate(r.time)}
                      {doses > 1 ? ` · ${doses} doses` : ''}
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </section>
        );
      })}
    </div>
  );
}
