/** Composes the gateway (port 8001) from the application context; closing it stops its followers. */
import type { AppContext } from './context.js';
import { VERSION } from './context.js';
import { buildGatewayServer } from '../http/gateway/gateway-server.js';
import { RunFeed } from '../http/gateway/run-feed.js';
import { InventoryFeed } from '../http/gateway/inventory-feed.js';
import { InventoriesRepository } from '../store/inventories-repository.js';
import { InventoryChecksRepository } from '../store/inventory-checks-repository.js';
import { CHECK_TIMEOUT_MS, shownCheck } from '../domain/inventory-checks.js';
import { FeedAccess } from '../services/projects/feed-access.js';
import type { GatewayOptions } from '../http/gateway/gateway-options.js';
import { RejectionRecorder } from '../services/webhooks/rejection-recorder.js';
import { CompletionWaiter } from '../services/webhooks/completion-waiter.js';
import { SystemStatusService } from '../services/system/system-status.js';
import { retentionOf } from './retention.js';
import { JenkinsBuildsService } from '../services/jenkins/jenkins-builds-service.js';
import { createJenkinsClient } from '../integrations/jenkins/jenkins-client.js';

const startedAt = Date.now();

export async function buildGateway(ctx: AppContext, options: GatewayOptions) {
  const { config, logger, repos } = ctx;
  const jenkins = new JenkinsBuildsService({
    client: createJenkinsClient(config.jenkins, { timeoutMs: options.jenkinsTimeoutMs }),
    builds: repos.jenkinsBuilds,
    pollMs: options.jenkinsPollMs,
    onError: (err) => logger.error({ err }, 'jenkins build follower failed'),
  });
  // Only the stores: the gateway reads checks, it never runs Ansible (no tool sandbox here).
  const inventories = new InventoriesRepository(ctx.db.kysely);
  const inventoryChecks = new InventoryChecksRepository(ctx.db.kysely);
  const app = await buildGatewayServer(
    { logger, bodyLimit: 1024 * 1024, trustProxy: config.trustProxy },
    {
      auth: ctx.auth,
      webhooks: {
        access: ctx.access,
        pipelines: repos.pipelines,
        runs: repos.runs,
        queue: ctx.queue,
        events: ctx.events,
        // Runs started by webhooks are audited too (actor: none; the delivery is in the run's trigger).
        audit: ctx.audit,
        // auto_cancel: older runs of the same branch or pull request, through the one cancel path.
        cancelSuperseded: (run, reason) => ctx.runs.supersede(run, reason),
        // Environments' approval gates, and a fork's pull request waiting for a maintainer.
        gates: ctx.delivery.gates,
        deliveries: repos.deliveries,
        secrets: { githubSecret: config.githubWebhookSecret, gitlabToken: config.gitlabWebhookToken },
        rejections: new RejectionRecorder(repos.deliveries),
        waiter: new CompletionWaiter(repos.deliveries),
        onVerdict: (provider, verdict) => ctx.metrics.webhooks.inc({ provider, verdict }),
      },
      feedAccess: new FeedAccess(repos.runs, repos.projects, ctx.access, inventories),
      feed: new RunFeed({ events: ctx.events, runs: repos.runs, logs: ctx.logs, onError: (err) => logger.error({ err }, 'run feed failed') }),
      inventoryFeed: new InventoryFeed({
        events: ctx.events,
        latestCheck: async (inventoryId) => {
          const check = await inventoryChecks.latest(inventoryId);
          return check && shownCheck(check, CHECK_TIMEOUT_MS);
        },
      }),
      status: new SystemStatusService({
        db: ctx.db,
        pipelines: repos.pipelines,
        runs: repos.runs,
        workers: repos.workers,
        queue: ctx.queue,
        version: VERSION,
        redisUrl: config.redisUrl,
        rabbitmqUrl: config.rabbitmqUrl,
        startedAt,
        timeoutMs: options.statusTimeoutMs,
        cacheMs: options.statusCacheMs,
        storage: () => retentionOf(ctx).service.storage(),
      }),
      metrics: ctx.metrics,
      jenkins,
      version: VERSION,
      options,
      metricsToken: config.metricsToken,
    },
  );
  app.addHook('onClose', async () => jenkins.close());
  return app;
}
