// Insurance in the web app (docs/insurance.md): a patient sees their coverage and claims in
// plain words — what was billed, what the insurer paid, what they owe — and disputes one; a
// clinician checks eligibility and requests prior authorization; an insurer's staff work their
// queue of pended prior authorizations, claims in review and disputes.
import {
  type ClaimView,
  checkEligibility,
  decidePreauth,
  disputeClaim,
  listInsurance,
  type PreauthView,
  requestPreauth,
  resolveClaim,
  reviewClaim,
} from '@medledger/client';
import { type FormEvent, useState } from 'react';
import { friendlyError } from '../labels.js';
import { useUser } from '../session.js';
import { ErrorMessage, formatDateTime, Loading, Notice, PageTitle, useLoad } from '../ui.js';

/** Cents as dollars, from the integers (no floating point): 12345 → "$123.45". */
export function dollars(cents: number): string {
  const sign = cents < 0 ? '−' : '';
  const abs = Math.abs(cents);
  return `${sign}$${Math.trunc(abs / 100).toLocaleString('en-US')}.${String(abs % 100).padStart(2, '0')}`;
}

const STATUS_WORDS: Record<string, string> = {
  adjudicated: 'Processed',
  denied: 'Not covered',
  review: 'Being checked by the insurer',
  paid: 'Paid',
};
const DENIAL_WORDS: Record<string, string> = {
  NOT_COVERED: 'your plan does not cover this service',
  COVERAGE_INACTIVE: 'your coverage was not active on that date',
  OUT_OF_NETWORK: 'the provider is not in your plan’s network',
  PREAUTH_REQUIRED: 'it needed the insurer’s approval in advance (prior authorization), which was missing',
};

/** Every page of a list (the node pages them). */
async function all<T>(load: (cursor: string | undefined) => Promise<{ items: T[]; next: string | null }>): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await load(cursor);
    out.push(...page.items);
    if (page.next === null) return out;
    cursor = page.next;
  }
}

function ClaimCard(props: { claim: ClaimView; onDispute?: (reason: string) => Promise<void> }) {
  const { claim } = props;
  const current = claim.adjudications.at(-1);
  const t = current?.total ?? {};
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const services = (current?.lines ?? []).map((l) => String(l.code)).join(', ');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (props.onDispute === undefined) return;
    setBusy(true);
    setError(undefined);
    try {
      await props.onDispute(reason.trim());
      setReason('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const inputId = `dispute-${claim.id}`;
  return (
    <li className="card">
      <p className="outcome">
        <span className={`badge ${claim.status === 'denied' ? 'bad' : 'ok'}`}>{STATUS_WORDS[claim.status] ?? claim.status}</span>{' '}
        {claim.disputeOpen && <span className="badge">Disputed</span>}{' '}
        <time>{formatDateTime((claim.submittedAt as { time: number }).time)}</time>
      </p>
      <p>
        Services billed: {services}. Billed <strong>{dollars(t.submitted ?? 0)}</strong>; your plan allows {dollars(t.allowed ?? 0)}.
      </p>
      <p>
        The insurer pays <strong>{dollars(t.benefit ?? 0)}</strong>. You owe <strong>{dollars(t.patient ?? 0)}</strong>
        {(t.deductible ?? 0) > 0 ? ` (${dollars(t.deductible ?? 0)} toward your deductible)` : ''}.
        {claim.status === 'paid' ? ' The insurer has paid.' : ''}
      </p>
      {(current?.lines ?? [])
        .filter((l) => l.denial !== null)
        .map((l) => (
          <p key={String(l.sequence)} className="reason">
            {String(l.code)} was not paid because {DENIAL_WORDS[String(l.denial)] ?? String(l.denial)}.
          </p>
        ))}
      {/* Say why it was processed again: a review release is not a dispute. */}
      {current?.cause === 'dispute-overturned' && (
        <p className="reason">This claim was processed again after a dispute; the earlier result is kept.</p>
      )}
      {current?.cause === 'review-approved' && <p className="reason">The insurer checked this claim and released it for payment.</p>}
      {props.onDispute !== undefined && !claim.disputeOpen && claim.status !== 'review' && (
        <form onSubmit={submit} className="inline-form">
          <label htmlFor={inputId}>Why do you disagree? (seen by the insurer; no medical details)</label>
          <input id={inputId} value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} required />
          <button type="submit" disabled={busy || reason.trim() === ''}>
            Dispute this claim
          </button>
        </form>
      )}
      {error !== undefined && <p role="alert">{friendlyError(error)}</p>}
    </li>
  );
}

/** The patient's page: coverage and claims, newest first, with a dispute button. */
export function PatientInsurance() {
  const user = useUser();
  const me = user.client.id;
  const { data, error, reload } = useLoad(async () => {
    const [coverages, claims] = await Promise.all([
      all((cursor) =>
        listInsurance<Record<string, unknown>>(user.client, { by: 'patients', id: me, of: 'coverages', ...(cursor ? { cursor } : {}) }),
      ),
      all((cursor) => listInsurance<ClaimView>(user.client, { by: 'patients', id: me, of: 'claims', ...(cursor ? { cursor } : {}) })),
    ]);
    return { coverages, claims: claims.reverse() };
  }, [me]);
  return (
    <section>
      <PageTitle>Insurance</PageTitle>
      <p>Your coverage and every claim your providers sent to your insurer, as the ledger decided them.</p>
      <ErrorMessage error={error} title="Your insurance could not be loaded." />
      {data === undefined && error === undefined && <Loading what="your insurance" />}
      {data !== undefined && (
        <>
          <h2>Coverage</h2>
          {data.coverages.length === 0 ? (
            <p className="empty">No insurer has registered coverage for you.</p>
          ) : (
            <ul aria-label="My coverage">
              {data.coverages.map((c) => (
                <li key={String(c.id)}>
                  Member {String(c.memberId)}, covered from {String(c.from)} to {String(c.to)}.
                </li>
              ))}
            </ul>
          )}
          <h2>Claims</h2>
          {data.claims.length === 0 && <p className="empty">No claims yet.</p>}
          {data.claims.length > 0 && (
            <ul className="log" aria-label="My claims, newest first">
              {data.claims.map((c) => (
                <ClaimCard
                  key={c.id}
                  claim={c}
                  onDispute={async (reason) => {
                    await disputeClaim(user.client, { claim: c.id, reason });
                    reload();
                  }}
                />
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}

/** An insurer's work queue: pended prior authorizations with deadlines, claims in review, open disputes. */
export function InsurerQueue() {
  const user = useUser();
  const insurer = user.identity.org ?? user.client.id;
  const [note, setNote] = useState<string | undefined>(undefined);
  const [failure, setFailure] = useState<unknown>(undefined);
  const { data, error, reload } = useLoad(async () => {
    const list = <T,>(of: 'preauths' | 'claims', status: string) =>
      all((cursor) => listInsurance<T>(user.client, { by: 'insurers', id: insurer, of, status, ...(cursor ? { cursor } : {}) }));
    const [pended, overdue, review, disputed] = await Promise.all([
      list<PreauthView>('preauths', 'pended'),
      list<PreauthView>('preauths', 'overdue'),
      list<ClaimView>('claims', 'review'),
      list<ClaimView>('claims', 'disputed'),
    ]);
    return { preauths: [...overdue, ...pended], review, disputed };
  }, [insurer]);
  const act = (what: string, action: () => Promise<unknown>) => async () => {
    setFailure(undefined);
    try {
      await action();
      setNote(what);
      reload();
    } catch (err) {
      setFailure(err);
    }
  };
  const today = new Date().toISOString().slice(0, 10);
  const in90 = new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10);
  return (
    <section>
      <PageTitle>Claims queue</PageTitle>
      <p>Prior authorizations waiting for a decision, claims held for review, and disputes — only your insurer’s.</p>
      {note !== undefined && <Notice tone="ok">{note}</Notice>}
      {failure !== undefined && <ErrorMessage error={failure} title="That did not go through." />}
      <ErrorMessage error={error} title="The queue could not be loaded." />
      {data === undefined && error === undefined && <Loading what="the queue" />}
      {data !== undefined && (
        <>
          <h2>Prior authorizations ({data.preauths.length})</h2>
          {data.preauths.length === 0 && <p className="empty">Nothing waiting.</p>}
          <ul className="log" aria-label="Prior authorizations waiting">
            {data.preauths.map((p) => (
              <li key={p.id} className="card">
                <p>
                  <span className={`badge ${p.status === 'overdue' ? 'bad' : 'ok'}`}>{p.status === 'overdue' ? 'Overdue' : 'Waiting'}</span>{' '}
                  {(p.items as Array<{ code: string; quantity: number }>).map((i) => `${i.code} ×${i.quantity}`).join(', ')}
                  {p.urgent === true ? ' (urgent)' : ''} — decide by {formatDateTime(p.deadline)}
                </p>
                <button
                  type="button"
                  onClick={act('Prior authorization approved.', () =>
                    decidePreauth(user.client, {
                      preauth: p.id,
                      approve: true,
                      reasonCode: 'MEDICAL_NECESSITY',
                      validFrom: today,
                      validTo: in90,
                    }),
                  )}
                >
                  Approve for 90 days
                </button>{' '}
                <button
                  type="button"
                  className="secondary"
                  onClick={act('Prior authorization denied.', () =>
                    decidePreauth(user.client, {
                      preauth: p.id,
                      approve: false,
                      reasonCode: 'INSUFFICIENT_DOCUMENTATION',
                      text: 'the supporting documentation does not show medical necessity',
                    }),
                  )}
                >
                  Deny: documentation insufficient
                </button>
              </li>
            ))}
          </ul>
          <h2>Claims in review ({data.review.length})</h2>
          {data.review.length === 0 && <p className="empty">Nothing in review.</p>}
          <ul className="log" aria-label="Claims in review">
            {data.review.map((c) => (
              <li key={c.id} className="card">
                <p>
                  Flags: {c.flags.join(', ')}. Billed {dollars(c.adjudications.at(-1)?.total.submitted ?? 0)}; the plan would pay{' '}
                  {dollars(c.adjudications.at(-1)?.total.benefit ?? 0)}.
                </p>
                <button
                  type="button"
                  onClick={act('Claim released for payment.', () =>
                    reviewClaim(user.client, { claim: c.id, approve: true, reasonCode: 'VERIFIED' }),
                  )}
                >
                  Release
                </button>{' '}
                <button
                  type="button"
                  className="secondary"
                  onClick={act('Claim denied.', () =>
                    reviewClaim(user.client, { claim: c.id, approve: false, reasonCode: 'DUPLICATE', text: 'already billed' }),
                  )}
                >
                  Deny as duplicate
                </button>
              </li>
            ))}
          </ul>
          <h2>Disputes ({data.disputed.length})</h2>
          {data.disputed.length === 0 && <p className="empty">No open disputes.</p>}
          <ul className="log" aria-label="Open disputes">
            {data.disputed.map((c) => {
              const open = (c.disputes as Array<{ reason: string; resolution: unknown }>).find((d) => d.resolution === null);
              return (
                <li key={c.id} className="card">
                  <p>
                    “{open?.reason}” — billed {dollars(c.adjudications.at(-1)?.total.submitted ?? 0)}, paid{' '}
                    {dollars(c.adjudications.at(-1)?.total.benefit ?? 0)}.
                  </p>
                  <button
                    type="button"
                    onClick={act('Dispute upheld.', () =>
                      resolveClaim(user.client, { claim: c.id, outcome: 'uphold', reason: 'adjudicated per plan' }),
                    )}
                  >
                    Uphold
                  </button>{' '}
                  <button
                    type="button"
                    className="secondary"
                    onClick={act('Dispute overturned; the claim was processed again.', () =>
                      resolveClaim(user.client, { claim: c.id, outcome: 'overturn', reason: 'reprocessed on review' }),
                    )}
                  >
                    Overturn and reprocess
                  </button>
                </li>
              );
            })}
          </ul>
        </>
      )}
    </section>
  );
}

interface EligibilityAnswer {
  eligible: boolean;
  date: string;
  best: null | {
    covered: boolean;
    reason: string;
    priorAuthRequired: boolean;
    remainingCount: number | null;
    deductibleRemaining: number;
    estimatedPatientShare: number;
    allowed: number;
    coverage: string;
  };
}

const REASON_WORDS: Record<string, string> = {
  COVERED: 'covered',
  NO_COVERAGE: 'no coverage on record',
  COVERAGE_INACTIVE: 'coverage not active on that date',
  OUT_OF_NETWORK: 'your organization is not in the plan’s network',
  NOT_COVERED: 'the plan does not cover this service',
  LIMIT_REACHED: 'the plan’s limit for this service is used up',
};

/**
 * A clinician's insurance panel on a patient's page: check eligibility for a service (needs the
 * patient's payment or treatment consent) and, when prior authorization is required, request it.
 */
export function ClinicianInsurance(props: { patient: string }) {
  const user = useUser();
  const [service, setService] = useState('');
  const [answer, setAnswer] = useState<EligibilityAnswer | undefined>(undefined);
  const [preauth, setPreauth] = useState<PreauthView | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const check = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setPreauth(undefined);
    try {
      setAnswer((await checkEligibility(user.client, { patient: props.patient, service: service.trim() })) as unknown as EligibilityAnswer);
    } catch (err) {
      setAnswer(undefined);
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const request = async () => {
    const b = answer?.best;
    if (b === null || b === undefined) return;
    setBusy(true);
    setError(undefined);
    try {
      setPreauth(
        (await requestPreauth(user.client, { patient: props.patient, coverage: b.coverage, items: [{ code: service.trim() }] })).preauth,
      );
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const b = answer?.best;
  return (
    <section aria-labelledby="insurance-heading">
      <h2 id="insurance-heading">Insurance</h2>
      <form onSubmit={check} className="inline-form">
        <label htmlFor="elig-service">Service code (CPT, SNOMED CT, …)</label>
        <input
          id="elig-service"
          value={service}
          onChange={(e) => setService(e.target.value)}
          required
          pattern="[A-Za-z0-9][A-Za-z0-9.\-]{0,39}"
        />
        <button type="submit" disabled={busy || service.trim() === ''}>
          Check eligibility
        </button>
      </form>
      {error !== undefined && <p role="alert">{friendlyError(error)}</p>}
      {answer !== undefined && (
        <div role="status" className="card">
          {b === null || b === undefined ? (
            <p>Not covered: the patient has no coverage on record.</p>
          ) : (
            <>
              <p>
                <strong>{b.covered ? 'Covered' : 'Not covered'}</strong> on {answer.date}: {REASON_WORDS[b.reason] ?? b.reason}.
              </p>
              {b.covered && (
                <p>
                  Plan allows {dollars(b.allowed)}; the patient would pay about {dollars(b.estimatedPatientShare)} (deductible left{' '}
                  {dollars(b.deductibleRemaining)}){b.remainingCount === null ? '' : `; ${b.remainingCount} left this period`}.
                </p>
              )}
              {b.covered && b.priorAuthRequired && preauth === undefined && (
                <p>
                  Prior authorization is required.{' '}
                  <button type="button" onClick={request} disabled={busy}>
                    Request prior authorization
                  </button>
                </p>
              )}
            </>
          )}
        </div>
      )}
      {preauth !== undefined && (
        <Notice tone={preauth.status === 'denied' ? 'warn' : 'ok'}>
          Prior authorization{' '}
          {preauth.status === 'pended' ? `sent; the insurer decides by ${formatDateTime(preauth.deadline)}` : preauth.status}
          {preauth.decision?.authNumber ? ` (number ${preauth.decision.authNumber})` : ''}.
        </Notice>
      )}
      <ProviderClaims patient={props.patient} />
    </section>
  );
}

/**
 * The claims the clinician's organization sent for this patient, newest first, with their
 * status: billed, allowed, what the insurer pays, what the patient owes, and why a line was
 * not paid. Every page of the organization's claims is read (each one proven) and filtered.
 */
function ProviderClaims(props: { patient: string }) {
  const user = useUser();
  const org = user.identity.org ?? user.client.id;
  const { data, error, reload } = useLoad(
    async () =>
      (
        await all((cursor) =>
          listInsurance<ClaimView>(user.client, { by: 'providers', id: org, of: 'claims', ...(cursor ? { cursor } : {}) }),
        )
      )
        .filter((c) => c.patient === props.patient)
        .reverse(),
    [org, props.patient],
  );
  return (
    <>
      <h3>Claims for this patient</h3>
      <ErrorMessage error={error} title="The claims could not be loaded." />
      {data === undefined && error === undefined && <Loading what="the claims" />}
      {data !== undefined && data.length === 0 && <p className="empty">Your organization has sent no claims for this patient.</p>}
      {data !== undefined && data.length > 0 && (
        <ul className="log" aria-label="Claims sent for this patient, newest first">
          {data.map((c) => {
            const t = c.adjudications.at(-1)?.total ?? {};
            return (
              <li key={c.id} className="card">
                <p>
                  <span className={`badge ${c.status === 'denied' ? 'bad' : 'ok'}`}>{STATUS_WORDS[c.status] ?? c.status}</span>{' '}
                  {c.disputeOpen && <span className="badge">Disputed</span>} Billed {dollars(t.submitted ?? 0)}, allowed{' '}
                  {dollars(t.allowed ?? 0)}: the insurer pays {dollars(t.benefit ?? 0)}, the patient owes {dollars(t.patient ?? 0)}.
                </p>
                {(c.adjudications.at(-1)?.lines ?? [])
                  .filter((l) => l.denial !== null)
                  .map((l) => (
                    <p key={String(l.sequence)} className="reason">
                      {String(l.code)} not paid: {String(l.denial)}.
                    </p>
                  ))}
              </li>
            );
          })}
        </ul>
      )}
      <button type="button" className="secondary" onClick={reload}>
        Refresh claims
      </button>
    </>
  );
}
