// The clinician's patient banner and patient directory (issue 17 item 2): who this patient
// is, from the records the clinician may read; the code only when asked for.
import { useState } from 'react';
import { localName } from '../accounts.js';
import { type PatientBanner, patientBanner } from '../patient-banner.js';
import { loadRecords, openRecord, type ShownRecord } from '../records-data.js';
import { type SignedIn, useUser } from '../session.js';
import { useLoad } from '../ui.js';

/** A patient's name for this clinician: from their shared Patient record, else the clinician's own label. */
export function displayName(name: string | undefined, id: string): string {
  return name ?? localName(id) ?? 'Name not shared';
}

/** Names of `patients` from the Patient (demographics) records the user may read; others stay unknown. */
export async function patientNames(user: SignedIn, patients: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await Promise.all(
    patients.map(async (patient) => {
      try {
        const metas = (await user.client.listRecords(patient)).filter((m) => m.resourceType === 'Patient' && m.status !== 'erased');
        for (const meta of metas) {
          const name = patientBanner([await openRecord(user, meta)]).name;
          if (name !== undefined) out.set(patient, name);
        }
      } catch {
        // Not readable (no demographics shared, or a refusal): the patient stays unnamed.
      }
    }),
  );
  return out;
}

function Facts(props: { banner: PatientBanner }) {
  const b = props.banner;
  const list = (xs: string[] | undefined, none: string, unknown: string) =>
    xs === undefined ? unknown : xs.length === 0 ? none : xs.join(', ');
  return (
    <dl className="banner-facts">
      <div>
        <dt>Born</dt>
        <dd>{b.birthDate ?? 'not shared'}</dd>
      </div>
      <div>
        <dt>Sex</dt>
        <dd>{b.sex ?? 'not shared'}</dd>
      </div>
      <div className={b.allergies !== undefined && b.allergies.length > 0 ? 'alert' : undefined}>
        <dt>Allergies</dt>
        <dd>{list(b.allergies, 'none recorded', 'not shared with you')}</dd>
      </div>
      <div>
        <dt>Active problems</dt>
        <dd>{list(b.problems, 'none shared', 'none shared')}</dd>
      </div>
      <div>
        <dt>Current medicines</dt>
        <dd>{list(b.medications, 'none shared', 'none shared')}</dd>
      </div>
    </dl>
  );
}

/**
 * The banner above a patient's pages: name (or "Name not shared"), birth date, sex,
 * allergies and the emergency summary, from `records` (what this clinician could open).
 */
export function PatientBannerView(props: { patient: string; records: ShownRecord[] | undefined }) {
  const [showCode, setShowCode] = useState(false);
  const banner = patientBanner((props.records ?? []).flatMap((r) => (r.resource === undefined ? [] : [r.resource])));
  return (
    <section className="patient-banner" aria-label="Patient">
      <p className="banner-name" data-testid="patient-name">
        {displayName(banner.name, props.patient)}
      </p>
      {props.records === undefined ? <p className="hint">Loading who this patient is…</p> : <Facts banner={banner} />}
      <p className="hint">
        From the records this patient shares with you.{' '}
        <button type="button" className="link-button" aria-expanded={showCode} onClick={() => setShowCode(!showCode)}>
          {showCode ? 'Hide the patient’s code' : 'Show the patient’s code'}
        </button>
        {showCode && (
          <>
            {' '}
            <code className="code" data-testid="patient-code">
              {props.patient}
            </code>
          </>
        )}
      </p>
    </section>
  );
}

/** The banner on pages that do not load the patient's records themselves (one record's page). */
export function PatientBannerLoader(props: { patient: string }) {
  const user = useUser();
  const { data } = useLoad(() => loadRecords(user, props.patient), [props.patient]);
  return <PatientBannerView patient={props.patient} records={data} />;
}
