// Each role's home, menu and pages (issue 17 item 12): one table, so the menu, the landing
// page and the refusal of a page that is not for this role cannot disagree. The node refuses
// the same actions; this keeps people from being offered what they cannot do.
import type { SignedIn } from './session.js';

export type AppRole =
  | 'patient'
  | 'clinician'
  | 'organization'
  | 'manufacturer'
  | 'wholesaler'
  | 'regulator'
  | 'insurer'
  | 'pharmacy'
  | 'auditor'
  | 'privacy-officer'
  | 'other';

interface RoleSpec {
  /** Where the role lands after sign-in and on `/`. */
  home: string;
  menu: Array<[string, string]>;
  /** Path prefixes this role may open (besides `/account`, `/explorer` and the public pages). */
  pages: string[];
}

const ROLES: Record<AppRole, RoleSpec> = {
  patient: {
    home: '/records',
    menu: [
      ['/records', 'My records'],
      ['/sharing', 'Sharing'],
      ['/access-log', 'Access log'],
      ['/notifications', 'Notifications'],
      ['/insurance', 'Insurance'],
      ['/medicines', 'Medicines'],
      ['/account', 'My account'],
    ],
    pages: ['/records', '/sharing', '/access-log', '/notifications', '/insurance', '/medicines', '/emergency-card'],
  },
  clinician: {
    home: '/clinician',
    menu: [
      ['/clinician', 'My patients'],
      ['/notifications', 'Notifications'],
      ['/account', 'My account'],
    ],
    pages: ['/clinician', '/notifications'],
  },
  organization: {
    home: '/organization',
    menu: [
      ['/organization', 'Staff'],
      ['/governance', 'Governance'],
      ['/explorer', 'Explorer'],
      ['/account', 'My account'],
    ],
    pages: ['/organization', '/governance'],
  },
  // Supply-chain partners are organizations too: their medicines work first, then staff and governance.
  manufacturer: {
    home: '/manufacturer',
    menu: [
      ['/manufacturer', 'Manufacturer'],
      ['/organization', 'Staff'],
      ['/governance', 'Governance'],
      ['/account', 'My account'],
    ],
    pages: ['/manufacturer', '/organization', '/governance'],
  },
  wholesaler: {
    home: '/wholesaler',
    menu: [
      ['/wholesaler', 'Wholesaler'],
      ['/organization', 'Staff'],
      ['/governance', 'Governance'],
      ['/account', 'My account'],
    ],
    pages: ['/wholesaler', '/organization', '/governance'],
  },
  regulator: {
    home: '/regulator',
    menu: [
      ['/regulator', 'Regulator'],
      ['/organization', 'Staff'],
      ['/governance', 'Governance'],
      ['/account', 'My account'],
    ],
    pages: ['/regulator', '/organization', '/governance'],
  },
  insurer: {
    home: '/insurer',
    menu: [
      ['/insurer', 'Claims queue'],
      ['/account', 'My account'],
    ],
    pages: ['/insurer'],
  },
  pharmacy: {
    home: '/pharmacy',
    menu: [
      ['/pharmacy', 'Pharmacy'],
      ['/pharmacy/receive', 'Deliveries'],
      ['/pharmacy/destroy', 'Destroy a pack'],
      ['/account', 'My account'],
    ],
    pages: ['/pharmacy'],
  },
  auditor: {
    home: '/auditor',
    menu: [
      ['/auditor', 'Audit'],
      ['/explorer', 'Explorer'],
      ['/account', 'My account'],
    ],
    pages: ['/auditor'],
  },
  'privacy-officer': {
    home: '/emergency-review',
    menu: [
      ['/emergency-review', 'Emergency access review'],
      ['/account', 'My account'],
    ],
    pages: ['/emergency-review'],
  },
  other: {
    home: '/role',
    menu: [
      ['/role', 'Home'],
      ['/explorer', 'Explorer'],
      ['/account', 'My account'],
    ],
    pages: ['/role'],
  },
};

/** Pages anyone may open, signed in or not. */
const PUBLIC = ['/', '/start', '/sign-in', '/explorer', '/account'];

/** Supply-chain organization kinds (genesis `kind`) with a home of their own (docs/medicines.md "Web"). */
const PARTNER_HOMES: Record<string, AppRole> = {
  manufacturer: 'manufacturer',
  distributor: 'wholesaler',
  wholesaler: 'wholesaler',
  regulator: 'regulator',
};

/** The app role of a signed-in identity: a founding organization's admin has an `orgKind`. */
export function appRole(identity: { role: string; orgKind?: unknown }): AppRole {
  if (typeof identity.orgKind === 'string') return PARTNER_HOMES[identity.orgKind] ?? 'organization';
  const r = identity.role;
  if (r === 'patient' || r === 'clinician' || r === 'insurer' || r === 'pharmacy' || r === 'auditor' || r === 'privacy-officer') return r;
  return 'other';
}

/** Where this identity lands after sign-in and on `/`. */
export function homeOf(identity: { role: string; orgKind?: unknown }): string {
  return ROLES[appRole(identity)].home;
}

export function roleHome(user: SignedIn): string {
  return homeOf(user.identity);
}

export function roleMenu(user: SignedIn | undefined): Array<[string, string]> {
  if (user === undefined)
    return [
      ['/', 'Home'],
      ['/sign-in', 'Sign in'],
      ['/explorer', 'Explorer'],
    ];
  return ROLES[appRole(user.identity)].menu;
}

const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

/** May this role open `path`? Public pages always; the rest by the role's table. */
export function mayOpen(role: AppRole, path: string): boolean {
  if (PUBLIC.some((p) => (p === '/' ? path === '/' || path === '' : under(path, p)))) return true;
  return ROLES[role].pages.some((p) => under(path, p));
}

/** The menu entry that is the current page: the longest one `path` is under. */
export function currentEntry(menu: ReadonlyArray<[string, string]>, path: string): string | undefined {
  return menu
    .map(([to]) => to)
    .filter((to) => (to === '/' ? path === '/' : under(path, to)))
    .sort((a, b) => b.length - a.length)[0];
}
