/**
 * Runs one step to its final status: attempts, retries, timeout, cancellation.
 *
 *   for each attempt (1 + retries):
 *     reporter.stepStarted → executor.execute(ctx with an attempt signal) → classify:
 *       the attempt's deadline fired   → `timeout` (not retried: the deadline is the user's limit)
 *       the run's signal fired          → `cancelled`
 *       the executor threw              → `failed` + a platform fault (the run ends `error`)
 *       success                         → `success`
 *       failed, attempts left           → a separator line, next attempt
 *   reporter.stepFinished with the attempts used.
 *
 * `timeout_seconds` bounds each attempt. runStep never rejects.
 */
import type { FinalStepStatus } from '../domain/status.js';
import { coerceError } from '../domain/errors.js';
import type { AbortReason, FileOwner, RunReporter, RunSpec, StepContext, StepExecutor, StepResult } from './ports.js';
import type { ResolvedCredential } from '../domain/credentials.js';
import type { PlannedStep } from './plan.js';
import type { StepOutput } from './run-logs.js';
import { maskText } from './masking.js';

export interface StepOutcome {
  status: FinalStepStatus;
  exitCode: number | null;
  attempts: number;
  message?: string;
  /** Set when the platform (not the user's step) failed; the run ends `error`. */
  fault?: string;
}

export interface RunStepInput {
  step: PlannedStep;
  spec: RunSpec;
  executor: StepExecutor | undefined;
  reporter: RunReporter;
  output: StepOutput;
  env: Record<string, string>;
  workspace: string;
  secrets: string[];
  runSignal: AbortSignal;
  fileOwner?: FileOwner;
  /** The credential the step names (its files and variables are already in `env`). */
  credential?: ResolvedCredential;
  /** How long an executor may take to return after its signal fired before it is abandoned. */
  abandonAfterMs: number;
  /**
   * Runs once the attempts are over and before the result is reported (a step's artifacts, cache
   * and snapshot); may turn the outcome into a failure (its artifact could not be stored). Not
   * called for a cancelled step or a platform fault.
   */
  afterAttempts?: (outcome: StepOutcome) => Promise<StepOutcome>;
}

type AttemptEnd = { kind: 'result'; result: StepResult } | { kind: 'threw'; error: Error } | { kind: 'abandoned' };

export async function runStep(input: RunStepInput): Promise<StepOutcome> {
  const { step, spec, reporter, output, runSignal } = input;
  const maxAttempts = 1 + (step.retries ?? 0);
  const secrets = input.secrets;
  const mask = (text: string) => maskText(text, secrets);
  let outcome: StepOutcome = { status: 'cancelled', exitCode: null, attempts: 0, message: 'cancelled before it started' };
  let commit: string | undefined;

  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (runSignal.aborted) {
      // Cancelled between attempts: the step did not get to finish its retries.
      if (attempt > 1) outcome = { status: 'cancelled', exitCode: null, attempts: attempt - 1, message: 'cancelled' };
      break;
    }
    if (attempt > 1) output.note(`──── attempt ${attempt} of ${maxAttempts} ────`);
    try {
      await reporter.stepStarted({ runId: spec.runId, stepId: step.stepId, attempt, at: new Date() });
    } catch (thrown) {
      outcome = fault(attempt, `could not record the step start: ${coerceError(thrown).message}`);
      break;
    }
    if (!input.executor) {
      outcome = fault(attempt, `no executor for step type "${step.type}"`);
      output.note(`error: ${outcome.fault!}`);
      break;
    }

    const attemptController = new AbortController();
    const forward = () => attemptController.abort(runSignal.reason);
    runSignal.addEventListener('abort', forward, { once: true });
    let timedOut = false;
    const deadline =
      step.timeout_seconds === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            attemptController.abort({ kind: 'timeout' } satisfies AbortReason);
          }, step.timeout_seconds * 1000);

    const ctx: StepContext = {
      runId: spec.runId,
      stepId: step.stepId,
      workspace: input.workspace,
      env: { ...input.env },
      output: output.output,
      signal: attemptController.signal,
      processStarted: (pid: number) => reporter.processStarted?.({ runId: spec.runId, stepId: step.stepId, pid }),
      addSecret: (value: string) => {
        if (!secrets.includes(value)) secrets.push(value);
        output.addSecret(value);
      },
      reportEvents: async (events) => {
        if (!reporter.ansibleEvents) return;
        const masked = events.map((e) => (e.kind === 'host' && e.message !== null ? { ...e, message: mask(e.message) } : e));
        await reporter.ansibleEvents({ runId: spec.runId, stepId: step.stepId, events: masked });
      },
      ...(input.fileOwner && { fileOwner: input.fileOwner }),
      ...(input.credential && { credential: input.credential }),
      spec,
    };
    const end = await executeGuarded(input.executor, step.config, ctx, attemptController.signal, input.abandonAfterMs);
    if (deadline) clearTimeout(deadline);
    runSignal.removeEventListener('abort', forward);

    if (end.kind === 'threw') {
      outcome = fault(attempt, `executor failed: ${mask(end.error.message)}`);
      output.note(`error: ${outcome.fault!}`);
      break;
    }
    if (timedOut) {
      outcome = { status: 'timeout', exitCode: null, attempts: attempt, message: `timed out after ${step.timeout_seconds}s` };
      output.note(`step timed out after ${step.timeout_seconds}s; its processes were stopped`);
      break;
    }
    if (runSignal.aborted) {
      outcome = { status: 'cancelled', exitCode: null, attempts: attempt, message: 'cancelled' };
      output.note('step cancelled; its processes were stopped');
      break;
    }
    if (end.kind === 'abandoned') {
      outcome = fault(attempt, 'executor did not stop after its signal fired');
      break;
    }
    const { result } = end;
    commit = result.commit ?? commit;
    const message = result.message === undefined ? undefined : mask(result.message);
    outcome = { status: result.status, exitCode: result.exitCode, attempts: attempt, ...(message !== undefined && { message }) };
    if (result.status === 'success') break;
    if (attempt < maxAttempts) output.note(`attempt ${attempt} failed (${message ?? `exit code ${String(result.exitCode)}`}); retrying`);
    else output.note(`step failed: ${message ?? `exit code ${String(result.exitCode)}`}`);
  }

  if (input.afterAttempts && outcome.fault === undefined && outcome.status !== 'cancelled' && !runSignal.aborted) {
    try {
      outcome = await input.afterAttempts(outcome);
    } catch (thrown) {
      outcome = fault(outcome.attempts, `the step's outputs could not be kept: ${mask(coerceError(thrown).message)}`);
    }
  }

  try {
    await reporter.stepFinished({
      runId: spec.runId,
      stepId: step.stepId,
      status: outcome.status,
      exitCode: outcome.exitCode,
      attempts: outcome.attempts,
      at: new Date(),
      ...(outcome.message !== undefined && { message: outcome.message }),
      ...(commit !== undefined && { commit }),
    });
  } catch (thrown) {
    outcome = { ...outcome, fault: outcome.fault ?? `could not record the step result: ${coerceError(thrown).message}` };
  }
  return outcome;

  function fault(attempts: number, message: string): StepOutcome {
    return { status: 'failed', exitCode: null, attempts, message, fault: message };
  }
}

/** Runs the executor; if it ignores its signal for too long, the step is abandoned, not hung. */
async function executeGuarded(
  executor: StepExecutor,
  config: Record<string, unknown>,
  ctx: StepContext,
  signal: AbortSignal,
  abandonAfterMs: number,
): Promise<AttemptEnd> {
  let abandonTimer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const abandoned = new Promise<AttemptEnd>((resolve) => {
    onAbort = () => {
      abandonTimer = setTimeout(() => resolve({ kind: 'abandoned' }), abandonAfterMs);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const run = (async (): Promise<AttemptEnd> => {
      try {
        return { kind: 'result', result: await executor.execute(config, ctx) };
      } catch (thrown) {
        return { kind: 'threw', error: coerceError(thrown) };
      }
    })();
    return await Promise.race([run, abandoned]);
  } finally {
    if (abandonTimer) clearTimeout(abandonTimer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
