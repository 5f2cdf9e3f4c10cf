/** Starts the HTTP servers of a process according to its role. */
import type { AppContext } from './context.js';
import { VERSION } from './context.js';
import { buildApiServer } from '../http/api/api-server.js';
import { webhookDeliveriesRoutes } from '../http/api/webhook-deliveries-routes.js';
import { badgeRoutes } from '../http/api/badge-routes.js';
import { PipelineBadges } from '../services/pipelines/pipeline-badge.js';
import { BadgeRepository } from '../store/badge-repository.js';
import { installRequestMetrics } from '../http/gateway/request-metrics.js';
import { gatewayOptionsFromConfig, type GatewayOptions } from '../http/gateway/gateway-options.js';
import { buildGateway } from './gateway.js';
import { startMetricsListener } from '../http/gateway/metrics-listener.js';
import { pipelineFileRoutes } from '../http/api/pipeline-file-routes.js';
import { PipelineFiles } from '../services/pipeline-files.js';
import { startCommitStatusOutbox } from './commit-statuses.js';
import { retentionOf, startRetentionSweeper } from './retention.js';
import { retentionRoutes } from '../http/api/retention-routes.js';
import { inventoriesRoutes } from '../http/api/inventories-routes.js';
import { inventoriesOf } from './inventories.js';
import { ansibleRoutes } from '../http/api/ansible-routes.js';
import { AnsibleResults } from '../services/ansible/ansible-results.js';
import { AnsibleEventsRepository } from '../store/ansible-events-repository.js';
import { startDeliveryLoops } from './delivery.js';
import { deliveryRoutes } from '../http/api/delivery-routes.js';
import { outputsRoutes } from '../http/api/outputs-routes.js';
import { retryRoutes } from '../http/api/retry-routes.js';
import { OutputsService } from '../services/outputs/outputs-service.js';
import { notificationsRoutes } from '../http/api/notifications-routes.js';
import { notificationsOf } from './notifications.js';

export type Role = 'api' | 'gateway' | 'all';

export interface RunningServers {
  apiUrl: string | null;
  gatewayUrl: string | null;
  /** The metrics-only listener (ANSFLOW_METRICS_LISTEN), when this process serves the gateway and it is on. */
  metricsUrl: string | null;
  close(): Promise<void>;
}

const urlHost = (host: string) => (host.includes(':') ? `[${host}]` : host);

/** The management API of this context, not yet listening (the permission test reads its route table). */
export function buildApi(ctx: AppContext, gatewayUrl: string) {
  return buildApiServer(
    { logger: ctx.logger, bodyLimit: 2 * 1024 * 1024, trustProxy: ctx.config.trustProxy },
    {
      auth: ctx.auth,
      users: ctx.users,
      pipelines: ctx.pipelines,
      runs: ctx.runs,
      credentials: ctx.credentials,
      projects: ctx.projects,
      personalTokens: ctx.personalTokens,
      audit: ctx.audit,
      sso: ctx.sso,
      passwordLogin: ctx.config.passwordLogin,
      version: VERSION,
      gatewayUrl,
    },
    [
      webhookDeliveriesRoutes(ctx.deliveries),
      retentionRoutes(retentionOf(ctx).service),
      inventoriesRoutes(inventoriesOf(ctx).service, inventoriesOf(ctx).checks),
      ansibleRoutes(new AnsibleResults({ runs: ctx.runs, events: new AnsibleEventsRepository(ctx.db.kysely), access: ctx.access })),
      deliveryRoutes(ctx.delivery),
      notificationsRoutes(notificationsOf(ctx).service),
      retryRoutes({
        db: ctx.db.kysely,
        runs: ctx.repos.runs,
        outputs: ctx.repos.outputs,
        store: ctx.artifactStore,
        queue: ctx.queue,
        events: ctx.events,
        access: ctx.access,
        audit: ctx.audit,
      }),
      outputsRoutes(
        new OutputsService({
          outputs: ctx.repos.outputs,
          runs: ctx.repos.runs,
          pipelines: ctx.repos.pipelines,
          store: ctx.artifactStore,
          access: ctx.access,
          audit: ctx.audit,
        }),
      ),
      pipelineFileRoutes(
        new PipelineFiles({
          pipelines: ctx.pipelines,
          gitPolicy: { allowLocal: ctx.config.allowLocalRepositories, allowMetadataAddresses: ctx.config.allowMetadataAddresses },
        }),
      ),
      badgeRoutes(new PipelineBadges({ badges: new BadgeRepository(ctx.db.kysely), access: ctx.access }), ctx.auth),
      (app) => installRequestMetrics(app, ctx.metrics, 'api'),
    ],
  );
}

/** `gatewayOverrides` (tests, benchmarks) replace options otherwise taken from the configuration. */
export async function startServers(ctx: AppContext, role: Role, gatewayOverrides: Partial<GatewayOptions> = {}): Promise<RunningServers> {
  const { config, logger } = ctx;
  const gatewayOptions: GatewayOptions = { ...gatewayOptionsFromConfig(config), ...gatewayOverrides };
  const closers: Array<() => Promise<void>> = [];
  let apiUrl: string | null = null;
  let metricsUrl: string | null = null;
  let gatewayUrl: string | null = `http://${urlHost(config.host)}:${config.gatewayPort}`;
  // The gateway first, so the API can tell clients its real address (port 0 in tests).
  if (role === 'gateway' || role === 'all') {
    const gateway = await buildGateway(ctx, gatewayOptions);
    gatewayUrl = await gateway.listen({ host: config.host, port: config.gatewayPort });
    closers.push(() => gateway.close());
    if (config.metricsListen) {
      const listener = await startMetricsListener(config.metricsListen, { metrics: ctx.metrics, logger });
      if (listener) closers.push(() => listener.close());
      metricsUrl = listener?.url ?? null;
    }
  }
  if (role === 'api' || role === 'all') {
    const api = await buildApi(ctx, gatewayUrl);
    const address = await api.listen({ host: config.host, port: config.apiPort });
    apiUrl = address;
    closers.push(() => api.close());
    // Commit statuses are sent by the processes that serve the API.
    const outbox = startCommitStatusOutbox(ctx, address);
    closers.push(() => outbox.stop());
    // Retention: every API process runs a sweeper; the database claim lets one sweep at a time.
    const sweeper = startRetentionSweeper(ctx);
    closers.push(() => sweeper.stop());
    // Approval timeouts, wait timers and deployment queues: every API process; moves are guarded.
    const deliveryLoops = startDeliveryLoops(ctx.delivery, (tx, inputs) => ctx.runs.triggerIn(tx, inputs), logger);
    closers.push(() => deliveryLoops.stop());
    // Notifications: every API process writes run events into the outbox and sends due deliveries (claimed).
    const notifications = notificationsOf(ctx).start(address);
    closers.push(() => notifications.stop());
  }
  return {
    apiUrl,
    gatewayUrl,
    metricsUrl,
    close: async () => {
      await Promise.all(closers.map((c) => c()));
    },
  };
}
