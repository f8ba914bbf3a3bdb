// My account: who is signed in (name, role, organization, network), the sharing code, the
// recovery file again, a new passphrase, all my records as a FHIR Bundle, a printable
// summary, delegations, and sign-out.
import { type FormEvent, useState } from 'react';
import { downloadJson, lockKeys, saveAccount, savedAccounts, unlockKeys } from '../accounts.js';
import { ROLE_LABELS } from '../labels.js';
import { loadRecords } from '../records-data.js';
import { navigate } from '../router.js';
import { useSession, useUser } from '../session.js';
import {
  ActionButton,
  ErrorMessage,
  Link,
  NewPassphraseFields,
  Notice,
  newPassphraseProblem,
  PageTitle,
  SharingCode,
  useLoad,
} from '../ui.js';
import { Delegations } from './delegations.js';
import { NodeSetting } from './node-choice.js';

/** A file name made of safe characters only. */
function fileName(label: string, what: string): string {
  const safe =
    label
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'account';
  return `medledger-${what}-${safe}.json`;
}

export function AccountPage() {
  const { signOut } = useSession();
  const user = useUser();
  const org = useLoad(async () => {
    const orgId = user.identity.org;
    return typeof orgId === 'string' ? await user.client.identity(orgId) : undefined;
  }, [user]);
  const role = ROLE_LABELS[user.identity.role] ?? user.identity.role;
  const patient = user.identity.role === 'patient';
  return (
    <section>
      <PageTitle>My account</PageTitle>
      <dl className="details" aria-label="Who is signed in">
        <dt>Signed in as</dt>
        <dd data-testid="signed-in-as">
          <strong>{user.label}</strong>
          {typeof user.identity.name === 'string' && user.identity.name !== user.label ? ` (${user.identity.name})` : ''}
        </dd>
        <dt>Role</dt>
        <dd>{typeof user.identity.orgKind === 'string' ? 'Organization administrator' : role}</dd>
        {typeof org.data?.name === 'string' && (
          <>
            <dt>Organization</dt>
            <dd>{org.data.name}</dd>
          </>
        )}
        <dt>Network</dt>
        <dd>{user.genesis.chainId}</dd>
      </dl>
      <p>You will be signed out automatically after a while without activity.</p>
      <h2>My sharing code</h2>
      <p>Give this code to someone who needs it to share with you, or to make you a delegate. It does not reveal your name.</p>
      <SharingCode id={user.client.id} />
      {patient && <ExportRecords />}
      <RecoveryFile />
      <ChangePassphrase />
      <Delegations />
      <NodeSetting
        signOut={async () => {
          await user.client.signOut().catch(() => undefined); // ended on the old node before the page reloads
          signOut('You changed the node this app uses.');
        }}
      />
      <h2>Sign out</h2>
      <button
        type="button"
        onClick={() => {
          signOut('You signed out.');
          navigate('/sign-in');
        }}
      >
        Sign out
      </button>
    </section>
  );
}

/** All my records as one FHIR R4 Bundle (type "collection"), and a printable summary. */
function ExportRecords() {
  const user = useUser();
  const [done, setDone] = useState<string | undefined>(undefined);
  return (
    <section className="panel" aria-labelledby="export-title">
      <h2 id="export-title">Take my records with me</h2>
      <p>
        Download every record you can open as one FHIR file (a standard other health apps and clinics can import), or print a summary of
        your problems, medications, allergies and vaccinations.
      </p>
      <div className="choices">
        <ActionButton
          className="secondary"
          busyText="Opening your records…"
          onAction={async () => {
            setDone(undefined);
            const records = await loadRecords(user, user.client.id);
            const opened = records.filter((r) => r.resource !== undefined);
            downloadJson(fileName(user.label, 'records'), {
              resourceType: 'Bundle',
              type: 'collection',
              timestamp: new Date().toISOString(),
              entry: opened.map((r) => ({ fullUrl: `urn:medledger:record:${r.meta.record}`, resource: r.resource })),
            });
            const left = records.length - opened.length;
            setDone(
              `Downloaded ${opened.length} ${opened.length === 1 ? 'record' : 'records'} as a FHIR Bundle.${
                left > 0 ? ` ${left} erased or unopenable ${left === 1 ? 'record is' : 'records are'} not in it.` : ''
              }`,
            );
          }}
        >
          Download all my records (FHIR)
        </ActionButton>
        <Link to="/records/summary" className="button secondary">
          Print a summary
        </Link>
      </div>
      {done && <Notice tone="ok">{done}</Notice>}
    </section>
  );
}

/** The recovery file again: the keystore saved on this device, still locked by the passphrase. */
function RecoveryFile() {
  const user = useUser();
  const saved = savedAccounts().find((a) => a.id === user.client.id);
  return (
    <section className="panel" aria-labelledby="recovery-title">
      <h2 id="recovery-title">Recovery file</h2>
      {saved === undefined ? (
        <p>This device does not keep this account. Choose a new passphrase below to make a new recovery file.</p>
      ) : (
        <>
          <p>
            Your recovery file is the only way into your account on a new device. It is locked with your passphrase; keep it somewhere safe.
          </p>
          <button type="button" className="secondary" onClick={() => downloadJson(fileName(user.label, 'recovery'), saved.keystore)}>
            Download my recovery file again
          </button>
        </>
      )}
    </section>
  );
}

/**
 * A new passphrase: the current one must open the saved keystore first; the keys are locked
 * again under the new one, saved on this device, and offered as a new recovery file. Old
 * recovery files still open with the old passphrase, which the page says.
 */
function ChangePassphrase() {
  const user = useUser();
  const saved = savedAccounts().find((a) => a.id === user.client.id);
  const [current, setCurrent] = useState('');
  const [pass, setPass] = useState('');
  const [again, setAgain] = useState('');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setProblem(undefined);
    setError(undefined);
    setDone(false);
    const bad = newPassphraseProblem(pass, again);
    if (bad !== undefined) return setProblem(bad);
    setBusy(true);
    try {
      // Proves the person at the keyboard knows the passphrase, not only that the session is open.
      if (saved !== undefined) await unlockKeys(saved.keystore, current);
      const keystore = await lockKeys(user.client.keys, pass, user.label);
      saveAccount({ id: user.client.id, label: user.label, keystore, ...(saved?.chain ? { chain: saved.chain } : {}) });
      downloadJson(fileName(user.label, 'recovery'), keystore);
      setDone(true);
      setCurrent('');
      setPass('');
      setAgain('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section className="panel" aria-labelledby="pass-title">
      <h2 id="pass-title">Change my passphrase</h2>
      <form onSubmit={submit} noValidate>
        {saved !== undefined && (
          <>
            <label htmlFor="cp-current">Current passphrase</label>
            <input
              id="cp-current"
              type="password"
              autoComplete="current-password"
              value={current}
              onChange={(e) => setCurrent(e.target.value)}
            />
          </>
        )}
        <NewPassphraseFields
          id="cp-new"
          label="New passphrase"
          hint="You will get a new recovery file locked with it."
          pass={pass}
          again={again}
          onPass={setPass}
          onAgain={setAgain}
        />
        {problem && (
          <p className="field-error" role="alert">
            {problem}
          </p>
        )}
        <ErrorMessage error={error} title="Your passphrase was not changed." />
        <button type="submit" disabled={busy} aria-busy={busy}>
          {busy ? 'Locking your keys… (this takes a few seconds)' : 'Change my passphrase'}
        </button>
      </form>
      {done && (
        <Notice tone="ok">
          Your passphrase was changed on this device and your new recovery file was downloaded. Recovery files you saved before still open
          with the old passphrase: delete them, and keep only the new one.
        </Notice>
      )}
    </section>
  );
}
