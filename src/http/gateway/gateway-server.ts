/**
 * The gateway on port 8001: webhooks, live run feeds over WebSocket, system status and metrics,
 * the Jenkins integration, and its OpenAPI document at /openapi.json (UI at /docs).
 */
import websocket from '@fastify/websocket';
import { createServer, type ServerOptions } from '../server.js';
import { installAuth } from '../auth-hook.js';
import { registerOpenApi, serveOpenApiDocument } from '../openapi.js';
import type { AuthService } from '../../services/auth/auth-service.js';
import type { WebhookDeps } from '../../services/webhooks/receive-webhook.js';
import type { SystemStatusService } from '../../services/system/system-status.js';
import type { PlatformMetrics } from '../../services/system/platform-metrics.js';
import type { JenkinsBuildsService } from '../../services/jenkins/jenkins-builds-service.js';
import type { RunFeed } from './run-feed.js';
import type { InventoryFeed } from './inventory-feed.js';
import type { FeedAccess } from '../../services/projects/feed-access.js';
import type { GatewayOptions } from './gateway-options.js';
import { FixedWindowLimiter } from './fixed-window-limiter.js';
import { webhookRoutes } from './webhook-routes.js';
import { statusRoutes } from './status-routes.js';
import { jenkinsRoutes } from './jenkins-routes.js';
import { wsRoutes } from './ws-routes.js';
import { installRequestMetrics } from './request-metrics.js';

export interface GatewayDeps {
  auth: AuthService;
  webhooks: WebhookDeps;
  feed: RunFeed;
  /** Inventories' connectivity checks, live. */
  inventoryFeed: InventoryFeed;
  /** Who may watch which run (the run's project's members and admins) and which inventory (its readers). */
  feedAccess: FeedAccess;
  status: SystemStatusService;
  metrics: PlatformMetrics;
  jenkins: JenkinsBuildsService;
  version: string;
  options: GatewayOptions;
  /** ANSFLOW_METRICS_TOKEN: /metrics on the gateway needs it; without one the gateway has no /metrics. */
  metricsToken: string | null;
}

export async function buildGatewayServer(options: ServerOptions, deps: GatewayDeps) {
  const app = createServer(options);
  installRequestMetrics(app, deps.metrics, 'gateway');
  await registerOpenApi(app, {
    title: 'AnsFlow gateway',
    version: deps.version,
    description:
      'Webhooks, system status, Jenkins integration (port 8001). Live updates: ws://HOST:8001/ws/pipeline-runs/{run_id}, /ws/pipeline-runs/ and /ws/inventories/{inventory_id} with ?token=<access token>.',
    uiPrefixes: ['/docs'],
  });
  await app.register(websocket, { options: { maxPayload: 4096 } });
  // The auth hook only guards /api/ URLs, so /docs needs no public prefix.
  installAuth(app, deps.auth);
  // After websocket: its onRoute hook wraps the routes added after it (upgrade requests are closed).
  serveOpenApiDocument(app, '/openapi.json');

  webhookRoutes(app, { webhooks: deps.webhooks, limiter: new FixedWindowLimiter(deps.options.webhookRateLimit) });
  statusRoutes(app, { status: deps.status, metrics: deps.metrics, metricsToken: deps.metricsToken });
  jenkinsRoutes(app, { jenkins: deps.jenkins });
  wsRoutes(app, {
    auth: deps.auth,
    access: deps.feedAccess,
    feed: deps.feed,
    inventoryFeed: deps.inventoryFeed,
    limiter: new FixedWindowLimiter(deps.options.wsHandshakeRateLimit),
    limits: { softBytes: deps.options.wsSoftBufferBytes, hardBytes: deps.options.wsHardBufferBytes },
    pingMs: deps.options.wsPingMs,
  });
  deps.metrics.websocketClients = () => deps.feed.size + deps.inventoryFeed.size;
  return app;
}
