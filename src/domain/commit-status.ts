/**
 * What a run's state means on the forge's commit: which forge state, what description, and its
 * rank. Statuses of one run are sent in rank order and a higher rank supersedes a lower one that
 * was not sent yet, so a forge never shows `pending` after `success`.
 *
 *   run status      rank   GitHub      GitLab     description
 *   queued          0      pending     pending    "queued"
 *   running         1      pending     running    "running"
 *   success         2      success     success    "passed"
 *   failed          2      failure     failed     "failed"
 *   timeout         2      failure     failed     "timed out"
 *   cancelled       2      error       canceled   "cancelled" (or the cancel reason)
 *   error           2      error       failed     "platform error" (or its reason)
 *   (skipped)       2      success     success    "skipped: no matching changes"
 *
 * A run skipped by its pipeline file's `when` reports success, so branch protection that requires
 * the context is not left pending forever.
 */
import { assertNever, type RunStatus } from './status.js';

export const FORGES = ['github', 'gitlab'] as const;
export type Forge = (typeof FORGES)[number];

export const isForge = (value: unknown): value is Forge => value === 'github' || value === 'gitlab';

/** The outcome of one stored status: being sent, sent, never sent because a later one came, given up. */
export const COMMIT_STATUS_OUTCOMES = ['pending', 'delivered', 'superseded', 'failed'] as const;
export type CommitStatusOutcome = (typeof COMMIT_STATUS_OUTCOMES)[number];

/** The description of a run skipped by its pipeline file's `when`. */
export const SKIPPED_DESCRIPTION = 'skipped: no matching changes';

/** GitHub and GitLab both cut descriptions (GitHub at 140 characters). */
const MAX_DESCRIPTION = 140;

export interface ForgeState {
  rank: 0 | 1 | 2;
  state: string;
  description: string;
}

/**
 * `reason`: the run's error or cancel reason (shown for cancelled and error runs);
 * `skipped`: the run was skipped by its file's `when` (reported as success).
 */
export function forgeStateOf(forge: Forge, status: RunStatus, options: { reason?: string | null; skipped?: boolean } = {}): ForgeState {
  const github = forge === 'github';
  const described = (fallback: string) => clipDescription(options.reason ? options.reason : fallback);
  if (options.skipped) return { rank: 2, state: 'success', description: SKIPPED_DESCRIPTION };
  switch (status) {
    case 'waiting':
      return { rank: 0, state: 'pending', description: 'waiting for approval' };
    case 'queued':
      return { rank: 0, state: 'pending', description: 'queued' };
    case 'running':
      return { rank: 1, state: github ? 'pending' : 'running', description: 'running' };
    case 'success':
      return { rank: 2, state: 'success', description: 'passed' };
    case 'failed':
      return { rank: 2, state: github ? 'failure' : 'failed', description: 'failed' };
    case 'timeout':
      return { rank: 2, state: github ? 'failure' : 'failed', description: 'timed out' };
    case 'cancelled':
      return { rank: 2, state: github ? 'error' : 'canceled', description: described('cancelled') };
    case 'error':
      return { rank: 2, state: github ? 'error' : 'failed', description: described('platform error') };
    default:
      return assertNever(status);
  }
}

/** The rank a run status reaches (0 queued, 1 running, 2 final). */
export function rankOf(status: RunStatus): 0 | 1 | 2 {
  return forgeStateOf('github', status).rank;
}

export function clipDescription(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= MAX_DESCRIPTION ? line : `${line.slice(0, MAX_DESCRIPTION - 1)}…`;
}

/** The status context of a pipeline: one per pipeline, as branch protection names it. */
export const statusContext = (pipelineName: string) => `ansflow/${pipelineName}`;
