// A /v1 path the API serves, asked with a method it does not serve there, is answered
// 405 METHOD_NOT_ALLOWED with an `Allow` header (RFC 9110 §15.5.6): not 404, which says
// the resource does not exist, nor 400, which Fastify gave methods that carry a body (QUERY).
import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors.js';

/** Register before any route: the routes are learned as they are added. */
export function registerMethodNotAllowed(app: FastifyInstance): void {
  const routes: Array<{ path: RegExp; methods: string[] }> = [];
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/v1/')) return;
    const segments = route.url.split('/').map((s) => (s.startsWith(':') ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    routes.push({ path: new RegExp(`^${segments.join('/')}$`), methods: [route.method].flat() });
  });
  // onRequest runs before any body is read, so a body-carrying method gets the same answer.
  app.addHook('onRequest', async (req, reply) => {
    if (!req.is404) return;
    const path = req.url.split('?')[0] ?? '';
    const allowed = new Set(routes.filter((r) => r.path.test(path)).flatMap((r) => r.methods));
    if (allowed.size === 0) return;
    reply.header('allow', [...allowed].sort().join(', '));
    throw new ApiError('METHOD_NOT_ALLOWED', `${req.method} is not served at ${path}; use ${[...allowed].sort().join(', ')}`);
  });
}
