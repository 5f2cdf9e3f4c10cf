/**
 * The environment dialog's state: every field of an environment as typed (lists as comma- or
 * line-separated text, numbers as text), loaded from one and turned into the request body with
 * the checks the API repeats. Errors are keyed as the API keys them (`wait_timer_seconds`).
 *
 * Pure TypeScript (no DOM, no React).
 */
import type { Concurrency, Environment, EnvironmentBody, TimeoutOutcome } from '../api/delivery';
import type { ProjectRole } from '../api/projects';

/** Roles that may be named as approvers (viewers never approve). */
export const APPROVER_ROLES: ProjectRole[] = ['owner', 'maintainer', 'developer'];

export interface EnvironmentForm {
  name: string;
  description: string;
  project: number | null;
  requiredApprovals: string;
  approverUsers: string;
  approverRoles: ProjectRole[];
  preventSelfApproval: boolean;
  branches: string;
  waitTimerSeconds: string;
  approvalTimeoutSeconds: string;
  timeoutOutcome: TimeoutOutcome;
  concurrency: Concurrency | '';
}

export function emptyEnvironmentForm(project: number | null = null): EnvironmentForm {
  return {
    name: '',
    description: '',
    project,
    requiredApprovals: '1',
    approverUsers: '',
    approverRoles: [],
    preventSelfApproval: false,
    branches: '',
    waitTimerSeconds: '0',
    approvalTimeoutSeconds: '',
    timeoutOutcome: 'reject',
    concurrency: '',
  };
}

export function formFromEnvironment(e: Environment): EnvironmentForm {
  return {
    name: e.name,
    description: e.description,
    project: e.project_id,
    requiredApprovals: String(e.required_approvals),
    approverUsers: e.approvers.users.join(', '),
    approverRoles: [...e.approvers.roles],
    preventSelfApproval: e.prevent_self_approval,
    branches: e.branches.join(', '),
    waitTimerSeconds: String(e.wait_timer_seconds),
    approvalTimeoutSeconds: e.approval_timeout_seconds === null ? '' : String(e.approval_timeout_seconds),
    timeoutOutcome: e.timeout_outcome,
    concurrency: e.concurrency ?? '',
  };
}

const list = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');

function whole(text: string, min: number, field: string, errors: Record<string, string[]>): number {
  const t = text.trim();
  if (!/^\d+$/.test(t) || Number(t) < min) {
    errors[field] = [min === 0 ? 'A whole number, 0 or more.' : `A whole number, ${min} or more.`];
    return min;
  }
  return Number(t);
}

export function environmentBody(form: EnvironmentForm): { body: EnvironmentBody; errors: Record<string, string[]> } {
  const errors: Record<string, string[]> = {};
  if (form.name.trim() === '') errors.name = ['Name is required.'];
  const timeout = form.approvalTimeoutSeconds.trim() === '' ? null : whole(form.approvalTimeoutSeconds, 1, 'approval_timeout_seconds', errors);
  const body: EnvironmentBody = {
    name: form.name.trim(),
    description: form.description,
    ...(form.project !== null ? { project: form.project } : {}),
    required_approvals: whole(form.requiredApprovals, 0, 'required_approvals', errors),
    approvers: { users: [...new Set(list(form.approverUsers))], roles: APPROVER_ROLES.filter((r) => form.approverRoles.includes(r)) },
    prevent_self_approval: form.preventSelfApproval,
    branches: [...new Set(list(form.branches))],
    wait_timer_seconds: whole(form.waitTimerSeconds, 0, 'wait_timer_seconds', errors),
    approval_timeout_seconds: timeout,
    timeout_outcome: form.timeoutOutcome,
    concurrency: form.concurrency === '' ? null : form.concurrency,
  };
  return { body, errors };
}

/** "2 approvals from alice, role maintainer" — the rule in words, for the list. */
export function approvalRule(e: Pick<Environment, 'required_approvals' | 'approvers' | 'prevent_self_approval'>): string {
  if (e.required_approvals === 0) return 'no approval needed';
  const who = [...e.approvers.users, ...e.approvers.roles.map((r) => `role ${r}`)];
  const from = who.length > 0 ? who.join(', ') : 'maintainers and owners';
  return `${e.required_approvals} approval${e.required_approvals === 1 ? '' : 's'} from ${from}${e.prevent_self_approval ? ' (not the run’s author)' : ''}`;
}
