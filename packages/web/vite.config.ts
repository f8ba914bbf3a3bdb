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

export default defineConfig({
  base: './',
  plugins: [classicScriptForFileCopies()],
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
