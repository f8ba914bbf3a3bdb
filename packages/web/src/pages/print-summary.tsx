// A printable health summary: who (from the Personal details record), problems, medications,
// allergies, vaccinations and the latest of each measurement, laid out for paper.
import { roundForReading } from '../clinical-values.js';
import { chartSeries } from '../fhir-view.js';
import { loadRecords } from '../records-data.js';
import { useUser } from '../session.js';
import { Summaries } from '../summaries.js';
import { ErrorMessage, formatDate, Link, Loading, PageTitle, useLoad } from '../ui.js';

export function PrintSummary() {
  const user = useUser();
  const { data, error } = useLoad(() => loadRecords(user, user.client.id), [user]);
  const person = data?.find((r) => (r.resource as { resourceType?: unknown } | undefined)?.resourceType === 'Patient')?.summary;
  const latest = chartSeries(
    (data ?? []).filter((r) => r.resource !== undefined).map((r) => ({ resource: r.resource, fallbackTime: r.time })),
  );
  return (
    <section className="print-summary">
      <p className="no-print">
        <Link to="/account">← My account</Link>
      </p>
      <PageTitle>Health summary</PageTitle>
      <ErrorMessage error={error} title="Your records could not be loaded." />
      {data === undefined && error === undefined && <Loading what="your records" />}
      {data !== undefined && (
        <>
          <p>
            {person ? (
              <>
                <strong>{person.title}</strong>
                {person.value ? `, ${person.value.toLowerCase()}` : ''}.{' '}
              </>
            ) : null}
            From MedLedger on {formatDate(Date.now())}, {data.length} records.
          </p>
          <button type="button" className="no-print" onClick={() => window.print()}>
            Print this summary
          </button>
          <Summaries records={data} base="/records" />
          <section className="panel" aria-labelledby="latest-title">
            <h2 id="latest-title">Latest measurements</h2>
            {latest.length === 0 ? (
              <p className="empty">No measurements in these records.</p>
            ) : (
              <div className="table-wrap">
                <table>
                  <caption className="visually-hidden">The latest reading of each measurement</caption>
                  <thead>
                    <tr>
                      <th scope="col">Measurement</th>
                      <th scope="col">Latest</th>
                      <th scope="col">Date</th>
                    </tr>
                  </thead>
                  <tbody>
                    {latest.map((s) => {
                      const when = Math.max(...s.lines.map((l) => l.points.at(-1)?.time ?? 0));
                      const values = s.lines.map((l) => l.points.find((p) => p.time === when)?.value).filter((v) => v !== undefined);
                      return (
                        <tr key={s.title}>
                          <td>{s.title}</td>
                          <td>
                            {values.map((v) => roundForReading(v, s.ucum)).join('/')} {s.unit}
                          </td>
                          <td>{formatDate(when)}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        </>
      )}
    </section>
  );
}
