// The building blocks of the supply-chain pages (supply.tsx, supply-actions.tsx): one form per
// ledger action, busy while it runs, the chain's refusal in plain words, a done message after.
import { type Epc, parseGs1 } from '@medledger/client';
import { type FormEvent, type ReactNode, useId, useState } from 'react';
import { ErrorMessage, Notice } from '../ui.js';

/** Serials typed one a line (or separated by spaces or commas). */
export const serialsOf = (text: string) => text.split(/[\s,]+/).filter((s) => s !== '');

/** A form's own refusal, already in words for the person using it (labels.ts shows `plainWords` as is). */
export class FormProblem extends Error {
  readonly plainWords: string;
  constructor(words: string) {
    super(words);
    this.plainWords = words;
  }
}

/** A scanned DataMatrix (element string, raw scan with FNC1 or `]d2`, or a Digital Link URI), not a bare serial. */
const looksScanned = (token: string) => /^(\(01\)|\]d2|https?:\/\/)/i.test(token) || token.includes('\u001d');

/**
 * The packs a form lists, one a line: each a serial number of product `gtin`, or a pack's scanned
 * DataMatrix (which names its own product). Refuses, in words, an unreadable code or a serial
 * without a product.
 */
export function packsOf(gtin: string, text: string): Epc[] {
  return serialsOf(text).map((token) => {
    if (looksScanned(token)) {
      try {
        const id = parseGs1(token);
        return { gtin: id.gtin, serial: id.serial };
      } catch (err) {
        throw new FormProblem(`This code cannot be read: ${(err as Error).message}. Scan it again or type its serial number.`);
      }
    }
    if (!/^\d{14}$/.test(gtin)) throw new FormProblem(`Give the product GTIN (14 digits) for serial ${token}, or scan the pack instead.`);
    return { gtin, serial: token };
  });
}

/** A form that submits one action: busy while it runs, the chain's refusal shown in words, a done message after. */
export function ActionForm(props: { title: string; submit: string; run: () => Promise<string>; children: ReactNode; after?: ReactNode }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const headingId = useId();
  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      setDone(await props.run());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby={headingId} className="card">
      <h2 id={headingId}>{props.title}</h2>
      <form onSubmit={(e) => void onSubmit(e)}>
        {props.children}
        <button type="submit" disabled={busy} aria-busy={busy}>
          {busy ? 'Working…' : props.submit}
        </button>
      </form>
      <ErrorMessage error={error} />
      {done !== undefined && <Notice tone="ok">{done}</Notice>}
      {props.after}
    </section>
  );
}

/** A labelled text input with an optional hint; ids are unique per form. */
export function Field(props: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  hint?: string;
  type?: string;
  multiline?: boolean;
  pattern?: string;
  required?: boolean;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  const common = {
    id,
    value: props.value,
    required: props.required !== false,
    ...(props.hint === undefined ? {} : { 'aria-describedby': hintId }),
  };
  return (
    <>
      <label htmlFor={id}>{props.label}</label>
      {props.hint !== undefined && (
        <p className="hint" id={hintId}>
          {props.hint}
        </p>
      )}
      {props.multiline === true ? (
        <textarea {...common} rows={3} onChange={(e) => props.onChange(e.target.value)} />
      ) : (
        <input
          {...common}
          type={props.type ?? 'text'}
          autoComplete="off"
          {...(props.pattern === undefined ? {} : { pattern: props.pattern })}
          onChange={(e) => props.onChange(e.target.value)}
        />
      )}
    </>
  );
}
