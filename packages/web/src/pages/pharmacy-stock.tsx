// The pharmacy's own stock, beside the counter (docs/medicines.md "Web"): pharmacy staff receive
// a delivery addressed to the pharmacy, and destroy a pack that cannot be dispensed (damaged, or
// returned by a patient and not resaleable). The forms are the supply chain's own
// (supply-actions.tsx), worded for a pharmacist; the chain decides, and a refusal names the pack
// and, for one that does not verify, the GS1 reason in words.
import { Link, PageTitle } from '../ui.js';
import { DecommissionForm, ReceiveForm, UnpackForm } from './supply-actions.js';

/** The pharmacist's pages, linked from the counter (the home) and the menu. */
export function PharmacyLinks(props: { here: string }) {
  const pages: Array<[string, string]> = [
    ['/pharmacy', 'Pharmacy counter: check and dispense'],
    ['/pharmacy/receive', 'Receive a delivery'],
    ['/pharmacy/destroy', 'Destroy a damaged or returned pack'],
  ];
  return (
    <nav aria-label="Pharmacy pages" className="page-links">
      <ul>
        {pages
          .filter(([to]) => to !== props.here)
          .map(([to, label]) => (
            <li key={to}>
              <Link to={to}>{label}</Link>
            </li>
          ))}
      </ul>
    </nav>
  );
}

export function PharmacyReceive() {
  return (
    <section>
      <PageTitle>Receive a delivery</PageTitle>
      <p>
        When a wholesaler’s delivery arrives, record it here before you put the packs on the shelf: scan each pack (or type the serial
        numbers from the packing list), or give the number of each sealed case. Only packs shipped to this pharmacy can be received; once
        received, they can be dispensed. Open a case here when you take its packs out one by one.
      </p>
      <ReceiveForm title="Packs and cases that arrived" />
      <UnpackForm />
      <PharmacyLinks here="/pharmacy/receive" />
    </section>
  );
}

/** The usual reasons a pharmacy destroys a pack. */
const PHARMACY_DESTROY_REASONS = [
  'Damaged',
  'Returned by a patient: cannot be dispensed again',
  'Expired on the shelf',
  'Recalled by the manufacturer',
];

export function PharmacyDestroy() {
  return (
    <section>
      <PageTitle>Destroy a pack</PageTitle>
      <p>
        A pack that must not be dispensed — damaged, returned by a patient, expired or recalled — is destroyed here once it is set aside for
        destruction. From then on it no longer verifies anywhere, so it cannot be sold or dispensed by mistake. A pack already dispensed
        cannot be destroyed; a pack still in a case is unpacked first (on “Receive a delivery”).
      </p>
      <DecommissionForm title="Pack to destroy" only="destroy" reasons={PHARMACY_DESTROY_REASONS} />
      <PharmacyLinks here="/pharmacy/destroy" />
    </section>
  );
}
