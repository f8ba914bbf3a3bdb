// The supply chain in the web app (issue 14 item 8, docs/medicines.md "Web"): the manufacturer
// commissions packs, ships and recalls; the wholesaler receives, ships and verifies a returned
// pack; the regulator traces a pack's history, recalls, and sees illegitimate-product
// notifications (overdue after 24 hours). Every answer shown is proven by the SDK against the
// network's genesis; every action is one signed ledger transaction the chain decides.
import {
  eventTimeNow,
  listNotices,
  medicinesTx,
  parseGs1,
  type ScannedIdentifier,
  traceProduct,
  type Verification,
  verifyProduct,
} from '@medledger/client';
import { idFromPublicKey } from '@medledger/crypto/browser';
import { type FormEvent, type ReactNode, useId, useState } from 'react';
import { useUser } from '../session.js';
import { ErrorMessage, Loading, Notice, PageTitle, useLoad } from '../ui.js';
import { REASON_WORDS } from './medicines.js';

type Json = Record<string, unknown>;

/** Serial numbers for new packs: 12 characters of an unambiguous alphabet, 60 random bits each (as the CLI's `--count`). */
const SERIAL_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
function newSerials(count: number): string[] {
  const out = new Set<string>();
  while (out.size < count) out.add([...crypto.getRandomValues(new Uint8Array(12))].map((b) => SERIAL_ALPHABET[b & 31]).join(''));
  return [...out];
}

/** Serials typed one a line (or separated by spaces or commas). */
const serialsOf = (text: string) => text.split(/[\s,]+/).filter((s) => s !== '');

/** A form that submits one action: busy while it runs, the chain's refusal shown in words, a done message after. */
function ActionForm(props: { title: string; submit: string; run: () => Promise<string>; children: ReactNode; after?: ReactNode }) {
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
function Field(props: {
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

/** The founding trading partners a pack may be shipped to, from the trusted genesis (names cannot be forged by a node). */
function usePartners(): Array<{ id: string; name: string; kind: string }> {
  const user = useUser();
  const shipTo = new Set(['manufacturer', 'distributor', 'wholesaler', 'pharmacy', 'dispenser']);
  return user.genesis.genesis.organizations
    .filter((o) => shipTo.has(o.kind))
    .map((o) => ({ id: idFromPublicKey(o.adminKey), name: o.name, kind: o.kind }))
    .filter((o) => o.id !== user.client.id);
}

const KIND_WORDS: Record<string, string> = {
  manufacturer: 'manufacturer',
  distributor: 'wholesaler',
  wholesaler: 'wholesaler',
  pharmacy: 'pharmacy',
  dispenser: 'pharmacy',
};

function CommissionForm() {
  const user = useUser();
  const [gtin, setGtin] = useState('');
  const [lot, setLot] = useState('');
  const [expiry, setExpiry] = useState('');
  const [count, setCount] = useState('1');
  const [made, setMade] = useState<string[]>([]);
  return (
    <ActionForm
      title="Commission packs"
      submit="Commission"
      run={async () => {
        const n = Number(count);
        if (!Number.isInteger(n) || n < 1 || n > 500) throw new Error('How many packs: a whole number from 1 to 500.');
        const serials = newSerials(n);
        await medicinesTx(user.client, 'supply.commission', { gtin, lot, expiry, serials, eventTime: eventTimeNow() });
        setMade(serials);
        return `Commissioned ${n} pack${n === 1 ? '' : 's'} of lot ${lot}.`;
      }}
      after={
        made.length > 0 && (
          <>
            <p>New serial numbers (print them on the packs):</p>
            <ul aria-label="New serial numbers" className="serials">
              {made.map((s) => (
                <li key={s}>
                  <code>{s}</code>
                </li>
              ))}
            </ul>
          </>
        )
      }
    >
      <Field label="Product GTIN" value={gtin} onChange={setGtin} hint="14 digits, as registered" pattern="\d{14}" />
      <Field label="Lot" value={lot} onChange={setLot} pattern="[A-Za-z0-9\-]{1,20}" />
      <Field label="Expiry date" value={expiry} onChange={setExpiry} type="date" />
      <Field label="How many packs" value={count} onChange={setCount} type="number" />
    </ActionForm>
  );
}

function ShipForm() {
  const user = useUser();
  const partners = usePartners();
  const [to, setTo] = useState('');
  const [gtin, setGtin] = useState('');
  const [serials, setSerials] = useState('');
  const [invoice, setInvoice] = useState('');
  const [statement, setStatement] = useState(false);
  const toId = useId();
  const statementId = useId();
  return (
    <ActionForm
      title="Ship packs"
      submit="Ship"
      run={async () => {
        const list = serialsOf(serials);
        await medicinesTx(user.client, 'supply.ship', {
          to,
          epcs: list.map((serial) => ({ gtin, serial })),
          eventTime: eventTimeNow(),
          transaction: invoice,
          transactionDate: eventTimeNow().slice(0, 10),
          statement: true,
        });
        const name = partners.find((p) => p.id === to)?.name ?? to;
        return `Shipped ${list.length} pack${list.length === 1 ? '' : 's'} to ${name}, invoice ${invoice}.`;
      }}
    >
      <label htmlFor={toId}>Ship to</label>
      <select id={toId} value={to} onChange={(e) => setTo(e.target.value)} required>
        <option value="">Choose a trading partner</option>
        {partners.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name} ({KIND_WORDS[p.kind] ?? p.kind})
          </option>
        ))}
      </select>
      <Field label="Product GTIN" value={gtin} onChange={setGtin} pattern="\d{14}" />
      <Field label="Serial numbers" value={serials} onChange={setSerials} hint="One a line" multiline />
      <Field label="Invoice or order number" value={invoice} onChange={setInvoice} pattern="[A-Za-z0-9\-]{1,40}" />
      <p className="checkbox">
        <input id={statementId} type="checkbox" checked={statement} onChange={(e) => setStatement(e.target.checked)} required />
        <label htmlFor={statementId}>
          I make the DSCSA transaction statement: we are authorized, we received the product from an authorized partner, and we did not
          knowingly ship suspect or illegitimate product.
        </label>
      </p>
    </ActionForm>
  );
}

function ReceiveForm() {
  const user = useUser();
  const [gtin, setGtin] = useState('');
  const [serials, setSerials] = useState('');
  return (
    <ActionForm
      title="Receive packs"
      submit="Receive"
      run={async () => {
        const list = serialsOf(serials);
        await medicinesTx(user.client, 'supply.receive', { epcs: list.map((serial) => ({ gtin, serial })), eventTime: eventTimeNow() });
        return `Received ${list.length} pack${list.length === 1 ? '' : 's'}: they are in your custody now.`;
      }}
    >
      <Field label="Product GTIN" value={gtin} onChange={setGtin} pattern="\d{14}" />
      <Field label="Serial numbers" value={serials} onChange={setSerials} hint="One a line, as shipped to you" multiline />
    </ActionForm>
  );
}

function RecallForm() {
  const user = useUser();
  const [gtin, setGtin] = useState('');
  const [lot, setLot] = useState('');
  const [reason, setReason] = useState('');
  return (
    <ActionForm
      title="Recall a lot"
      submit="Recall lot"
      run={async () => {
        await medicinesTx(user.client, 'supply.recall', { gtin, lot, reason, eventTime: eventTimeNow() });
        return `Lot ${lot} is recalled: no pack of it verifies, ships or is dispensed from now on, and patients who were given one are told.`;
      }}
    >
      <Field label="Product GTIN" value={gtin} onChange={setGtin} pattern="\d{14}" />
      <Field label="Lot" value={lot} onChange={setLot} pattern="[A-Za-z0-9\-]{1,20}" />
      <Field label="Reason" value={reason} onChange={setReason} />
    </ActionForm>
  );
}

/** Verify a pack by its DataMatrix (logged on chain); for a saleable return in your custody, a verified answer clears it for resale. */
function VerifyForm(props: { title: string }) {
  const user = useUser();
  const [code, setCode] = useState('');
  const [answer, setAnswer] = useState<{ id: ScannedIdentifier; v: Verification } | undefined>(undefined);
  return (
    <ActionForm
      title={props.title}
      submit="Verify pack"
      run={async () => {
        setAnswer(undefined);
        const id = parseGs1(code);
        const v = await verifyProduct(user.client, id);
        setAnswer({ id, v });
        return v.verified
          ? `Verified: pack ${id.serial} is genuine. The check is logged on chain; a return in your custody may be sold again.`
          : `Checked pack ${id.serial}; the check is logged on chain.`;
      }}
      after={
        answer !== undefined &&
        !answer.v.verified && <Notice tone="warn">Not verified: {REASON_WORDS[String(answer.v.reason)] ?? String(answer.v.reason)}.</Notice>
      }
    >
      <Field
        label="DataMatrix code"
        value={code}
        onChange={setCode}
        hint="Scan the pack, or type what is printed under the code, e.g. (01)…(21)…(10)…(17)…, or paste its web link."
      />
    </ActionForm>
  );
}

const STEP_WORDS: Record<string, string> = {
  commissioning: 'Commissioned',
  shipping: 'Shipped',
  receiving: 'Received',
  packing: 'Packed into a case',
  unpacking: 'Unpacked from its case',
  dispensing: 'Dispensed to a patient',
  destroying: 'Destroyed',
  decommissioning: 'Decommissioned',
  holding: 'Held',
};

/** A pack's custody history: its EPCIS events, oldest first, each proven as stored. */
function TraceForm() {
  const user = useUser();
  const [gtin, setGtin] = useState('');
  const [serial, setSerial] = useState('');
  const [events, setEvents] = useState<Json[] | undefined>(undefined);
  const names = new Map(user.genesis.genesis.organizations.map((o) => [idFromPublicKey(o.adminKey), o.name]));
  return (
    <ActionForm
      title="Trace a pack"
      submit="Show history"
      run={async () => {
        setEvents(undefined);
        const all: Json[] = [];
        let cursor: string | undefined;
        for (;;) {
          const page = await traceProduct(user.client, { gtin, serial }, { limit: 100, ...(cursor === undefined ? {} : { cursor }) });
          all.push(...page.items);
          if (page.next === null) break;
          cursor = page.next;
        }
        setEvents(all);
        return `${all.length} event${all.length === 1 ? '' : 's'} for pack ${serial}, each proven against the network's signatures.`;
      }}
      after={
        events !== undefined &&
        events.length > 0 && (
          <ol aria-label="Custody history" className="history">
            {events.map((e) => (
              <li key={String(e.eventID)}>
                <strong>{STEP_WORDS[String(e.bizStep)] ?? String(e.bizStep)}</strong> {String(e.eventTime).replace('T', ' ').slice(0, 16)}{' '}
                UTC by {names.get(String(e['medledger:recordedBy'])) ?? String(e['medledger:recordedBy'])}
                {typeof e.disposition === 'string' ? ` (${e.disposition.replace(/_/g, ' ')})` : ''}
              </li>
            ))}
          </ol>
        )
      }
    >
      <Field label="Product GTIN" value={gtin} onChange={setGtin} pattern="\d{14}" />
      <Field label="Serial number" value={serial} onChange={setSerial} pattern="[A-Za-z0-9\-]{1,20}" />
    </ActionForm>
  );
}

const NOTICE_WORDS: Record<string, string> = {
  open: 'open — to be notified within 24 hours',
  overdue: 'OVERDUE — not notified within 24 hours',
  notified: 'notified',
  'notified-late': 'notified late',
  terminated: 'terminated',
};

/** Illegitimate-product notifications this organization may see, proven, with their status at the last block's time. */
function NoticesList() {
  const user = useUser();
  const notices = useLoad(async () => {
    const all: Json[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await listNotices(user.client, { limit: 100, ...(cursor === undefined ? {} : { cursor }) });
      all.push(...page.items);
      if (page.next === null) return all;
      cursor = page.next;
    }
  }, [user]);
  const overdue = (notices.data ?? []).filter((n) => n.status === 'overdue').length;
  return (
    <section className="card" aria-labelledby="notices-heading">
      <h2 id="notices-heading">Illegitimate-product notifications</h2>
      <ErrorMessage error={notices.error} />
      {notices.data === undefined && notices.error === undefined && <Loading what="notifications" />}
      {notices.data !== undefined && notices.data.length === 0 && <p>No notifications.</p>}
      {overdue > 0 && <Notice tone="warn">{overdue} overdue: not notified within 24 hours of the determination.</Notice>}
      {notices.data !== undefined && notices.data.length > 0 && (
        <ul aria-label="Notifications">
          {notices.data.map((n) => (
            <li key={String(n.id)}>
              GTIN {String(n.gtin)} {n.serial === null ? `lot ${String(n.lot)}` : `serial ${String(n.serial)}`}: {String(n.reason)} —{' '}
              {NOTICE_WORDS[String(n.status)] ?? String(n.status)}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Intro(props: { children: ReactNode }) {
  const user = useUser();
  return (
    <p>
      Signed in as <strong>{typeof user.identity.name === 'string' ? user.identity.name : user.label}</strong>. {props.children}
    </p>
  );
}

export function ManufacturerHome() {
  return (
    <section>
      <PageTitle>Manufacturer</PageTitle>
      <Intro>Commission serialized packs of your products, ship them with the DSCSA transaction information, and recall a lot.</Intro>
      <CommissionForm />
      <ShipForm />
      <RecallForm />
      <TraceForm />
      <NoticesList />
    </section>
  );
}

export function WholesalerHome() {
  return (
    <section>
      <PageTitle>Wholesaler</PageTitle>
      <Intro>Receive packs shipped to you, ship them on, and verify a returned pack before it is sold again.</Intro>
      <ReceiveForm />
      <ShipForm />
      <VerifyForm title="Verify a returned pack" />
      <TraceForm />
    </section>
  );
}

export function RegulatorHome() {
  return (
    <section>
      <PageTitle>Regulator</PageTitle>
      <Intro>Trace any pack's history, recall a lot, and follow illegitimate-product notifications.</Intro>
      <TraceForm />
      <NoticesList />
      <RecallForm />
    </section>
  );
}
