// Headers on every answer of the JSON API (/v1) and the FHIR endpoint (/fhir). Their answers
// carry patient data and metadata (records, grants, access logs, sign-in tokens), so no
// browser, proxy or back/forward cache may keep them (`Cache-Control: no-store`). They are
// data, never a page: no content sniffing, and a policy under which a browser that is sent
// to one of them as a page runs nothing and embeds nothing (the web app's own files get
// their policy from web-static.ts).
import type { FastifyInstance } from 'fastify';
import { isApiPath, isNonCanonicalApiPath } from './web-static.js';

export const API_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
};

/**
 * Over HTTPS, browsers are told to use nothing else for this host for a year (HSTS), so a
 * later visit typed or linked as http:// is not answered by someone in the middle with an
 * app of their own. Not for subdomains: the node answers only for its own host.
 */
export const HSTS = 'max-age=31536000';

/**
 * Mark every /v1 and /fhir answer (errors, 404s, 429s and preflights too) with API_HEADERS,
 * and over HTTPS every answer (the web app's pages too) with Strict-Transport-Security.
 */
export function registerApiHeaders(app: FastifyInstance, opts: { https: boolean }): void {
  app.addHook('onSend', async (req, reply, payload) => {
    if (isApiPath(req.url) || isNonCanonicalApiPath(req.url)) reply.headers(API_HEADERS);
    if (opts.https) reply.header('strict-transport-security', HSTS);
    return payload;
  });
}
