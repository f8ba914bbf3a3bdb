// Sharing: who has access now (and stopping it), giving access to a clinician or an
// organization — what, why, until when — and choosing a delegate to manage sharing (and,
// when removing one, stopping the shares they made: remove-delegate.tsx).
import { type Delegation, type Grant, type Identity, PURPOSES, type Purpose } from '@medledger/client';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { LOCAL_NAME_MAX, localName, setLocalName } from '../accounts.js';
import { CATEGORIES, friendlyError, PURPOSE_LABELS, ROLE_LABELS } from '../labels.js';
import { useUser } from '../session.js';
import { ActionButton, ErrorMessage, formatDate, Link, Loading, Notice, PageTitle, shortName, useLoad } from '../ui.js';
import { DirectorySearch } from './directory-search.js';
import { RemoveDelegate } from './remove-delegate.js';
import { type PersonLabel, PersonName, sharingNames, WhoCanSee } from './share-cards.js';

/** Who a sharing code belongs to, in words: "Dr Grey, clinician at General Hospital". */
export async function describeIdentity(lookup: (id: string) => Promise<Identity>, identity: Identity): Promise<string> {
  const role = ROLE_LABELS[identity.role] ?? identity.role;
  const chainName = typeof identity.name === 'string' ? identity.name : undefined;
  const name = chainName ?? localName(identity.id) ?? `${role} (code …${identity.id.slice(-4)})`;
  if (identity.org === undefined) return chainName !== undefined ? `${name} (${role.toLowerCase()})` : name;
  const org = await lookup(identity.org).catch(() => undefined);
  return `${name}, ${role.toLowerCase()}${typeof org?.name === 'string' ? ` at ${org.name}` : ''}`;
}

/**
 * How the patient knows someone, for a delegate above all: the name they gave them on this
 * device (never sent anywhere), with the code and any name on the chain in smaller print.
 */
export async function personLabel(lookup: (id: string) => Promise<Identity>, identity: Identity): Promise<PersonLabel> {
  const mine = localName(identity.id);
  if (mine === undefined) return { name: await describeIdentity(lookup, identity) };
  const code = `code …${identity.id.slice(-4)}`;
  return { name: mine, detail: typeof identity.name === 'string' ? `${await describeIdentity(lookup, identity)} · ${code}` : code };
}

/** The delegates who made any of `grants`, as the patient knows them. */
async function makerLabels(grants: readonly Grant[], lookup: (id: string) => Promise<Identity>): Promise<Map<string, PersonLabel>> {
  const out = new Map<string, PersonLabel>();
  for (const g of grants)
    if (typeof g.grantedBy === 'string' && g.grantedBy !== g.patient && !out.has(g.grantedBy))
      out.set(g.grantedBy, await personLabel(lookup, await lookup(g.grantedBy)));
  return out;
}

export function GranteeName(props: { id: string }) {
  const user = useUser();
  const { data } = useLoad(
    async () => describeIdentity((id) => user.client.identity(id), await user.client.identity(props.id)),
    [props.id],
  );
  return <>{data ?? shortName(props.id)}</>;
}

export function Sharing() {
  const user = useUser();
  const me = user.client.id;
  const lookup = (id: string) => user.client.identity(id);
  const grants = useLoad(async () => {
    const list = await user.client.grants(me);
    const [names, makers] = await Promise.all([sharingNames(list, (i) => describeIdentity(lookup, i), lookup), makerLabels(list, lookup)]);
    return { list, names, makers };
  }, [me]);
  const delegates = useLoad(() => user.client.delegates(me), [me]);
  const accepted = delegates.data && new Set(delegates.data.filter((d) => d.status === 'accepted').map((d) => d.delegate));
  const [done, setDone] = useState<string | undefined>(undefined);
  return (
    <section>
      <PageTitle>Sharing</PageTitle>
      {done && <Notice tone="ok">{done}</Notice>}
      <h2>Who can see my records now</h2>
      <ErrorMessage error={grants.error} title="The list could not be loaded." />
      {grants.data === undefined && grants.error === undefined && <Loading what="who has access" />}
      <WhoCanSee
        grants={grants.data?.list}
        names={grants.data?.names}
        makers={grants.data?.makers}
        delegates={accepted}
        onChanged={(m) => {
          setDone(m);
          grants.reload();
        }}
      />
      <p>
        <Link to="/emergency-card">My emergency card (print it, or keep its QR code on your phone)</Link>
      </p>
      <GrantForm
        onGranted={(who) => {
          setDone(`You are now sharing with ${who}.`);
          grants.reload();
        }}
      />
      <Delegate
        delegates={delegates}
        onRemoved={() => {
          delegates.reload();
          grants.reload();
        }}
        onRenamed={() => grants.reload()}
      />
    </section>
  );
}

function GrantForm(props: { onGranted: (who: string) => void }) {
  const user = useUser();
  // A clinician's QR code opens this page with their code (`/sharing?with=ID`, share-qr.tsx).
  const [code, setCode] = useState(() => new URLSearchParams(location.search).get('with') ?? '');
  // The code a link brought (anyone can make such a link, with anyone's code in it).
  const linkedCode = useRef(code);
  const [nickname, setNickname] = useState('');
  const [found, setFound] = useState<{ identity: Identity; words: string } | undefined>(undefined);
  // Share was pressed with a code not yet looked up: it was looked up instead, to be checked.
  const [checkFirst, setCheckFirst] = useState(false);
  const [categories, setCategories] = useState<string[]>([]);
  const [purpose, setPurpose] = useState<Purpose>('treatment');
  const [until, setUntil] = useState(() => new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10));
  const [noEnd, setNoEnd] = useState(false);
  const [canAdd, setCanAdd] = useState(false);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  // Shown next to the code field, where the person is looking, not below the form.
  const [codeProblem, setCodeProblem] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  async function lookUp(): Promise<{ identity: Identity; words: string } | undefined> {
    const id = code.trim().toLowerCase();
    if (!/^[0-9a-f]{40}$/.test(id)) {
      setCodeProblem('A sharing code is 40 letters and digits (0–9, a–f). Ask the person for their code and paste it here.');
      return undefined;
    }
    setCodeProblem(undefined);
    let identity: Identity;
    try {
      identity = await user.client.identity(id);
    } catch (err) {
      setCodeProblem(friendlyError(err));
      return undefined;
    }
    if (identity.id === user.client.id) {
      setCodeProblem('That is your own sharing code. Enter the code of the person you want to share with.');
      return undefined;
    }
    const words = await describeIdentity((x) => user.client.identity(x), identity);
    const result = { identity, words };
    setFound(result);
    return result;
  }

  // A code that came with a link or QR code is looked up at once, so the page says whose it
  // is before anything is shared, not only after the records went to them.
  const lookedUpLinked = useRef(false);
  useEffect(() => {
    if (lookedUpLinked.current || linkedCode.current.trim() === '') return;
    lookedUpLinked.current = true;
    void lookUp();
  });

  async function submit(e: FormEvent) {
    e.preventDefault();
    setProblem(undefined);
    setError(undefined);
    if (categories.length === 0) return setProblem('Choose at least one kind of record to share.');
    const expiresAt = noEnd ? undefined : new Date(`${until}T23:59:59`).getTime();
    if (expiresAt !== undefined && !(expiresAt > Date.now())) return setProblem('Choose an end date in the future, or “No end date”.');
    setBusy(true);
    try {
      // Never share with a code nobody has seen named (a typo can be someone else's code):
      // the first press looks it up and shows whose it is; the next one shares.
      if (found === undefined) {
        if ((await lookUp()) !== undefined) setCheckFirst(true);
        return;
      }
      const who = found;
      if (nickname.trim() !== '') void setLocalName(who.identity.id, nickname); // a failure is shown by NameSaveProblem
      await user.client.grant({
        grantee: who.identity.id,
        categories,
        purpose,
        access: canAdd ? 'read-write' : 'read',
        ...(expiresAt === undefined ? {} : { expiresAt }),
      });
      props.onGranted(who.words);
      setCode('');
      setFound(undefined);
      setCheckFirst(false);
      setCategories([]);
      setNickname('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const categoryChoice = (c: (typeof CATEGORIES)[number]) => (
    <div className="choice" key={c.code}>
      <input
        type="checkbox"
        id={`cat-${c.code}`}
        checked={categories.includes(c.code)}
        onChange={(e) => setCategories(e.target.checked ? [...categories, c.code] : categories.filter((x) => x !== c.code))}
      />
      <label htmlFor={`cat-${c.code}`}>
        {c.label} <span className="hint">— {c.hint}</span>
      </label>
    </div>
  );

  return (
    <form onSubmit={submit} className="panel" noValidate aria-labelledby="share-title">
      <h2 id="share-title">Share my records</h2>
      <DirectorySearch
        onChoose={(entry) => {
          setCode(entry.id);
          setFound(undefined);
          setCheckFirst(false);
          setCodeProblem(undefined);
        }}
      />
      <label htmlFor="share-code">Their sharing code</label>
      <p className="hint" id="share-code-hint">
        Your clinician or their organization can give you this code.
      </p>
      <div className="inline">
        <input
          id="share-code"
          aria-describedby="share-code-hint"
          autoComplete="off"
          spellCheck={false}
          value={code}
          onChange={(e) => {
            setCode(e.target.value);
            setFound(undefined);
            setCheckFirst(false);
            setCodeProblem(undefined);
          }}
        />
        <ActionButton className="secondary" busyText="Looking up…" onAction={async () => void (await lookUp())}>
          Look up
        </ActionButton>
      </div>
      {codeProblem && (
        <div className="message error" role="alert" id="share-code-problem">
          {codeProblem}
        </div>
      )}
      {found && (
        <p className="found" role="status">
          {found.identity.id === linkedCode.current.trim().toLowerCase()
            ? 'The code from the link you opened belongs to: '
            : 'This code belongs to: '}
          <strong>{found.words}</strong>
          {found.identity.id === linkedCode.current.trim().toLowerCase() && '. Share only if this is who you mean.'}
          {checkFirst &&
            found.identity.id !== linkedCode.current.trim().toLowerCase() &&
            '. Check that this is who you mean, then press Share again.'}
        </p>
      )}
      <label htmlFor="share-nick">A name for them (optional, only on this device)</label>
      <input id="share-nick" value={nickname} onChange={(e) => setNickname(e.target.value)} />
      <fieldset>
        <legend>What can they see?</legend>
        {CATEGORIES.filter((c) => c.common).map(categoryChoice)}
        <details>
          <summary>More kinds of records</summary>
          {CATEGORIES.filter((c) => !c.common).map(categoryChoice)}
        </details>
      </fieldset>
      <label htmlFor="share-purpose">Why are you sharing?</label>
      <select id="share-purpose" value={purpose} onChange={(e) => setPurpose(e.target.value as Purpose)}>
        {PURPOSES.filter((p) => p !== 'patient-request').map((p) => (
          <option key={p} value={p}>
            {PURPOSE_LABELS[p]}
          </option>
        ))}
      </select>
      <fieldset>
        <legend>Until when?</legend>
        <label htmlFor="share-until">End date</label>
        <input id="share-until" type="date" value={until} disabled={noEnd} onChange={(e) => setUntil(e.target.value)} />
        <div className="choice">
          <input type="checkbox" id="share-noend" checked={noEnd} onChange={(e) => setNoEnd(e.target.checked)} />
          <label htmlFor="share-noend">No end date (until I stop it)</label>
        </div>
      </fieldset>
      <div className="choice">
        <input type="checkbox" id="share-add" checked={canAdd} onChange={(e) => setCanAdd(e.target.checked)} />
        <label htmlFor="share-add">Also let them add new records of these kinds to my file</label>
      </div>
      {problem && (
        <div className="message error" role="alert">
          {problem}
        </div>
      )}
      <ErrorMessage error={error} title="Your records were not shared." />
      <button type="submit" disabled={busy} aria-busy={busy}>
        {busy ? 'Sharing…' : 'Share'}
      </button>
    </form>
  );
}

function Delegate(props: {
  delegates: { data: Delegation[] | undefined; error: unknown; reload: () => void };
  /** A delegate was removed (and perhaps their shares stopped): both lists change. */
  onRemoved: () => void;
  /** The patient changed what they call a delegate on this device. */
  onRenamed: () => void;
}) {
  const user = useUser();
  const me = user.client.id;
  const delegates = props.delegates;
  const [removed, setRemoved] = useState<{ message: string; tone: 'ok' | 'warn' } | undefined>(undefined);
  const [code, setCode] = useState('');
  // What the patient calls them: kept on this device only (accounts.ts), never sent to a node.
  const [callThem, setCallThem] = useState('');
  // Bumped when a name changes on this device, so the delegates' names are read again.
  const [names, setNames] = useState(0);
  const labelOf = async (id: string) => personLabel((x) => user.client.identity(x), await user.client.identity(id));
  const [found, setFound] = useState<{ id: string; words: string } | undefined>(undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [shared, setShared] = useState<string | undefined>(undefined);
  return (
    <section className="panel" aria-labelledby="delegate-title">
      <h2 id="delegate-title">Someone to manage my sharing</h2>
      <p>
        A delegate — for example a parent, a partner or a carer — can see all your records and share or stop sharing them for you. Choose
        someone you trust completely. They become your delegate only after they accept, from their own account page.
      </p>
      <ErrorMessage error={delegates.error} title="Your delegates could not be loaded." />
      {delegates.data?.map((d) => (
        <div key={d.delegate} className="card" data-testid="delegate" data-status={d.status}>
          <p className="title">
            <DelegateName id={d.delegate} labelOf={labelOf} version={names} />
          </p>
          <p>
            {d.status === 'pending'
              ? 'Invited — waiting for them to accept. Until then they cannot see or manage anything.'
              : `Your delegate since ${formatDate((d.acceptedAt ?? d.invitedAt).time)}.`}
          </p>
          <DelegateNickname
            id={d.delegate}
            onSaved={() => {
              setNames((n) => n + 1);
              props.onRenamed();
            }}
          />
          {d.status === 'accepted' && (
            <ActionButton
              className="secondary"
              busyText="Sharing…"
              onAction={async () => {
                const r = await user.client.shareWithDelegate(d.delegate);
                setShared(r.shared === 0 ? 'They already have all your records.' : `Shared ${r.shared} record(s) with your delegate.`);
              }}
            >
              Share my existing records with them
            </ActionButton>
          )}
          <RemoveDelegate
            delegation={d}
            labelOf={labelOf}
            nameOf={async (id) => describeIdentity((x) => user.client.identity(x), await user.client.identity(id))}
            onRemoved={(message, tone) => {
              setRemoved({ message, tone });
              props.onRemoved();
            }}
          />
        </div>
      ))}
      {removed && <Notice tone={removed.tone}>{removed.message}</Notice>}
      {shared && <Notice>{shared}</Notice>}
      <label htmlFor="delegate-code">Their sharing code</label>
      <input
        id="delegate-code"
        autoComplete="off"
        spellCheck={false}
        value={code}
        onChange={(e) => {
          setCode(e.target.value);
          setFound(undefined);
        }}
      />
      <label htmlFor="delegate-nick">What do you call them? (optional, for example “Ana, my daughter”)</label>
      <p className="hint" id="delegate-nick-hint">
        Kept only on this device, to show instead of their code. It is never sent to the network.
      </p>
      <input
        id="delegate-nick"
        aria-describedby="delegate-nick-hint"
        autoComplete="off"
        maxLength={LOCAL_NAME_MAX}
        value={callThem}
        onChange={(e) => setCallThem(e.target.value)}
      />
      {found && (
        <p className="found" role="status">
          This code belongs to: <strong>{found.words}</strong>. A delegate can see all your records and share them: invite them only if this
          is who you mean.
        </p>
      )}
      {problem && (
        <div className="message error" role="alert">
          {problem}
        </div>
      )}
      <ActionButton
        className="secondary"
        busyText="Inviting…"
        onAction={async () => {
          setProblem(undefined);
          const id = code.trim().toLowerCase();
          if (!/^[0-9a-f]{40}$/.test(id)) return setProblem('Enter their 40-character sharing code.');
          if (id === me) return setProblem('That is your own sharing code. Enter the code of the person you want as your delegate.');
          // The first press says whose the code is (proven, as every name here); the next invites.
          if (found?.id !== id) {
            let identity: Identity;
            try {
              identity = await user.client.identity(id);
            } catch (err) {
              return setProblem(friendlyError(err));
            }
            setFound({ id, words: await describeIdentity((x) => user.client.identity(x), identity) });
            return;
          }
          // Kept on this device whatever the invitation's fate, as a share's name is (GrantForm).
          if (callThem.trim() !== '') void setLocalName(id, callThem);
          await user.client.setDelegate(id);
          setRemoved(undefined);
          setCode('');
          setCallThem('');
          setNames((n) => n + 1);
          setFound(undefined);
          delegates.reload();
        }}
      >
        {found !== undefined && found.id === code.trim().toLowerCase()
          ? 'Yes, invite them to be my delegate'
          : 'Invite them to be my delegate'}
      </ActionButton>
    </section>
  );
}

/** A delegate's name as the patient knows them (`personLabel`), read again when `version` changes. */
function DelegateName(props: { id: string; labelOf: (id: string) => Promise<PersonLabel>; version: number }) {
  const { data } = useLoad(() => props.labelOf(props.id), [props.id, props.version]);
  return data === undefined ? shortName(props.id) : <PersonName label={data} />;
}

/** Give a delegate a name, change it or forget it: on this device only (accounts.ts). */
function DelegateNickname(props: { id: string; onSaved: () => void }) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState('');
  const current = localName(props.id);
  const field = `nick-${props.id}`;
  if (!editing)
    return (
      <button
        type="button"
        className="secondary"
        onClick={() => {
          setName(current ?? '');
          setEditing(true);
        }}
      >
        {current === undefined ? 'Give them a name' : 'Change what you call them'}
      </button>
    );
  return (
    <form
      className="name-form"
      onSubmit={(e) => {
        e.preventDefault();
        void setLocalName(props.id, name);
        setEditing(false);
        props.onSaved();
      }}
    >
      <label htmlFor={field}>What do you call them?</label>
      <p className="hint" id={`${field}-hint`}>
        Only on this device; never sent to the network. Leave it empty to show their code instead.
      </p>
      <input
        id={field}
        aria-describedby={`${field}-hint`}
        autoComplete="off"
        maxLength={LOCAL_NAME_MAX}
        value={name}
        onChange={(e) => setName(e.target.value)}
      />
      <button type="submit">Save name</button>{' '}
      <button type="button" className="secondary" onClick={() => setEditing(false)}>
        Cancel
      </button>
    </form>
  );
}
