// The supply-chain actions shared by the partners' pages (docs/medicines.md "Web"): receive a
// shipment, pack packs into a case and unpack it (EPCIS aggregation), destroy or decommission packs,
// quarantine a suspect or illegitimate pack or lot, and notify or terminate an
// illegitimate-product notification. Each is one ledger transaction; the chain decides, and a
// refusal is shown in plain words (labels.ts).
import { eventTimeNow, medicinesTx } from '@medledger/client';
import { useId, useState } from 'react';
import { useUser } from '../session.js';
import { ActionForm, Field, FormProblem, packsOf, serialsOf } from './supply-forms.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function PackForm() {
  const user = useUser();
  const [sscc, setSscc] = useState('');
  const [gtin, setGtin] = useState('');
  const [serials, setSerials] = useState('');
  return (
    <ActionForm
      title="Pack packs into a case"
      submit="Pack case"
      run={async () => {
        const list = serialsOf(serials);
        await medicinesTx(user.client, 'supply.pack', { sscc, epcs: list.map((serial) => ({ gtin, serial })), eventTime: eventTimeNow() });
        return `Packed ${plural(list.length, 'pack')} into case ${sscc}: they now move with the case.`;
      }}
    >
      <Field label="Case SSCC" value={sscc} onChange={setSscc} hint="18 digits, from the case label" pattern="\d{18}" />
      <Field label="Product GTIN" value={gtin} onChange={setGtin} pattern="\d{14}" />
      <Field label="Serial numbers" value={serials} onChange={setSerials} hint="One a line: packs you hold" multiline />
    </ActionForm>
  );
}

export function UnpackForm() {
  const user = useUser();
  const [sscc, setSscc] = useState('');
  return (
    <ActionForm
      title="Unpack a case"
      submit="Unpack case"
      run={async () => {
        await medicinesTx(user.client, 'supply.unpack', { sscc, eventTime: eventTimeNow() });
        return `Case ${sscc} is unpacked: its packs may be shipped, dispensed or destroyed one by one.`;
      }}
    >
      <Field label="Case SSCC" value={sscc} onChange={setSscc} hint="18 digits, from the case label" pattern="\d{18}" />
    </ActionForm>
  );
}

/** Packs (serials or scanned DataMatrix codes, one a line) and cases (SSCCs) shipped to you become yours. */
export function ReceiveForm(props: { title?: string; intro?: string }) {
  const user = useUser();
  const [gtin, setGtin] = useState('');
  const [packs, setPacks] = useState('');
  const [cases, setCases] = useState('');
  return (
    <ActionForm
      title={props.title ?? 'Receive packs'}
      submit="Receive"
      run={async () => {
        const epcs = packsOf(gtin, packs);
        const ssccs = serialsOf(cases);
        if (epcs.length + ssccs.length === 0) throw new FormProblem('List the packs or the cases that arrived.');
        const bad = ssccs.find((c) => !/^\d{18}$/.test(c));
        if (bad !== undefined) throw new FormProblem(`Case ${bad}: a case number (SSCC) is 18 digits, from the case label.`);
        await medicinesTx(user.client, 'supply.receive', { epcs, cases: ssccs, eventTime: eventTimeNow() });
        const what = [epcs.length > 0 ? plural(epcs.length, 'pack') : '', ssccs.length > 0 ? plural(ssccs.length, 'case') : '']
          .filter((w) => w !== '')
          .join(' and ');
        return `Received ${what}: ${epcs.length + ssccs.length === 1 ? 'it is' : 'they are'} in your custody now.`;
      }}
    >
      {props.intro !== undefined && <p>{props.intro}</p>}
      <Field
        label="Serial numbers"
        value={packs}
        onChange={setPacks}
        hint="One a line: type each pack's serial number (and the product GTIN below), or scan the pack"
        multiline
        required={false}
      />
      <Field
        label="Product GTIN"
        value={gtin}
        onChange={setGtin}
        hint="14 digits; not needed for scanned packs"
        pattern="\d{14}"
        required={false}
      />
      <Field
        label="Cases"
        value={cases}
        onChange={setCases}
        hint="One a line: the 18-digit SSCC of each sealed case"
        multiline
        required={false}
      />
    </ActionForm>
  );
}

type DecommissionKind = 'destroy' | 'decommission';

/**
 * Destroy or decommission packs you hold (serials or scanned DataMatrix codes). `only` fixes
 * the kind (a pharmacy counter only destroys); `reasons` offers the usual reasons to choose
 * from, with "Another reason" to type one.
 */
export function DecommissionForm(props: { title?: string; only?: DecommissionKind; reasons?: string[]; intro?: string }) {
  const user = useUser();
  const [gtin, setGtin] = useState('');
  const [packs, setPacks] = useState('');
  const [kind, setKind] = useState<DecommissionKind>(props.only ?? 'destroy');
  const [chosen, setChosen] = useState(props.reasons?.[0] ?? '');
  const [typed, setTyped] = useState('');
  const kindId = useId();
  const reasonId = useId();
  const other = props.reasons === undefined || chosen === '';
  return (
    <ActionForm
      title={props.title ?? 'Destroy or take packs out of the supply chain'}
      submit={props.only === 'destroy' ? 'Destroy' : 'Record it'}
      run={async () => {
        const epcs = packsOf(gtin, packs);
        if (epcs.length === 0) throw new FormProblem('List the packs: scan each one, or type its serial number.');
        const reason = other ? typed : chosen;
        await medicinesTx(user.client, 'supply.decommission', { epcs, kind, reason, eventTime: eventTimeNow() });
        const list = epcs.map((e) => e.serial).join(', ');
        return `${epcs.length === 1 ? `Pack ${list}` : `Packs ${list}`} ${kind === 'destroy' ? 'destroyed' : 'taken out of the supply chain'} (${reason}): ${epcs.length === 1 ? 'it no longer verifies' : 'they no longer verify'}.`;
      }}
    >
      {props.intro !== undefined && <p>{props.intro}</p>}
      {props.only === undefined && (
        <>
          <label htmlFor={kindId}>What happened</label>
          <select id={kindId} value={kind} onChange={(e) => setKind(e.target.value as DecommissionKind)}>
            <option value="destroy">Destroyed</option>
            <option value="decommission">Decommissioned (samples, export, theft)</option>
          </select>
        </>
      )}
      <Field
        label="Serial numbers"
        value={packs}
        onChange={setPacks}
        hint="One a line: type each pack's serial number (and the product GTIN below), or scan the pack"
        multiline
      />
      <Field
        label="Product GTIN"
        value={gtin}
        onChange={setGtin}
        hint="14 digits; not needed for scanned packs"
        pattern="\d{14}"
        required={false}
      />
      {props.reasons !== undefined && (
        <>
          <label htmlFor={reasonId}>Why</label>
          <select id={reasonId} value={chosen} onChange={(e) => setChosen(e.target.value)}>
            {props.reasons.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
            <option value="">Another reason</option>
          </select>
        </>
      )}
      {other && <Field label={props.reasons === undefined ? 'Reason' : 'The reason'} value={typed} onChange={setTyped} />}
    </ActionForm>
  );
}

/** Quarantine one pack (`serial`) or, for a manufacturer or the regulator, a whole lot. */
export function QuarantineForm(props: { lots: boolean }) {
  const user = useUser();
  const [gtin, setGtin] = useState('');
  const [what, setWhat] = useState<'serial' | 'lot'>('serial');
  const [value, setValue] = useState('');
  const [kind, setKind] = useState<'suspect' | 'illegitimate'>('suspect');
  const [reason, setReason] = useState('');
  const whatId = useId();
  const kindId = useId();
  return (
    <ActionForm
      title="Quarantine suspect or illegitimate product"
      submit="Quarantine"
      run={async () => {
        await medicinesTx(user.client, 'supply.quarantine', {
          gtin,
          ...(what === 'serial' ? { serial: value } : { lot: value }),
          kind,
          reason,
          eventTime: eventTimeNow(),
        });
        const subject = what === 'serial' ? `Pack ${value}` : `Lot ${value}`;
        return kind === 'suspect'
          ? `${subject} is quarantined as suspect: it verifies as "Suspect" while you investigate.`
          : `${subject} is determined illegitimate: notify the FDA and your trading partners within 24 hours, then record the notification below.`;
      }}
    >
      {props.lots && (
        <>
          <label htmlFor={whatId}>Quarantine</label>
          <select id={whatId} value={what} onChange={(e) => setWhat(e.target.value as 'serial' | 'lot')}>
            <option value="serial">One pack (serial number)</option>
            <option value="lot">A whole lot</option>
          </select>
        </>
      )}
      <label htmlFor={kindId}>Finding</label>
      <select id={kindId} value={kind} onChange={(e) => setKind(e.target.value as 'suspect' | 'illegitimate')}>
        <option value="suspect">Suspect (under investigation)</option>
        <option value="illegitimate">Illegitimate (determined)</option>
      </select>
      <Field label="Product GTIN" value={gtin} onChange={setGtin} pattern="\d{14}" />
      <Field label={what === 'serial' ? 'Serial number' : 'Lot'} value={value} onChange={setValue} pattern="[A-Za-z0-9\-]{1,20}" />
      <Field label="Reason" value={reason} onChange={setReason} />
    </ActionForm>
  );
}

/** Record that an illegitimate-product notification was made, or terminate it (notification ids are listed with the notifications). */
export function NotificationForm(props: { notify: boolean }) {
  const user = useUser();
  const [notice, setNotice] = useState('');
  const [reason, setReason] = useState('');
  return (
    <ActionForm
      title={props.notify ? 'Record a notification as made' : 'Terminate a notification'}
      submit={props.notify ? 'Record notification' : 'Terminate'}
      run={async () => {
        if (props.notify) {
          await medicinesTx(user.client, 'supply.notify', { notice });
          return `Notification ${notice.slice(0, 8)} is recorded as made.`;
        }
        await medicinesTx(user.client, 'supply.terminate', { notice, reason });
        return `Notification ${notice.slice(0, 8)} is terminated.`;
      }}
    >
      <Field label="Notification id" value={notice} onChange={setNotice} hint="As listed under the notifications" pattern="[0-9a-f]{32}" />
      {!props.notify && <Field label="Why it ends" value={reason} onChange={setReason} />}
    </ActionForm>
  );
}
