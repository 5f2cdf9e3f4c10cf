/**
 * The metrics-only listener (ANSFLOW_METRICS_LISTEN, default 127.0.0.1:9464): /metrics on an
 * address the operator chooses, apart from the public gateway. With the default address a port
 * already taken (another gateway on this machine) only logs a warning; an address the operator
 * set must work, or the process does not start.
 */
import type { Logger } from 'pino';
import { createServer } from '../server.js';
import { metricsRoutes } from './metrics-routes.js';
import { ErrorBodySchema } from '../schemas/common.js';
import type { PlatformMetrics } from '../../services/system/platform-metrics.js';

export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

export async function startMetricsListener(
  address: { host: string; port: number; explicit: boolean },
  deps: { metrics: PlatformMetrics; logger: Logger },
): Promise<MetricsListener | null> {
  const app = createServer({ logger: deps.logger, bodyLimit: 1024, trustProxy: false });
  // The route's schema names the error body its 401/404 answers have (the gateway adds it with its OpenAPI set-up).
  app.addSchema(ErrorBodySchema);
  metricsRoutes(app, { metrics: deps.metrics, access: 'open' });
  try {
    const url = await app.listen({ host: address.host, port: address.port });
    return { url, close: () => app.close() };
  } catch (error) {
    await app.close();
    if (address.explicit || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    deps.logger.warn(
      `metrics: ${address.host}:${address.port} is in use (another gateway on this machine?); set ANSFLOW_METRICS_LISTEN to another address, or off`,
    );
    return null;
  }
}
