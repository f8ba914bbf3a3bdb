// Serves the built web UI (packages/web/dist, DESIGN §8 "the web UI at /") from the node's
// HTTP server: static files with their content types, and index.html for app routes, so a
// reload on /patient/records works. Never answers for /v1/* or /fhir/*: those stay the API's.
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

// The UI talks only to this node; scripts and styles come only from its own files.
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  // A page that opened the app (window.open, a link with an opener) keeps no handle on its
  // window, so it cannot later navigate the signed-in tab to a look-alike (tabnabbing).
  'cross-origin-opener-policy': 'same-origin',
  // The app uses no camera, microphone, location or payment; nothing injected may ask.
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};

/** Paths the UI must never shadow: the JSON API and the FHIR endpoint answer their own 404s. */
export function isApiPath(url: string): boolean {
  const path = url.split('?')[0] ?? '';
  return path === '/v1' || path.startsWith('/v1/') || path === '/fhir' || path.startsWith('/fhir/');
}

/**
 * A path that is not an API path as the routes spell it but would be one read loosely: its
 * first segment `v1` or `fhir` in another case (`/V1/status`), after doubled slashes
 * (`//v1/status`), or percent-encoded (`/%761/status`). The API's routes match none of these,
 * so they must get the API's JSON 404 (NON_CANONICAL_PATH), not the web app's page, which a
 * client would otherwise try to read as JSON.
 */
export function isNonCanonicalApiPath(url: string): boolean {
  if (isApiPath(url)) return false;
  const raw = url.split('?')[0] ?? '';
  return [raw, decodeSafe(raw) ?? raw].some((p) => /^\/+(v1|fhir)(\/|$)/i.test(p));
}

/**
 * Where the built UI is: `MEDLEDGER_WEB_DIST` when set, else packages/web/dist next to this
 * package (the same relative place from src/ under tsx and from dist/ when built).
 * Returns undefined when there is no built index.html there.
 */
export function findWebDist(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [
    env.MEDLEDGER_WEB_DIST,
    fileURLToPath(new URL('../../web/dist/', import.meta.url)),
    resolve(process.cwd(), 'packages/web/dist'),
  ].filter((d): d is string => typeof d === 'string' && d !== '');
  return candidates.find((d) => existsSync(resolve(d, 'index.html')));
}

const NOT_BUILT_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>MedLedger</title></head>
<body><main><h1>MedLedger</h1><p>This node is running, but its web app has not been built yet.</p>
<p>Run <code>npm run build</code> in the MedLedger folder, then reload this page.</p></main></body></html>`;

/**
 * Register GET/HEAD handling for the UI as the app's not-found path for non-API URLs:
 * a file under `dist` when one matches, else index.html for page routes (no file
 * extension). `onApiNotFound` answers everything else (the API's JSON 404), and
 * `onNonCanonicalApiPath` a path that only looks like an API path (isNonCanonicalApiPath).
 */
export function registerWebStatic(
  app: FastifyInstance,
  onApiNotFound: (url: string, method: string, reply: FastifyReply) => void,
  onNonCanonicalApiPath: (url: string, method: string, reply: FastifyReply) => void,
): void {
  const dist = findWebDist();
  const root = dist === undefined ? undefined : resolve(dist);
  app.setNotFoundHandler(async (req, reply) => {
    if (isNonCanonicalApiPath(req.url)) return onNonCanonicalApiPath(req.url, req.method, reply);
    const path = decodeSafe(req.url.split('?')[0] ?? '/');
    if ((req.method !== 'GET' && req.method !== 'HEAD') || isApiPath(req.url) || path === undefined) {
      return onApiNotFound(req.url, req.method, reply);
    }
    reply.headers(SECURITY_HEADERS);
    if (root === undefined) return reply.status(200).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE);
    const file = resolve(root, `.${path}`);
    // A path that climbs out of dist (`/../`) is not a file of ours.
    const inside = file === root || file.startsWith(root + sep);
    if (inside && isFile(file)) return sendFile(reply, file, path.startsWith('/assets/'));
    // The build refers to its assets relatively (`./assets/…`, so a copy works from any folder
    // or a file), so a page route like /records/abc asks for /records/assets/…: the same file.
    const asset = /\/assets\/([^/]+)$/.exec(path)?.[1];
    const assetFile = asset === undefined ? undefined : resolve(root, 'assets', asset);
    if (assetFile?.startsWith(`${root}${sep}assets${sep}`) && isFile(assetFile)) return sendFile(reply, assetFile, true);
    // Page routes (no extension) get the app; a missing asset is a plain 404.
    if (extname(path) !== '') return reply.status(404).type('text/plain; charset=utf-8').send('not found');
    return sendFile(reply, resolve(root, 'index.html'), false);
  });
}

function decodeSafe(path: string): string | undefined {
  try {
    const decoded = decodeURIComponent(path);
    return decoded.includes('\0') ? undefined : decoded;
  } catch {
    return undefined;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

// The page the node serves says so, so the app talks to this node and routes by path
// (packages/web/src/node-url.ts); a copy opened elsewhere has no such mark.
const SERVED_BY_NODE_MARK = '<meta name="medledger-node" content="this node">';

async function sendFile(reply: FastifyReply, file: string, immutable: boolean): Promise<FastifyReply> {
  const read = await readFile(file);
  const body = file.endsWith(`${sep}index.html`) ? read.toString('utf8').replace('<head>', `<head>\n    ${SERVED_BY_NODE_MARK}`) : read;
  const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
  // Vite names assets by content hash, so they can be cached for good; index.html cannot.
  reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  return reply.status(200).type(type).send(body);
}
