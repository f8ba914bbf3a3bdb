// The app shell: header and navigation for the signed-in role, a skip link, and the routes.
import type { ReactNode } from 'react';
import { AccessLog } from './pages/access-log.js';
import { Onboarding, SignIn, Welcome } from './pages/account.js';
import { ClinicianHome, ClinicianPatient } from './pages/clinician.js';
import { EmergencyBanner, EmergencyOpen, EmergencyReviewPage } from './pages/emergency.js';
import { EmergencyCardPage } from './pages/emergency-patient.js';
import { BlockPage, Explorer } from './pages/explorer.js';
import { GovernancePage } from './pages/governance.js';
import { InsurerQueue, PatientInsurance } from './pages/insurance.js';
import { PatientMedicines, PharmacyCounter } from './pages/medicines.js';
import { AccountPage } from './pages/my-account.js';
import { ChooseNode } from './pages/node-choice.js';
import { Notifications, NotificationsLabel } from './pages/notifications.js';
import { OrganizationHome } from './pages/organization.js';
import { PatientBannerLoader } from './pages/patient-banner.js';
import { PharmacyDestroy, PharmacyReceive } from './pages/pharmacy-stock.js';
import { PrintSummary } from './pages/print-summary.js';
import { PatientRecords, RecordDetail } from './pages/records.js';
import { AuditorHome, NotForRole, OtherRoleHome } from './pages/role-home.js';
import { Sharing } from './pages/sharing.js';
import { ManufacturerHome, RegulatorHome, WholesalerHome } from './pages/supply.js';
import { appRole, currentEntry, mayOpen, roleHome, roleMenu } from './roles.js';
import { match, usePath } from './router.js';
import { NODE_URL, type SignedIn, useSession } from './session.js';
import { rememberReturnTo } from './session-store.js';
import { Link, Loading, NameSaveProblem, PageTitle } from './ui.js';

function NeedsSignIn(props: { path: string }) {
  // After signing in, come back to this page (a bookmark, or a reload after sign-out).
  rememberReturnTo(props.path);
  return (
    <section>
      <PageTitle>Please sign in</PageTitle>
      <p>You need to be signed in to see this page.</p>
      <Link to="/sign-in" className="button">
        Sign in
      </Link>
    </section>
  );
}

function NotFound() {
  return (
    <section>
      <PageTitle>Page not found</PageTitle>
      <p>
        There is no page here. <Link to="/">Go to the start page</Link>.
      </p>
    </section>
  );
}

function route(path: string, user: SignedIn | undefined): ReactNode {
  // A copy of the app opened from a file or another host asks for its node first.
  if (NODE_URL === '') return <ChooseNode />;
  if (path === '/' || path === '') return user === undefined ? <Welcome /> : <RoleHome user={user} />;
  if (path === '/start') return <Onboarding />;
  if (path === '/sign-in') return <SignIn />;
  if (path === '/explorer') return <Explorer />;
  const block = match('/explorer/blocks/:height', path);
  if (block !== undefined && /^[1-9][0-9]*$/.test(block.height ?? '')) return <BlockPage height={Number(block.height)} />;
  if (user === undefined) return <NeedsSignIn path={path} />;
  if (!mayOpen(appRole(user.identity), path)) return <NotForRole home={roleHome(user)} />;
  if (path === '/account') return <AccountPage />;
  // Medicines (docs/medicines.md): the pharmacist's counter and the patient's prescriptions.
  if (path === '/pharmacy') return <PharmacyCounter />;
  if (path === '/pharmacy/receive') return <PharmacyReceive />;
  if (path === '/pharmacy/destroy') return <PharmacyDestroy />;
  if (path === '/medicines') return <PatientMedicines />;
  if (path === '/manufacturer') return <ManufacturerHome />;
  if (path === '/wholesaler') return <WholesalerHome />;
  if (path === '/regulator') return <RegulatorHome />;
  if (path === '/auditor') return <AuditorHome />;
  if (path === '/role') return <OtherRoleHome />;
  const me = user.client.id;
  if (path === '/records') return <PatientRecords />;
  if (path === '/records/summary') return <PrintSummary />;
  const rec = match('/records/:id', path);
  if (rec !== undefined) return <RecordDetail key={rec.id} recordId={rec.id as string} patient={me} back="/records" canErase />;
  if (path === '/sharing') return <Sharing />;
  if (path === '/emergency-card') return <EmergencyCardPage />;
  if (path === '/access-log') return <AccessLog />;
  if (path === '/notifications') return <Notifications />;
  if (path === '/insurance') return <PatientInsurance />;
  if (path === '/insurer') return <InsurerQueue />;
  if (path === '/clinician') return <ClinicianHome />;
  if (path === '/organization') return <OrganizationHome />;
  if (path === '/governance') return <GovernancePage />;
  if (path === '/clinician/emergency') return <EmergencyOpen />;
  if (path === '/emergency-review') return <EmergencyReviewPage />;
  const pat = match('/clinician/patients/:patient', path);
  if (pat !== undefined) return <ClinicianPatient key={pat.patient} patient={pat.patient as string} />;
  const prec = match('/clinician/patients/:patient/records/:id', path);
  if (prec !== undefined)
    return (
      <>
        <EmergencyBanner patient={prec.patient as string} />
        <PatientBannerLoader patient={prec.patient as string} />
        <RecordDetail
          key={prec.id}
          recordId={prec.id as string}
          patient={prec.patient as string}
          back={`/clinician/patients/${prec.patient}`}
          canErase={false}
        />
      </>
    );
  return <NotFound />;
}

function RoleHome(props: { user: SignedIn }) {
  const home = roleHome(props.user);
  return route(home, props.user);
}

export function App() {
  const path = usePath();
  const { user, restoring } = useSession();
  const nav = roleMenu(user);
  const current = currentEntry(nav, path);
  return (
    <>
      <a href="#main" className="skip-link">
        Skip to main content
      </a>
      <header className="site-header">
        <Link to="/" className="brand">
          MedLedger
        </Link>
        <nav aria-label="Main">
          <ul>
            {nav.map(([to, label]) => (
              <li key={to}>
                <Link to={to} current={to === current}>
                  {to === '/notifications' ? <NotificationsLabel /> : label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" key={path}>
        {user !== undefined && <NameSaveProblem />}
        {restoring ? <Loading what="your session" /> : route(path, user)}
      </main>
      <footer className="site-footer">
        <p>Records are encrypted on the device that writes them. MedLedger servers keep only locked copies and a log of who opened them.</p>
      </footer>
    </>
  );
}
