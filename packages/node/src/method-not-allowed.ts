// A /v1 path the API serves, asked with a method it does not serve there, is answered
// 405 METHOD_NOT_ALLOWED with an `Allow` header (RFC 9110 §15.5.6): not 404, which says
// the resource does not exist, nor 400, which Fastify gave methods that carry a body (QUERY).
import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors.js';

/** Register before any route: the routes are learned as they are added. */
export function registerMethodNotAllowed(app: FastifyInstance): void {
  const routes: Array<{ path: RegExp; fixed: boolean; methods: string[] }> = [];
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/v1/')) return;
    const segments = route.url.split('/').map((s) => (s.startsWith(':') ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    routes.push({ path: new RegExp(`^${segments.join('/')}$`), fixed: !route.url.includes(':'), methods: [route.method].flat() });
  });
  // onRequest runs before any body is read, so a body-carrying method gets the same answer.
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    const matching = routes.filter((r) => r.path.test(path));
    // A path that names a fixed route (/v1/txs/batch) means that route, even where a
    // parametric one (/v1/txs/:hash) would take the method: the router prefers it too.
    const fixed = matching.filter((r) => r.fixed);
    const named = fixed.length > 0 ? fixed : matching;
    const allowed = [...new Set(named.flatMap((r) => r.methods))].sort();
    if (allowed.length === 0 || allowed.includes(req.method)) return;
    if (fixed.length === 0 && !req.is404) return;
    reply.header('allow', allowed.join(', '));
    throw new ApiError('METHOD_NOT_ALLOWED', `${req.method} is not served at ${path}; use ${allowed.join(', ')}`);
  });
}
