/**
 * The platform's Prometheus metrics, on prom-client. In-memory series (HTTP latency, step
 * durations, webhook verdicts, finished runs) describe what this process saw; gauges (runs by
 * status, queue size and age, pipelines, data-folder disk) are read when scraped, so every process
 * reports the same totals. Node.js and process metrics (event-loop lag, heap, GC, handles, CPU,
 * memory) come from prom-client's defaults, collected once per process (process-metrics.ts).
 */
import { statfs } from 'node:fs/promises';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Kysely } from 'kysely';
import { RUN_STATUSES, isFinalRunStatus } from '../../domain/status.js';
import type { EventBus, Unsubscribe } from '../../events/event-bus.js';
import type { JobQueue } from '../../queue/job-queue.js';
import type { RunsRepository } from '../../store/runs-repository.js';
import type { PipelinesRepository } from '../../store/pipelines-repository.js';
import type { Database } from '../../store/schema.js';
import { processRegistry } from './process-metrics.js';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STEP_BUCKETS = [0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600];

export interface MetricsDeps {
  runs: RunsRepository;
  pipelines: PipelinesRepository;
  queue: JobQueue;
  events: EventBus;
  /** For the age of the oldest queued run; without it that gauge is absent. */
  db?: Kysely<Database>;
  /** The data folder, whose file system's free space is reported; without it those gauges are absent. */
  dataDir?: string;
}

export class PlatformMetrics {
  /** This context's series; one per context, so servers in one process (tests) do not mix counts. */
  readonly registry = new Registry();
  readonly httpLatency = new Histogram({
    name: 'ansflow_http_request_duration_seconds',
    help: 'HTTP request latency by server, method, route and status.',
    labelNames: ['server', 'method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly stepDuration = new Histogram({
    name: 'ansflow_step_duration_seconds',
    help: 'Duration of finished steps by type and status (runs finished while this process was listening).',
    labelNames: ['type', 'status'] as const,
    buckets: STEP_BUCKETS,
    registers: [this.registry],
  });
  readonly webhooks = new Counter({
    name: 'ansflow_webhook_deliveries_total',
    help: 'Webhook deliveries by provider and verdict.',
    labelNames: ['provider', 'verdict'] as const,
    registers: [this.registry],
  });
  readonly runsFinished = new Counter({
    name: 'ansflow_runs_finished_total',
    help: 'Runs that reached a final status while this process was listening, by status (with Redis every process hears every run: aggregate with max, not sum).',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  /** Set by the gateway: live WebSocket clients. */
  websocketClients: () => number = () => 0;
  private readonly unsubscribe: Unsubscribe;

  constructor(private readonly deps: MetricsDeps) {
    const { runs, queue, pipelines } = deps;
    new Gauge({
      name: 'ansflow_runs',
      help: 'Runs by status.',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        const counts = await Promise.all(RUN_STATUSES.map(async (status) => [status, await runs.countByStatus(status)] as const));
        for (const [status, n] of counts) this.set({ status }, n);
      },
    });
    new Gauge({
      name: 'ansflow_queue_size',
      help: 'Runs waiting for a worker.',
      registers: [this.registry],
      async collect() {
        this.set(await queue.size());
      },
    });
    new Gauge({
      name: 'ansflow_active_pipelines',
      help: 'Pipelines with status active.',
      registers: [this.registry],
      async collect() {
        this.set(await pipelines.countByStatus('active'));
      },
    });
    const clients = () => this.websocketClients();
    new Gauge({
      name: 'ansflow_websocket_clients',
      help: 'WebSocket clients connected to this process.',
      registers: [this.registry],
      collect() {
        this.set(clients());
      },
    });
    const db = deps.db;
    if (db)
      new Gauge({
        name: 'ansflow_queue_oldest_age_seconds',
        help: 'Age of the oldest run still queued (0 when none is): runs stuck waiting for a worker.',
        registers: [this.registry],
        async collect() {
          const row = await db
            .selectFrom('pipeline_runs')
            .where('status', '=', 'queued')
            .select((eb) => eb.fn.min('created_at').as('oldest'))
            .executeTakeFirst();
          const oldest = row?.oldest ? Date.parse(String(row.oldest)) : NaN;
          this.set(Number.isNaN(oldest) ? 0 : Math.max(0, (Date.now() - oldest) / 1000));
        },
      });
    const dataDir = deps.dataDir;
    if (dataDir) {
      const disk = new Gauge({
        name: 'ansflow_data_filesystem_bytes',
        help: 'The file system of the data folder (database, logs, workspaces): size, free (for anyone) and available (to this process).',
        labelNames: ['kind'] as const,
        registers: [this.registry],
        async collect() {
          const s = await statfs(dataDir).catch(() => null);
          if (!s) return;
          disk.set({ kind: 'size' }, s.blocks * s.bsize);
          disk.set({ kind: 'free' }, s.bfree * s.bsize);
          disk.set({ kind: 'available' }, s.bavail * s.bsize);
        },
      });
    }
    // A run's steps are read once, when it finishes; cheaper than timing every step event.
    this.unsubscribe = deps.events.subscribeAll((event) => {
      if (!isFinalRunStatus(event.status)) return;
      this.runsFinished.inc({ status: event.status });
      void this.observeSteps(event.runId).catch(() => undefined);
    });
  }

  observeRequest(server: string, method: string, route: string, status: number, seconds: number): void {
    this.httpLatency.observe({ server, method, route, status: String(status) }, seconds);
  }

  /** What /metrics serves: this context's series and the process's. */
  async render(): Promise<string> {
    const [own, process] = await Promise.all([this.registry.metrics(), processRegistry().metrics()]);
    return own + '\n' + process;
  }

  readonly contentType = Registry.PROMETHEUS_CONTENT_TYPE;

  close(): void {
    this.unsubscribe();
  }

  private async observeSteps(runId: number): Promise<void> {
    const run = await this.deps.runs.findById(runId);
    for (const step of run?.steps ?? []) {
      if (!step.started_at || !step.finished_at) continue;
      this.stepDuration.observe({ type: step.type, status: step.status }, Math.max(0, Date.parse(step.finished_at) - Date.parse(step.started_at)) / 1000);
    }
  }
}
