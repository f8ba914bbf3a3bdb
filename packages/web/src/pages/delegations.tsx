// "People who asked me to be their delegate", on the account page: a delegation takes
// effect only when the invited person accepts it here (docs/web.md "Delegates"). Stepping
// down says first how many shares the delegate made for that patient are still active (they
// keep working afterwards) and offers to stop them first, while the delegate still may.
import type { Delegation, Grant } from '@medledger/client';
import { useState } from 'react';
import { friendlyError } from '../labels.js';
import { useUser } from '../session.js';
import { ActionButton, ErrorMessage, formatDate, Notice, useBusyStep, useLoad } from '../ui.js';
import { clinicianOf } from './emergency.js';
import { OpenEmergencyWindows } from './emergency-patient.js';
import { SharesMadeList, sharesText, sharingNames, stopSharesMadeBy } from './share-cards.js';
import { describeIdentity, GranteeName } from './sharing.js';

export function Delegations() {
  const user = useUser();
  const me = user.client.id;
  const delegations = useLoad(() => user.client.myDelegations(), [me]);
  const [done, setDone] = useState<{ message: string; tone: 'ok' | 'warn' } | undefined>(undefined);
  if (delegations.data?.length === 0 && done === undefined) return null;
  return (
    <section aria-labelledby="delegations-title">
      <h2 id="delegations-title">Managing records for others</h2>
      {done && <Notice tone={done.tone}>{done.message}</Notice>}
      <ErrorMessage error={delegations.error} title="Your delegations could not be loaded." />
      {delegations.data?.map((d) => (
        <div key={d.patient} className="card" data-testid="delegation" data-status={d.status}>
          <p className="title">
            <GranteeName id={d.patient} />
          </p>
          {d.status === 'pending' ? (
            <>
              <p>Asked you to be their delegate: to see all their records and share them for them. Nothing changes until you accept.</p>
              <ActionButton
                busyText="Accepting…"
                onAction={async () => {
                  await user.client.acceptDelegation(d.patient);
                  delegations.reload();
                }}
              >
                Accept
              </ActionButton>
              <ActionButton
                className="secondary"
                busyText="Declining…"
                onAction={async () => {
                  await user.client.removeDelegate(d.patient, me);
                  delegations.reload();
                }}
              >
                Decline
              </ActionButton>
            </>
          ) : (
            <>
              <p>You are their delegate since {formatDate((d.acceptedAt ?? d.invitedAt).time)}.</p>
              <OpenEmergencyWindows patient={d.patient} nameOf={(w) => clinicianOf(user, w)} />
              <StepDown
                delegation={d}
                onDone={(message, tone) => {
                  setDone({ message, tone });
                  delegations.reload();
                }}
                onStillDelegate={(message) => {
                  setDone({ message, tone: 'warn' });
                  delegations.reload();
                }}
              />
            </>
          )}
        </div>
      ))}
    </section>
  );
}

interface Question {
  /** The patient, in words. */
  name: string;
  shares: Grant[];
  names: Map<string, string>;
}

/**
 * "Stop being their delegate": the first press looks, in the proven complete list of the
 * patient's shares, for the active ones this delegate made. With none, it steps down at once;
 * otherwise it says they keep working and offers to stop them first (keeping them is the
 * default: the patient may rely on that care). Only a delegate may stop them, so they are
 * stopped before stepping down, and a failure part way leaves the delegate in place to retry.
 */
function StepDown(props: {
  delegation: Delegation;
  onDone: (message: string, tone: 'ok' | 'warn') => void;
  /** Some shares were stopped but not all, or stepping down failed: still their delegate. */
  onStillDelegate: (message: string) => void;
}) {
  const user = useUser();
  const me = user.client.id;
  const patient = props.delegation.patient;
  const [question, setQuestion] = useState<Question | undefined>(undefined);
  const [stopThem, setStopThem] = useState(false);
  const { busy, error, run } = useBusyStep();
  const ids = `step-down-${patient}`;
  const lookup = (id: string) => user.client.identity(id);
  const describe = (id: string) => lookup(id).then((i) => describeIdentity(lookup, i));

  const start = () =>
    run(async () => {
      const [name, shares] = await Promise.all([describe(patient), user.client.grantsMadeBy(patient, me)]);
      if (shares.length > 0) {
        setStopThem(false);
        setQuestion({ name, shares, names: await sharingNames(shares, (i) => describeIdentity(lookup, i), lookup) });
        return;
      }
      await user.client.removeDelegate(patient, me);
      props.onDone(`You are no longer the delegate of ${name}.`, 'ok');
    });

  const confirm = (q: Question) =>
    run(async () => {
      if (!stopThem) {
        await user.client.removeDelegate(patient, me);
        const n = q.shares.length;
        props.onDone(
          `You are no longer the delegate of ${q.name}. ${n === 1 ? 'The share you made keeps' : `The ${n} shares you made keep`} working; only ${q.name} (or another delegate of theirs) can stop ${n === 1 ? 'it' : 'them'} now.`,
          'ok',
        );
        return;
      }
      // Listed again just before stopping: a share made since the question was asked is stopped too.
      const { stopped, error: halted } = await stopSharesMadeBy(user.client, patient, me);
      if (halted !== undefined) {
        setQuestion(undefined);
        props.onStillDelegate(
          `You are still the delegate of ${q.name}: ${stopped === 0 ? 'none of the shares you made could be stopped' : `only ${sharesText(stopped)} you made could be stopped`} (${friendlyError(halted)}). Try “Stop being their delegate” again.`,
        );
        return;
      }
      try {
        await user.client.removeDelegate(patient, me);
      } catch (err) {
        setQuestion(undefined);
        props.onStillDelegate(
          `The ${sharesText(stopped)} you made ${stopped === 1 ? 'was' : 'were'} stopped, but you are still the delegate of ${q.name} (${friendlyError(err)}). Try “Stop being their delegate” again.`,
        );
        return;
      }
      props.onDone(
        stopped === 0
          ? `You are no longer the delegate of ${q.name}. The shares you made had already been stopped.`
          : `You are no longer the delegate of ${q.name}, and the ${sharesText(stopped)} you made ${stopped === 1 ? 'was' : 'were'} stopped.`,
        'ok',
      );
    });

  if (question === undefined)
    return (
      <>
        <button type="button" className="danger" disabled={busy} aria-busy={busy} onClick={start}>
          {busy ? 'Checking…' : 'Stop being their delegate'}
        </button>
        <ErrorMessage error={error} title="Nothing was changed." />
      </>
    );
  const q = question;
  const n = q.shares.length;
  const it = n === 1 ? 'it' : 'them';
  return (
    <div className="confirm" data-testid="step-down-question">
      <p>
        <strong>
          For {q.name}, you made {sharesText(n)} of their records that {n === 1 ? 'is' : 'are'} still active.
        </strong>{' '}
        {n === 1 ? 'It keeps' : 'They keep'} working after you stop being their delegate: the people listed below can still see those
        records until {q.name} stops {it}. Once you step down, you can no longer stop {it} yourself.
      </p>
      <SharesMadeList shares={q.shares} names={q.names} />
      <fieldset>
        <legend>What should happen to {n === 1 ? 'this share' : 'these shares'}?</legend>
        <div className="choice">
          <input type="radio" id={`${ids}-keep`} name={`${ids}-choice`} checked={!stopThem} onChange={() => setStopThem(false)} />
          <label htmlFor={`${ids}-keep`}>
            Keep {it} working ({q.name} may rely on this care)
          </label>
        </div>
        <div className="choice">
          <input type="radio" id={`${ids}-stop`} name={`${ids}-choice`} checked={stopThem} onChange={() => setStopThem(true)} />
          <label htmlFor={`${ids}-stop`}>Stop {it} first, then stop being their delegate</label>
        </div>
      </fieldset>
      <button type="button" className="danger" disabled={busy} aria-busy={busy} onClick={() => confirm(q)}>
        {busy
          ? 'Stepping down…'
          : stopThem
            ? `Stop ${n === 1 ? 'the share' : 'the shares'} and stop being their delegate`
            : 'Stop being their delegate, keep the shares'}
      </button>{' '}
      <button type="button" className="secondary" disabled={busy} onClick={() => setQuestion(undefined)}>
        Cancel
      </button>
      <ErrorMessage error={error} title="Nothing was changed." />
    </div>
  );
}
