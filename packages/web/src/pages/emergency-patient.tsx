// The patient's side of emergency access (issue 17 item 4): open windows listed among who can
// see my records, ending one early in one click (the chain enforces it: emergency.close), and
// a printable emergency card with a QR code carrying the identifier clinicians ask for.
import { closeEmergencyWindow, type EmergencyWindow, listEmergency } from '@medledger/client';
import { useState } from 'react';
import { QrCode } from '../qr.js';
import { NODE_URL, useUser } from '../session.js';
import { ErrorMessage, formatDateTime, Link, PageTitle, useLoad } from '../ui.js';

/**
 * "End now" for an open window, behind a confirmation naming the clinician. Ending it stops
 * every node serving records through it from the next block; it does not take back what was
 * already read.
 */
export function EndEmergencyWindow(props: { w: EmergencyWindow; who: string; onEnded: () => void }) {
  const user = useUser();
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  if (!asking)
    return (
      <button type="button" className="danger" onClick={() => setAsking(true)}>
        End {props.who}’s emergency access now
      </button>
    );
  return (
    <div className="confirm">
      <p>
        <strong>End {props.who}’s emergency access now?</strong> They will not be able to open any more of your records. What they have
        already seen stays with them.
      </p>
      <button
        type="button"
        className="danger"
        disabled={busy}
        aria-busy={busy}
        onClick={async () => {
          setBusy(true);
          setError(undefined);
          try {
            await closeEmergencyWindow(user.client, props.w.id);
            props.onEnded();
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        {busy ? 'Ending…' : `Yes, end ${props.who}’s access`}
      </button>{' '}
      <button type="button" className="secondary" onClick={() => setAsking(false)}>
        Keep it open
      </button>
      <ErrorMessage error={error} title="The emergency access was not ended." />
    </div>
  );
}

/**
 * Clinicians who can open my records right now through an emergency window, for the Sharing
 * page; with `patient`, those who can open that patient's, for their accepted delegate (the
 * chain lets a delegate end a window as the patient can).
 */
export function OpenEmergencyWindows(props: { nameOf: (w: EmergencyWindow) => Promise<string>; patient?: string }) {
  const user = useUser();
  const { data, error, reload } = useLoad(async () => {
    const listing = await listEmergency(user.client, props.patient === undefined ? {} : { patient: props.patient });
    const open = listing.windows.filter((w) => w.active);
    return Promise.all(open.map(async (w) => ({ w, who: await props.nameOf(w) })));
  }, [user, props.patient]);
  if (error !== undefined) return <ErrorMessage error={error} title="We could not check for emergency access." />;
  if (data === undefined || data.length === 0) return null;
  return (
    <ul className="cards" aria-label="Emergency access open now">
      {data.map(({ w, who }) => (
        <li key={w.id} className="card emergency">
          <p className="title">{who}</p>
          <p>
            <span className="badge emergency">Emergency access</span> all your records, until {formatDateTime(w.expiresAt)}
          </p>
          <EndEmergencyWindow w={w} who={who} onEnded={reload} />
        </li>
      ))}
    </ul>
  );
}

/** `/emergency-card`: a card to print and carry, and its QR code, with the patient's emergency identifier. */
export function EmergencyCardPage() {
  const user = useUser();
  const id = user.client.id;
  const link = `${NODE_URL}/clinician/emergency?patient=${id}`;
  return (
    <section>
      <PageTitle>My emergency card</PageTitle>
      <p className="no-print">
        Print this card and keep it with you, or save the QR code on your phone. In an emergency, a clinician who is allowed to use
        emergency access scans it or types the code to open your records. It does not show your records, and the code alone opens nothing:
        only a clinician their hospital trusts with emergency access can use it, and you are told every time.
      </p>
      <div className="emergency-card" data-testid="emergency-card">
        <h2>MedLedger emergency card</h2>
        <p>
          <strong>{user.label}</strong>
        </p>
        <p>
          In an emergency, clinicians: scan the code, or enter this identifier under “Emergency access”:
          <br />
          <code className="code" data-testid="emergency-id">
            {id}
          </code>
        </p>
        <QrCode text={link} label={`QR code: emergency access to ${user.label}’s records`} />
      </div>
      <p className="no-print">
        <button type="button" onClick={() => window.print()}>
          Print my card
        </button>{' '}
        <Link to="/sharing">Back to sharing</Link>
      </p>
    </section>
  );
}
