/**
 * Retention's parts for one context, made once: the repository, the disk-use meter, the service
 * the API's routes and the gateway's status use, and the sweeper that API processes run.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { AppContext } from './context.js';
import { RetentionRepository } from '../store/retention-repository.js';
import { RetentionService } from '../services/retention/retention-service.js';
import { DiskUsageMeter, sqliteFilesBytes } from '../services/retention/disk-usage.js';
import { RetentionSweeper } from '../services/retention/retention-sweeper.js';
import { logsRoot } from '../services/runs/run-worker.js';
import type { RetentionPolicy } from '../domain/retention.js';
import { FsArtifactStore } from '../artifacts/fs-artifact-store.js';

/** A temporary file of the filesystem store's untouched this long is a dead process's put. */
const LEFTOVER_PUT_MS = 3600 * 1000;

interface RetentionParts {
  repository: RetentionRepository;
  service: RetentionService;
  meter: DiskUsageMeter;
  defaults: RetentionPolicy;
}

const made = new WeakMap<AppContext, RetentionParts>();

export function retentionOf(ctx: AppContext): RetentionParts {
  let parts = made.get(ctx);
  if (parts) return parts;
  const { config } = ctx;
  const repository = new RetentionRepository(ctx.db.kysely);
  const defaults: RetentionPolicy = {
    keep_runs: config.retentionKeepRuns > 0 ? config.retentionKeepRuns : null,
    keep_days: config.retentionKeepDays > 0 ? config.retentionKeepDays : null,
  };
  const meter = new DiskUsageMeter({
    logsRoot: logsRoot(config.dataDir),
    workspaceRoot: ctx.engine.workspaceRoot,
    artifactsRoot: join(config.dataDir, 'artifacts'),
    databaseBytes: () =>
      ctx.db.dialect === 'postgres'
        ? repository.postgresSize()
        : sqliteFilesBytes(config.databaseUrl?.startsWith('sqlite://') ? config.databaseUrl.slice('sqlite://'.length) : join(config.dataDir, 'ansflow.db')),
  });
  const service = new RetentionService({
    retention: repository,
    pipelines: ctx.repos.pipelines,
    runs: ctx.repos.runs,
    access: ctx.access,
    audit: ctx.audit,
    defaults,
    meter,
  });
  parts = { repository, service, meter, defaults };
  made.set(ctx, parts);
  return parts;
}

/** The sweeper of this process; processes that serve the API each run one, and the claim lets one sweep at a time. */
export function startRetentionSweeper(ctx: AppContext): RetentionSweeper {
  const sweeper = makeRetentionSweeper(ctx);
  sweeper.start();
  return sweeper;
}

/** A sweeper over this context's database and store, not started (`now`: its clock, for tests). */
export function makeRetentionSweeper(ctx: AppContext, options: { now?: () => number } = {}): RetentionSweeper {
  const { repository, defaults } = retentionOf(ctx);
  return new RetentionSweeper({
    retention: repository,
    defaults,
    owner: `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`,
    logsRoot: logsRoot(ctx.config.dataDir),
    workspaceRoot: ctx.engine.workspaceRoot,
    // A removed run's artifacts and snapshots (their rows went with the run, by cascade).
    removeArtifacts: async (runId) => {
      let bytes = 0;
      for await (const object of ctx.artifactStore.list(`runs/${runId}/`)) bytes += object.size;
      await ctx.artifactStore.deletePrefix(`runs/${runId}/`);
      return bytes;
    },
    // Artifacts past expire_in_days: the rows go first (never listed without their bytes); objects a
    // failing store leaves go with their run's prefix later.
    removeExpiredArtifacts: async (now, limit) => {
      const prefixes = await ctx.repos.outputs.removeExpiredArtifacts(now, limit);
      let bytes = 0;
      for (const prefix of prefixes) {
        for await (const object of ctx.artifactStore.list(`${prefix}/`)) bytes += object.size;
        await ctx.artifactStore.deletePrefix(`${prefix}/`);
      }
      return { removed: prefixes.length, bytes };
    },
    // Temporary files of puts whose process died (a put under way writes on, so an hour is plenty).
    ...(ctx.artifactStore instanceof FsArtifactStore && {
      removeLeftovers: (now: number) => (ctx.artifactStore as FsArtifactStore).sweepTemporary(LEFTOVER_PUT_MS, now),
    }),
    ...(ctx.config.auditRetentionDays > 0 && {
      pruneAuditEvents: (now: string, limit: number) =>
        ctx.audit.prune(new Date(Date.parse(now) - ctx.config.auditRetentionDays * 86_400_000).toISOString(), limit),
    }),
    ...(options.now && { now: options.now }),
    intervalMs: ctx.config.retentionSweepSeconds * 1000,
    batch: ctx.config.retentionBatch,
    onError: (err) => ctx.logger.error({ err }, 'retention sweep failed'),
  });
}
