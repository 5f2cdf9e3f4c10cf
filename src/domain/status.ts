/**
 * Run and step status machines: the only place that knows which transitions are legal.
 *
 *   run:   waiting ──► queued ──► running ──► success | failed | cancelled | timeout | error
 *            │  ▲         │                       ▲
 *            │  └─────────┼── (a pipeline file's plan names an environment: running → waiting)
 *            │            └──── cancelled / error ┘   (cancelled before it started, or platform fault)
 *            └──► cancelled                          (rejected, approval timed out, superseded, cancelled)
 *
 *   `waiting`: the run targets an environment with required approvals (domain/approvals.ts) and
 *   holds no queue job and no worker slot until its gate opens (then `queued`).
 *
 *   step:  pending ──► running ──► success | failed | cancelled | timeout
 *            │
 *            └──► skipped | cancelled   (a step it needs did not succeed, or the run was cancelled)
 *
 * `error` means the platform failed (worker died, workspace could not be made), never the user's step.
 */
export const RUN_STATUSES = ['waiting', 'queued', 'running', 'success', 'failed', 'cancelled', 'timeout', 'error'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const STEP_STATUSES = ['pending', 'running', 'success', 'failed', 'skipped', 'cancelled', 'timeout'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export type FinalRunStatus = Exclude<RunStatus, 'waiting' | 'queued' | 'running'>;
/** The statuses of a run that has not ended. */
export const UNFINISHED_RUN_STATUSES = ['waiting', 'queued', 'running'] as const satisfies readonly RunStatus[];
export type FinalStepStatus = Exclude<StepStatus, 'pending' | 'running'>;

export function isFinalRunStatus(status: RunStatus): status is FinalRunStatus {
  switch (status) {
    case 'waiting':
    case 'queued':
    case 'running':
      return false;
    case 'success':
    case 'failed':
    case 'cancelled':
    case 'timeout':
    case 'error':
      return true;
    default:
      return assertNever(status);
  }
}

export function isFinalStepStatus(status: StepStatus): status is FinalStepStatus {
  switch (status) {
    case 'pending':
    case 'running':
      return false;
    case 'success':
    case 'failed':
    case 'skipped':
    case 'cancelled':
    case 'timeout':
      return true;
    default:
      return assertNever(status);
  }
}

const RUN_TRANSITIONS: Record<RunStatus, readonly RunStatus[]> = {
  waiting: ['queued', 'cancelled', 'error'],
  queued: ['running', 'cancelled', 'error'],
  running: ['success', 'failed', 'cancelled', 'timeout', 'error', 'queued', 'waiting'],
  success: [],
  failed: [],
  cancelled: [],
  timeout: [],
  error: [],
};

/**
 * `running → queued` is legal only for crash recovery of a run that never started a step;
 * `running → waiting` only for a run whose pipeline file, once read, names an environment.
 */
export function canTransitionRun(from: RunStatus, to: RunStatus): boolean {
  return RUN_TRANSITIONS[from].includes(to);
}

/** A step that did not succeed fails its run unless the step was allowed to fail. */
export function stepBlocksRun(status: FinalStepStatus): boolean {
  switch (status) {
    case 'success':
    case 'skipped':
      return false;
    case 'failed':
    case 'cancelled':
    case 'timeout':
      return true;
    default:
      return assertNever(status);
  }
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${String(value)}`);
}
