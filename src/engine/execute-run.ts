/**
 * Executes one pipeline run for real and resolves with its final status. It never rejects.
 *
 *   1. create the workspace (a failure is a platform fault: every step `skipped`, run `error`);
 *   2. reporter.runStarted with the workspace path;
 *   3. stages in order; the steps of a stage run concurrently and the run waits for all of them;
 *   4. after each stage:
 *        the run's signal fired      → later steps `cancelled`; run `cancelled` (cancel) or
 *                                      `error` "interrupted by server shutdown" (shutdown);
 *        a platform fault            → later steps `skipped`; run `error`;
 *        a blocking failure          → later steps `skipped`; run `failed` (or `timeout`);
 *   5. all stages passed              → `success` (steps with continue_on_error may have failed).
 *
 * Policy for a blocking failure inside a parallel stage: the stage's other steps are allowed to
 * finish (as GitLab does with the jobs of a stage) — their results are useful and killing them
 * would hide a second failure. The run then takes the status of the first blocking step in
 * definition order.
 */
import type { FinalRunStatus, FinalStepStatus } from '../domain/status.js';
import { assertNever, stepBlocksRun } from '../domain/status.js';
import { coerceError } from '../domain/errors.js';
import type { AbortReason, EngineOptions, LogStore, RunOutcome, RunReporter, RunSpec, StepExecutor } from './ports.js';
import { planStages, type PlannedStep } from './plan.js';
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

export interface ExecuteRunInput {
  spec: RunSpec;
  executors: readonly StepExecutor[];
  reporter: RunReporter;
  logs: LogStore;
  /** Fires with an AbortReason: `{kind:'cancel'}` or `{kind:'shutdown'}`. */
  signal: AbortSignal;
  options: EngineOptions;
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
      readOnlyPaths: options.allowLocalRepositories ? localRepositories(spec) : [],
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
    return await runStages(input, workspace, secrets, settle);
  } finally {
    await sandbox?.close();
  }
}

async function runStages(
  input: ExecuteRunInput,
  workspace: Workspace,
  secrets: string[],
  settle: (steps: readonly PlannedStep[], status: 'skipped' | 'cancelled') => Promise<void>,
): Promise<RunOutcome> {
  const { spec, signal } = input;
  const allSteps = spec.steps;

  const executors = new Map(input.executors.map((e) => [e.type, e]));
  const stages = planStages(allSteps);
  for (const [index, stage] of stages.entries()) {
    const later = stages.slice(index + 1).flatMap((s) => s.steps);
    if (signal.aborted) {
      await settle([...stage.steps, ...later], 'cancelled');
      return abortedOutcome(signal);
    }
    const parallel = stage.steps.length > 1;
    const outcomes = await Promise.all(stage.steps.map((step) => runOneStep(input, step, workspace, secrets, executors, parallel)));

    const faulted = outcomes.find((o) => o.fault !== undefined);
    if (signal.aborted) {
      await settle(later, 'cancelled');
      return abortedOutcome(signal);
    }
    if (faulted) {
      await settle(later, 'skipped');
      return { status: 'error', reason: faulted.fault };
    }
    const blocking = stage.steps.map((step, i) => ({ step, outcome: outcomes[i]! })).find(({ step, outcome }) => blocks(step, outcome));
    if (blocking) {
      await settle(later, 'skipped');
      return {
        status: runStatusFor(blocking.outcome.status),
        reason: `step "${blocking.step.name}" ${blocking.outcome.status}${blocking.outcome.message ? `: ${blocking.outcome.message}` : ''}`,
      };
    }
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
): Promise<StepOutcome> {
  const { spec, options } = input;
  let env: Record<string, string>;
  try {
    env = buildStepEnv({ spec, stepName: step.name, workspace: workspace.path, home: workspace.home });
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
  try {
    const found = step.credential === undefined ? undefined : await giveCredential(input, step, step.credential, workspace, secrets);
    if (found && 'problem' in found) outcome = await refuseStep(input, step, output, found.problem);
    else {
      credential = found;
      if (credential) env = { ...env, ...credential.given.env };
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
  }
  return outcome;
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
