// Homes for roles whose work is not yet in the web app (issue 17 item 12): each says plainly
// what that role can do today and where, instead of landing on the blockchain explorer.
import type { ReactNode } from 'react';
import { ROLE_LABELS } from '../labels.js';
import { useUser } from '../session.js';
import { Link, PageTitle } from '../ui.js';

function Home(props: { title: string; children: ReactNode }) {
  const user = useUser();
  return (
    <section>
      <PageTitle>{props.title}</PageTitle>
      <p>
        Signed in as <strong>{typeof user.identity.name === 'string' ? user.identity.name : user.label}</strong> (
        {ROLE_LABELS[user.identity.role] ?? user.identity.role}).
      </p>
      {props.children}
    </section>
  );
}

export function AuditorHome() {
  return (
    <Home title="Audit">
      <p>What you can do today:</p>
      <ul className="role-list">
        <li>
          Check the chain: the <Link to="/explorer">Explorer</Link> verifies blocks and their validators’ signatures in your browser.
        </li>
        <li>
          Re-check everything from the start offline with <code>medledger verify</code> on a node’s data (docs/cli.md).
        </li>
      </ul>
      <p>Auditors review the ledger’s entries, never health records: no patient’s record opens for this role.</p>
    </Home>
  );
}

export function OtherRoleHome() {
  return (
    <Home title="Your MedLedger account">
      <p>
        This web app has no pages for your role yet. You can check the chain in the <Link to="/explorer">Explorer</Link>; your
        organization’s systems use MedLedger for the rest.
      </p>
    </Home>
  );
}

/** A page this role may not open: refused here as the node refuses its actions. */
export function NotForRole(props: { home: string }) {
  const user = useUser();
  return (
    <section>
      <PageTitle>This page is not for your role</PageTitle>
      <p>
        You are signed in as {ROLE_LABELS[user.identity.role] ?? user.identity.role}. This page is for other people, and MedLedger would
        refuse its actions for your account.
      </p>
      <Link to={props.home} className="button">
        Go to my home page
      </Link>
    </section>
  );
}
