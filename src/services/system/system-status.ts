/**
 * GET /api/v1/system/status: the health of every configured backing service and live counts.
 *   healthy    every check passed                             → HTTP 200
 *   degraded   the database is fine, an optional service is not → HTTP 200
 *   unhealthy  the database is down (nothing works without it)  → HTTP 503
 * The endpoint is public, so results are cached for `cacheMs` and concurrent callers share one
 * round of checks: a flood of status requests cannot become a flood of Redis connections.
 */
import type { Db } from '../../store/db.js';
import type { JobQueue } from '../../queue/job-queue.js';
import type { PipelinesRepository } from '../../store/pipelines-repository.js';
import type { RunsRepository } from '../../store/runs-repository.js';
import type { WorkerInfo, WorkersRepository } from '../../store/workers-repository.js';
import type { StorageStatus } from '../retention/retention-service.js';
import { pingRabbitmq, pingRedis, timed, type CheckResult, type Health } from './health-checks.js';

export type OverallStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface SystemStatus {
  status: OverallStatus;
  version: string;
  uptime_seconds: number;
  timestamp: string;
  services: Record<string, Health>;
  checks: Record<string, CheckResult>;
  metrics: { active_pipelines: number | null; running_jobs: number | null; queue_size: number | null };
  /** Workers with a heartbeat in the last 20 s: id, host, labels, slots and current load. */
  workers: WorkerInfo[];
  /** What an operator must know: steps running unisolated on a worker. */
  warnings: string[];
  /** Disk use (database, logs, workspaces, artifacts) and what the retention sweeper last did. */
  storage?: StorageStatus | null;
}

export interface SystemStatusDeps {
  db: Db;
  pipelines: PipelinesRepository;
  runs: RunsRepository;
  workers: WorkersRepository;
  queue: JobQueue;
  version: string;
  redisUrl: string | null;
  rabbitmqUrl: string | null;
  startedAt: number;
  timeoutMs?: number;
  cacheMs?: number;
  /** Disk use and retention (services/retention); absent: not reported. */
  storage?: () => Promise<StorageStatus>;
}

export class SystemStatusService {
  private cached: { at: number; value: Promise<SystemStatus> } | null = null;

  constructor(private readonly deps: SystemStatusDeps) {}

  status(): Promise<SystemStatus> {
    const now = Date.now();
    const cacheMs = this.deps.cacheMs ?? 1000;
    if (this.cached && now - this.cached.at < cacheMs) return this.cached.value;
    const value = this.compute();
    this.cached = { at: now, value };
    return value;
  }

  private async compute(): Promise<SystemStatus> {
    const { db, redisUrl, rabbitmqUrl } = this.deps;
    const timeoutMs = this.deps.timeoutMs ?? 1000;
    const checks: Record<string, Promise<CheckResult>> = { database: timed(() => db.ping(), timeoutMs) };
    if (redisUrl) checks.redis = timed(() => pingRedis(redisUrl, timeoutMs), timeoutMs);
    if (rabbitmqUrl) checks.rabbitmq = timed(() => pingRabbitmq(rabbitmqUrl, timeoutMs), timeoutMs);
    const results = Object.fromEntries(await Promise.all(Object.entries(checks).map(async ([name, p]) => [name, await p] as const)));
    const databaseUp = results.database?.status === 'healthy';
    const allUp = Object.values(results).every((r) => r.status === 'healthy');
    const workers = databaseUp ? await this.deps.workers.alive(20).catch(() => []) : [];
    return {
      status: !databaseUp ? 'unhealthy' : allUp ? 'healthy' : 'degraded',
      version: this.deps.version,
      uptime_seconds: Math.floor((Date.now() - this.deps.startedAt) / 1000),
      timestamp: new Date().toISOString(),
      services: Object.fromEntries(Object.entries(results).map(([name, r]) => [name, r.status])),
      checks: results,
      metrics: databaseUp ? await this.metrics(timeoutMs) : { active_pipelines: null, running_jobs: null, queue_size: null },
      workers,
      ...(this.deps.storage ? { storage: databaseUp ? await this.deps.storage().catch(() => null) : null } : {}),
      warnings: workers.filter((w) => w.sandbox && !w.sandbox.isolated).map((w) => `steps are not isolated on worker ${w.id}: ${w.sandbox!.detail}`),
    };
  }

  private async metrics(timeoutMs: number): Promise<SystemStatus['metrics']> {
    const within = <T>(p: Promise<T>) => Promise.race([p, new Promise<null>((r) => setTimeout(() => r(null), timeoutMs).unref())]).catch(() => null);
    const [active_pipelines, running_jobs, queue_size] = await Promise.all([
      within(this.deps.pipelines.countByStatus('active')),
      within(this.deps.runs.countByStatus('running')),
      within(this.deps.queue.size()),
    ]);
    return { active_pipelines, running_jobs, queue_size };
  }
}
