// Shared building blocks: links that route, error and status messages that screen readers
// announce, and the short forms of dates and names the pages use.
import { type ReactNode, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { localName, nameSaveProblem } from './accounts.js';
import { friendlyError } from './labels.js';
import { hasNavigated, hrefFor, navigate } from './router.js';

export function Link(props: { to: string; children: ReactNode; className?: string; current?: boolean }) {
  return (
    <a
      href={hrefFor(props.to)}
      className={props.className}
      aria-current={props.current ? 'page' : undefined}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(props.to);
      }}
    >
      {props.children}
    </a>
  );
}

/**
 * The page heading. After moving within the app it takes focus, so keyboard and screen
 * reader users start at the new page; on first load focus stays at the top (skip link first).
 */
export function PageTitle(props: { children: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (hasNavigated()) ref.current?.focus();
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {props.children}
    </h1>
  );
}

export function ErrorMessage(props: { error: unknown; title?: string }) {
  if (props.error === undefined || props.error === null) return null;
  return (
    <div className="message error" role="alert">
      <strong>{props.title ?? 'That did not work.'}</strong> {friendlyError(props.error)}
    </div>
  );
}

/** Says when a name the user gave someone could not be saved on this device (accounts.ts). */
export function NameSaveProblem() {
  const failed = useSyncExternalStore(nameSaveProblem.subscribe, nameSaveProblem.get);
  if (!failed) return null;
  return (
    <div className="message error" role="alert" data-testid="name-save-problem">
      <strong>A name you gave could not be saved on this device.</strong> It is shown until you sign out, then forgotten. Free some space in
      this browser’s storage and save the name again.
    </div>
  );
}

export function Notice(props: { children: ReactNode; tone?: 'ok' | 'info' | 'warn' }) {
  return (
    <div className={`message ${props.tone ?? 'info'}`} role="status">
      {props.children}
    </div>
  );
}

export function Loading(props: { what: string }) {
  return (
    <p className="loading" role="status">
      Loading {props.what}…
    </p>
  );
}

/** A button's step: `busy` while it runs, and the error it threw (cleared when the next starts). */
export function useBusyStep(): { busy: boolean; error: unknown; run: (step: () => Promise<void>) => Promise<void> } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  async function run(step: () => Promise<void>) {
    setBusy(true);
    setError(undefined);
    try {
      await step();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, run };
}

/** Load data on mount (and when `deps` change), with loading and error state. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | undefined; error: unknown; reload: () => void } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [tick, setTick] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: callers pass their own dependencies
  useEffect(() => {
    let live = true;
    setError(undefined);
    load().then(
      (d) => live && setData(d),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}

/** A button that runs an async action, shows it is busy, and reports failure in words. */
export function ActionButton(props: {
  onAction: () => Promise<void>;
  children: ReactNode;
  busyText?: string;
  className?: string;
  type?: 'button' | 'submit';
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  return (
    <>
      <button
        type={props.type ?? 'button'}
        className={props.className}
        disabled={busy}
        aria-busy={busy}
        onClick={async () => {
          setBusy(true);
          setError(undefined);
          try {
            await props.onAction();
          } catch (e) {
            setError(e);
          } finally {
            setBusy(false);
          }
        }}
      >
        {busy ? (props.busyText ?? 'Working…') : props.children}
      </button>
      <ErrorMessage error={error} />
    </>
  );
}

export function formatDate(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return new Date(ms).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

export function formatDateTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return new Date(ms).toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** A short, readable stand-in for an id: the name the user gave it, else its last 4 characters. */
export function shortName(id: string, fallbackKind = 'Someone'): string {
  return localName(id) ?? `${fallbackKind} (code …${id.slice(-4)})`;
}

/** A sharing code shown only on request, with a copy button. */
export function SharingCode(props: { id: string; label?: string }) {
  const [shown, setShown] = useState(false);
  const [copied, setCopied] = useState(false);
  return (
    <div className="sharing-code">
      <button type="button" className="secondary" aria-expanded={shown} onClick={() => setShown(!shown)}>
        {shown ? 'Hide' : 'Show'} {props.label ?? 'my sharing code'}
      </button>
      {shown && (
        <p>
          <code className="code" data-testid="sharing-code">
            {props.id}
          </code>{' '}
          <button
            type="button"
            className="secondary"
            onClick={async () => {
              await navigator.clipboard?.writeText(props.id).catch(() => undefined);
              setCopied(true);
            }}
          >
            Copy
          </button>
          {copied && <span role="status"> Copied.</span>}
        </p>
      )}
    </div>
  );
}

/** The shortest passphrase the app accepts for a new keystore. */
export const MIN_PASSPHRASE = 10;

/** Why a new passphrase and its confirmation cannot be used, in words, or undefined. */
export function newPassphraseProblem(pass: string, again: string, purpose = ''): string | undefined {
  if (pass.length < MIN_PASSPHRASE) return `Choose a passphrase of at least ${MIN_PASSPHRASE} characters${purpose}.`;
  if (pass !== again) return 'The two passphrases are different. Type the same passphrase twice.';
  return undefined;
}

/** A new passphrase and its confirmation, with ids `${id}` and `${id}2` and a hint. */
export function NewPassphraseFields(props: {
  id: string;
  label: string;
  hint: string;
  pass: string;
  again: string;
  onPass: (v: string) => void;
  onAgain: (v: string) => void;
}) {
  return (
    <>
      <label htmlFor={props.id}>{props.label}</label>
      <p className="hint" id={`${props.id}-hint`}>
        At least {MIN_PASSPHRASE} characters. {props.hint}
      </p>
      <input
        id={props.id}
        type="password"
        autoComplete="new-password"
        aria-describedby={`${props.id}-hint`}
        value={props.pass}
        onChange={(e) => props.onPass(e.target.value)}
      />
      <label htmlFor={`${props.id}2`}>Type the passphrase again</label>
      <input
        id={`${props.id}2`}
        type="password"
        autoComplete="new-password"
        value={props.again}
        onChange={(e) => props.onAgain(e.target.value)}
      />
    </>
  );
}
