/**
 * Starts a worker in this process: recovery of what a previous life left behind, then claiming.
 * Embedded: every run claimed when the process died is settled (requeued or ended as error).
 * Distributed: a dead worker's runs come back through expired leases, so only the orphaned step
 * processes of this worker's previous life are killed (each worker has its own data folder).
 */
import { hostname } from 'node:os';
import type { AppContext } from './context.js';
import { processesRoot, RunWorker } from '../services/runs/run-worker.js';
import { ProcessRegistry } from '../engine/process-registry.js';
import { recoverInterruptedRuns } from '../services/runs/recover-runs.js';
import { createDefaultExecutors } from '../engine/executors/index.js';
import { SpawnerLauncher } from '../engine/launch/spawner-launcher.js';
import type { EngineOptions, StepExecutor } from '../engine/ports.js';
import type { ProcessLauncher } from '../engine/launch/launcher.js';
import { prepareSandbox, type SandboxState } from '../engine/launch/sandbox/sandbox-settings.js';
import { SandboxLauncher } from '../engine/launch/sandbox/sandbox-launcher.js';
import type { SandboxReport } from '../store/workers-repository.js';
import { createJenkinsClient } from '../integrations/jenkins/jenkins-client.js';
import { createJenkinsStepExecutor } from '../integrations/jenkins/jenkins-step-executor.js';
import { pipelineFileReader, repositoryMirrors } from './pipeline-files.js';
import { storeRunOutputs } from '../services/outputs/store-run-outputs.js';
import { inventoriesOf } from './inventories.js';
import { AnsibleEventsRepository } from '../store/ansible-events-repository.js';

export interface WorkerOptions {
  concurrency?: number;
  labels?: string[];
  extraExecutors?: StepExecutor[];
}

export async function startWorker(ctx: AppContext, options: WorkerOptions = {}): Promise<RunWorker> {
  const processes = new ProcessRegistry(processesRoot(ctx.config.dataDir));
  if (ctx.distributed) {
    const killed = processes.killOrphans();
    if (killed.length > 0) ctx.logger.warn({ killed }, 'killed step processes left by a previous life of this worker');
  } else {
    const recovered = await recoverInterruptedRuns({ runs: ctx.repos.runs, queue: ctx.repos.runQueue, events: ctx.events });
    // Steps of the interrupted runs may still be running as orphans of the dead process: end them.
    const killed = processes.killOrphans(new Set([...recovered.requeued, ...recovered.failed]));
    if (recovered.requeued.length + recovered.failed.length > 0) ctx.logger.warn({ ...recovered, killed }, 'recovered runs interrupted by a previous stop');
  }
  const { launcher, host, engine, report } = await stepLauncher(ctx);
  // One bare mirror per repository: pipeline files are read from it and checkouts copy from it.
  const mirrors = repositoryMirrors(ctx, host);
  const workerId = `${hostname()}:${process.pid}`;
  const { outputs } = ctx.config;
  const worker = new RunWorker({
    workerId,
    runs: ctx.repos.runs,
    queue: ctx.queue,
    events: ctx.events,
    logs: ctx.logs,
    // jenkins_job is always known; without ANSFLOW_JENKINS_URL its steps fail saying so.
    executors: [
      ...createDefaultExecutors({ ...ctx.engine, mirrors }, launcher),
      createJenkinsStepExecutor({ client: createJenkinsClient(ctx.config.jenkins) }),
      ...(options.extraExecutors ?? []),
    ],
    cancellations: ctx.cancellations,
    engine: { ...engine, mirrors },
    sandbox: report,
    concurrency: options.concurrency ?? ctx.config.maxConcurrentRuns,
    perPipeline: ctx.config.maxRunsPerPipeline,
    logger: ctx.logger,
    processes,
    workspaceRetentionMs: ctx.config.workspaceRetentionHours * 3600 * 1000,
    labels: options.labels ?? [],
    registry: ctx.repos.workers,
    credentials: ctx.repos.credentials,
    inventories: inventoriesOf(ctx).repository,
    ansibleEvents: new AnsibleEventsRepository(ctx.db.kysely),
    pipelineFiles: pipelineFileReader(ctx, mirrors),
    gates: ctx.delivery.gates,
    launcher,
    mirrors,
    outputs: (run) =>
      storeRunOutputs(run, {
        repository: ctx.repos.outputs,
        store: ctx.artifactStore,
        limits: {
          artifactBytes: outputs.artifactMaxBytes,
          runArtifactBytes: outputs.runArtifactsMaxBytes,
          cacheBytes: outputs.cacheMaxBytes,
          snapshotBytes: outputs.snapshotMaxBytes,
        },
        cacheBudgetBytes: outputs.cacheBudgetBytes,
        defaultExpireDays: outputs.artifactExpireDays,
        worker: hostname(),
        onEvictError: (err) => ctx.logger.warn({ err }, 'an evicted cache could not be removed from the store'),
      }),
    ...(ctx.distributed ? { cancelPollMs: 2000 } : {}),
  });
  worker.start();
  return worker;
}

/**
 * How this worker starts steps: inside a sandbox per run (the default), or, when the operator set
 * ANSFLOW_SANDBOX=off, directly. When the sandbox cannot be set up, steps are refused (each run
 * ends as a platform error saying why) rather than run unisolated. `host`: the host's spawner,
 * unsandboxed, for the platform's own processes (the mirrors' git); closed with `launcher`.
 */
async function stepLauncher(ctx: AppContext): Promise<{ launcher: ProcessLauncher; host: SpawnerLauncher; engine: EngineOptions; report: SandboxReport }> {
  const { config } = ctx;
  const state = await prepareSandbox({
    enabled: config.sandbox,
    dataDir: config.dataDir,
    workspaceRoot: ctx.engine.workspaceRoot,
    uid: config.sandboxUid,
    defaults: config.stepLimits,
    tmpBytes: config.stepTmpBytes,
    extraHidden: config.sandboxHide,
  });
  const report = sandboxReport(state);
  if (!report.isolated) ctx.logger.warn({ sandbox: report }, `STEPS ARE NOT ISOLATED: ${report.detail}`);
  // Said once: every run's sandbox then costs a Node start (tens of ms of CPU more than Perl's).
  if (state.mode === 'on' && state.available && state.settings.spawner.kind === 'node')
    ctx.logger.warn(`the spawner inside run sandboxes is Node, not spawner.pl: ${state.settings.spawner.reason}`);
  if (state.mode === 'off') {
    // Started now, not awaited: the first step waits for it only if it comes within the ~50 ms it
    // takes. A spawner that cannot start is retried at each launch (the step fails saying why).
    const launcher = new SpawnerLauncher();
    launcher.warmUp().catch((error: unknown) => ctx.logger.error({ err: error }, 'the step spawner could not start'));
    return { launcher, host: launcher, engine: ctx.engine, report };
  }
  // Two ready: runs that come back to back (a burst of pushes) find one even while the next is made.
  const launcher = new SandboxLauncher(state, { workspaceRoot: ctx.engine.workspaceRoot, warm: 2 });
  launcher.warmUp();
  const stepOwner = state.available ? state.settings.runAs : undefined;
  return { launcher, host: launcher.host, engine: { ...ctx.engine, isolation: launcher, ...(stepOwner && { stepOwner }) }, report };
}

export function sandboxReport(state: SandboxState): SandboxReport {
  if (state.mode === 'off') return { isolated: false, mode: 'off', detail: "ANSFLOW_SANDBOX=off: steps run as the server's user and can read its data folder" };
  if (!state.available) return { isolated: false, mode: 'unavailable', detail: `steps are refused: ${state.reason}` };
  return { isolated: true, mode: 'bubblewrap', detail: state.limits };
}
