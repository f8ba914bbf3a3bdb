// Removing a delegate (docs/web.md "Sharing"). The shares a delegate made stay in force after
// the removal (the chain's rule: care a proxy arranged does not silently stop), so before
// removing, the patient is shown those still active and, unless they choose to keep them,
// they are stopped in the same step. Both lists come from the proven complete grants list.
import type { Delegation, Grant } from '@medledger/client';
import { useState } from 'react';
import { friendlyError } from '../labels.js';
import { useUser } from '../session.js';
import { ErrorMessage, useBusyStep } from '../ui.js';
import { type PersonLabel, PersonName, SharesMadeList, sharesText, sharingNames, stopSharesMadeBy } from './share-cards.js';

interface Question {
  label: PersonLabel;
  name: string;
  shares: Grant[];
  names: Map<string, string>;
}

export function RemoveDelegate(props: {
  delegation: Delegation;
  /** The delegate as the patient knows them (sharing.tsx `personLabel`: their name on this device first). */
  labelOf: (id: string) => Promise<PersonLabel>;
  /** A name in words, looked up the proven way (sharing.tsx `describeIdentity`). */
  nameOf: (id: string) => Promise<string>;
  onRemoved: (message: string, tone: 'ok' | 'warn') => void;
}) {
  const user = useUser();
  const me = user.client.id;
  const d = props.delegation;
  const [question, setQuestion] = useState<Question | undefined>(undefined);
  const [stopThem, setStopThem] = useState(true);
  const { busy, error, run } = useBusyStep();
  const ids = `remove-${d.delegate}`;

  // The first press looks for shares they made; with none, it removes them at once.
  const start = () =>
    run(async () => {
      const [label, shares] = await Promise.all([props.labelOf(d.delegate), user.client.grantsMadeBy(me, d.delegate)]);
      const name = label.name;
      if (shares.length > 0) {
        const lookup = (id: string) => user.client.identity(id);
        setStopThem(true);
        setQuestion({ label, name, shares, names: await sharingNames(shares, (i) => props.nameOf(i.id), lookup) });
        return;
      }
      await user.client.removeDelegate(me, d.delegate);
      props.onRemoved(d.status === 'pending' ? `The invitation to ${name} was cancelled.` : `${name} is no longer your delegate.`, 'ok');
    });

  const confirm = (q: Question) =>
    run(async () => {
      await user.client.removeDelegate(me, d.delegate);
      if (!stopThem) {
        props.onRemoved(
          `${q.name} is no longer your delegate. ${q.shares.length === 1 ? 'The share they made keeps' : `The ${q.shares.length} shares they made keep`} working; you can stop ${q.shares.length === 1 ? 'it' : 'them'} under “Who can see my records now”.`,
          'ok',
        );
        return;
      }
      // Listed again now that they are removed: a share they made while you were deciding is stopped too.
      const { stopped, error: halted } = await stopSharesMadeBy(user.client, me, d.delegate);
      if (halted !== undefined) {
        props.onRemoved(
          `${q.name} is no longer your delegate, but only ${sharesText(stopped)} they made could be stopped (${friendlyError(halted)}). Stop the others under “Who can see my records now”.`,
          'warn',
        );
        return;
      }
      props.onRemoved(
        `${q.name} is no longer your delegate, and the ${sharesText(stopped)} they made ${stopped === 1 ? 'was' : 'were'} stopped.`,
        'ok',
      );
    });

  if (question === undefined)
    return (
      <>
        <button type="button" className="danger" disabled={busy} aria-busy={busy} onClick={start}>
          {busy ? 'Checking…' : d.status === 'pending' ? 'Cancel this invitation' : 'Remove this delegate'}
        </button>
        <ErrorMessage error={error} title="Nothing was changed." />
      </>
    );
  const q = question;
  const n = q.shares.length;
  return (
    <div className="confirm" data-testid="remove-delegate-question">
      <p id={`${ids}-question`}>
        <strong>
          <PersonName label={q.label} /> made {sharesText(n)} of your records that {n === 1 ? 'is' : 'are'} still active.
        </strong>{' '}
        Removing {q.name} as your delegate does not stop {n === 1 ? 'it' : 'them'}.
      </p>
      <SharesMadeList shares={q.shares} names={q.names} />
      <fieldset>
        <legend>Also stop {n === 1 ? 'this share' : 'these shares'}?</legend>
        <div className="choice">
          <input type="radio" id={`${ids}-stop`} name={`${ids}-choice`} checked={stopThem} onChange={() => setStopThem(true)} />
          <label htmlFor={`${ids}-stop`}>Yes, stop {n === 1 ? 'it' : 'them'} too</label>
        </div>
        <div className="choice">
          <input type="radio" id={`${ids}-keep`} name={`${ids}-choice`} checked={!stopThem} onChange={() => setStopThem(false)} />
          <label htmlFor={`${ids}-keep`}>
            No, keep {n === 1 ? 'it' : 'them'} working (you can stop {n === 1 ? 'it' : 'them'} later)
          </label>
        </div>
      </fieldset>
      <button type="button" className="danger" disabled={busy} aria-busy={busy} onClick={() => confirm(q)}>
        {busy
          ? 'Removing…'
          : stopThem
            ? `Remove ${q.name} and stop ${n === 1 ? 'the share' : 'the shares'}`
            : `Remove ${q.name}, keep the shares`}
      </button>{' '}
      <button type="button" className="secondary" disabled={busy} onClick={() => setQuestion(undefined)}>
        Cancel
      </button>
      <ErrorMessage error={error} title="Nothing was changed." />
    </div>
  );
}
