// A /v1 path the API serves, asked with a method it does not serve there, is answered
// 405 METHOD_NOT_ALLOWED with an `Allow` header (RFC 9110 §15.5.6): not 404, which says
// the resource does not exist, nor 400, which Fastify gave methods that carry a body (QUERY).
import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors.js';

/** Register before any route: the routes are learned as they are added. */
export function registerMethodNotAllowed(app: FastifyInstance): void {
  const routes: Array<{ path: RegExp; fixed: boolean; methods: string[] }> = [];
  /** The fixed (parameter-free) /v1 routes by path: the methods each serves. */
  const fixedMethods = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/v1/')) return;
    const segments = route.url.split('/').map((s) => (s.startsWith(':') ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    const fixed = !route.url.includes(':');
    const methods = [route.method].flat();
    routes.push({ path: new RegExp(`^${segments.join('/')}$`), fixed, methods });
    if (fixed) for (const m of methods) (fixedMethods.get(route.url) ?? fixedMethods.set(route.url, new Set()).get(route.url))?.add(m);
  });
  // onRequest runs before any body is read, so a body-carrying method gets the same answer.
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    // The common case, without testing every route's pattern: the router found a route for
    // this method, and it is the path's fixed route or no fixed route claims the path.
    if (!req.is404) {
      const matched = req.routeOptions.url ?? '';
      if (!matched.includes(':')) return;
      const fixed = fixedMethods.get(path);
      if (fixed === undefined || fixed.has(req.method)) return;
    }
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
