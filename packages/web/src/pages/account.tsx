// Onboarding and sign-in: keys are made in this browser and locked with a passphrase; the
// recovery file is that locked keystore, and signs in on any other device.

import type { TrustedGenesis } from '@medledger/client';
import { generateKeyBundle } from '@medledger/crypto/browser';
import { type FormEvent, useEffect, useState } from 'react';
import { downloadJson, forgetAccount, lockKeys, type SavedAccount, saveAccount, savedAccounts, unlockKeys } from '../accounts.js';
import { servedByNode } from '../node-url.js';
import { appRole, homeOf, mayOpen } from '../roles.js';
import { navigate } from '../router.js';
import { clientFor, NODE_URL, trustedNetwork, useSession } from '../session.js';
import { takeReturnTo } from '../session-store.js';
import { ErrorMessage, Link, NewPassphraseFields, Notice, newPassphraseProblem, PageTitle, useLoad } from '../ui.js';

function recoveryFileName(label: string): string {
  return `medledger-recovery-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-') || 'account'}.json`;
}

export function Welcome() {
  const { signedOutBecause } = useSession();
  return (
    <section>
      <PageTitle>Your health records, shared on your terms</PageTitle>
      {signedOutBecause && <Notice tone="warn">{signedOutBecause}</Notice>}
      <p className="lead">
        MedLedger keeps your health records locked so that only you, and the people you choose, can open them. You decide who sees what, for
        what reason, and until when — and you can see every time someone opens your records.
      </p>
      <div className="choices">
        <Link to="/start" className="button">
          Create my account
        </Link>
        <Link to="/sign-in" className="button secondary">
          Sign in
        </Link>
      </div>
      <p>
        Checking the network as an auditor or operator? <Link to="/explorer">Open the explorer</Link>.
      </p>
    </section>
  );
}

export function Onboarding() {
  const { signInWith } = useSession();
  const [step, setStep] = useState<'form' | 'working' | 'done'>('form');
  const [name, setName] = useState('');
  const [pass, setPass] = useState('');
  const [pass2, setPass2] = useState('');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [file, setFile] = useState<{ name: string; data: unknown } | undefined>(undefined);
  const [network, setNetwork] = useState<TrustedGenesis | undefined>(undefined);
  useEffect(() => {
    trustedNetwork().then(setNetwork, setError);
  }, []);

  async function create(e: FormEvent) {
    e.preventDefault();
    setProblem(undefined);
    setError(undefined);
    if (name.trim() === '') return setProblem('Enter a name for this account. It stays on this device only.');
    const passProblem = newPassphraseProblem(pass, pass2);
    if (passProblem !== undefined) return setProblem(passProblem);
    if (network === undefined) return setProblem('The network is not known yet. Wait a moment and try again.');
    setStep('working');
    try {
      const keys = generateKeyBundle();
      const client = clientFor(keys, network);
      const keystore = await lockKeys(keys, pass, name.trim());
      // registerPatient splits a fresh emergency key among the network's validators (sealed to
      // the keys of the network confirmed here, never to keys the server names); the patient
      // need not keep it.
      await client.registerPatient();
      saveAccount({ id: client.id, label: name.trim(), keystore, chain: { chainId: network.chainId, hash: network.hash } });
      setFile({ name: recoveryFileName(name.trim()), data: keystore });
      await signInWith(keys, name.trim(), network);
      setStep('done');
    } catch (err) {
      setError(err);
      setStep('form');
    }
  }

  if (step === 'done' && file !== undefined) {
    return (
      <section>
        <PageTitle>Your account is ready</PageTitle>
        <Notice tone="ok">Welcome, {name.trim()}. Your records are locked with keys that only exist on this device.</Notice>
        <h2>Save your recovery file now</h2>
        <p>
          The recovery file lets you sign in on another phone or computer, or on this one if its storage is cleared. It only opens with your
          passphrase. Keep it somewhere safe, such as a password manager or a USB stick.{' '}
          <strong>Without it and your passphrase, nobody — not even MedLedger — can get your account back.</strong>
        </p>
        <button type="button" onClick={() => downloadJson(file.name, file.data)}>
          Download my recovery file
        </button>
        <p>
          <Link to="/records" className="button secondary">
            Go to my records
          </Link>
        </p>
      </section>
    );
  }

  return (
    <section>
      <PageTitle>Create your account</PageTitle>
      <p>Your account is made on this device. MedLedger never sees your name, your passphrase or your keys.</p>
      {network && <NetworkConfirm network={network} />}
      <form onSubmit={create} noValidate>
        <label htmlFor="ob-name">What should we call you?</label>
        <p className="hint" id="ob-name-hint">
          Only shown on this device.
        </p>
        <input
          id="ob-name"
          aria-describedby="ob-name-hint"
          autoComplete="nickname"
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <NewPassphraseFields
          id="ob-pass"
          label="Choose a passphrase"
          hint="A few unrelated words are easy to remember and hard to guess."
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
        <ErrorMessage error={error} title="Your account could not be created." />
        <button type="submit" disabled={step === 'working'} aria-busy={step === 'working'}>
          {step === 'working' ? 'Creating your account… (this takes a few seconds)' : 'Create my account'}
        </button>
      </form>
      <p>
        Already have an account? <Link to="/sign-in">Sign in</Link>.
      </p>
    </section>
  );
}

/**
 * Which network the account joins, in plain words, with its fingerprint on request: creating
 * the account confirms it, and this device refuses any server that later presents another.
 */
export function NetworkConfirm(props: { network: TrustedGenesis; signingIn?: boolean }) {
  return (
    <div className="network-confirm">
      <p>
        {props.signingIn ? 'You are signing in to the network ' : 'You are joining the network '}
        <strong>{props.network.chainId}</strong>
        {NODE_URL !== '' && !servedByNode && (
          <>
            {' '}
            through the node at <strong>{NODE_URL}</strong>
          </>
        )}
        {props.signingIn
          ? '. Check that it is the network your care provider names. Kept on this device, the account opens only on this network from now on.'
          : '. This device will remember it and refuse to continue if a server ever presents a different network.'}
      </p>
      <details>
        <summary>Show the network’s fingerprint</summary>
        <p className="hint">Compare it with the one your care provider publishes.</p>
        <code data-testid="network-fingerprint">{props.network.fingerprint()}</code>
      </details>
    </div>
  );
}

export function SignIn() {
  const { signInWith, signedOutBecause } = useSession();
  const [accounts, setAccounts] = useState<SavedAccount[]>(() => savedAccounts());
  const [chosen, setChosen] = useState<string>(() => accounts[0]?.id ?? 'file');
  const [pass, setPass] = useState('');
  const [fileData, setFileData] = useState<unknown>(undefined);
  const [fileProblem, setFileProblem] = useState<string | undefined>(undefined);
  // Whether a recovery file's account is kept on this device after signing in with it.
  const [keep, setKeep] = useState(true);
  // A recovery file carries no network: the one this node presents is shown, and is the one
  // confirmed at sign-in (not fetched again, so it cannot change between the two).
  const presented = useLoad(async () => (chosen === 'file' ? await trustedNetwork() : undefined), [chosen]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);

  async function readFile(f: File | undefined) {
    setFileProblem(undefined);
    setFileData(undefined);
    if (f === undefined) return;
    try {
      setFileData(JSON.parse(await f.text()));
    } catch {
      setFileProblem('This file is not a MedLedger recovery file. Choose the .json file you downloaded when you created your account.');
    }
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    const saved = accounts.find((a) => a.id === chosen);
    const file = saved?.keystore ?? fileData;
    if (file === undefined) return setFileProblem('Choose your recovery file first.');
    setBusy(true);
    try {
      // The network confirmed for this account; a node presenting another one stops here.
      const network = saved === undefined ? (presented.data ?? (await trustedNetwork())) : await trustedNetwork(saved.chain?.hash);
      const keys = await unlockKeys(file, pass);
      const label = saved?.label ?? String((file as { label?: unknown }).label ?? 'My account');
      const user = await signInWith(keys, label, network);
      // A saved account from before networks were remembered gets its network now; a
      // recovery file's account is kept only when asked (not on a shared computer).
      if (saved !== undefined ? saved.chain === undefined : keep)
        saveAccount({
          id: user.client.id,
          label,
          keystore: file as SavedAccount['keystore'],
          chain: { chainId: network.chainId, hash: network.hash },
        });
      // Back to the page asked for before signing in, when it is one for this role.
      const back = takeReturnTo();
      navigate(back !== undefined && mayOpen(appRole(user.identity), back) ? back : homeOf(user.identity));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
      setPass('');
    }
  }

  return (
    <section>
      <PageTitle>Sign in</PageTitle>
      {signedOutBecause && <Notice tone="warn">{signedOutBecause}</Notice>}
      <form onSubmit={submit} noValidate>
        <fieldset>
          <legend>Which account?</legend>
          {accounts.map((a) => (
            <div className="choice" key={a.id}>
              <input type="radio" id={`acct-${a.id}`} name="account" checked={chosen === a.id} onChange={() => setChosen(a.id)} />
              <label htmlFor={`acct-${a.id}`}>{a.label} (saved on this device)</label>
            </div>
          ))}
          <div className="choice">
            <input type="radio" id="acct-file" name="account" checked={chosen === 'file'} onChange={() => setChosen('file')} />
            <label htmlFor="acct-file">Use my recovery file (for a new device)</label>
          </div>
        </fieldset>
        {chosen === 'file' && (
          <>
            <label htmlFor="si-file">Recovery file</label>
            <input id="si-file" type="file" accept=".json,application/json" onChange={(e) => readFile(e.target.files?.[0])} />
            {fileProblem && (
              <div className="message error" role="alert">
                {fileProblem}
              </div>
            )}
            {presented.data && <NetworkConfirm network={presented.data} signingIn />}
            <div className="choice">
              <input
                type="checkbox"
                id="si-keep"
                checked={keep}
                onChange={(e) => setKeep(e.target.checked)}
                aria-describedby="si-keep-hint"
              />
              <label htmlFor="si-keep">Keep this account on this device</label>
            </div>
            <p className="hint" id="si-keep-hint">
              Saved locked by your passphrase, so you can sign in here without the file. Untick this on a shared or public computer.
            </p>
          </>
        )}
        <label htmlFor="si-pass">Passphrase</label>
        <input id="si-pass" type="password" autoComplete="current-password" value={pass} onChange={(e) => setPass(e.target.value)} />
        <ErrorMessage error={error} title="You are not signed in." />
        <button type="submit" disabled={busy} aria-busy={busy}>
          {busy ? 'Unlocking… (this takes a few seconds)' : 'Sign in'}
        </button>
      </form>
      {accounts.length > 0 && chosen !== 'file' && (
        <p>
          <button
            type="button"
            className="link"
            onClick={() => {
              forgetAccount(chosen);
              const rest = savedAccounts();
              setAccounts(rest);
              setChosen(rest[0]?.id ?? 'file');
            }}
          >
            Remove this account from this device
          </button>{' '}
          (you can add it back with its recovery file).
        </p>
      )}
      <p>
        New here? <Link to="/start">Create an account</Link>.
      </p>
    </section>
  );
}
