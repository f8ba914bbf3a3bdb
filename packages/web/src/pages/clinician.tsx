// The clinician's side: patients who share with them, their records, adding a record
// through a form (turned into FHIR), and sharing that ends soon.
import { type Grant, scopeCoversRecord } from '@medledger/client';
import { type FormEvent, useState } from 'react';
import { localName, setLocalName } from '../accounts.js';
import { bloodPressure, clinicalNote, diagnosis, FormError, type FormRecord, MEASURES, measurement } from '../fhir-forms.js';
import { categoryLabel, purposeLabel } from '../labels.js';
import { matchesPatient, patientBanner } from '../patient-banner.js';
import { loadRecords, type ShownRecord } from '../records-data.js';
import { useUser } from '../session.js';
import { ErrorMessage, formatDate, Link, Loading, Notice, PageTitle, SharingCode, useLoad } from '../ui.js';
import { ClinicianEmergencyPanel, EmergencyBanner } from './emergency.js';
import { ClinicianInsurance } from './insurance.js';
import { displayName, PatientBannerView, patientNames } from './patient-banner.js';
import { PrescribeForm } from './prescribe.js';
import { RecordsBrowser } from './records.js';
import { SharingQr } from './share-qr.js';

const SOON_MS = 7 * 86_400_000;

/** The name this clinician knows a patient by (their own label), for sentences. */
function patientName(id: string): string {
  return localName(id) ?? 'this patient';
}

function scopeText(g: Grant): string {
  return [...(g.scope.categories ?? []).map(categoryLabel), ...(g.scope.resourceTypes ?? [])].join(', ');
}

export function ClinicianHome() {
  const user = useUser();
  const { data, error, reload } = useLoad(() => user.client.myGrants(), [user]);
  const active = (data ?? []).filter((g) => g.active !== false);
  const byPatient = new Map<string, Grant[]>();
  for (const g of active) byPatient.set(g.patient, [...(byPatient.get(g.patient) ?? []), g]);
  const soon = active.filter((g) => g.expiresAt !== undefined && g.expiresAt !== null && g.expiresAt - Date.now() < SOON_MS);
  const patients = [...byPatient.keys()].sort();
  const names = useLoad(() => patientNames(user, patients), [user, patients.join(',')]);
  const [query, setQuery] = useState('');
  const nameOf = (id: string) => displayName(names.data?.get(id), id);
  const shown = patients.filter((p) => matchesPatient(query, [names.data?.get(p), localName(p)]));
  return (
    <section>
      <PageTitle>My patients</PageTitle>
      <p>Patients who have shared records with you. To be added, a patient enters your sharing code on their Sharing page.</p>
      <SharingCode id={user.client.id} />
      <SharingQr id={user.client.id} name={typeof user.identity.name === 'string' ? user.identity.name : user.label} />
      <ErrorMessage error={error} title="Your patients could not be loaded." />
      {data === undefined && error === undefined && <Loading what="your patients" />}
      {soon.length > 0 && (
        <div className="message warn" role="status">
          <strong>Sharing that ends within 7 days:</strong>
          <ul>
            {soon.map((g) => (
              <li key={g.id}>
                {nameOf(g.patient)} — {scopeText(g)}, ends {formatDate(g.expiresAt)}
              </li>
            ))}
          </ul>
        </div>
      )}
      {data !== undefined && byPatient.size === 0 && <p className="empty">No patient shares records with you yet.</p>}
      {byPatient.size > 0 && (
        <div className="search-row">
          <div>
            <label htmlFor="patient-search">Find a patient by name</label>
            <input id="patient-search" type="search" value={query} onChange={(e) => setQuery(e.target.value)} />
          </div>
        </div>
      )}
      {query !== '' && shown.length === 0 && (
        <p role="status">
          No patient of yours matches “{query}”. Only patients who share their personal details with you can be found by name.
        </p>
      )}
      <ul className="cards" aria-label="Patients">
        {shown
          .map((patient) => [patient, byPatient.get(patient) ?? []] as const)
          .map(([patient, grants]) => (
            <li key={patient} className="card">
              <p className="title">
                <Link to={`/clinician/patients/${patient}`}>{nameOf(patient)}</Link>
              </p>
              <ul className="plain">
                {grants.map((g) => (
                  <li key={g.id}>
                    {scopeText(g)} · {purposeLabel(g.purpose)} · {g.access === 'read-write' ? 'you may add records' : 'view only'} ·{' '}
                    {g.expiresAt ? `until ${formatDate(g.expiresAt)}` : 'no end date'}
                  </li>
                ))}
              </ul>
            </li>
          ))}
      </ul>
      <button type="button" className="secondary" onClick={reload}>
        Refresh
      </button>
      <ClinicianEmergencyPanel />
    </section>
  );
}

function bannerName(records: ShownRecord[] | undefined): string | undefined {
  return patientBanner((records ?? []).flatMap((r) => (r.resource === undefined ? [] : [r.resource]))).name;
}

export function ClinicianPatient(props: { patient: string }) {
  const user = useUser();
  const grants = useLoad(() => user.client.myGrants(), [user]);
  const records = useLoad(() => loadRecords(user, props.patient), [props.patient]);
  const [name, setName] = useState(localName(props.patient) ?? '');
  const mine = (grants.data ?? []).filter((g) => g.patient === props.patient && g.active !== false);
  const writable = mine.filter((g) => g.access === 'read-write');
  return (
    <section>
      <p>
        <Link to="/clinician">← My patients</Link>
      </p>
      <EmergencyBanner patient={props.patient} onRefresh={() => records.reload()} />
      <PageTitle>{displayName(bannerName(records.data), props.patient)}</PageTitle>
      <PatientBannerView patient={props.patient} records={records.data} />
      <form
        className="name-form"
        onSubmit={(e) => {
          e.preventDefault();
          void setLocalName(props.patient, name);
        }}
      >
        <label htmlFor="pat-name">Your name for this patient (only on this device)</label>
        <input id="pat-name" value={name} onChange={(e) => setName(e.target.value)} />
        <button type="submit" className="secondary">
          Save name
        </button>
      </form>
      <ClinicianInsurance patient={props.patient} />
      <h2>Records you can see</h2>
      <RecordsBrowser
        loaded={records}
        legend="How to show the records"
        base={`/clinician/patients/${props.patient}/records`}
        empty="No records are shared with you. If you expected some, ask the patient to check their sharing."
        loadingWhat="the records"
        errorTitle="The records could not be loaded."
      />
      <AddRecord
        patient={props.patient}
        grants={writable}
        onAdded={() => {
          records.reload();
        }}
      />
      <PrescribeForm
        patient={props.patient}
        canWrite={writable.some((g) => g.scope.categories === undefined || g.scope.categories.includes('medications'))}
      />
    </section>
  );
}

type EntryKind = 'blood-pressure' | 'measure' | 'diagnosis' | 'note';

function AddRecord(props: { patient: string; grants: Grant[]; onAdded: () => void }) {
  const user = useUser();
  const [kind, setKind] = useState<EntryKind>('blood-pressure');
  const [fields, setFields] = useState<Record<string, string>>({ measure: MEASURES[0]?.id ?? '', status: 'active' });
  const [when, setWhen] = useState(() => new Date().toISOString().slice(0, 16));
  const [problem, setProblem] = useState<{ field: string; message: string } | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const [added, setAdded] = useState<string | undefined>(undefined);
  const set = (k: string) => (e: { target: { value: string } }) => setFields({ ...fields, [k]: e.target.value });
  const f = (k: string) => fields[k] ?? '';

  if (props.grants.length === 0)
    return (
      <div className="panel">
        <h2>Add a record</h2>
        <p>
          You can view this patient’s shared records, but not add to them. To add records, ask the patient to tick “Also let them add new
          records” when they share with you.
        </p>
      </div>
    );

  function build(): FormRecord {
    const date = new Date(when);
    if (Number.isNaN(date.getTime())) throw new FormError('when', 'Enter the date and time.');
    switch (kind) {
      case 'blood-pressure':
        return bloodPressure({ systolic: f('systolic'), diastolic: f('diastolic'), when: date });
      case 'measure':
        return measurement({ kind: f('measure'), value: f('value'), when: date, note: f('note') });
      case 'diagnosis':
        return diagnosis({ name: f('name'), status: f('status') === 'resolved' ? 'resolved' : 'active', onset: date, note: f('note') });
      case 'note':
        return clinicalNote({ title: f('title'), text: f('text'), when: date });
    }
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setProblem(undefined);
    setError(undefined);
    setAdded(undefined);
    let record: FormRecord;
    try {
      record = build();
    } catch (err) {
      if (err instanceof FormError) return setProblem({ field: err.field, message: err.message });
      throw err;
    }
    const target = { record: '', category: record.category, resourceType: record.resource.resourceType };
    if (!props.grants.some((g) => scopeCoversRecord(g.scope, target))) {
      return setProblem({
        field: 'kind',
        message: `The patient has not allowed you to add ${categoryLabel(record.category).toLowerCase()}. Ask them to include it when they share with you.`,
      });
    }
    setBusy(true);
    try {
      await user.client.writeRecord({ patient: props.patient, resource: record.resource, category: record.category });
      setAdded(
        `The record was added to ${patientName(props.patient) === 'this patient' ? 'the patient' : patientName(props.patient)}’s file.`,
      );
      setFields({ measure: fields.measure ?? '', status: 'active' });
      props.onAdded();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const err = (field: string) =>
    problem?.field === field ? (
      <p className="field-error" id={`err-${field}`} role="alert">
        {problem.message}
      </p>
    ) : null;
  const described = (field: string) => (problem?.field === field ? `err-${field}` : undefined);
  const allowed = [...new Set(props.grants.flatMap((g) => g.scope.categories ?? []))].map(categoryLabel).join(', ');

  return (
    <form className="panel" onSubmit={submit} noValidate aria-labelledby="add-title">
      <h2 id="add-title">Add a record</h2>
      <p className="hint">You may add: {allowed || 'the record types the patient chose'}.</p>
      {added && <Notice tone="ok">{added}</Notice>}
      <label htmlFor="add-kind">What are you recording?</label>
      <select id="add-kind" value={kind} onChange={(e) => setKind(e.target.value as EntryKind)} aria-describedby={described('kind')}>
        <option value="blood-pressure">Blood pressure</option>
        <option value="measure">Another vital sign or lab result</option>
        <option value="diagnosis">Diagnosis</option>
        <option value="note">Clinical note</option>
      </select>
      {err('kind')}
      {kind === 'blood-pressure' && (
        <div className="pair">
          <div>
            <label htmlFor="add-sys">Systolic (mmHg)</label>
            <input
              id="add-sys"
              inputMode="numeric"
              value={f('systolic')}
              onChange={set('systolic')}
              aria-describedby={described('systolic')}
            />
            {err('systolic')}
          </div>
          <div>
            <label htmlFor="add-dia">Diastolic (mmHg)</label>
            <input
              id="add-dia"
              inputMode="numeric"
              value={f('diastolic')}
              onChange={set('diastolic')}
              aria-describedby={described('diastolic')}
            />
            {err('diastolic')}
          </div>
        </div>
      )}
      {kind === 'measure' && (
        <>
          <label htmlFor="add-measure">Measurement</label>
          <select id="add-measure" value={f('measure')} onChange={set('measure')}>
            {MEASURES.map((m) => (
              <option key={m.id} value={m.id}>
                {m.label} ({m.unit})
              </option>
            ))}
          </select>
          <label htmlFor="add-value">Value ({MEASURES.find((m) => m.id === f('measure'))?.unit})</label>
          <input id="add-value" inputMode="decimal" value={f('value')} onChange={set('value')} aria-describedby={described('value')} />
          {err('value')}
        </>
      )}
      {kind === 'diagnosis' && (
        <>
          <label htmlFor="add-name">Diagnosis</label>
          <input id="add-name" value={f('name')} onChange={set('name')} aria-describedby={described('name')} />
          {err('name')}
          <label htmlFor="add-status">Status</label>
          <select id="add-status" value={f('status')} onChange={set('status')}>
            <option value="active">Active</option>
            <option value="resolved">Resolved</option>
          </select>
        </>
      )}
      {kind === 'note' && (
        <>
          <label htmlFor="add-title-in">Title</label>
          <input id="add-title-in" value={f('title')} onChange={set('title')} aria-describedby={described('title')} />
          {err('title')}
          <label htmlFor="add-text">Note</label>
          <textarea id="add-text" rows={5} value={f('text')} onChange={set('text')} aria-describedby={described('text')} />
          {err('text')}
        </>
      )}
      {(kind === 'measure' || kind === 'diagnosis') && (
        <>
          <label htmlFor="add-note">Comment (optional)</label>
          <input id="add-note" value={f('note')} onChange={set('note')} />
        </>
      )}
      <label htmlFor="add-when">{kind === 'diagnosis' ? 'Since' : 'When'}</label>
      <input
        id="add-when"
        type="datetime-local"
        value={when}
        onChange={(e) => setWhen(e.target.value)}
        aria-describedby={described('when')}
      />
      {err('when')}
      <ErrorMessage error={error} title="The record was not added." />
      <button type="submit" disabled={busy} aria-busy={busy}>
        {busy ? 'Adding… (encrypting and saving)' : 'Add record'}
      </button>
    </form>
  );
}
