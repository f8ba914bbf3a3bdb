// Choosing an organization (ship to, the pharmacy a prescription goes to): the chain's current
// member organizations of the wanted kinds, including those admitted by governance after
// genesis, each proven by the SDK (listMemberOrganizations); loaded a page at a time, with a
// button for the next page rather than a silent cut-off.
import { listMemberOrganizations, type MemberOrganization } from '@medledger/client';
import { useEffect, useState } from 'react';
import { useUser } from '../session.js';
import { ErrorMessage } from '../ui.js';

const PAGE = 50;

/** The member organizations of `kinds` (other than the signed-in one), page by page. */
export function useMemberOrganizations(kinds: readonly string[]) {
  const user = useUser();
  const [items, setItems] = useState<MemberOrganization[]>([]);
  const [next, setNext] = useState<string | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const load = async (cursor: string | undefined, reset: boolean) => {
    setBusy(true);
    setError(undefined);
    try {
      const page = await listMemberOrganizations(user.client, { kinds, limit: PAGE, ...(cursor === undefined ? {} : { cursor }) });
      const mine = page.items.filter((o) => o.id !== user.client.id);
      setItems((before) => (reset ? mine : [...before, ...mine]));
      setNext(page.next);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: reload when the user or the kinds change
  useEffect(() => {
    void load(undefined, true);
  }, [user, kinds.join(',')]);
  return {
    items,
    more: next === null || next === undefined ? undefined : () => load(next, false),
    error,
    busy,
    loaded: next !== undefined,
  };
}

const KIND_WORDS: Record<string, string> = {
  manufacturer: 'manufacturer',
  distributor: 'wholesaler',
  wholesaler: 'wholesaler',
  pharmacy: 'pharmacy',
  dispenser: 'pharmacy',
};

/** A labelled select of member organizations, with "Show more organizations" while pages remain. */
export function OrganizationPicker(props: {
  id: string;
  label: string;
  placeholder: string;
  kinds: readonly string[];
  value: string;
  onChange: (id: string, org: MemberOrganization | undefined) => void;
  showKind?: boolean;
}) {
  const orgs = useMemberOrganizations(props.kinds);
  return (
    <>
      <label htmlFor={props.id}>{props.label}</label>
      <select
        id={props.id}
        value={props.value}
        onChange={(e) =>
          props.onChange(
            e.target.value,
            orgs.items.find((o) => o.id === e.target.value),
          )
        }
        required
        aria-busy={orgs.busy}
      >
        <option value="">{orgs.loaded ? props.placeholder : 'Loading the organizations…'}</option>
        {orgs.items.map((o) => (
          <option key={o.id} value={o.id}>
            {o.name}
            {props.showKind === true ? ` (${KIND_WORDS[o.kind] ?? o.kind})` : ''}
          </option>
        ))}
      </select>
      {orgs.more !== undefined && (
        <button type="button" className="secondary" onClick={() => void orgs.more?.()} disabled={orgs.busy}>
          Show more organizations
        </button>
      )}
      <ErrorMessage error={orgs.error} title="The list of organizations could not be loaded." />
    </>
  );
}
