/** Observes every request's latency into the HTTP histogram (route templates keep labels bounded). */
import type { FastifyInstance } from 'fastify';
import type { PlatformMetrics } from '../../services/system/platform-metrics.js';

export function installRequestMetrics(app: FastifyInstance<any, any, any, any, any>, metrics: PlatformMetrics, server: string): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observeRequest(server, request.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });
}
