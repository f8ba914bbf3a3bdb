// "People who asked me to be their delegate", on the account page: a delegation takes
// effect only when the invited person accepts it here (docs/web.md "Delegates").
import { useUser } from '../session.js';
import { ActionButton, ErrorMessage, formatDate, useLoad } from '../ui.js';
import { clinicianOf } from './emergency.js';
import { OpenEmergencyWindows } from './emergency-patient.js';
import { GranteeName } from './sharing.js';

export function Delegations() {
  const user = useUser();
  const me = user.client.id;
  const delegations = useLoad(() => user.client.myDelegations(), [me]);
  if (delegations.data?.length === 0) return null;
  return (
    <section aria-labelledby="delegations-title">
      <h2 id="delegations-title">Managing records for others</h2>
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
              <ActionButton
                className="danger"
                busyText="Stepping down…"
                onAction={async () => {
                  await user.client.removeDelegate(d.patient, me);
                  delegations.reload();
                }}
              >
                Stop being their delegate
              </ActionButton>
            </>
          )}
        </div>
      ))}
    </section>
  );
}
