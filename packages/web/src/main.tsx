// Entry point of the MedLedger web UI.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { SessionProvider } from './session.js';
import './styles.css';
import './portal.css';

const root = document.getElementById('root');
// Never inside another page's frame, where that page could lay decoys over "Share" or
// "Vote yes" (clickjacking). A node's pages also forbid framing by header; a copy on a static
// host may have no such header, and a <meta> policy cannot forbid framing.
const framed = window.top !== window.self;
if (root !== null && framed) {
  const refusal = document.createElement('p');
  refusal.textContent = 'MedLedger does not run inside another page. Open it in its own tab, from the address your care provider gave you.';
  root.replaceChildren(refusal);
}
if (root !== null && !framed)
  createRoot(root).render(
    <StrictMode>
      <SessionProvider>
        <App />
      </SessionProvider>
    </StrictMode>,
  );
