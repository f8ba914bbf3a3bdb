// Builds the web UI into dist/, which every node serves at `/` (packages/node/src/web-static.ts).
// `@medledger/crypto` resolves to its browser entry through the package's `browser` condition.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 1500 },
  server: { proxy: { '/v1': process.env.MEDLEDGER_NODE_URL ?? 'http://127.0.0.1:26650' } },
});
