/**
 * The `jenkins_job` step: triggers a job on the configured Jenkins, streams its console into the
 * step log, and maps the result: SUCCESS → success; UNSTABLE, FAILURE, NOT_BUILT, ABORTED → failed
 * (exit code null: a remote job has none; the message names the result). A Jenkins that cannot be
 * reached or refuses is a failed step with the reason, not a platform error: the job is part of
 * the user's pipeline. When the run is cancelled the Jenkins build is stopped (or its queue item
 * cancelled) before the step returns.
 */
import { coerceError } from '../../domain/errors.js';
import type { AbortReason, StepContext, StepExecutor, StepResult } from '../../engine/ports.js';
import { isObject } from '../payload-read.js';
import type { JenkinsClient } from './jenkins-client.js';
import type { FollowBuildResult } from './follow-build.js';

export interface JenkinsStepExecutorOptions {
  /** null when ANSFLOW_JENKINS_URL is not set: every jenkins_job step then fails with that reason. */
  client: JenkinsClient | null;
  pollMs?: number;
}

export function createJenkinsStepExecutor(options: JenkinsStepExecutorOptions): StepExecutor {
  return {
    type: 'jenkins_job',
    async execute(config: Record<string, unknown>, ctx: StepContext): Promise<StepResult> {
      const parsed = parseConfig(config);
      if (typeof parsed === 'string') return failed(parsed);
      if (!options.client) return failed('Jenkins is not configured: set ANSFLOW_JENKINS_URL, ANSFLOW_JENKINS_USER and ANSFLOW_JENKINS_TOKEN');
      const { job, params } = parsed;
      const names = Object.keys(params);
      ctx.output(`Triggering Jenkins job ${job}${names.length > 0 ? ` with parameters ${names.join(', ')}` : ''}\n`);
      let outcome: FollowBuildResult;
      try {
        outcome = await options.client.followBuild({
          job,
          params,
          signal: ctx.signal,
          ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
          onQueued: (q) => ctx.output(`Queued: ${q.queueUrl}${q.merged ? ' (merged into an identical queued build)' : ''}\n`),
          onStarted: (b) => ctx.output(`Started Jenkins build #${b.number}: ${b.url}\n`),
          onConsole: (text) => ctx.output(text),
        });
      } catch (thrown) {
        const message = coerceError(thrown).message;
        ctx.output(`\n${message}\n`);
        return failed(message);
      }
      return resultOf(job, outcome, ctx);
    },
  };
}

function resultOf(job: string, outcome: FollowBuildResult, ctx: StepContext): StepResult {
  const build = outcome.number === null ? `Jenkins job ${job}` : `Jenkins build ${job} #${outcome.number}`;
  if (outcome.aborted) {
    const why = abortCause(ctx.signal);
    const note = outcome.stopError ? ` (stopping it in Jenkins failed: ${outcome.stopError})` : '';
    ctx.output(`\n${build} aborted: ${why}${note}\n`);
    return failed(`${build} was aborted because ${why}${note}`);
  }
  if (outcome.number === null) return failed(`${build} was cancelled in the Jenkins queue before it started`);
  ctx.output(`\n${build} finished: ${outcome.result}\n`);
  if (outcome.result === 'SUCCESS') return { status: 'success', exitCode: null };
  return failed(`${build} finished with result ${outcome.result}`);
}

/** The engine aborts with a reason object: `{kind: 'cancel' | 'timeout' | 'shutdown'}`. */
function abortCause(signal: AbortSignal): string {
  const kind = (signal.reason as Partial<AbortReason> | undefined)?.kind;
  if (kind === 'timeout') return 'the step timed out';
  if (kind === 'shutdown') return 'the worker is shutting down';
  return 'the run was cancelled';
}

function parseConfig(config: Record<string, unknown>): { job: string; params: Record<string, string> } | string {
  const job = config.job_name;
  if (typeof job !== 'string' || job.length === 0) return 'jenkins_job needs a job_name';
  const raw = config.parameters ?? {};
  if (!isObject(raw)) return 'jenkins_job parameters must be an object of strings';
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (typeof value !== 'string') return `jenkins_job parameter ${name} must be a string`;
    params[name] = value;
  }
  return { job, params };
}

function failed(message: string): StepResult {
  return { status: 'failed', exitCode: null, message };
}
