// An organization's admin adds staff: the new member's keys are made in this browser, locked
// with a passphrase into their recovery file, and registered on the ledger (`staff.register`).
import { isCareOrganizationKind, type StaffRole, staffRegisterBody } from '@medledger/client';
import { generateKeyBundle, idFromPublicKey } from '@medledger/crypto/browser';
import { type FormEvent, useState } from 'react';
import { downloadJson, lockKeys } from '../accounts.js';
import { ROLE_LABELS } from '../labels.js';
import { useUser } from '../session.js';
import { ErrorMessage, NewPassphraseFields, Notice, newPassphraseProblem, PageTitle, SharingCode } from '../ui.js';
import { EmergencyPrivilegeForm, EmergencyReview } from './emergency.js';

const STAFF_ROLES: StaffRole[] = ['clinician', 'privacy-officer', 'pharmacy', 'insurer', 'researcher', 'auditor'];

export function OrganizationHome() {
  const user = useUser();
  const orgName = typeof user.identity.name === 'string' ? user.identity.name : 'your organization';
  const [name, setName] = useState('');
  const [role, setRole] = useState<StaffRole>('clinician');
  const [pass, setPass] = useState('');
  const [pass2, setPass2] = useState('');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const [added, setAdded] = useState<{ name: string; id: string; file: unknown; fileName: string } | undefined>(undefined);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setProblem(undefined);
    setError(undefined);
    if (name.trim() === '') return setProblem('Enter the staff member’s name as patients should see it, e.g. “Dr Meredith Grey”.');
    const passProblem = newPassphraseProblem(pass, pass2, ' for their recovery file');
    if (passProblem !== undefined) return setProblem(passProblem);
    setBusy(true);
    try {
      const keys = generateKeyBundle();
      const file = await lockKeys(keys, pass, name.trim());
      await user.client.submitAndWait(
        'staff.register',
        staffRegisterBody({ publicKey: keys.signing.publicKey, encryptionKey: keys.encryption.publicKey, role, name: name.trim() }),
      );
      const fileName = `medledger-recovery-${name
        .trim()
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')}.json`;
      setAdded({ name: name.trim(), id: idFromPublicKey(keys.signing.publicKey), file, fileName });
      setName('');
      setPass('');
      setPass2('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section>
      <PageTitle>Staff of {orgName}</PageTitle>
      <p>Add the people who work for {orgName}. Patients see their name when they share records with them.</p>
      {added && (
        <Notice tone="ok">
          <strong>{added.name} was added.</strong> Download their recovery file and give it to them with the passphrase, separately (for
          example the file by email and the passphrase in person). They sign in with it on the Sign in page.
          <br />
          <button type="button" onClick={() => downloadJson(added.fileName, added.file)}>
            Download {added.name}’s recovery file
          </button>
          <SharingCode id={added.id} label="their sharing code" />
        </Notice>
      )}
      <form className="panel" onSubmit={submit} noValidate aria-labelledby="staff-title">
        <h2 id="staff-title">Add a staff member</h2>
        <label htmlFor="staff-name">Name</label>
        <input id="staff-name" value={name} onChange={(e) => setName(e.target.value)} />
        <label htmlFor="staff-role">Role</label>
        <select id="staff-role" value={role} onChange={(e) => setRole(e.target.value as StaffRole)}>
          {STAFF_ROLES.map((r) => (
            <option key={r} value={r}>
              {ROLE_LABELS[r] ?? r}
            </option>
          ))}
        </select>
        <NewPassphraseFields
          id="staff-pass"
          label="A passphrase for their recovery file"
          hint="They need it to sign in."
          pass={pass}
          again={pass2}
          onPass={setPass}
          onAgain={setPass2}
        />
        {problem && (
          <div className="message error" role="alert">
            {problem}
          </div>
        )}
        <ErrorMessage error={error} title="The staff member was not added." />
        <button type="submit" disabled={busy} aria-busy={busy}>
          {busy ? 'Adding…' : 'Add staff member'}
        </button>
      </form>
      <EmergencyPrivilegeForm />
      {isCareOrganizationKind(user.identity.orgKind) && <EmergencyReview />}
      <h2>Our sharing code</h2>
      <p>Patients can share records with the whole organization using this code.</p>
      <SharingCode id={user.client.id} label="our sharing code" />
    </section>
  );
}
