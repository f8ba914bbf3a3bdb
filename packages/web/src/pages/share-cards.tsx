// "Who can see my records now" (issue 17 items 4 and 5): one card per person or organization,
// whatever number of grants they hold, edited in place (a new grant, then the old ones
// revoked, so access never lapses in between); "Stop sharing" asks first, naming them; a
// share a delegate made says so (it outlives the delegation); and clinicians with emergency
// access open now, which the patient can end at once.
import { type Grant, type Identity, type MedLedgerClient, PURPOSES, type Purpose } from '@medledger/client';
import { useState } from 'react';
import { CATEGORIES, categoryLabel, PURPOSE_LABELS, purposeLabel } from '../labels.js';
import { useUser } from '../session.js';
import { ErrorMessage, formatDate } from '../ui.js';
import { clinicianOf } from './emergency.js';
import { OpenEmergencyWindows } from './emergency-patient.js';

/**
 * How the patient knows someone: the name they gave them on this device, with the code (and
 * any name on the chain) in smaller print so two people given the same name can be told
 * apart; or, with no such name, the name in words (`describeIdentity`), which already says the code.
 */
export interface PersonLabel {
  name: string;
  detail?: string;
}

export function PersonName(props: { label: PersonLabel }) {
  const { name, detail } = props.label;
  return (
    <>
      {name}
      {detail !== undefined && (
        <>
          {' '}
          <span className="person-code">({detail})</span>
        </>
      )}
    </>
  );
}

/** What one grantee may do, merged from their active grants (what the edit form starts from). */
export interface ShareTerms {
  categories: string[];
  purpose: Purpose;
  /** Block time (ms), or undefined for no end. */
  expiresAt: number | undefined;
  canAdd: boolean;
}

export function termsOf(grants: readonly Grant[]): ShareTerms {
  const first = grants[0];
  const ends = grants.map((g) => g.expiresAt ?? null);
  return {
    categories: [...new Set(grants.flatMap((g) => g.scope.categories ?? []))].sort(),
    purpose: (first?.purpose ?? 'treatment') as Purpose,
    expiresAt: ends.includes(null) ? undefined : Math.max(...(ends as number[])),
    canAdd: grants.some((g) => g.access === 'read-write'),
  };
}

export function scopeText(g: Grant): string {
  const parts = [...(g.scope.categories ?? []).map(categoryLabel), ...(g.scope.resourceTypes ?? [])];
  if ((g.scope.records ?? []).length > 0) parts.push(`${g.scope.records?.length} chosen record(s)`);
  return parts.join(', ');
}

const dayInput = (ms: number | undefined) => new Date(ms ?? Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);

function EditShare(props: { who: string; grants: Grant[]; onSaved: (message: string) => void; onCancel: () => void }) {
  const user = useUser();
  const start = termsOf(props.grants);
  const [categories, setCategories] = useState(start.categories);
  const [purpose, setPurpose] = useState<Purpose>(start.purpose);
  const [noEnd, setNoEnd] = useState(start.expiresAt === undefined);
  const [until, setUntil] = useState(dayInput(start.expiresAt));
  const [canAdd, setCanAdd] = useState(start.canAdd);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const idBase = `edit-${props.grants[0]?.grantee ?? 'x'}`;
  async function save() {
    setProblem(undefined);
    setError(undefined);
    if (categories.length === 0) return setProblem('Choose at least one kind of record, or use “Stop sharing” instead.');
    const expiresAt = noEnd ? undefined : new Date(`${until}T23:59:59`).getTime();
    if (expiresAt !== undefined && !(expiresAt > Date.now())) return setProblem('Choose an end date in the future, or “No end date”.');
    setBusy(true);
    try {
      // The new terms first, then the old grants: they never lose access in between.
      await user.client.grant({
        grantee: props.grants[0]?.grantee as string,
        categories,
        purpose,
        access: canAdd ? 'read-write' : 'read',
        shareExisting: true,
        ...(expiresAt === undefined ? {} : { expiresAt }),
      });
      for (const g of props.grants) await user.client.revoke(g.id);
      props.onSaved(`What ${props.who} can see was changed.`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <div className="panel edit-share">
      <fieldset>
        <legend>What can {props.who} see?</legend>
        {CATEGORIES.map((c) => (
          <div className="choice" key={c.code}>
            <input
              type="checkbox"
              id={`${idBase}-${c.code}`}
              checked={categories.includes(c.code)}
              onChange={(e) => setCategories(e.target.checked ? [...categories, c.code] : categories.filter((x) => x !== c.code))}
            />
            <label htmlFor={`${idBase}-${c.code}`}>{c.label}</label>
          </div>
        ))}
      </fieldset>
      <label htmlFor={`${idBase}-purpose`}>Why are you sharing?</label>
      <select id={`${idBase}-purpose`} value={purpose} onChange={(e) => setPurpose(e.target.value as Purpose)}>
        {PURPOSES.filter((p) => p !== 'patient-request').map((p) => (
          <option key={p} value={p}>
            {PURPOSE_LABELS[p]}
          </option>
        ))}
      </select>
      <label htmlFor={`${idBase}-until`}>Until</label>
      <input id={`${idBase}-until`} type="date" value={until} disabled={noEnd} onChange={(e) => setUntil(e.target.value)} />
      <div className="choice">
        <input type="checkbox" id={`${idBase}-noend`} checked={noEnd} onChange={(e) => setNoEnd(e.target.checked)} />
        <label htmlFor={`${idBase}-noend`}>No end date (until I stop it)</label>
      </div>
      <div className="choice">
        <input type="checkbox" id={`${idBase}-add`} checked={canAdd} onChange={(e) => setCanAdd(e.target.checked)} />
        <label htmlFor={`${idBase}-add`}>Also let them add new records of these kinds</label>
      </div>
      {problem && (
        <div className="message error" role="alert">
          {problem}
        </div>
      )}
      <ErrorMessage error={error} title="The sharing was not changed." />
      <button type="button" disabled={busy} aria-busy={busy} onClick={save}>
        {busy ? 'Saving…' : `Save changes for ${props.who}`}
      </button>{' '}
      <button type="button" className="secondary" onClick={props.onCancel}>
        Cancel
      </button>
    </div>
  );
}

function StopSharing(props: { who: string; grants: Grant[]; onStopped: (message: string) => void }) {
  const user = useUser();
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  if (!asking)
    return (
      <button type="button" className="danger" onClick={() => setAsking(true)}>
        Stop sharing with {props.who}
      </button>
    );
  return (
    <div className="confirm">
      <p>
        <strong>Stop sharing with {props.who}?</strong> From the next block on they can no longer open your records. What they already saw
        stays with them.
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
            for (const g of props.grants) await user.client.revoke(g.id);
            props.onStopped(`Sharing stopped. ${props.who} can no longer open your records.`);
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        {busy ? 'Stopping…' : `Yes, stop sharing with ${props.who}`}
      </button>{' '}
      <button type="button" className="secondary" onClick={() => setAsking(false)}>
        Keep sharing
      </button>
      <ErrorMessage error={error} title="Sharing was not stopped." />
    </div>
  );
}

/**
 * Who made a share, when it was not the patient: a delegate's shares stay in force after the
 * delegate is removed (docs/records.md "Delegates"), so the patient must be able to tell them apart.
 */
function SharedBy(props: {
  grant: Grant;
  names: Map<string, string> | undefined;
  makers: Map<string, PersonLabel> | undefined;
  delegates: ReadonlySet<string> | undefined;
}) {
  const by = props.grant.grantedBy;
  if (by === undefined || by === props.grant.patient) return null;
  const name = <PersonName label={props.makers?.get(by) ?? { name: props.names?.get(by) ?? 'someone' }} />;
  // While the delegates are loading (or failed to), say only what the grant proves.
  return (
    <p className="shared-by" data-testid="shared-by">
      {props.delegates === undefined ? (
        <>
          Shared by <strong>{name}</strong>, acting as your delegate
        </>
      ) : props.delegates.has(by) ? (
        <>
          Shared by your delegate <strong>{name}</strong>
        </>
      ) : (
        <>
          Shared by <strong>{name}</strong> when they were your delegate. Removing a delegate does not stop the shares they made.
        </>
      )}
    </p>
  );
}

/** One grantee's card: each grant's terms (and who made it), Change, Stop sharing. */
function GranteeCard(props: {
  grantee: string;
  who: string;
  grants: Grant[];
  names: Map<string, string> | undefined;
  makers: Map<string, PersonLabel> | undefined;
  delegates: ReadonlySet<string> | undefined;
  onChanged: (message: string) => void;
}) {
  const [editing, setEditing] = useState(false);
  return (
    <li className="card grant">
      <p className="title">{props.who}</p>
      {props.grants.map((g) => (
        <div key={g.id}>
          <SharedBy grant={g} names={props.names} makers={props.makers} delegates={props.delegates} />
          <dl className="details compact">
            <dt>Can see</dt>
            <dd>{scopeText(g)}</dd>
            <dt>Why</dt>
            <dd>{purposeLabel(g.purpose)}</dd>
            <dt>Until</dt>
            <dd>{g.expiresAt ? formatDate(g.expiresAt) : 'You stop it'}</dd>
            <dt>Can add records</dt>
            <dd>{g.access === 'read-write' ? 'Yes' : 'No'}</dd>
          </dl>
        </div>
      ))}
      {editing ? (
        <EditShare
          who={props.who}
          grants={props.grants}
          onCancel={() => setEditing(false)}
          onSaved={(m) => {
            setEditing(false);
            props.onChanged(m);
          }}
        />
      ) : (
        <button type="button" className="secondary" onClick={() => setEditing(true)}>
          Change what {props.who} can see
        </button>
      )}{' '}
      <StopSharing who={props.who} grants={props.grants} onStopped={props.onChanged} />
    </li>
  );
}

/** The whole "Who can see my records now" list: grantees, then open emergency access. */
export function WhoCanSee(props: {
  grants: Grant[] | undefined;
  /** Names of grantees and of the delegates who made grants (`sharingNames`). */
  names: Map<string, string> | undefined;
  /** How the patient knows each delegate who made a grant (their name on this device, `personLabel`). */
  makers?: Map<string, PersonLabel>;
  /** The patient's accepted delegates now. */
  delegates: ReadonlySet<string> | undefined;
  onChanged: (message: string) => void;
}) {
  const user = useUser();
  const byGrantee = new Map<string, Grant[]>();
  for (const g of props.grants ?? []) byGrantee.set(g.grantee, [...(byGrantee.get(g.grantee) ?? []), g]);
  return (
    <>
      <OpenEmergencyWindows nameOf={(w) => clinicianOf(user, w)} />
      {props.grants?.length === 0 && <p className="empty">Nobody but you can see your records.</p>}
      <ul className="cards" aria-label="People and organizations with access">
        {[...byGrantee].map(([grantee, grants]) => (
          <GranteeCard
            key={grantee}
            grantee={grantee}
            who={props.names?.get(grantee) ?? 'someone'}
            grants={grants}
            names={props.names}
            makers={props.makers}
            delegates={props.delegates}
            onChanged={props.onChanged}
          />
        ))}
      </ul>
    </>
  );
}

/** Names in words ("Dr Grey, clinician at Grey Sloan") for every grantee, and every delegate who made a grant. */
export async function sharingNames(
  grants: readonly Grant[],
  describe: (identity: Identity) => Promise<string>,
  lookup: (id: string) => Promise<Identity>,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const makers = grants.flatMap((g) => (typeof g.grantedBy === 'string' && g.grantedBy !== g.patient ? [g.grantedBy] : []));
  for (const id of new Set([...grants.map((g) => g.grantee), ...makers])) out.set(id, await describe(await lookup(id)));
  return out;
}

/** "1 share", "3 shares". */
export const sharesText = (n: number) => (n === 1 ? '1 share' : `${n} shares`);

/**
 * Stop, one by one, the active shares of `patient` that `by` made, listed afresh from the
 * proven complete grants list (so one made since a question was asked is stopped too). Each
 * revocation is its own transaction: how many were stopped, and the error that halted the
 * rest, if one did.
 */
export async function stopSharesMadeBy(
  client: Pick<MedLedgerClient, 'grantsMadeBy' | 'revoke'>,
  patient: string,
  by: string,
): Promise<{ stopped: number; error?: unknown }> {
  let stopped = 0;
  try {
    for (const g of await client.grantsMadeBy(patient, by)) {
      await client.revoke(g.id);
      stopped++;
    }
  } catch (error) {
    return { stopped, error };
  }
  return { stopped };
}

/** The shares a delegate made, one line each: who can see what, until when (`names` from sharingNames). */
export function SharesMadeList(props: { shares: readonly Grant[]; names: ReadonlyMap<string, string> }) {
  return (
    <ul className="shares-made">
      {props.shares.map((g) => (
        <li key={g.id}>
          <strong>{props.names.get(g.grantee) ?? 'someone'}</strong> can see {scopeText(g)},{' '}
          {g.expiresAt === undefined ? 'with no end date' : `until ${formatDate(g.expiresAt)}`}
        </li>
      ))}
    </ul>
  );
}
