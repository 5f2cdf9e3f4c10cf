/** The API form of a run: progress, current step, durations, secrets masked. */
import { isFinalStepStatus } from '../../domain/status.js';
import type { Run, RunSummary, StepRun } from '../../store/runs-repository.js';
import { maskedVariables } from '../pipelines-service.js';
import type { CommitStatus } from '../../store/commit-statuses-repository.js';
import type { PlanConditions } from '../../domain/pipeline.js';

const duration = (start: string | null, end: string | null): number | null =>
  start && end ? Math.max(0, Date.parse(end) - Date.parse(start)) : start ? Math.max(0, Date.now() - Date.parse(start)) : null;

/** Percentage of steps that reached a final status; a successful run is always 100. */
export function progressOf(status: Run['status'], steps: Pick<StepRun, 'status'>[]): number {
  if (status === 'success') return 100;
  if (steps.length === 0) return status === 'waiting' || status === 'queued' || status === 'running' ? 0 : 100;
  const done = steps.filter((s) => isFinalStepStatus(s.status)).length;
  return Math.floor((done / steps.length) * 100);
}

export function currentStepOf(steps: StepRun[]) {
  const step = steps.find((s) => s.status === 'running');
  return step ? { id: step.id, name: step.name, status: step.status, started_at: step.started_at } : null;
}

/** What a run and a run in a list share: identity, trigger, timing. */
function runHeader(run: RunSummary | Run) {
  return {
    id: run.id,
    number: run.number,
    pipeline: run.pipeline,
    project_id: run.project_id,
    status: run.status,
    trigger: run.trigger,
    branch: run.branch,
    commit: run.commit,
    created_at: run.created_at,
    started_at: run.started_at,
    finished_at: run.finished_at,
    duration_ms: run.finished_at ? duration(run.started_at ?? run.created_at, run.finished_at) : duration(run.started_at, null),
    error_reason: run.error_reason,
    secrets_withheld: run.secrets_withheld,
    pinned_at: run.pinned_at,
    environment: run.environment,
    waiting_since: run.waiting_since,
    approved_at: run.approved_at,
  };
}

export function stepBody(s: StepRun) {
  return {
    id: s.id,
    name: s.name,
    type: s.type,
    status: s.status,
    started_at: s.started_at,
    finished_at: s.finished_at,
    exit_code: s.exit_code,
    attempts: s.attempts,
    parallel_group: s.parallel_group,
    duration_ms: duration(s.started_at, s.finished_at),
    message: s.message,
  };
}

/** The API form of one commit status of a run (no API URL, no token: what was sent and how it went). */
export function commitStatusBody(s: CommitStatus) {
  return {
    forge: s.provider,
    repository: s.repository,
    sha: s.sha,
    context: s.context,
    state: s.state,
    description: s.description,
    target_url: s.target_url,
    outcome: s.outcome,
    attempts: s.attempts,
    last_error: s.last_error,
    last_status_code: s.last_status_code,
    created_at: s.created_at,
    delivered_at: s.delivered_at,
    next_attempt_at: s.outcome === 'pending' ? s.next_attempt_at : null,
  };
}

/** `commitStatuses`: what the run reports on its forge commit (empty for other runs, or before any was written). */
export function runBody(run: Run, commitStatuses: readonly CommitStatus[] = []) {
  return {
    ...runHeader(run),
    commit_statuses: commitStatuses.map(commitStatusBody),
    variables: maskedVariables(run.variables),
    config_errors: run.config_errors ?? null,
    progress: progressOf(run.status, run.steps),
    current_step: currentStepOf(run.steps),
    steps: run.steps.map((s) => ({ ...stepBody(s), needs: needsOf(run, s), when: whenOf(run, s), reused_from: s.reused_from })),
    left_out_steps: (run.definition.left_out ?? []).map((s) => ({ name: s.name, reason: s.reason, needs: s.needs, when: s.when })),
    retry_of: run.trigger.retry ? { run_id: run.trigger.retry.run_id, number: run.trigger.retry.number, from: run.trigger.retry.from } : null,
  };
}

/** A step's `when` as the run decided it: the file's plan-time conditions and its run-time `status` (null: none). */
function whenOf(run: Run, step: StepRun): (PlanConditions & { status?: string }) | null {
  const defined = definedStep(run, step);
  const when = { ...(run.definition.conditions?.[step.name] ?? {}), ...(defined?.when?.status ? { status: defined.when.status } : {}) };
  return Object.keys(when).length > 0 ? when : null;
}

/** What a step waited on, from the run's own snapshot (null: the steps ran as stages, by `parallel_group`). */
function needsOf(run: Run, step: StepRun): string[] | null {
  const same = definedStep(run, step);
  return same?.needs ? [...same.needs] : null;
}

function definedStep(run: Run, step: StepRun) {
  const defined = run.definition.steps[step.position];
  return defined?.name === step.name ? defined : run.definition.steps.find((d) => d.name === step.name);
}

export function runSummaryBody(run: RunSummary) {
  return {
    ...runHeader(run),
    progress: run.status === 'success' ? 100 : run.steps_total === 0 ? 0 : Math.floor((run.steps_done / run.steps_total) * 100),
  };
}
