// Prescribing from the patient's page (issue 14 item 8, docs/medicines.md "Prescribing"): the
// clinician names the medication by its RxNorm code and the pharmacy the patient chose; the SDK's
// `prescribe` writes the FHIR MedicationRequest into the patient's encrypted records (sealed to
// the patient and the pharmacy they share medications with) and puts its hash and the fill rules
// on chain. The chain decides: a controlled substance with repeats is refused in words.
import { prescribe } from '@medledger/client';
import { type FormEvent, useState } from 'react';
import { useUser } from '../session.js';
import { ErrorMessage, Notice } from '../ui.js';
import { OrganizationPicker } from './org-picker.js';

const PHARMACY_KINDS = ['pharmacy', 'dispenser'] as const;

export function PrescribeForm(props: { patient: string; canWrite: boolean }) {
  const user = useUser();
  // The pharmacy's name as proven when it was chosen (the picker lists the chain's members).
  const [pharmacyName, setPharmacyName] = useState('the pharmacy');
  const [f, setF] = useState({ rxnorm: '', name: '', quantity: '1', repeats: '0', days: '0', pharmacy: '', instructions: '' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      const rx = await prescribe(user.client, {
        patient: props.patient,
        pharmacy: f.pharmacy,
        rxnorm: f.rxnorm.trim(),
        ...(f.name.trim() === '' ? {} : { display: f.name.trim() }),
        quantity: Number(f.quantity),
        repeats: Number(f.repeats),
        daysBetween: Number(f.days),
        ...(f.instructions.trim() === '' ? {} : { instructions: f.instructions.trim() }),
      });
      setDone(`Prescription ${rx.id.slice(0, 8)} is waiting at ${pharmacyName}, valid ${rx.validFrom} to ${rx.validTo}.`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="prescribe-heading">
      <h2 id="prescribe-heading">Prescribe</h2>
      {!props.canWrite ? (
        <p>
          To prescribe, the patient must let you add medication records (read and write sharing of medications), so the prescription can be
          written into their records.
        </p>
      ) : (
        <form onSubmit={(e) => void submit(e)}>
          <label htmlFor="rx-name">Medication</label>
          <input id="rx-name" value={f.name} onChange={set('name')} autoComplete="off" />
          <label htmlFor="rx-code">RxNorm code</label>
          <input id="rx-code" value={f.rxnorm} onChange={set('rxnorm')} inputMode="numeric" pattern="\d{1,10}" required />
          <label htmlFor="rx-qty">Packs per fill</label>
          <input id="rx-qty" type="number" min={1} max={100} value={f.quantity} onChange={set('quantity')} required />
          <label htmlFor="rx-repeats">Repeats (fills after the first)</label>
          <input id="rx-repeats" type="number" min={0} max={12} value={f.repeats} onChange={set('repeats')} required />
          <label htmlFor="rx-days">Days between fills</label>
          <input id="rx-days" type="number" min={0} max={365} value={f.days} onChange={set('days')} required />
          <OrganizationPicker
            id="rx-pharmacy"
            label="Pharmacy the patient chose"
            placeholder="Choose a pharmacy"
            kinds={PHARMACY_KINDS}
            value={f.pharmacy}
            onChange={(id, org) => {
              setF({ ...f, pharmacy: id });
              setPharmacyName(org?.name ?? 'the pharmacy');
            }}
          />
          <label htmlFor="rx-instructions">Instructions for the patient</label>
          <input id="rx-instructions" value={f.instructions} onChange={set('instructions')} autoComplete="off" />
          <button type="submit" disabled={busy} aria-busy={busy}>
            {busy ? 'Prescribing…' : 'Prescribe'}
          </button>
        </form>
      )}
      <ErrorMessage error={error} title="The prescription was not made." />
      {done !== undefined && <Notice tone="ok">{done}</Notice>}
    </section>
  );
}
