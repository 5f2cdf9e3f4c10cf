/**
 * Environments: where a pipeline deploys (`production`), and the rule a deployment there must
 * pass before it starts: approvals (domain/approvals.ts), the branches allowed to deploy, a wait
 * timer after approval, a timeout with its outcome, and how deployments of one environment queue.
 */
import type { ApprovalRule } from './approvals.js';
import { branchMatches } from './branch-match.js';
import type { ProjectRole } from './permissions.js';

export const TIMEOUT_OUTCOMES = ['reject', 'approve'] as const;
export type TimeoutOutcome = (typeof TIMEOUT_OUTCOMES)[number];

/**
 * `queue`: one deployment at a time, the others wait in order; `latest`: a newer waiting
 * deployment replaces the older waiting ones (they end `cancelled`, "superseded by run #N").
 */
export const ENVIRONMENT_CONCURRENCY = ['queue', 'latest'] as const;
export type EnvironmentConcurrency = (typeof ENVIRONMENT_CONCURRENCY)[number];

export const MAX_REQUIRED_APPROVALS = 10;
export const MAX_WAIT_SECONDS = 30 * 24 * 3600;

export interface Environment extends ApprovalRule {
  id: number;
  project_id: number;
  name: string;
  description: string;
  approvers: { users: string[]; roles: ProjectRole[] };
  /** Globs (branch-match.ts) allowed to deploy here; empty: every branch. */
  branches: string[];
  wait_timer_seconds: number;
  approval_timeout_seconds: number | null;
  timeout_outcome: TimeoutOutcome;
  concurrency: EnvironmentConcurrency | null;
  created_by: { id: number; username: string } | null;
  created_at: string;
  updated_at: string;
}

/** Whether a run of this branch may deploy to the environment. */
export function branchAllowed(environment: Pick<Environment, 'branches'>, branch: string): boolean {
  return environment.branches.length === 0 || environment.branches.some((glob) => branchMatches(glob, branch));
}

/** Whether an environment needs anyone's approval (it may only have a wait timer or branch rules). */
export const needsApproval = (environment: Pick<Environment, 'required_approvals'>) => environment.required_approvals > 0;

/** The reason a run ends with when its gate timed out (outcome `reject`). */
export function timeoutReason(environment: Pick<Environment, 'name' | 'approval_timeout_seconds'>, approvedBy: readonly string[]): string {
  const by = approvedBy.length > 0 ? ` (approved so far by ${approvedBy.join(', ')})` : ' (nobody approved)';
  return `approval for ${environment.name} timed out after ${environment.approval_timeout_seconds}s${by}`;
}
