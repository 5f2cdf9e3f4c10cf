/**
 * The platform's Prometheus metrics. In-memory series (HTTP latency, step durations, webhook
 * verdicts) describe what this process saw; gauges (runs by status, queue size, pipelines) are
 * read from the database at scrape time, so every process reports the same totals.
 */
import { RUN_STATUSES } from '../../domain/status.js';
import type { EventBus, Unsubscribe } from '../../events/event-bus.js';
import type { JobQueue } from '../../queue/job-queue.js';
import type { RunsRepository } from '../../store/runs-repository.js';
import type { PipelinesRepository } from '../../store/pipelines-repository.js';
import { isFinalRunStatus } from '../../domain/status.js';
import { Counter, Histogram, renderGauge } from './metrics-registry.js';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STEP_BUCKETS = [0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600];

export interface MetricsDeps {
  runs: RunsRepository;
  pipelines: PipelinesRepository;
  queue: JobQueue;
  events: EventBus;
}

export class PlatformMetrics {
  readonly httpLatency = new Histogram('ansflow_http_request_duration_seconds', 'HTTP request latency by server, method, route and status.', LATENCY_BUCKETS);
  readonly stepDuration = new Histogram(
    'ansflow_step_duration_seconds',
    'Duration of finished steps by type and status (runs finished while this process was listening).',
    STEP_BUCKETS,
  );
  readonly webhooks = new Counter('ansflow_webhook_deliveries_total', 'Webhook deliveries by provider and verdict.');
  /** Set by the gateway: live WebSocket clients. */
  websocketClients: () => number = () => 0;
  private readonly unsubscribe: Unsubscribe;

  constructor(private readonly deps: MetricsDeps) {
    // A run's steps are read once, when it finishes; cheaper than timing every step event.
    this.unsubscribe = deps.events.subscribeAll((event) => {
      if (!isFinalRunStatus(event.status)) return;
      void this.observeSteps(event.runId).catch(() => undefined);
    });
  }

  observeRequest(server: string, method: string, route: string, status: number, seconds: number): void {
    this.httpLatency.observe({ server, method, route, status: String(status) }, seconds);
  }

  async render(): Promise<string> {
    const [byStatus, queued, active] = await Promise.all([
      Promise.all(RUN_STATUSES.map(async (status) => ({ labels: { status }, value: await this.deps.runs.countByStatus(status) }))),
      this.deps.queue.size(),
      this.deps.pipelines.countByStatus('active'),
    ]);
    return (
      [
        renderGauge('ansflow_runs', 'Runs by status.', byStatus),
        renderGauge('ansflow_queue_size', 'Runs waiting for a worker.', [{ value: queued }]),
        renderGauge('ansflow_active_pipelines', 'Pipelines with status active.', [{ value: active }]),
        renderGauge('ansflow_websocket_clients', 'WebSocket clients connected to this process.', [{ value: this.websocketClients() }]),
        this.stepDuration.render(),
        this.webhooks.render(),
        this.httpLatency.render(),
      ].join('\n') + '\n'
    );
  }

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
