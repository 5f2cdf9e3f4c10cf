/**
 * Executes one pipeline run for real and resolves with its final status. It never rejects.
 *
 *   1. create the workspace (a failure is a platform fault: every step `skipped`, run `error`);
 *   2. reporter.runStarted with the workspace path;
 *   3. plan the steps as a graph (`plan.ts`: `needs`, or stages of `parallel_group`; a plan that
 *      cannot finish — unknown need, cycle — runs nothing: every step `skipped`, run `error`);
 *   4. run the graph (`schedule-steps.ts`: each step once its needs ended, up to
 *      `maxParallelSteps` at once, gated by `when.status`); then:
 *        the run's signal fired      → steps not started `cancelled`; run `cancelled` (cancel) or
 *                                      `error` "interrupted by server shutdown" (shutdown);
 *        a platform fault            → steps not started `skipped`; run `error`;
 *        a blocking failure          → its dependents `skipped`; run `failed` (or `timeout`), the
 *                                      status of the first blocking step in definition order;
 *   5. otherwise                      → `success` (steps with continue_on_error may have failed).
 *
 * A failure never kills steps already running (as GitLab lets the jobs of a stage finish): their
 * results are useful and killing them would hide a second failure.
 */
import type { FinalRunStatus, FinalStepStatus } from '../domain/status.js';
import { assertNever, stepBlocksRun } from '../domain/status.js';
import { coerceError } from '../domain/errors.js';
import {
  DEFAULT_MAX_PARALLEL_STEPS,
  type AbortReason,
  type EngineOptions,
  type LogStore,
  type RunOutcome,
  type RunReporter,
  type RunSpec,
  type StepExecutor,
} from './ports.js';
import { planGraph, PlanError, type PlannedNode, type PlannedStep } from './plan.js';
import { scheduleSteps } from './schedule-steps.js';
import { createWorkspace, type Workspace } from './workspace.js';
import { buildStepEnv, secretValues } from './env.js';
import { openStepOutput, type StepOutput } from './run-logs.js';
import { runStep, type StepOutcome } from './run-step.js';
import { maskText } from './masking.js';
import type { RunSandbox } from './launch/launcher.js';
import { localRepositoryPath } from '../domain/git-url.js';
import { credentialForStep, runCredentialSecrets } from './credentials/run-credentials.js';
import { materialiseStepCredential, type StepCredential } from './credentials/step-credential.js';
import type { ResolvedCredential } from '../domain/credentials.js';
import type { RunOutputs } from './artifacts/run-outputs.js';
import { afterStep, restoreSnapshot, restoreStepCache, RunOutputsState, takeArtifactsFrom } from './artifacts/step-outputs.js';

export interface ExecuteRunInput {
  spec: RunSpec;
  executors: readonly StepExecutor[];
  reporter: RunReporter;
  logs: LogStore;
  /** Fires with an AbortReason: `{kind:'cancel'}` or `{kind:'shutdown'}`. */
  signal: AbortSignal;
  options: EngineOptions;
  /** Where artifacts, caches and workspace snapshots go; without it steps' `artifacts:` and `cache:` are ignored. */
  outputs?: RunOutputs;
}

/** Extra time an executor gets, beyond the kill grace, to return after its signal fired. */
const ABANDON_MARGIN_MS = 10_000;

export async function executeRun(input: ExecuteRunInput): Promise<RunOutcome> {
  // Every credential of the run is masked in every step's log, not only in the step naming it.
  const secrets = [...secretValues(input.spec.variables), ...runCredentialSecrets(input.spec)];
  try {
    return await execute(input, secrets);
  } catch (thrown) {
    return { status: 'error', reason: maskText(`engine failure: ${coerceError(thrown).message}`, secrets) };
  }
}

async function execute(input: ExecuteRunInput, secrets: string[]): Promise<RunOutcome> {
  const { spec, reporter, signal, options } = input;
  const allSteps = spec.steps;
  const settle = async (steps: readonly PlannedStep[], status: 'skipped' | 'cancelled') => {
    if (steps.length > 0) await reporter.stepsSettled({ runId: spec.runId, stepIds: steps.map((s) => s.stepId), status, at: new Date() });
  };

  if (signal.aborted) {
    await settle(allSteps, 'cancelled');
    return abortedOutcome(signal);
  }
  let workspace: Workspace;
  let sandbox: RunSandbox | undefined;
  try {
    // The sandbox brings its own workspace, made ahead of time; unisolated runs make theirs here.
    sandbox = await options.isolation?.openRun({
      runId: spec.runId,
      readOnlyPaths: [...(options.allowLocalRepositories ? localRepositories(spec) : []), ...(await checkoutMirrors(spec, options))],
      stepLimits: allSteps.flatMap((s) => (s.limits ? [s.limits] : [])),
    });
  } catch (thrown) {
    await settle(allSteps, 'skipped');
    return { status: 'error', reason: `sandbox could not be set up: ${coerceError(thrown).message}` };
  }
  try {
    workspace = sandbox?.workspace ?? (await createWorkspace(options.workspaceRoot, spec.runId));
  } catch (thrown) {
    await settle(allSteps, 'skipped');
    return { status: 'error', reason: `workspace could not be created: ${coerceError(thrown).message}` };
  }
  try {
    await reporter.runStarted({ runId: spec.runId, at: new Date(), workspace: workspace.path });
    if (spec.reuse?.snapshotKey) {
      // A retry: the workspace as the original run left it after its last reused step.
      const problem = await restoreRetrySnapshot(input, spec.reuse.snapshotKey, workspace.path);
      if (problem) {
        await settle(
          allSteps.filter((s) => !spec.reuse!.stepIds.includes(s.stepId)),
          'skipped',
        );
        return { status: 'error', reason: problem };
      }
    }
    return await runGraph(input, workspace, secrets, settle);
  } finally {
    await sandbox?.close();
  }
}

async function runGraph(
  input: ExecuteRunInput,
  workspace: Workspace,
  secrets: string[],
  settle: (steps: readonly PlannedStep[], status: 'skipped' | 'cancelled') => Promise<void>,
): Promise<RunOutcome> {
  const { spec, signal } = input;
  let nodes: PlannedNode[];
  try {
    nodes = planGraph(spec.steps);
  } catch (thrown) {
    if (!(thrown instanceof PlanError)) throw thrown;
    await settle(spec.steps, 'skipped');
    return { status: 'error', reason: `the steps cannot be planned: ${thrown.message}` };
  }
  const executors = new Map(input.executors.map((e) => [e.type, e]));
  const outputs = input.outputs ? new RunOutputsState(input.outputs, spec.runId, spec.branch, spec.steps) : null;
  const needed = new Set(nodes.flatMap((n) => n.needs));
  const reused = new Set(spec.reuse?.stepIds ?? []);
  const scheduled = scheduleSteps({
    nodes,
    maxParallel: input.options.maxParallelSteps ?? DEFAULT_MAX_PARALLEL_STEPS,
    signal,
    // A retry's reused steps are not run again: their rows already say `success`, linked to the original's.
    run: async (node) =>
      reused.has(node.step.stepId)
        ? { status: 'success', exitCode: 0, attempts: 0 }
        : runOneStep(input, node.step, workspace, secrets, executors, node.parallel, outputs && { state: outputs, needed: needed.has(node.index) }),
    settle: (settled, status) =>
      settle(
        settled.map((n) => n.step),
        status,
      ),
  });
  // Snapshots of finished steps still being stored: the run ends (and its workspace goes) only
  // once they are stored or their failure is told.
  const { outcomes, fault } = await scheduled.finally(() => outputs?.settled());
  if (signal.aborted) return abortedOutcome(signal);
  if (fault !== undefined) return { status: 'error', reason: fault };
  // The run takes the status of the first blocking step in definition order.
  const blocking = nodes.find((n) => {
    const outcome = outcomes[n.index];
    return outcome !== undefined && blocks(n.step, outcome);
  });
  if (blocking) {
    const outcome = outcomes[blocking.index]!;
    return {
      status: runStatusFor(outcome.status),
      reason: `step "${blocking.step.name}" ${outcome.status}${outcome.message ? `: ${outcome.message}` : ''}`,
    };
  }
  return { status: 'success' };
}

async function runOneStep(
  input: ExecuteRunInput,
  step: PlannedStep,
  workspace: Workspace,
  secrets: string[],
  executors: Map<string, StepExecutor>,
  parallel: boolean,
  outputs: { state: RunOutputsState; needed: boolean } | null,
): Promise<StepOutcome> {
  const { spec, options } = input;
  let env: Record<string, string>;
  try {
    env = buildStepEnv({ spec, stepName: step.name, workspace: workspace.path, home: workspace.home, stepEnv: step.env });
  } catch (thrown) {
    // Refused variable names: the API should have stopped them, so this is the platform's fault.
    const message = `refused variables: ${coerceError(thrown).message}`;
    await input.reporter.stepFinished({ runId: spec.runId, stepId: step.stepId, status: 'failed', exitCode: null, attempts: 0, at: new Date(), message });
    return { status: 'failed', exitCode: null, attempts: 0, message, fault: message };
  }
  const output = openStepOutput({
    logs: input.logs,
    runId: spec.runId,
    stepId: step.stepId,
    stepName: step.name,
    parallel,
    secrets,
    maxLineBytes: options.maxLineBytes,
  });
  let outcome: StepOutcome;
  let credential: { resolved: ResolvedCredential; given: StepCredential } | undefined;
  // Resolved once the step's result is reported and its log closed (for work that ends later).
  let stepEnded!: () => void;
  const ended = new Promise<void>((resolve) => (stepEnded = resolve));
  try {
    const found = step.credential === undefined ? undefined : await giveCredential(input, step, step.credential, workspace, secrets);
    if (found && 'problem' in found) outcome = await refuseStep(input, step, output, found.problem);
    else {
      credential = found;
      if (credential) env = { ...env, ...credential.given.env };
      const around = outputs && {
        state: outputs.state,
        step,
        workspace: workspace.path,
        output,
        needed: outputs.needed,
        // The snapshot is stored while the next step runs. The step's log closes at its end all
        // the same (its last line must reach live viewers before the next step's output:
        // test/gateway/websocket.test.ts); a later failure to store is appended to it then.
        afterEnd: { ended, note: (line: string) => noteAfterEnd(input, step, parallel, secrets, line) },
        ...(options.stepOwner && { owner: options.stepOwner }),
      };
      const fromProblem = step.from ? (around ? await takeArtifactsFrom(around) : 'from: this worker has no artifact store to take artifacts from') : null;
      const restored = around && fromProblem === null ? await restoreStepCache(around) : null;
      if (fromProblem !== null) outcome = await refuseStep(input, step, output, fromProblem);
      else
        outcome = await runStep({
          step,
          spec,
          executor: executors.get(step.type),
          reporter: input.reporter,
          output,
          env,
          workspace: workspace.path,
          secrets,
          runSignal: input.signal,
          ...(options.stepOwner && { fileOwner: options.stepOwner }),
          ...(credential && { credential: credential.resolved }),
          abandonAfterMs: options.cancelGraceMs + ABANDON_MARGIN_MS,
          ...(around && { afterAttempts: (done: StepOutcome) => afterStep(around, done, restored) }),
        });
    }
  } finally {
    // The step's credential files go when the step ends, however it ends.
    await credential?.given.remove().catch(() => undefined);
    try {
      await output.close();
    } catch (thrown) {
      outcome ??= { status: 'failed', exitCode: null, attempts: 0 };
      outcome = { ...outcome, fault: outcome.fault ?? `step log could not be written: ${coerceError(thrown).message}` };
    }
    stepEnded();
  }
  return outcome;
}

/** A line in a step's log after the step ended (its log reopened and appended to: a run-log line of its own too). */
async function noteAfterEnd(input: ExecuteRunInput, step: PlannedStep, parallel: boolean, secrets: string[], line: string): Promise<void> {
  const output = openStepOutput({
    logs: input.logs,
    runId: input.spec.runId,
    stepId: step.stepId,
    stepName: step.name,
    parallel,
    reopened: true,
    secrets,
    maxLineBytes: input.options.maxLineBytes,
  });
  output.note(line);
  await output.close();
}

/** The credential a step names, written into the run's HOME for it; or why the step cannot have it. */
async function giveCredential(
  input: ExecuteRunInput,
  step: PlannedStep,
  name: string,
  workspace: Workspace,
  secrets: string[],
): Promise<{ resolved: ResolvedCredential; given: StepCredential } | { problem: string }> {
  const found = credentialForStep(input.spec, name);
  if ('problem' in found) return found;
  try {
    const given = await materialiseStepCredential({ credential: found.credential, home: workspace.home, stepId: step.stepId, owner: input.options.stepOwner });
    return { resolved: found.credential, given };
  } catch (thrown) {
    return { problem: maskText(`credential "${name}" could not be given to the step: ${coerceError(thrown).message}`, secrets) };
  }
}

/** A step that cannot start (its credential is missing): the user's problem, told in its log. */
async function refuseStep(input: ExecuteRunInput, step: PlannedStep, output: StepOutput, message: string): Promise<StepOutcome> {
  output.note(`error: ${message}`);
  const outcome: StepOutcome = { status: 'failed', exitCode: null, attempts: 0, message };
  try {
    await input.reporter.stepFinished({ runId: input.spec.runId, stepId: step.stepId, status: 'failed', exitCode: null, attempts: 0, at: new Date(), message });
  } catch (thrown) {
    return { ...outcome, fault: `could not record the step result: ${coerceError(thrown).message}` };
  }
  return outcome;
}

/** Unpacks the original run's snapshot into a retry's workspace; the reason when it cannot. */
async function restoreRetrySnapshot(input: ExecuteRunInput, key: string, workspace: string): Promise<string | null> {
  if (!input.outputs) return 'this worker has no artifact store to restore the workspace snapshot from';
  try {
    await restoreSnapshot(input.outputs, key, workspace, input.options.stepOwner);
    return null;
  } catch (thrown) {
    return `the workspace snapshot could not be restored (run the pipeline again instead): ${coerceError(thrown).message}`;
  }
}

function blocks(step: PlannedStep, outcome: StepOutcome): boolean {
  if (!stepBlocksRun(outcome.status)) return false;
  // continue_on_error forgives the user's failure, never a cancellation.
  return !(step.continue_on_error === true && outcome.status !== 'cancelled');
}

function runStatusFor(status: FinalStepStatus): FinalRunStatus {
  switch (status) {
    case 'timeout':
      return 'timeout';
    case 'cancelled':
      return 'cancelled';
    case 'failed':
    case 'skipped':
      return 'failed';
    case 'success':
      return 'success';
    default:
      return assertNever(status);
  }
}

function abortedOutcome(signal: AbortSignal): RunOutcome {
  const reason = signal.reason as Partial<AbortReason> | undefined;
  if (reason?.kind === 'shutdown') return { status: 'error', reason: 'interrupted by server shutdown' };
  return { status: 'cancelled', reason: 'cancelled' };
}

/** The local repositories (file:// or absolute paths) the run's checkouts read, for its sandbox. */
function localRepositories(spec: RunSpec): string[] {
  const urls = [spec.repositoryUrl, ...spec.steps.filter((s) => s.type === 'git_checkout').map((s) => s.config.repository)];
  return [...new Set(urls.flatMap((url) => (typeof url === 'string' ? (localRepositoryPath(url) ?? []) : [])))];
}

/**
 * The mirrors of the repositories the run's checkouts clone, made if missing (an empty bare
 * repository: the checkout fills it), so the sandbox can show them read-only. A repository whose
 * URL is refused has none (its checkout fails saying why).
 */
async function checkoutMirrors(spec: RunSpec, options: EngineOptions): Promise<string[]> {
  const mirrors = options.mirrors;
  if (!mirrors) return [];
  // A mirror per repository and credential (repository-mirrors.ts): each checkout's own.
  const checkouts = spec.steps.flatMap((s) =>
    s.type === 'git_checkout' && typeof s.config.repository === 'string'
      ? [{ url: s.config.repository, credential: s.credential === undefined ? undefined : spec.credentials?.[s.credential] }]
      : [],
  );
  const paths = await Promise.all(checkouts.map(({ url, credential }) => mirrors.prepare(url, credential).catch(() => null)));
  return [...new Set(paths.filter((p): p is string => p !== null))];
}
