/**
 * Executes claimed runs with the engine. One AbortController per run (LocalCancellations) carries
 * cancel and shutdown; the final status is written here, after the engine returns.
 *
 * Shutdown: stop claiming, give running steps `graceMs` to finish, then abort them with
 * `{kind:'shutdown'}` (the engine ends such runs as `error`), and wait for them to settle.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { executeRun } from '../../engine/execute-run.js';
import { removeWorkspace, sweepWorkspaces } from '../../engine/workspace.js';
import type { EngineOptions, LogStore, RunSpec, StepExecutor } from '../../engine/ports.js';
import type { EventBus } from '../../events/event-bus.js';
import type { JobQueue } from '../../queue/job-queue.js';
import type { Run, RunsRepository } from '../../store/runs-repository.js';
import { isFinalRunStatus } from '../../domain/status.js';
import { coerceError } from '../../domain/errors.js';
import { StoreRunReporter } from './run-reporter.js';
import type { LocalCancellations } from './cancellation.js';
import type { ProcessRegistry } from '../../engine/process-registry.js';

export interface RunWorkerDeps {
  workerId: string;
  runs: RunsRepository;
  queue: JobQueue;
  events: EventBus;
  logs: LogStore;
  executors: readonly StepExecutor[];
  cancellations: LocalCancellations;
  engine: EngineOptions;
  concurrency: number;
  perPipeline: number;
  logger: Logger;
  processes: ProcessRegistry;
  /** How long a finished run's workspace is kept; 0 removes it as soon as the run ends. */
  workspaceRetentionMs: number;
}

const SWEEP_INTERVAL_MS = 10 * 60 * 1000;

export class RunWorker {
  private stopping = false;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(private readonly deps: RunWorkerDeps) {}

  start(): void {
    this.deps.queue.start({
      workerId: this.deps.workerId,
      concurrency: this.deps.concurrency,
      perPipeline: this.deps.perPipeline,
      handle: (job) => this.execute(job.runId),
    });
    void this.sweep();
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  /** Removes workspaces of finished runs older than the retention (never those running here). */
  async sweep(): Promise<number[]> {
    try {
      return await sweepWorkspaces(this.deps.engine.workspaceRoot, this.deps.workspaceRetentionMs, this.deps.cancellations.activeRunIds());
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'workspace sweep failed');
      return [];
    }
  }

  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    if (this.sweeper) clearInterval(this.sweeper);
    const settled = this.deps.queue.stop();
    const timer = setTimeout(() => this.deps.cancellations.abortAll({ kind: 'shutdown' }), graceMs);
    await settled;
    clearTimeout(timer);
  }

  async execute(runId: number): Promise<void> {
    const { runs, cancellations, logger } = this.deps;
    const run = await runs.findById(runId);
    if (!run || isFinalRunStatus(run.status)) return;
    const controller = cancellations.register(runId);
    const reporter = new StoreRunReporter(run, runs, this.deps.events, this.deps.processes);
    try {
      if (run.cancel_requested_at || this.stopping) {
        if (this.stopping) return; // left queued; it runs after the restart
        await this.settle(run, reporter, 'cancelled', 'cancelled before it started');
        return;
      }
      const outcome = await executeRun({
        spec: toSpec(run),
        executors: this.deps.executors,
        reporter,
        logs: this.deps.logs,
        signal: controller.signal,
        options: this.deps.engine,
      });
      await this.settle(run, reporter, outcome.status, outcome.reason ?? null);
    } catch (error) {
      const reason = `platform error: ${coerceError(error).message}`;
      logger.error({ err: error, runId }, 'run failed on the platform side');
      await this.settle(run, reporter, 'error', reason).catch((e: unknown) => logger.error({ err: e, runId }, 'could not record run error'));
    } finally {
      cancellations.unregister(runId);
      if (this.deps.workspaceRetentionMs === 0)
        await removeWorkspace(this.deps.engine.workspaceRoot, runId).catch((e: unknown) => logger.warn({ err: e, runId }, 'could not remove workspace'));
    }
  }

  private async settle(run: Run, reporter: StoreRunReporter, status: Run['status'], reason: string | null): Promise<void> {
    const at = new Date();
    const stepStatus = status === 'cancelled' ? 'cancelled' : 'skipped';
    await this.deps.runs.settleSteps(run.id, 'unfinished', stepStatus, at.toISOString());
    if (await this.deps.runs.finish(run.id, status, at.toISOString(), reason)) reporter.finished(status, at);
  }
}

export function toSpec(run: Run): RunSpec {
  return {
    runId: run.id,
    number: run.number,
    pipelineId: run.pipeline.id,
    pipelineName: run.pipeline.name,
    branch: run.branch,
    commit: run.commit,
    repositoryUrl: run.definition.repository_url,
    variables: run.variables,
    steps: run.definition.steps.map((step, i) => ({ ...step, stepId: run.steps[i]!.id })),
  };
}

export const workspaceRoot = (dataDir: string) => join(dataDir, 'workspaces');
export const logsRoot = (dataDir: string) => join(dataDir, 'logs');
export const processesRoot = (dataDir: string) => join(dataDir, 'processes');
