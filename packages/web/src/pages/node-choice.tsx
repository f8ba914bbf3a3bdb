// Choosing the node for a copy of the app the user trusts (docs/web.md "Using a copy you
// trust"): asked first when a copy has no node yet, and changeable on the account page. A
// page served by a node talks to that node only and says how to use a copy instead.
import { httpProofSource, TrustedGenesis } from '@medledger/client';
import { type FormEvent, useState } from 'react';
import { chosenNodeUrl, normalizeNodeUrl, rememberNodeUrl, servedByNode } from '../node-url.js';
import { ErrorMessage, PageTitle } from '../ui.js';

/** A node answers at `url` with a genesis document; its network's name. Throws what the fetch or the check threw. */
async function networkAt(url: string): Promise<string> {
  return TrustedGenesis.fromDocument(await httpProofSource(url).get('/v1/genesis')).chainId;
}

/**
 * The address form: checks that a MedLedger node answers there, remembers it on this device
 * and starts the app again with it (so nothing keeps talking to the previous node).
 */
function NodeForm(props: { submitLabel: string; beforeSwitch?: () => Promise<void> }) {
  const [typed, setTyped] = useState(chosenNodeUrl() ?? '');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setProblem(undefined);
    setError(undefined);
    let url: string;
    try {
      url = normalizeNodeUrl(typed);
    } catch (err) {
      setProblem((err as Error).message);
      return;
    }
    setBusy(true);
    try {
      await networkAt(url);
    } catch (err) {
      setBusy(false);
      setError(err);
      return;
    }
    await props.beforeSwitch?.();
    rememberNodeUrl(url);
    location.hash = '#/';
    location.reload();
  };

  return (
    <form onSubmit={submit} noValidate>
      <label htmlFor="node-url">Node address</label>
      <p className="hint" id="node-url-hint">
        For example https://medledger.your-hospital.org. Your care provider tells you which one to use.
      </p>
      <input
        id="node-url"
        type="url"
        inputMode="url"
        autoComplete="url"
        aria-describedby="node-url-hint"
        value={typed}
        onChange={(e) => setTyped(e.target.value)}
        required
      />
      {problem && (
        <p className="message error" role="alert">
          {problem}
        </p>
      )}
      <ErrorMessage error={error} title="No MedLedger node answered at that address." />
      <button type="submit" disabled={busy}>
        {busy ? 'Checking the node…' : props.submitLabel}
      </button>
    </form>
  );
}

/** First run of a copy: nothing else works until a node is chosen. */
export function ChooseNode() {
  return (
    <section>
      <PageTitle>Choose the MedLedger node to use</PageTitle>
      <p className="lead">
        You opened your own copy of the MedLedger app. Nothing in it comes from a MedLedger server, so no server can change the app you are
        using. Type the address of the MedLedger node you want it to talk to.
      </p>
      <p>
        The app still checks every answer from that node against the network’s signatures, and when you create your account it shows which
        network you are joining.
      </p>
      <NodeForm submitLabel="Use this node" />
    </section>
  );
}

/**
 * The account page's part: which node this is, and changing it in a copy. `signOut` must
 * have ended the session on the old node when it resolves (the page reloads right after).
 */
export function NodeSetting(props: { signOut: () => Promise<void> }) {
  if (servedByNode)
    return (
      <>
        <h2>Which node this app uses</h2>
        <p>
          This app was loaded from the node at <strong>{location.origin}</strong> and talks only to it. To avoid trusting the app that a
          server sends you, open a copy of the app you trust (from a file or another website) and choose the node there.
        </p>
      </>
    );
  return (
    <>
      <h2>Which node this app uses</h2>
      <p>
        This copy of the app talks to the node at <strong>{chosenNodeUrl()}</strong>. Changing it signs you out; your account only opens on
        a node of the network you confirmed.
      </p>
      <NodeForm submitLabel="Change node" beforeSwitch={props.signOut} />
    </>
  );
}
