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
import type { Run, RunConfigError, RunsRepository } from '../../store/runs-repository.js';
import { assertNever, isFinalRunStatus } from '../../domain/status.js';
import { requiredLabels, runEnvironment } from '../../domain/pipeline.js';
import type { FilePlanOutcome } from './plan-from-file.js';
import { coerceError } from '../../domain/errors.js';
import { StoreRunReporter } from './run-reporter.js';
import { CRASH_REASON } from './recover-runs.js';
import type { Job } from '../../queue/job-queue.js';
import type { SandboxReport, WorkersRepository } from '../../store/workers-repository.js';
import { retryWhileUnavailable } from '../../store/unavailable.js';
import { hostname } from 'node:os';
import type { LocalCancellations } from './cancellation.js';
import type { ProcessRegistry } from '../../engine/process-registry.js';
import type { ProcessLauncher } from '../../engine/launch/launcher.js';
import { runCredentials, type CredentialSource, type InventorySource } from './credential-source.js';
import type { RunOutputs } from '../../engine/artifacts/run-outputs.js';
import type { AnsibleEventsRepository } from '../../store/ansible-events-repository.js';

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
  /** Labels this worker offers (`runs_on`); runs needing others go elsewhere. */
  labels?: string[];
  /**
   * How often to look in the database for cancel requests of the runs executing here. Cancels
   * normally arrive at once (in-process, or Redis pub/sub); this catches one lost in transit.
   */
  cancelPollMs?: number;
  /** Where this worker announces itself (system status lists live workers). */
  registry?: WorkersRepository;
  /** What the executors start processes with; closed by stop() once the last run has settled. */
  launcher: ProcessLauncher;
  /** The repository mirrors, whose long-lived readers stop() ends with the launcher. */
  mirrors?: { close(): void };
  /** Opens the credentials a run's steps name; without it, a step naming one fails saying it is missing. */
  credentials?: CredentialSource;
  /** Opens the stored inventories a run's Ansible steps name; without it, such a step fails saying it is missing. */
  inventories?: InventorySource;
  /** Keeps Ansible steps' structured results; without it they are only published. */
  ansibleEvents?: AnsibleEventsRepository;
  /** Whether this worker's steps are isolated (announced with the heartbeat). */
  sandbox?: SandboxReport;
  /** Reads the steps of a run whose pipeline has `config_path` (plan-from-file.ts); without it such runs end `error`. */
  pipelineFiles?: { plan(run: Run, signal: AbortSignal): Promise<FilePlanOutcome> };
  /** Where a run keeps its artifacts, caches and snapshots; without it steps' `artifacts:` and `cache:` are ignored. */
  outputs?: (run: Run) => RunOutputs;
  /**
   * Environments' gates: a pipeline file whose steps name an environment sends its run back to
   * `waiting` once planned (services/deployments/approval-gates.ts). Without them such runs end `error`.
   */
  gates?: { holdPlannedRun(run: Run): Promise<{ outcome: 'run' } | { outcome: 'waiting' } | { outcome: 'refused'; reason: string }> };
}

const HEARTBEAT_MS = 5000;

const SWEEP_INTERVAL_MS = 10 * 60 * 1000;

export class RunWorker {
  private stopping = false;
  private sweeper: NodeJS.Timeout | null = null;
  private cancelPoll: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly startedAt = new Date().toISOString();

  /** Whether this worker's steps are isolated (for the start-up message). */
  get sandbox(): SandboxReport | undefined {
    return this.deps.sandbox;
  }

  constructor(private readonly deps: RunWorkerDeps) {}

  start(): void {
    this.deps.queue.start({
      workerId: this.deps.workerId,
      concurrency: this.deps.concurrency,
      perPipeline: this.deps.perPipeline,
      ...(this.deps.labels ? { labels: this.deps.labels } : {}),
      handle: (job) => this.handle(job),
    });
    void this.sweep();
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
    if (this.deps.cancelPollMs) {
      this.cancelPoll = setInterval(() => void this.pollCancels(), this.deps.cancelPollMs);
      this.cancelPoll.unref();
    }
    if (this.deps.registry) {
      void this.beat();
      this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
      this.heartbeat.unref();
    }
  }

  private async beat(): Promise<void> {
    try {
      await this.deps.registry?.heartbeat({
        id: this.deps.workerId,
        hostname: hostname(),
        pid: process.pid,
        labels: this.deps.labels ?? [],
        concurrency: this.deps.concurrency,
        active: this.deps.queue.active(),
        started_at: this.startedAt,
        sandbox: this.deps.sandbox ?? null,
      });
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'worker heartbeat failed');
    }
  }

  /**
   * A job delivered again after its worker died: if that worker never started a step, the run is
   * simply run here; otherwise its steps' effects are unknown and it ends as `error`.
   */
  async handle(job: Job): Promise<void | 'not-run'> {
    if (job.redelivered) {
      const run = await this.deps.runs.findById(job.runId);
      if (run && !isFinalRunStatus(run.status) && run.steps.some((s) => s.status !== 'pending')) {
        const reporter = new StoreRunReporter(run, this.deps.runs, this.deps.events);
        const at = new Date().toISOString();
        await this.deps.runs.settleSteps(
          run.id,
          run.steps.filter((s) => s.status === 'running').map((s) => s.id),
          'failed',
          at,
          CRASH_REASON,
        );
        await this.settle(run, reporter, run.cancel_requested_at ? 'cancelled' : 'error', CRASH_REASON);
        return;
      }
    }
    return this.execute(job.runId);
  }

  private async pollCancels(): Promise<void> {
    const active = this.deps.cancellations.activeRunIds();
    if (active.length === 0) return;
    try {
      for (const runId of await this.deps.runs.cancelRequested(active)) this.deps.cancellations.request(runId);
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'could not check for cancel requests');
    }
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
    if (this.cancelPoll) clearInterval(this.cancelPoll);
    if (this.heartbeat) clearInterval(this.heartbeat);
    const settled = this.deps.queue.stop();
    const timer = setTimeout(() => this.deps.cancellations.abortAll({ kind: 'shutdown' }), graceMs);
    await settled;
    clearTimeout(timer);
    await this.deps.launcher.close();
    this.deps.mirrors?.close();
    await this.deps.registry?.remove(this.deps.workerId).catch(() => {});
  }

  /** Runs one run; 'not-run' when this worker is stopping and leaves it to the queue. */
  async execute(runId: number): Promise<void | 'not-run'> {
    const { runs, cancellations, logger } = this.deps;
    const run = await runs.findById(runId);
    if (!run || isFinalRunStatus(run.status)) return;
    const controller = cancellations.register(runId);
    let reporter = new StoreRunReporter(run, runs, this.deps.events, this.deps.processes, this.deps.ansibleEvents ?? null);
    try {
      if (run.cancel_requested_at || this.stopping) {
        if (this.stopping) return 'not-run'; // the queue puts it back; it runs after the restart
        await this.settle(run, reporter, 'cancelled', 'cancelled before it started');
        return;
      }
      let current = run;
      if (run.definition.config_path && run.steps.length === 0) {
        // Its sandbox is readied while the file is read, rather than after (released below if unused).
        this.deps.engine.isolation?.reserve?.(run.id);
        const planned = await this.planFromFile(run, reporter, controller.signal);
        if (planned === null) return;
        if (planned === 'elsewhere') return 'not-run'; // back to the queue, for a worker with the labels
        current = planned;
        reporter = new StoreRunReporter(current, runs, this.deps.events, this.deps.processes, this.deps.ansibleEvents ?? null);
      }
      const outcome = await executeRun({
        spec: { ...toSpec(current), ...(await runCredentials(current, this.deps.credentials, this.deps.inventories)) },
        executors: this.deps.executors,
        reporter,
        logs: this.deps.logs,
        signal: controller.signal,
        options: this.deps.engine,
        ...(this.deps.outputs && { outputs: this.deps.outputs(current) }),
      });
      await this.settle(run, reporter, outcome.status, outcome.reason ?? null);
    } catch (error) {
      const reason = `platform error: ${coerceError(error).message}`;
      logger.error({ err: error, runId }, 'run failed on the platform side');
      await this.settle(run, reporter, 'error', reason).catch((e: unknown) => logger.error({ err: e, runId }, 'could not record run error'));
    } finally {
      this.deps.engine.isolation?.release?.(runId);
      cancellations.unregister(runId);
      if (this.deps.workspaceRetentionMs === 0)
        await removeWorkspace(this.deps.engine.workspaceRoot, runId).catch((e: unknown) => logger.warn({ err: e, runId }, 'could not remove workspace'));
    }
  }

  /**
   * Reads the run's steps from its pipeline file (plan-from-file.ts). Returns the run with those
   * steps, or null when it was settled here: an invalid file (`error`, its problems stored with
   * the run) or a file whose `when` excludes the event (`success`, the reason `skipped: …`); and
   * 'elsewhere' when its steps need worker labels this worker lacks (it goes back to the queue).
   */
  private async planFromFile(run: Run, reporter: StoreRunReporter, signal: AbortSignal): Promise<Run | null | 'elsewhere'> {
    // Running while the file is read: a skipped run ends `success`, which only a running run may.
    await reporter.runStarted({ at: new Date() });
    if (!this.deps.pipelineFiles) {
      await this.settle(run, reporter, 'error', 'this worker cannot read pipeline files');
      return null;
    }
    const outcome = await this.deps.pipelineFiles.plan(run, signal);
    switch (outcome.kind) {
      case 'planned': {
        const planned = await retryWhileUnavailable(() => this.deps.runs.adoptPlan(run.id, outcome));
        if (!planned) return planned;
        const target = runEnvironment(planned.definition.steps);
        if (target.name !== null || target.conflicting.length > 0) {
          if (!this.deps.gates) {
            await this.settle(run, reporter, 'error', 'the pipeline file deploys to an environment, and this worker cannot hold runs for approval');
            return null;
          }
          // Its gate: the run waits (its job gone, this slot free) and runs, planned, once released.
          const gate = await this.deps.gates.holdPlannedRun(planned);
          if (gate.outcome === 'waiting') return null;
          if (gate.outcome === 'refused') {
            await this.settle(run, reporter, 'error', gate.reason);
            return null;
          }
        }
        const own = this.deps.labels ?? [];
        if (!requiredLabels(planned.definition.steps).every((l) => own.includes(l))) {
          // The file's `runs_on` names labels this worker lacks: the plan is stored and the queue
          // row carries the labels (adoptPlan), so the run waits, queued, for a worker that has
          // them and runs its stored plan there, as a stored pipeline's run would.
          await retryWhileUnavailable(() => this.deps.runs.backToQueued(run.id));
          this.deps.events.publish({
            type: 'run_status',
            runId: run.id,
            pipelineId: run.pipeline.id,
            status: 'queued',
            progress: 0,
            currentStep: null,
            at: new Date().toISOString(),
          });
          return 'elsewhere';
        }
        return planned;
      }
      case 'invalid':
        await retryWhileUnavailable(() => this.deps.runs.recordConfigErrors(run.id, outcome));
        await this.settle(run, reporter, 'error', invalidFileReason(outcome.errors));
        return null;
      case 'skipped':
        await retryWhileUnavailable(() => this.deps.runs.recordCommit(run.id, outcome.commit));
        await this.settle(run, reporter, 'success', outcome.reason);
        return null;
      default:
        return assertNever(outcome);
    }
  }

  private async settle(run: Run, reporter: StoreRunReporter, status: Run['status'], reason: string | null): Promise<void> {
    const at = new Date();
    const stepStatus = status === 'cancelled' ? 'cancelled' : 'skipped';
    // Retried through a database outage: otherwise the run would wait for its lease to expire and
    // end as `error` with the wrong reason.
    await retryWhileUnavailable(() => this.deps.runs.settleSteps(run.id, 'unfinished', stepStatus, at.toISOString()));
    if (await retryWhileUnavailable(() => this.deps.runs.finish(run.id, status, at.toISOString(), reason))) reporter.finished(status, at);
  }
}

/** The run's reason for an invalid pipeline file: how many problems, and the first few, located. */
export function invalidFileReason(errors: readonly RunConfigError[]): string {
  const shown = errors.slice(0, 5).map((e) => `${e.file}:${e.line}:${e.column}${e.path ? ` ${e.path}` : ''}: ${e.message}`);
  const more = errors.length > shown.length ? `; and ${errors.length - shown.length} more` : '';
  return `the pipeline file is invalid (${errors.length} ${errors.length === 1 ? 'problem' : 'problems'}): ${shown.join('; ')}${more}`;
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
    // A retry: the steps it reuses, and the original's workspace snapshot the others start from.
    ...(run.trigger.retry
      ? { reuse: { stepIds: run.steps.filter((s) => s.reused_from !== null).map((s) => s.id), snapshotKey: run.trigger.retry.snapshot_key } }
      : {}),
    // A run whose secrets were withheld (a fork's pull request) gets no credentials at all; a
    // step naming one fails saying why. Whatever fills `credentials` must keep this.
    ...(run.secrets_withheld ? { credentials: {}, credentialsWithheld: run.secrets_withheld } : {}),
    ...(run.trigger.pull_request
      ? {
          pullRequest: {
            number: run.trigger.pull_request.number,
            sourceBranch: run.trigger.pull_request.source_branch,
            targetBranch: run.trigger.pull_request.target_branch,
          },
        }
      : {}),
  };
}

export const workspaceRoot = (dataDir: string) => join(dataDir, 'workspaces');
export const logsRoot = (dataDir: string) => join(dataDir, 'logs');
export const processesRoot = (dataDir: string) => join(dataDir, 'processes');
