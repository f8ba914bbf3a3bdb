// Medicines in the web app (docs/medicines.md): at the pharmacy counter the pharmacist scans or
// types a package's DataMatrix, sees whether it verifies and the prescriptions waiting at this
// pharmacy, and dispenses; a patient sees their prescriptions, fills and any recall notice.
// Every answer shown is proven against the network's genesis by the SDK.
import {
  type DispenseItem,
  dispense as dispenseRx,
  listPrescriptions,
  parseGs1,
  type RecallNotice,
  recallNotices,
  type ScannedIdentifier,
  type Verification,
  verifyProduct,
} from '@medledger/client';
import { type FormEvent, useState } from 'react';
import { GS1_REASON_WORDS } from '../labels.js';
import { useUser } from '../session.js';
import { ErrorMessage, Loading, Notice, PageTitle, useLoad } from '../ui.js';
import { PharmacyLinks } from './pharmacy-stock.js';

type Rx = Record<string, unknown>;

/** GS1 verification reasons in plain words (labels.ts, shared with the error messages). */
export const REASON_WORDS = GS1_REASON_WORDS;

async function all<T>(load: (cursor: string | undefined) => Promise<{ items: T[]; next: string | null }>): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await load(cursor);
    out.push(...page.items);
    if (page.next === null) return out;
    cursor = page.next;
  }
}

const fillsLeft = (rx: Rx) => Number(rx.repeats) + 1 - Number(rx.fills);

/** The pharmacist's counter: scan, verify, and dispense against a prescription held here. */
export function PharmacyCounter() {
  const user = useUser();
  const pharmacy = String(user.identity.org ?? '');
  const [code, setCode] = useState('');
  const [scan, setScan] = useState<{ id: ScannedIdentifier; answer: Verification } | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | undefined>(undefined);
  const [unreadable, setUnreadable] = useState<string | undefined>(undefined);
  const held = useLoad(
    () =>
      all((cursor) =>
        listPrescriptions(user.client, { by: 'pharmacies', id: pharmacy, limit: 100, ...(cursor === undefined ? {} : { cursor }) }),
      ),
    [pharmacy],
  );
  const check = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setScan(undefined);
    setDone(undefined);
    let id: ScannedIdentifier;
    try {
      id = parseGs1(code);
    } catch (err) {
      // The parser names what is wrong with the code (a check digit, a missing serial): say it.
      setUnreadable((err as Error).message);
      setBusy(false);
      return;
    }
    setUnreadable(undefined);
    try {
      setScan({ id, answer: await verifyProduct(user.client, id) });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const dispense = async (rx: Rx) => {
    if (scan === undefined) return;
    const { id } = scan;
    setBusy(true);
    setError(undefined);
    try {
      const item: DispenseItem = { gtin: id.gtin, serial: id.serial, lot: id.lot as string, expiry: id.expiry as string };
      // Writes the MedicationDispense into the patient's encrypted records in the same transaction.
      await dispenseRx(user.client, { rx: String(rx.id), items: [item] });
      setDone(`Dispensed pack ${id.serial} against prescription ${String(rx.id).slice(0, 8)}.`);
      setScan(undefined);
      setCode('');
      held.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const dispensable = scan?.answer.verified === true && scan.id.lot !== undefined && scan.id.expiry !== undefined;
  const waiting = (held.data ?? []).filter((rx) => rx.status === 'active' && fillsLeft(rx) > 0);
  return (
    <section>
      <PageTitle>Pharmacy counter</PageTitle>
      <form onSubmit={check}>
        <label htmlFor="datamatrix">DataMatrix code</label>
        <p className="hint" id="datamatrix-hint">
          Scan the pack, or type what is printed under the code, e.g. (01)…(21)…(10)…(17)…, or paste its web link.
        </p>
        <input
          id="datamatrix"
          aria-describedby="datamatrix-hint"
          value={code}
          onChange={(e) => setCode(e.target.value)}
          autoComplete="off"
          required
        />
        <button type="submit" disabled={busy} aria-busy={busy}>
          {busy ? 'Checking…' : 'Check pack'}
        </button>
      </form>
      <ErrorMessage error={error} />
      {unreadable !== undefined && <Notice tone="warn">This code cannot be read: {unreadable}.</Notice>}
      {done !== undefined && <Notice tone="ok">{done}</Notice>}
      {scan !== undefined &&
        (scan.answer.verified ? (
          <Notice tone="ok">
            Verified: pack {scan.id.serial}
            {scan.id.lot === undefined ? '' : `, lot ${scan.id.lot}`}
            {scan.id.expiry === undefined ? '' : `, expires ${scan.id.expiry}`} is genuine and may be dispensed.
          </Notice>
        ) : (
          <Notice tone="warn">Not verified: {REASON_WORDS[String(scan.answer.reason)] ?? String(scan.answer.reason)}.</Notice>
        ))}
      <h2>Prescriptions waiting here</h2>
      {held.error !== undefined && <ErrorMessage error={held.error} />}
      {held.data === undefined && held.error === undefined && <Loading what="prescriptions" />}
      {held.data !== undefined && waiting.length === 0 && <p>No prescriptions are waiting.</p>}
      {waiting.length > 0 && (
        <ul className="cards" aria-label="Prescriptions waiting here">
          {waiting.map((rx) => (
            <li key={String(rx.id)} className="card">
              <p>
                <strong>Prescription {String(rx.id).slice(0, 8)}</strong> · RxNorm {String(rx.rxnorm)} · {String(rx.quantity)} pack
                {Number(rx.quantity) === 1 ? '' : 's'} per fill · {fillsLeft(rx)} fill{fillsLeft(rx) === 1 ? '' : 's'} left · valid{' '}
                {String(rx.validFrom)} to {String(rx.validTo)}
              </p>
              <button type="button" disabled={!dispensable || busy} onClick={() => void dispense(rx)}>
                Dispense scanned pack for prescription {String(rx.id).slice(0, 8)}
              </button>
            </li>
          ))}
        </ul>
      )}
      {!dispensable && waiting.length > 0 && <p className="hint">Check a pack (with its lot and expiry) to dispense it.</p>}
      <PharmacyLinks here="/pharmacy" />
    </section>
  );
}

/** A patient's prescriptions, fills and recall notices. */
export function PatientMedicines() {
  const user = useUser();
  const me = user.client.id;
  const data = useLoad(async () => {
    const prescriptions = await all((cursor) =>
      listPrescriptions(user.client, { by: 'patients', id: me, limit: 100, ...(cursor === undefined ? {} : { cursor }) }),
    );
    const notices: RecallNotice[] = await recallNotices(user.client, me);
    return { prescriptions, notices };
  }, [me]);
  return (
    <section>
      <PageTitle>Medicines</PageTitle>
      {data.error !== undefined && <ErrorMessage error={data.error} />}
      {data.data === undefined && data.error === undefined && <Loading what="your prescriptions" />}
      {data.data !== undefined && (
        <>
          {data.data.notices.map((n) => (
            <Notice key={`${n.gtin}/${n.serial}`} tone="warn">
              Recall: a pack you were given (serial {n.serial}, lot {n.lot}) has been recalled: {n.recall.reason}. Ask your pharmacy what to
              do.
            </Notice>
          ))}
          <h2>My prescriptions</h2>
          {data.data.prescriptions.length === 0 ? (
            <p>You have no prescriptions.</p>
          ) : (
            <ul className="cards" aria-label="My prescriptions">
              {data.data.prescriptions.map((rx) => (
                <li key={String(rx.id)} className="card">
                  <p>
                    <strong>RxNorm {String(rx.rxnorm)}</strong> · {rx.status === 'cancelled' ? 'cancelled' : `${fillsLeft(rx)} fills left`}{' '}
                    · filled {String(rx.fills)} time{Number(rx.fills) === 1 ? '' : 's'} · valid {String(rx.validFrom)} to{' '}
                    {String(rx.validTo)}
                  </p>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
