// Jargon (Merkle proofs, validator names, genesis files, hashes) kept behind one toggle, so a
// patient reads plain words and an auditor can still see everything.
import { type ReactNode, useState } from 'react';

export function TechnicalDetails(props: { children: ReactNode; what?: string }) {
  const [open, setOpen] = useState(false);
  const what = props.what ?? 'technical details';
  return (
    <div className="technical-toggle">
      <button type="button" className="secondary" aria-expanded={open} onClick={() => setOpen(!open)}>
        {open ? 'Hide' : 'Show'} {what}
      </button>
      {open && <div className="technical">{props.children}</div>}
    </div>
  );
}
