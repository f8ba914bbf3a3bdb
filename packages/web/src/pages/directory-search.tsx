// Find a clinician or an organization by name (issue 17 item 5): the member directory
// (GET /v1/directory) gives names and codes; choosing one fills in the code, which is then
// looked up through proven state before anything is shared.
import { type DirectoryEntry, searchDirectory } from '@medledger/client';
import { type FormEvent, useState } from 'react';
import { ROLE_LABELS } from '../labels.js';
import { useUser } from '../session.js';
import { ErrorMessage } from '../ui.js';

function entryWords(e: DirectoryEntry): string {
  if (e.orgKind !== undefined) return `${e.name} (${e.orgKind})`;
  const role = (ROLE_LABELS[e.role] ?? e.role).toLowerCase();
  return `${e.name}, ${role}${e.orgName ? ` at ${e.orgName}` : ''}`;
}

export function DirectorySearch(props: { onChoose: (entry: DirectoryEntry) => void }) {
  const user = useUser();
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<{ entries: DirectoryEntry[]; next: string | null } | undefined>(undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const [chosen, setChosen] = useState<string | undefined>(undefined);

  async function search(e?: FormEvent, cursor?: string) {
    e?.preventDefault();
    setProblem(undefined);
    setError(undefined);
    if (query.trim().length < 2) return setProblem('Type at least 2 letters of their name.');
    setBusy(true);
    try {
      const page = await searchDirectory(user.client, query, cursor === undefined ? {} : { cursor });
      const found = [...(cursor === undefined ? page.organizations : []), ...page.items];
      setResults({ entries: cursor === undefined ? found : [...(results?.entries ?? []), ...found], next: page.next });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="directory">
      <label htmlFor="dir-query">Find them by name</label>
      <p className="hint" id="dir-hint">
        Clinicians, pharmacies and organizations on the network, by name. Patients cannot be found this way.
      </p>
      <div className="search-row">
        <input
          id="dir-query"
          type="search"
          aria-describedby="dir-hint"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') void search(e);
          }}
        />
        <button type="button" className="secondary" disabled={busy} aria-busy={busy} onClick={() => void search()}>
          {busy ? 'Searching…' : 'Search'}
        </button>
      </div>
      {problem && (
        <div className="message error" role="alert">
          {problem}
        </div>
      )}
      <ErrorMessage error={error} title="The search did not work." />
      {results !== undefined && (
        <div role="status">
          {results.entries.length === 0 ? (
            <p>Nobody on the network matches “{query}”. Check the spelling, or ask them for their sharing code.</p>
          ) : (
            <ul className="plain" aria-label="People and organizations found">
              {results.entries.map((e) => (
                <li key={e.id}>
                  {entryWords(e)}{' '}
                  <button
                    type="button"
                    className="secondary"
                    aria-pressed={chosen === e.id}
                    onClick={() => {
                      setChosen(e.id);
                      props.onChoose(e);
                    }}
                  >
                    Choose {e.name}
                  </button>
                </li>
              ))}
            </ul>
          )}
          {results.next !== null && (
            <button type="button" className="secondary" onClick={() => void search(undefined, results.next ?? undefined)}>
              Show more
            </button>
          )}
        </div>
      )}
    </div>
  );
}
