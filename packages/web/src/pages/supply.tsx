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
  provenIdentity,
  type ScannedIdentifier,
  traceProduct,
  type Verification,
  verifyProduct,
} from '@medledger/client';
import { idFromPublicKey } from '@medledger/crypto/browser';
import { type ReactNode, useId, useState } from 'react';
import { useUser } from '../session.js';
import { ErrorMessage, Loading, Notice, PageTitle, useLoad } from '../ui.js';
import { REASON_WORDS } from './medicines.js';
import { OrganizationPicker } from './org-picker.js';
import { DecommissionForm, NotificationForm, PackForm, QuarantineForm, ReceiveForm, UnpackForm } from './supply-actions.js';
import { ActionForm, Field, serialsOf } from './supply-forms.js';

type Json = Record<string, unknown>;

/** Serial numbers for new packs: 12 characters of an unambiguous alphabet, 60 random bits each (as the CLI's `--count`). */
const SERIAL_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
function newSerials(count: number): string[] {
  const out = new Set<string>();
  while (out.size < count) out.add([...crypto.getRandomValues(new Uint8Array(12))].map((b) => SERIAL_ALPHABET[b & 31]).join(''));
  return [...out];
}

/** The trading-partner kinds a pack may be shipped to. */
const SHIP_TO_KINDS = ['manufacturer', 'distributor', 'wholesaler', 'pharmacy', 'dispenser'] as const;

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
  const [to, setTo] = useState('');
  const [toName, setToName] = useState('');
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
        return `Shipped ${list.length} pack${list.length === 1 ? '' : 's'} to ${toName || to}, invoice ${invoice}.`;
      }}
    >
      <OrganizationPicker
        id={toId}
        label="Ship to"
        placeholder="Choose a trading partner"
        kinds={SHIP_TO_KINDS}
        value={to}
        showKind
        onChange={(id, org) => {
          setTo(id);
          setToName(org?.name ?? '');
        }}
      />
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
  void_shipping: 'Shipment cancelled (addressee suspended or removed)',
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
  const [names, setNames] = useState(() => new Map(user.genesis.genesis.organizations.map((o) => [idFromPublicKey(o.adminKey), o.name])));
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
        // Partners admitted after genesis are named by their proven identities.
        const known = new Map(names);
        for (const id of new Set(all.map((e) => String(e['medledger:recordedBy'])))) {
          if (known.has(id)) continue;
          const org = await provenIdentity(user.client.verified('naming a trading partner'), id).catch(() => undefined);
          if (typeof org?.value.name === 'string') known.set(id, org.value.name);
        }
        setNames(known);
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
              {NOTICE_WORDS[String(n.status)] ?? String(n.status)} (notification <code>{String(n.id)}</code>)
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
      <Intro>
        Commission serialized packs of your products, pack them into cases, ship them with the DSCSA transaction information, recall or
        quarantine a lot, and destroy packs.
      </Intro>
      <CommissionForm />
      <ShipForm />
      <PackForm />
      <UnpackForm />
      <RecallForm />
      <QuarantineForm lots />
      <DecommissionForm />
      <TraceForm />
      <NoticesList />
      <NotificationForm notify />
      <NotificationForm notify={false} />
    </section>
  );
}

export function WholesalerHome() {
  return (
    <section>
      <PageTitle>Wholesaler</PageTitle>
      <Intro>
        Receive packs shipped to you, pack and unpack cases, ship them on, verify a returned pack before it is sold again, and quarantine or
        destroy suspect product.
      </Intro>
      <ReceiveForm />
      <ShipForm />
      <PackForm />
      <UnpackForm />
      <VerifyForm title="Verify a returned pack" />
      <QuarantineForm lots={false} />
      <DecommissionForm />
      <TraceForm />
      <NoticesList />
      <NotificationForm notify />
      <NotificationForm notify={false} />
    </section>
  );
}

export function RegulatorHome() {
  return (
    <section>
      <PageTitle>Regulator</PageTitle>
      <Intro>Trace any pack's history, follow and terminate illegitimate-product notifications, recall or quarantine a lot.</Intro>
      <TraceForm />
      <NoticesList />
      <NotificationForm notify={false} />
      <RecallForm />
      <QuarantineForm lots />
    </section>
  );
}
