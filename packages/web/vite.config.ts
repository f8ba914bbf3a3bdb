// Builds the web UI into dist/, which every node serves at `/` (packages/node/src/web-static.ts).
// `@medledger/crypto` resolves to its browser entry through the package's `browser` condition.
//
// The same build also works as a copy the user trusts, opened from any static host or as a
// file (docs/web.md "Using a copy you trust"): asset paths are relative (`base: './'`), and
// the app is one classic script, because browsers refuse module scripts and `crossorigin`
// assets on file:// pages (their origin is opaque, so the CORS check cannot pass).
import { defineConfig, type Plugin } from 'vite';

/** index.html loads the bundle as a deferred classic script, without CORS-mode fetches. */
function classicScriptForFileCopies(): Plugin {
  return {
    name: 'medledger-classic-script',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler: (html) => html.replace(/<script type="module" crossorigin src=/g, '<script defer src=').replace(/ crossorigin(?=[ >])/g, ''),
    },
  };
}

/**
 * The policy a copy carries in its own page (docs/web.md "Using a copy you trust"): a copy
 * opened as a file, or from a static host that sends no policy, would otherwise run any
 * script that got into the page. Scripts, styles and images only from the copy's own files
 * (no inline script, no `javascript:` URL, no event-handler attribute), calls to whichever
 * node the user chose (any http(s) address). A node serving the page sends its stricter
 * header too (connect-src 'self', frame-ancestors 'none'); a browser enforces both.
 * frame-ancestors is not allowed in a <meta> policy, so a static host should still send it.
 */
export const COPY_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src http: https:; object-src 'none'; base-uri 'none'; form-action 'self'";

function contentSecurityPolicyForCopies(): Plugin {
  return {
    name: 'medledger-copy-csp',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler: (html) =>
        html.replace(
          '<meta charset="utf-8" />',
          `<meta charset="utf-8" />\n    <meta http-equiv="Content-Security-Policy" content="${COPY_CSP}" />`,
        ),
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [classicScriptForFileCopies(), contentSecurityPolicyForCopies()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
    cssCodeSplit: false,
    // One self-contained script (no chunks, no import/export), so it runs as a classic script.
    rolldownOptions: { output: { format: 'iife', codeSplitting: false } },
  },
  server: { proxy: { '/v1': process.env.MEDLEDGER_NODE_URL ?? 'http://127.0.0.1:26650' } },
});
