// Operations routes (docs/deploy.md "Monitoring"): `/healthz` (the process serves), `/readyz`
// (it has started consensus and, in a network, is connected to a peer) and `/metrics` in the
// Prometheus text format. Outside /v1: they are for load balancers and scrapers, not clients.
import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors.js';
import type { NodeMetrics } from './metrics.js';

/** What readiness needs to know of the node. */
export interface ReadinessPorts {
  started: () => boolean;
  height: () => number;
  peers: () => { connected: number; configured: number };
}

export function registerOpsRoutes(app: FastifyInstance, metrics: NodeMetrics, ready: ReadinessPorts): void {
  const hide = { schema: { hide: true } };
  app.get('/healthz', hide, async () => ({ status: 'ok' }));

  app.get('/readyz', hide, async () => {
    const peers = ready.peers();
    const started = ready.started();
    // A node alone in its config (a single-validator chain) needs no peer; one in a network needs at least one.
    const connected = peers.configured === 0 || peers.connected > 0;
    if (!started || !connected)
      throw new ApiError(
        'NOT_READY',
        !started ? 'the node is starting' : `no peer connected (0 of ${peers.configured}); it cannot follow or make blocks`,
      );
    return { status: 'ready', height: ready.height(), peers };
  });

  app.get('/metrics', hide, async (_req, reply) => {
    reply.header('content-type', metrics.contentType);
    return metrics.text();
  });
}
