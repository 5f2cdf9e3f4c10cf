/**
 * GET /metrics (Prometheus text format). Run counts, queue sizes and request rates are not for
 * anyone who can reach the gateway, so it is served in one of two ways (docs/deploy.md):
 *
 *   on the gateway     only with `Authorization: Bearer <ANSFLOW_METRICS_TOKEN>` (401 otherwise);
 *                      without a token configured the gateway has no /metrics (404);
 *   on its own port    ANSFLOW_METRICS_LISTEN (default 127.0.0.1:9464, loopback only): an address
 *                      the operator chooses, reachable by whoever the network lets in.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { App } from '../server.js';
import type { PlatformMetrics } from '../../services/system/platform-metrics.js';
import { AppError } from '../../domain/errors.js';
import { errorResponses, textResponse } from '../schemas/common.js';
import { bearerToken } from '../auth-hook.js';

/** Who may read: holders of a token, nobody (the gateway without a token), or anyone who reaches the port. */
export type MetricsAccess = { token: string } | 'closed' | 'open';

export function metricsRoutes(app: App, deps: { metrics: PlatformMetrics; access: MetricsAccess }) {
  const { access } = deps;
  app.get(
    '/metrics',
    {
      config: { public: true },
      schema: {
        tags: ['system'],
        summary: 'Prometheus metrics (text exposition format); Authorization: Bearer <ANSFLOW_METRICS_TOKEN>',
        security: [],
        response: {
          200: textResponse('text/plain', 'The metrics in the Prometheus text format 0.0.4'),
          // 401: a wrong or missing token; 404: no ANSFLOW_METRICS_TOKEN (metrics are on their own listener).
          ...errorResponses(401, 404),
        },
      },
      onRequest: async (request) => {
        if (access === 'open') return;
        if (access === 'closed')
          throw new AppError('RESOURCE_NOT_FOUND', 'Metrics are served on the address of ANSFLOW_METRICS_LISTEN, or here with ANSFLOW_METRICS_TOKEN');
        if (!sameSecret(bearerToken(request) ?? '', access.token))
          throw new AppError(
            'AUTHENTICATION_ERROR',
            'Metrics need Authorization: Bearer <ANSFLOW_METRICS_TOKEN>',
            {},
            { 'WWW-Authenticate': 'Bearer realm="metrics"' },
          );
      },
    },
    async (_request, reply) => reply.header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8').send(await deps.metrics.render()),
  );
}

/** Constant-time comparison (of digests, so the lengths match too). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
