// The names of the readers in an access log, for `medledger audit`'s text output.
import { pool } from './pool.js';

/** Identity look-ups `medledger audit` keeps in flight at once. */
export const ACCESSOR_LOOKUPS = 8;

/**
 * Words for each accessor in an access log: the name, role and organization of their proven
 * identity (MedLedgerClient.identity reads identity/<id> against the trusted genesis), e.g.
 * "Dr Grey, clinician at General Hospital"; a patient or an unnamed identity by role alone.
 * An identity that cannot be read is left out (its id is still printed). At most
 * ACCESSOR_LOOKUPS requests are in flight at once (a long log names many readers), and each
 * organization is looked up once.
 */
export async function accessorNames(
  client: { identity(id: string): Promise<{ name?: string; role: string; org?: string }> },
  patient: string,
  events: ReadonlyArray<{ accessor: string | null }>,
): Promise<Map<string, string>> {
  const ids = [...new Set(events.map((e) => e.accessor))].filter((id): id is string => id !== null && id !== patient);
  const orgNames = new Map<string, Promise<string | undefined>>();
  const orgName = (id: string) => {
    let name = orgNames.get(id);
    if (name === undefined) {
      name = client.identity(id).then(
        (o) => o.name,
        () => undefined,
      );
      orgNames.set(id, name);
    }
    return name;
  };
  const out = new Map<string, string>();
  await pool(ids, ACCESSOR_LOOKUPS, async (id) => {
    const identity = await client.identity(id).catch(() => undefined);
    if (identity === undefined) return;
    const org = identity.org === undefined ? undefined : await orgName(identity.org);
    const name = identity.name ?? `a ${identity.role}`;
    out.set(
      id,
      org === undefined ? (identity.name === undefined ? name : `${name}, ${identity.role}`) : `${name}, ${identity.role} at ${org}`,
    );
  });
  return out;
}
