// Least privilege for organization grants (docs/fhir.md "Staff roles and purposes"): a
// grant to an organization covers its staff, but each staff role may use it only for the
// purposes and record categories its job needs. Pure: role, purpose and record in, yes/no out.
import type { Purpose, RecordTarget } from './policy.js';
import type { STAFF_ROLES } from './staff.js';

type StaffRole = (typeof STAFF_ROLES)[number];

/** Clinical categories (everything the SDK's category table files, minus billing and demographics). */
const CLINICAL = [
  'activity',
  'allergies',
  'care-plans',
  'devices',
  'diagnostics',
  'documents',
  'encounters',
  'exam',
  'imaging',
  'immunizations',
  'laboratory',
  'medications',
  'observations',
  'orders',
  'problems',
  'procedure',
  'procedures',
  'provenance',
  'social-history',
  'survey',
  'therapy',
  'vital-signs',
  'other',
] as const;

/** `'*'`: every category; otherwise the categories listed. */
export interface RoleUse {
  purposes: readonly Purpose[];
  categories: '*' | readonly string[];
  /** True for a role that reads under its organization's grants but never writes under them. */
  readOnly?: true;
}

/**
 * Which purposes and record categories each staff role may use an organization's grant for.
 * A role not listed (privacy officers, auditors) reads no record contents through its
 * organization: they review metadata, not charts. The organization's own identity (its
 * system, e.g. the FHIR endpoint acting as itself) is the grantee and is not limited here.
 */
export const STAFF_ROLE_USES: Readonly<Partial<Record<StaffRole, RoleUse>>> = {
  clinician: { purposes: ['treatment', 'operations'], categories: '*' },
  pharmacy: { purposes: ['treatment', 'payment'], categories: ['demographics', 'medications', 'allergies', 'billing'] },
  insurer: { purposes: ['payment'], categories: ['demographics', 'billing'] },
  // Research uses clinical data, never who the patient is (no Patient, RelatedPerson, billing),
  // and authors no entry in a patient's chart: it reads, it does not treat.
  researcher: { purposes: ['research'], categories: CLINICAL, readOnly: true },
  device: { purposes: ['treatment'], categories: ['vital-signs', 'observations', 'devices'] },
};

/**
 * May a staff member with `role` use its organization's grant for `purpose` on `record`?
 * False for any role without an entry (privacy-officer, auditor) and for anyone who is not
 * staff (the caller is then not reading through an organization grant at all).
 */
export function staffRoleMayUse(role: string, purpose: Purpose, record: Pick<RecordTarget, 'category'>): boolean {
  const use = roleUse(role);
  if (use === undefined || !use.purposes.includes(purpose)) return false;
  return coversCategory(use, record.category);
}

/** The uses of `role`'s staff, or undefined for a role without any (and for a non-staff role). */
function roleUse(role: string): RoleUse | undefined {
  return (STAFF_ROLE_USES as Record<string, RoleUse | undefined>)[role];
}

function coversCategory(use: RoleUse, category: string): boolean {
  return use.categories === '*' || use.categories.includes(category);
}

/**
 * May a staff member with `role` write (anchor or supersede) a record of `record`'s category
 * under its organization's `read-write` grant? Only a role that uses its organization's
 * grants at all (not privacy officers or auditors) and is not read-only (not researchers),
 * and only within that role's categories. The grant's purpose is not narrowed for writes: a
 * clinician files the claim (`billing`) under the hospital's `payment` grant, which they may
 * not read back.
 */
export function staffRoleMayWrite(role: string, record: Pick<RecordTarget, 'category'>): boolean {
  const use = roleUse(role);
  return use !== undefined && use.readOnly !== true && coversCategory(use, record.category);
}
