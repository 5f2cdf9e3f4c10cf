/** GET /api/v1/system/status (public health and live counts) and GET /metrics (Prometheus, metrics-routes.ts). */
import type { App } from '../server.js';
import type { SystemStatusService } from '../../services/system/system-status.js';
import type { PlatformMetrics } from '../../services/system/platform-metrics.js';
import { SystemStatusSchema } from './schemas.js';
import { metricsRoutes } from './metrics-routes.js';

export function statusRoutes(app: App, deps: { status: SystemStatusService; metrics: PlatformMetrics; metricsToken: string | null }) {
  app.get(
    '/api/v1/system/status',
    {
      config: { public: true },
      schema: {
        tags: ['system'],
        summary: 'Health of the platform and its backing services, with live counts',
        security: [],
        response: { 200: SystemStatusSchema, 503: SystemStatusSchema },
      },
    },
    async (_request, reply) => {
      const status = await deps.status.status();
      return (
        reply
          .code(status.status === 'unhealthy' ? 503 : 200)
          .header('Cache-Control', 'no-store')
          // Public and secret-free: the web UI on port 8000 reads it across origins.
          .header('Access-Control-Allow-Origin', '*')
          .send(status)
      );
    },
  );

  metricsRoutes(app, { metrics: deps.metrics, access: deps.metricsToken === null ? 'closed' : { token: deps.metricsToken } });
}
