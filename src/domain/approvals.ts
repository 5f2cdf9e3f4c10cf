/**
 * Approval gates: who may decide on a run waiting at an environment, and what the decisions so far
 * add up to. Pure: the service looks up the voter's project role and records decisions; this says
 * whether a decision counts and whether the gate is open, closed or still waiting.
 *
 * This rule comes on top of the permission policy (domain/permissions.ts, action `approve`: a
 * developer or above, token scope `run`), which the service asks first: a project viewer or a
 * global viewer never decides, even when named here.
 *
 * Rules, as GitHub environments and GitLab protected environments apply them: an approver is named
 * by user or by project role (a global admin always may); with `prevent_self_approval` the person
 * the run is for (who triggered it, or a fork pull request's author) may not approve it; each
 * person counts once; one rejection by an eligible approver closes the gate.
 */
import type { ProjectRole } from './permissions.js';

export interface ApprovalRule {
  required_approvals: number;
  approvers: { users: readonly string[]; roles: readonly ProjectRole[] };
  prevent_self_approval: boolean;
}

export interface Voter {
  id: number;
  username: string;
  /** The voter's role in the run's project (null: not a member); global admins are `admin: true`. */
  projectRole: ProjectRole | null;
  admin: boolean;
}

export interface RecordedDecision {
  user_id: number;
  username: string;
  decision: 'approve' | 'reject';
  at: string;
}

/** Why this voter's decision does not count, or null when it does. */
export function approvalIneligibility(
  rule: ApprovalRule,
  voter: Voter,
  runFor: { id: number | null; username: string | null },
  decided: readonly RecordedDecision[],
): string | null {
  if (rule.prevent_self_approval && (voter.id === runFor.id || (runFor.username !== null && voter.username === runFor.username)))
    return 'You started this run (or authored its pull request), and this environment does not allow approving your own deployment.';
  if (decided.some((d) => d.user_id === voter.id)) return 'You have already decided on this run.';
  const named = rule.approvers.users.includes(voter.username);
  const byRole = voter.projectRole !== null && rule.approvers.roles.includes(voter.projectRole);
  const noneNamed = rule.approvers.users.length === 0 && rule.approvers.roles.length === 0;
  // With no approvers named, the project's maintainers and owners decide.
  const defaultApprover = noneNamed && (voter.projectRole === 'maintainer' || voter.projectRole === 'owner');
  if (!named && !byRole && !defaultApprover && !voter.admin) return 'You are not an approver of this environment.';
  return null;
}

export type GateState = { state: 'waiting'; approvals: number; needed: number } | { state: 'approved'; by: string[] } | { state: 'rejected'; by: string };

/** What the counted decisions add up to (callers pass only decisions that counted). */
export function gateState(rule: ApprovalRule, decisions: readonly RecordedDecision[]): GateState {
  const rejection = decisions.find((d) => d.decision === 'reject');
  if (rejection) return { state: 'rejected', by: rejection.username };
  const approvers = [...new Set(decisions.filter((d) => d.decision === 'approve').map((d) => d.username))];
  const needed = Math.max(1, rule.required_approvals);
  if (approvers.length >= needed) return { state: 'approved', by: approvers };
  return { state: 'waiting', approvals: approvers.length, needed };
}

/** Who may approve, in words for the run page ("2 of: alice, role maintainer"). */
export function approversText(rule: ApprovalRule): string {
  const names = [...rule.approvers.users, ...rule.approvers.roles.map((r) => `role ${r}`)];
  const who = names.length > 0 ? names.join(', ') : 'project maintainers and owners';
  return `${Math.max(1, rule.required_approvals)} of: ${who}${rule.prevent_self_approval ? ' (not the run’s own author)' : ''}`;
}
