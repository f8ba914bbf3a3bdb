// Emergency ("break-glass") access in the web app (docs/emergency.md): a privileged clinician
// opens a time-limited window on a patient's records for a stated reason; the organization
// gives and takes the privilege and reviews its staff's windows; the patient is told who,
// why and until when, sees every record opened, and changes their emergency key afterwards.

import {
  activeEmergencyWindowOn,
  type EmergencyWindow,
  emergencyNetwork,
  hasClientCode,
  type Identity,
  isCareOrganizationKind,
  listEmergency,
  openEmergency,
  rotateEmergencyKey,
  setEmergencyPrivilege,
} from '@medledger/client';
import { type FormEvent, type ReactNode, useState } from 'react';
import { readsSummary } from '../access-groups.js';
import { localName } from '../accounts.js';
import { summarize } from '../fhir-view.js';
import { categoryLabel, friendlyError } from '../labels.js';
import type { ShownRecord } from '../records-data.js';
import { navigate } from '../router.js';
import { type SignedIn, useUser } from '../session.js';
import { ErrorMessage, formatDateTime, Link, Loading, Notice, PageTitle, shortName, useLoad } from '../ui.js';
import { EndEmergencyWindow } from './emergency-patient.js';
import { describeIdentity } from './sharing.js';

const MAX_REASON = 500;
const DEFAULT_MINUTES = 60;
/**
 * How long the form waits for the validators' shares before saying the request is pending:
 * 90 seconds (`localStorage['medledger.emergencyWaitSeconds']` changes it).
 */
function waitForSharesMs(): number {
  const s = Number(localStorage.getItem('medledger.emergencyWaitSeconds'));
  return Number.isFinite(s) && s > 0 ? s * 1000 : 90_000;
}

/** A time of day (HH:MM), with the date too when it is not today. */
export function formatUntil(ms: number): string {
  const d = new Date(ms);
  const time = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return d.toDateString() === new Date().toDateString()
    ? time
    : `${d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })}, ${time}`;
}

function patientLabel(id: string): string {
  return localName(id) ?? `Patient …${id.slice(-4)}`;
}

/** The clinician who opened a window, in words: "Dr Meredith Grey, clinician at Grey Sloan". */
export async function clinicianOf(user: SignedIn, w: EmergencyWindow): Promise<string> {
  const c = w.clinicianIdentity as { name?: string | null } | null | undefined;
  const org = await user.client.identity(w.org).catch(() => undefined);
  const name = typeof c?.name === 'string' ? c.name : shortName(w.clinician, 'A clinician');
  return `${name}${typeof org?.name === 'string' ? `, clinician at ${org.name}` : ', a clinician'}`;
}

function approvals(w: EmergencyWindow): string {
  const n = Math.min(w.sharesPosted, w.threshold);
  return `${n} of ${w.threshold} ${w.threshold === 1 ? 'approval' : 'approvals'}`;
}

/** Refusals of an emergency request, in plain words. */
export function emergencyErrorText(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  switch (code) {
    case 'UNAUTHORIZED':
      return 'Your organization has not given you emergency access. Ask your organization’s administrator if you need it.';
    case 'WINDOW_ACTIVE':
      return 'Emergency access to this patient’s records is already open, by you or a colleague. Only one can be open at a time.';
    case 'NOT_FOUND':
    case 'IDENTITY_NOT_FOUND':
      return 'No patient has that sharing code. Check the code and try again.';
    case 'NO_EMERGENCY_KEY':
      return 'This patient has no emergency key on MedLedger, so their records cannot be opened in an emergency.';
    case 'INVALID_BODY':
    case 'INVALID_ARGUMENT':
      return 'Check the reason (it cannot be empty) and the number of minutes, then try again.';
    case 'WINDOW_CLOSED':
      return 'The emergency access ended before the network released the patient’s key. Open a new request if you still need it.';
    default:
      return friendlyError(err);
  }
}

// ---- Clinician ---------------------------------------------------------------------------

/** On the clinician's home: the emergency button (enabled only with the privilege) and open windows. */
export function ClinicianEmergencyPanel() {
  const user = useUser();
  const { data, error } = useLoad(async () => {
    const [listing, org] = await Promise.all([
      listEmergency(user.client),
      typeof user.identity.org === 'string' ? user.client.identity(user.identity.org) : undefined,
    ]);
    return { ...listing, org };
  }, [user]);
  const privileged = data?.as === 'clinician' && data.privilege !== null && data.privilege !== undefined;
  // The ledger gives the privilege only to clinicians of a care organization (hospital,
  // clinic, lab): anyone else is told so, not sent to an administrator who cannot give it.
  const careOrg = data !== undefined && isCareOrganizationKind(data.org?.orgKind);
  const open = (data?.windows ?? []).filter((w) => w.active);
  if (data !== undefined && !careOrg && !privileged && open.length === 0)
    return (
      <div className="panel">
        <h2>Emergency access</h2>
        <p>
          Emergency access (opening the records of a patient who has not shared with you) is only for clinicians of hospitals, clinics and
          labs. {typeof data.org?.name === 'string' ? data.org.name : 'Your organization'} is not one, so MedLedger does not let its staff
          use it. Patients can still share their records with you.
        </p>
      </div>
    );
  return (
    <div className="panel emergency-panel">
      <h2>Emergency access</h2>
      <p>
        In an emergency you can open the records of a patient who has not shared with you. The patient is told, and every record you open is
        logged.
      </p>
      <ErrorMessage error={error} title="Whether you may use emergency access could not be checked." />
      {data === undefined && error === undefined && <Loading what="your emergency access" />}
      {data !== undefined &&
        (privileged ? (
          <Link to="/clinician/emergency" className="button danger-button">
            Emergency access…
          </Link>
        ) : (
          <>
            <button type="button" disabled aria-describedby="em-no-privilege">
              Emergency access…
            </button>
            <p className="hint" id="em-no-privilege">
              Your organization has not given you emergency access. Ask your organization’s administrator if you need it.
            </p>
          </>
        ))}
      {open.length > 0 && (
        <>
          <h3>Open now</h3>
          <ul className="plain">
            {open.map((w) => (
              <li key={w.id}>
                <Link to={`/clinician/patients/${w.patient}`}>{patientLabel(w.patient)}</Link> — ends at {formatUntil(w.expiresAt)}
                {w.status === 'pending' ? ` (waiting for the network: ${approvals(w)})` : ''}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

type Stage = { step: 'form' } | { step: 'sending' } | { step: 'waiting'; window: EmergencyWindow };

/** `/clinician/emergency`: the form, the confirmation, and progress while the validators answer. */
export function EmergencyOpen() {
  const user = useUser();
  const network = useLoad(() => emergencyNetwork(user.client), [user]);
  const maxMinutes = network.data === undefined ? undefined : Math.floor(network.data.maxDurationMs / 60_000);
  // Scanning a patient's emergency card opens this form with their code (emergency-card.tsx).
  const [patient, setPatient] = useState(() => new URLSearchParams(location.search).get('patient') ?? '');
  const [reason, setReason] = useState('');
  const [minutes, setMinutes] = useState('');
  const [understood, setUnderstood] = useState(false);
  const [problem, setProblem] = useState<{ field: string; message: string } | undefined>(undefined);
  const [stage, setStage] = useState<Stage>({ step: 'form' });
  const [refusal, setRefusal] = useState<{ text: string; patient?: string } | undefined>(undefined);
  const [pending, setPending] = useState<{ patient: string; window?: EmergencyWindow } | undefined>(undefined);
  const shownMinutes = minutes === '' ? String(Math.min(DEFAULT_MINUTES, maxMinutes ?? DEFAULT_MINUTES)) : minutes;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setProblem(undefined);
    setRefusal(undefined);
    setPending(undefined);
    const code = patient.trim().toLowerCase();
    if (!/^[0-9a-f]{40}$/.test(code))
      return setProblem({ field: 'patient', message: 'Enter the patient’s sharing code: 40 letters and digits.' });
    const why = reason.trim();
    if (why === '') return setProblem({ field: 'reason', message: 'Say why you need emergency access.' });
    if (why.length > MAX_REASON) return setProblem({ field: 'reason', message: `Keep the reason under ${MAX_REASON} characters.` });
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the chain refuses control characters in reasons
    if (/[\u0000-\u001f\u007f]/.test(why)) return setProblem({ field: 'reason', message: 'Write the reason on one line.' });
    const m = Number(shownMinutes);
    const cap = maxMinutes ?? 240;
    if (!Number.isInteger(m) || m < 1 || m > cap)
      return setProblem({ field: 'minutes', message: `Enter a whole number of minutes from 1 to ${cap}.` });
    if (!understood) return setProblem({ field: 'confirm', message: 'Tick the box to confirm you understand what happens.' });
    setStage({ step: 'sending' });
    let last: EmergencyWindow | undefined;
    try {
      await openEmergency(user.client, {
        patient: code,
        reason: why,
        durationMs: m * 60_000,
        timeoutMs: waitForSharesMs(),
        onProgress: (w) => {
          last = w;
          setStage({ step: 'waiting', window: w });
        },
      });
      navigate(`/clinician/patients/${code}`);
    } catch (err) {
      setStage({ step: 'form' });
      if (hasClientCode(err, 'EMERGENCY_PENDING')) return setPending({ patient: code, window: last });
      const mine = hasClientCode(err, 'WINDOW_ACTIVE')
        ? await activeEmergencyWindowOn(user.client, code).catch(() => undefined)
        : undefined;
      setRefusal(
        mine !== undefined
          ? { text: `You already have emergency access to this patient’s records, until ${formatUntil(mine.expiresAt)}.`, patient: code }
          : { text: emergencyErrorText(err) },
      );
    }
  }

  const err = (field: string) =>
    problem?.field === field ? (
      <p className="field-error" id={`em-err-${field}`} role="alert">
        {problem.message}
      </p>
    ) : null;
  const described = (field: string, hint?: string) =>
    [hint, problem?.field === field ? `em-err-${field}` : undefined].filter(Boolean).join(' ') || undefined;
  const busy = stage.step !== 'form';

  return (
    <section>
      <p>
        <Link to="/clinician">← My patients</Link>
      </p>
      <PageTitle>Emergency access</PageTitle>
      <p>Use this only in an emergency, when a patient cannot share their records with you — for example when they are unconscious.</p>
      <ErrorMessage error={network.error} title="The network’s emergency settings could not be loaded." />
      {refusal && (
        <div className="message error" role="alert">
          <strong>Emergency access was not opened.</strong> {refusal.text}
          {refusal.patient && (
            <>
              {' '}
              <Link to={`/clinician/patients/${refusal.patient}`}>Open the patient’s records</Link>
            </>
          )}
        </div>
      )}
      {pending && (
        <div className="message warn" role="alert">
          <strong>Your request is open, but the network has not released the patient’s key yet</strong>
          {pending.window ? ` (${approvals(pending.window)}).` : '.'} The request is on the record and the patient has been told. Some
          network servers may be down or slow. Open the patient’s records in a few minutes: they open as soon as enough approvals arrive,
          while your access lasts. If it stays like this, contact the people who run your MedLedger network.{' '}
          <Link to={`/clinician/patients/${pending.patient}`}>Go to the patient’s records</Link>
        </div>
      )}
      <form className="panel" onSubmit={submit} noValidate aria-labelledby="em-form-title">
        <h2 id="em-form-title">Open emergency access</h2>
        <label htmlFor="em-patient">The patient’s sharing code</label>
        <p className="hint" id="em-patient-hint">
          From the patient’s MedLedger card or phone, or from someone with them.
        </p>
        <input
          id="em-patient"
          value={patient}
          autoComplete="off"
          spellCheck={false}
          onChange={(e) => setPatient(e.target.value)}
          aria-describedby={described('patient', 'em-patient-hint')}
        />
        {err('patient')}
        <label htmlFor="em-reason">Why do you need emergency access?</label>
        <p className="hint" id="em-reason-hint">
          Your browser encrypts this reason so that only the patient, you, your organization and its privacy officers can read it. Describe
          the situation, not clinical findings — for example “unconscious in the emergency department, allergies unknown”.
        </p>
        <textarea
          id="em-reason"
          rows={3}
          maxLength={MAX_REASON}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          aria-describedby={described('reason', 'em-reason-hint')}
        />
        {err('reason')}
        <label htmlFor="em-minutes">For how many minutes?</label>
        <p className="hint" id="em-minutes-hint">
          {maxMinutes === undefined ? 'Loading the longest time allowed…' : `At most ${maxMinutes} minutes. Access ends by itself then.`}
        </p>
        <input
          id="em-minutes"
          type="number"
          inputMode="numeric"
          min={1}
          max={maxMinutes}
          value={shownMinutes}
          onChange={(e) => setMinutes(e.target.value)}
          aria-describedby={described('minutes', 'em-minutes-hint')}
        />
        {err('minutes')}
        <div className="message warn">
          <strong>What happens next</strong>
          <ul>
            <li>The patient is told that you opened their records, why, and until when.</li>
            <li>Every record you open is logged as emergency access, for the patient and your organization’s privacy officer to review.</li>
            <li>The network’s servers must approve the request before the records open; this usually takes a few seconds.</li>
          </ul>
        </div>
        <div className="choice">
          <input
            id="em-confirm"
            type="checkbox"
            checked={understood}
            onChange={(e) => {
              setUnderstood(e.target.checked);
              if (problem?.field === 'confirm') setProblem(undefined);
            }}
            aria-describedby={described('confirm')}
          />
          <label htmlFor="em-confirm">I understand, and this is an emergency</label>
        </div>
        {err('confirm')}
        <button type="submit" className="danger" disabled={busy || network.data === undefined} aria-busy={busy}>
          {busy ? 'Opening…' : 'Open emergency access'}
        </button>
        <div role="status" aria-live="polite" className="progress">
          {stage.step === 'sending' && <p>Sending your request to the network…</p>}
          {stage.step === 'waiting' && <p>Waiting for the network: {approvals(stage.window)}.</p>}
        </div>
      </form>
    </section>
  );
}

/** On a patient's pages, for the clinician: the open emergency window on them, if any. */
export function EmergencyBanner(props: { patient: string; onRefresh?: () => void }) {
  const user = useUser();
  const { data, reload } = useLoad(() => activeEmergencyWindowOn(user.client, props.patient), [props.patient]);
  if (data === undefined) return null;
  return (
    <div className="message emergency" role="status">
      <strong className="emergency-title">Emergency access — ends at {formatUntil(data.expiresAt)}</strong>
      <br />
      Every record you open now is logged as emergency access and shown to the patient.
      {data.reason !== null && <> Reason given: “{data.reason}”.</>}
      {data.status === 'pending' && (
        <>
          <br />
          Waiting for the network: {approvals(data)}. The records open as soon as enough approvals arrive.{' '}
          <button
            type="button"
            className="secondary"
            onClick={() => {
              reload();
              props.onRefresh?.();
            }}
          >
            Check again
          </button>
        </>
      )}
    </div>
  );
}

// ---- Organization ------------------------------------------------------------------------

/** On the organization admin's page: give or take away one clinician's emergency privilege. */
export function EmergencyPrivilegeForm() {
  const user = useUser();
  const orgName = typeof user.identity.name === 'string' ? user.identity.name : 'your organization';
  if (!isCareOrganizationKind(user.identity.orgKind)) return <NoEmergencyPrivilege orgName={orgName} />;
  return <PrivilegeForm orgName={orgName} />;
}

/**
 * For an organization that is not a care organization: the ledger refuses it the emergency
 * privilege (only hospitals, clinics and labs give it), so it is explained, not offered.
 */
function NoEmergencyPrivilege(props: { orgName: string }) {
  return (
    <section className="panel" aria-labelledby="priv-title">
      <h2 id="priv-title">Emergency access for clinicians</h2>
      <p>
        Emergency access lets a clinician open a patient’s records without the patient’s permission. Only hospitals, clinics and labs can
        give it to their clinicians, so the staff of {props.orgName} cannot be given emergency access.
      </p>
    </section>
  );
}

function PrivilegeForm(props: { orgName: string }) {
  const user = useUser();
  const { orgName } = props;
  const [code, setCode] = useState('');
  const [who, setWho] = useState<{ identity: Identity; text: string } | undefined>(undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  async function lookUp(e: FormEvent) {
    e.preventDefault();
    setProblem(undefined);
    setDone(undefined);
    setWho(undefined);
    const id = code.trim().toLowerCase();
    if (!/^[0-9a-f]{40}$/.test(id)) return setProblem('Enter the clinician’s sharing code: 40 letters and digits.');
    try {
      const identity = await user.client.identity(id);
      if (identity.role !== 'clinician' || identity.org !== user.client.id || identity.status !== 'active')
        return setProblem(
          `This code is not one of ${orgName}’s clinicians. Only your own active clinicians can be given emergency access.`,
        );
      setWho({ identity, text: await describeIdentity((x) => user.client.identity(x), identity) });
    } catch (err) {
      setProblem(friendlyError(err));
    }
  }

  async function change(grant: boolean) {
    if (who === undefined) return;
    setProblem(undefined);
    setDone(undefined);
    setBusy(true);
    try {
      await setEmergencyPrivilege(user.client, who.identity.id, !grant);
      setDone(
        grant
          ? `${who.text} can now open emergency access. Every use is shown to the patient and in your review list below.`
          : `${who.text} can no longer open emergency access. Any emergency access they have open ends now.`,
      );
    } catch (err) {
      const c = (err as { code?: unknown })?.code;
      setProblem(
        c === 'NOT_FOUND'
          ? `${who.text} does not have emergency access from ${orgName}, so there is nothing to take away.`
          : c === 'UNAUTHORIZED'
            ? `This person is not an active clinician of ${orgName}.`
            : friendlyError(err),
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="panel" onSubmit={lookUp} noValidate aria-labelledby="priv-title">
      <h2 id="priv-title">Emergency access for clinicians</h2>
      <p>
        A clinician with emergency access can open a patient’s records without the patient’s permission, in an emergency, for a limited
        time. The patient is told, and every use appears in the review list below.
      </p>
      <label htmlFor="priv-code">The clinician’s sharing code</label>
      <input
        id="priv-code"
        value={code}
        autoComplete="off"
        spellCheck={false}
        onChange={(e) => {
          setCode(e.target.value);
          setWho(undefined);
        }}
      />
      <button type="submit" className="secondary">
        Look up
      </button>
      {problem && (
        <div className="message error" role="alert">
          {problem}
        </div>
      )}
      {done && <Notice tone="ok">{done}</Notice>}
      {who && (
        <div className="actions">
          <p>
            <strong>{who.text}</strong>
          </p>
          <button type="button" disabled={busy} aria-busy={busy} onClick={() => change(true)}>
            Give emergency access
          </button>{' '}
          <button type="button" className="secondary" disabled={busy} onClick={() => change(false)}>
            Take emergency access away
          </button>
        </div>
      )}
    </form>
  );
}

function statusText(w: EmergencyWindow): string {
  if (!w.active) return 'Ended';
  return w.status === 'pending' ? `Open — waiting for the network (${approvals(w)})` : 'Open now';
}

/** The organization's (or privacy officer's) review list of its staff's emergency windows. */
export function EmergencyReview(props: { heading?: 'h1' | 'h2' }) {
  const user = useUser();
  const { data, error, reload } = useLoad(async () => {
    const listing = await listEmergency(user.client);
    const names = new Map<string, string>();
    for (const w of listing.windows) if (!names.has(w.id)) names.set(w.id, await clinicianOf(user, w));
    return { windows: listing.windows, names };
  }, [user]);
  const title = 'Emergency access by our staff';
  return (
    <div className={props.heading === 'h1' ? undefined : 'panel'}>
      {props.heading === 'h1' ? <PageTitle>{title}</PageTitle> : <h2>{title}</h2>}
      <p>Every time one of your clinicians opened a patient’s records in an emergency: who, why, for how long, and what they opened.</p>
      <button type="button" className="secondary" onClick={reload}>
        Refresh the list
      </button>
      <ErrorMessage error={error} title="The list could not be loaded." />
      {data === undefined && error === undefined && <Loading what="emergency access" />}
      {data?.windows.length === 0 && <p className="empty">None of your staff has used emergency access.</p>}
      {data !== undefined && data.windows.length > 0 && (
        <ul className="log" aria-label="Emergency access by our staff, newest first">
          {data.windows.map((w) => (
            <li key={w.id} className={`card ${w.active ? 'emergency' : ''}`}>
              <p className="outcome">
                <span className={`badge ${w.active ? 'emergency' : 'neutral'}`}>{statusText(w)}</span>
              </p>
              <p>
                <strong>{data.names.get(w.id)}</strong> opened the records of {patientLabel(w.patient)}.
              </p>
              <WindowFacts w={w} />
              <AccessList w={w} />
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function WindowFacts(props: { w: EmergencyWindow }) {
  const { w } = props;
  return (
    <dl className="details compact">
      <dt>Why</dt>
      <dd>
        {w.reason === null ? (
          <span className="small">
            The reason is locked for the patient, the clinician, their organization and its privacy officers; this account cannot open it.
          </span>
        ) : (
          <>“{w.reason}”</>
        )}
      </dd>
      <dt>From</dt>
      <dd>{formatDateTime(w.openedAt.time)}</dd>
      <dt>Until</dt>
      <dd>{formatDateTime(w.expiresAt)}</dd>
    </dl>
  );
}

function AccessList(props: { w: EmergencyWindow; label?: (record: string) => string }) {
  const accesses = (props.w.accesses ?? []) as Array<{ id?: string; record?: string; decision?: string; at?: number }>;
  if (accesses.length === 0) return <p>No record has been opened yet.</p>;
  const items = (
    <ul className="accesses">
      {accesses.map((a, i) => (
        <li key={a.id ?? i}>
          <span className="badge emergency">Emergency</span> {props.label?.(String(a.record)) ?? 'a record'},{' '}
          {a.decision === 'allowed' ? 'opened' : 'refused'} {formatDateTime(a.at)}
        </li>
      ))}
    </ul>
  );
  // Many reads: a summary, not 200 lines (how many records, how often, over what time).
  const summary = readsSummary(accesses);
  if (summary === undefined)
    return (
      <>
        <p>Times a record was opened: {accesses.length}</p>
        {items}
      </>
    );
  return (
    <>
      <p data-testid="emergency-summary">
        <strong>
          {summary.records} {summary.records === 1 ? 'record' : 'records'} opened {summary.reads} times
        </strong>
        {summary.first !== undefined ? `, from ${formatDateTime(summary.first)} to ${formatDateTime(summary.last)}` : ''}.
      </p>
      <details className="log-group">
        <summary>Show each record opened ({accesses.length})</summary>
        {items}
      </details>
    </>
  );
}

/** `/emergency-review` for privacy officers. */
export function EmergencyReviewPage() {
  return (
    <section>
      <EmergencyReview heading="h1" />
    </section>
  );
}

// ---- Patient -----------------------------------------------------------------------------

/**
 * At the top of the patient's home: emergency access that is open, or that was opened since
 * the emergency key was last changed — who, why, from when until when, every record opened —
 * and "Change my emergency key".
 */
export function PatientEmergencyNotice(props: { records?: ShownRecord[] }) {
  const user = useUser();
  const [changed, setChanged] = useState<string | undefined>(undefined);
  const { data, error, reload } = useLoad(async () => {
    const listing = await listEmergency(user.client);
    if (listing.as !== 'patient') return { windows: [], names: new Map<string, string>(), rotate: false };
    const since = (listing.split as { at?: { height?: number } } | null)?.at?.height ?? 0;
    const windows = listing.windows.filter((w) => w.active || (listing.rotationRecommended && w.openedAt.height >= since));
    const names = new Map<string, string>();
    for (const w of windows) names.set(w.id, await clinicianOf(user, w));
    return { windows, names, rotate: listing.rotationRecommended };
  }, [user]);
  const label = (record: string): string => {
    const shown = props.records?.find((r) => r.meta.record === record);
    const opened = user.cache.get(record);
    const title = shown?.summary?.title ?? (opened === undefined ? undefined : summarize(opened).title);
    const category = shown === undefined ? undefined : categoryLabel(shown.meta.category).toLowerCase();
    return title !== undefined
      ? `${title}${category ? ` (${category})` : ''}`
      : category !== undefined
        ? `a record (${category})`
        : 'a record';
  };
  if (changed !== undefined) return <Notice tone="ok">{changed}</Notice>;
  if (error !== undefined) return <ErrorMessage error={error} title="We could not check for emergency access to your records." />;
  if (data === undefined || data.windows.length === 0) return null;
  const open = data.windows.find((w) => w.active);
  return (
    <section className="message emergency patient-emergency" aria-labelledby="pe-title">
      <h2 id="pe-title">{open ? 'Your records are open for an emergency' : 'Your records were opened in an emergency'}</h2>
      {data.windows.map((w) => (
        <div key={w.id} className="emergency-window">
          <p>
            <strong>{data.names.get(w.id)}</strong> {w.active ? 'can open' : 'could open'} your records without your permission
            {w.active ? `, until ${formatUntil(w.expiresAt)}.` : '.'}
          </p>
          <WindowFacts w={w} />
          {w.active && <EndEmergencyWindow w={w} who={data.names.get(w.id) ?? 'the clinician'} onEnded={reload} />}
          <AccessList w={w} label={label} />
        </div>
      ))}
      {data.rotate && (
        <RotateKey
          openUntil={open?.expiresAt}
          onDone={(n) => {
            setChanged(
              `Your emergency key was changed. ${n} ${n === 1 ? 'record is' : 'records are'} now locked to the new key; the old key opens none of them.`,
            );
            reload();
          }}
        />
      )}
      <p>
        <Link to="/access-log">See every access in your access log</Link>
      </p>
    </section>
  );
}

/** How long "Change my emergency key" waits for the ledger to close a window that just ended. */
const CLOSE_WAIT_MS = 60_000;

function RotateKey(props: { openUntil?: number; onDone: (rewrapped: number) => void }) {
  const user = useUser();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const text: ReactNode = (
    <p id="rotate-why">
      In an emergency the network gives the clinician your <em>emergency key</em>, which opens your records. Changing it makes a new key,
      shares it out among the network’s servers again, and locks your records to the new one, so the old key cannot open them any more. What
      the clinician already read is not taken back.
    </p>
  );
  return (
    <div className="rotate">
      <h3>Change my emergency key</h3>
      {text}
      {props.openUntil !== undefined ? (
        <p>
          <strong>You can change it when the emergency access ends, at {formatUntil(props.openUntil)}.</strong>
        </p>
      ) : (
        <>
          <button
            type="button"
            disabled={busy}
            aria-busy={busy}
            aria-describedby="rotate-why"
            onClick={async () => {
              setBusy(true);
              setError(undefined);
              try {
                // The window ended by this device's clock; the ledger closes it with its next
                // block, which can be a few seconds later: wait for that rather than refuse.
                const giveUp = Date.now() + CLOSE_WAIT_MS;
                for (;;) {
                  try {
                    const done = await rotateEmergencyKey(user.client, (o) => user.client.putObject(o));
                    props.onDone(done.rewrapped);
                    break;
                  } catch (err) {
                    if (!hasClientCode(err, 'WINDOW_ACTIVE') || Date.now() > giveUp) throw err;
                    await new Promise((r) => setTimeout(r, 2_000));
                  }
                }
              } catch (err) {
                setError(err);
              } finally {
                setBusy(false);
              }
            }}
          >
            {busy ? 'Changing your emergency key… (locking each record again)' : 'Change my emergency key'}
          </button>
          {error !== undefined && (
            <div className="message error" role="alert">
              <strong>Your emergency key was not changed.</strong>{' '}
              {hasClientCode(error, 'WINDOW_ACTIVE')
                ? 'Emergency access is still open; you can change the key when it ends.'
                : friendlyError(error)}
            </div>
          )}
        </>
      )}
    </div>
  );
}
