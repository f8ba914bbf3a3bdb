// Cross-origin use of the JSON API (docs/web.md "Using a copy you trust"): a copy of the web
// app opened from a file or another host calls this node's /v1 routes from another origin.
//
// Every /v1 answer says `Access-Control-Allow-Origin: *`, never with credentials. That is
// safe because the API's only credential is a bearer token that the app holds in memory and
// sends itself: browsers attach no cookie, HTTP auth or client certificate to these calls
// (the node sets no cookies, and a `*` answer to a credentialed request is refused by the
// browser), so a page on another origin can only make the calls any program without the
// user's token could make. /fhir (institutional systems) and the web app's own files get no
// CORS headers. Three fixed headers and a preflight answer: no library needed for that.
import type { FastifyInstance } from 'fastify';

/** The JSON API's paths; `/fhir` and the web app's pages are not among them. */
function isV1Path(url: string): boolean {
  const path = url.split('?')[0] ?? '';
  return path === '/v1' || path.startsWith('/v1/');
}

const PREFLIGHT: Record<string, string> = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, PUT, DELETE',
  // The SDK sends only these two; Authorization carries the bearer token.
  'access-control-allow-headers': 'authorization, content-type',
  'access-control-max-age': '600',
};

/** Answer CORS preflights for /v1 and mark every /v1 answer (errors and 429s too) readable from any origin. */
export function registerApiCors(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    if (req.method === 'OPTIONS' && isV1Path(req.url)) return reply.status(204).headers(PREFLIGHT).send();
  });
  app.addHook('onSend', async (req, reply, payload) => {
    if (isV1Path(req.url)) reply.header('access-control-allow-origin', '*');
    return payload;
  });
}
