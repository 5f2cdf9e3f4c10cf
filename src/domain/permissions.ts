/**
 * The permission policy: the one place that decides whether an actor may do an action on a
 * resource. Pure: the caller brings the actor (global role, and token scopes when the request
 * came with a token that has them) and the actor's role in the resource's project; nothing here
 * reads a database. docs/permissions.md is this file as a table; keep them equal.
 *
 * A decision is one of:
 *   allow  — go ahead;
 *   deny   — the actor may read the resource but not do this: 403;
 *   hide   — the actor may not even read it: 404, exactly as for a resource that does not exist,
 *            so project, pipeline and credential names and ids cannot be enumerated.
 *
 * What must stay true:
 *   - global `admin` may do everything, in every project, member or not;
 *   - outside admin, access comes only from membership; a non-member is answered `hide`;
 *   - the global role is a ceiling: a global `viewer` acts as a project `viewer` whatever
 *     role a project gave them (a read-only account stays read-only everywhere);
 *   - a token's scopes only take away: the action must be allowed to the user AND be within
 *     one of the token's scopes (read < run < write < admin: a scope includes those below it).
 */
import type { Actor, Role } from './roles.js';
import { scopesAllow, type TokenScope } from './token-scopes.js';

export type { Actor };

export const PROJECT_ROLES = ['owner', 'maintainer', 'developer', 'viewer'] as const;
export type ProjectRole = (typeof PROJECT_ROLES)[number];

/**
 * Actions inside a project (its pipelines, runs, logs, deliveries, credentials, members):
 *   read               see the project, its pipelines, runs, logs, deliveries, credentials' metadata, members
 *   run                start a pipeline as defined, cancel a run, redeliver a webhook delivery
 *   run_override       start a run with variables or a commit of the caller's choice
 *   edit               create pipelines; change and delete them (`own`: only those the actor created)
 *   manage_credentials create credentials; change and delete them (`own` as for edit)
 *   approve            ask to approve or reject a run waiting at an environment; whose decision
 *                      counts is the environment's own rule on top (domain/approvals.ts: its named
 *                      approvers, else maintainers and owners)
 *   manage_environments create, change and delete environments (their approval rules)
 *   manage_notifications create, change, delete and test notification channels (where the
 *                      project's run outcomes are sent)
 *   manage_members     add, change and remove members (roles limited by memberChangeDecision)
 *   administer         rename or delete the project
 *   read_audit         read the project's audit events
 * Actions outside any project:
 *   create_project     create a project (the creator becomes its owner)
 *   trigger_jenkins    start a Jenkins job through the gateway (Jenkins jobs belong to no project)
 *   manage_users       users and their global roles
 *   administer_system  system-wide settings and views
 *   lint_pipeline_file check a pipeline file's text (no resource is read): anyone signed in
 *   read_audit_log     read every audit event (logins, users, every project)
 */
export const PROJECT_ACTIONS = [
  'read',
  'run',
  'run_override',
  'edit',
  'manage_credentials',
  'approve',
  'manage_environments',
  'manage_notifications',
  'manage_members',
  'administer',
  'read_audit',
] as const;
export type ProjectAction = (typeof PROJECT_ACTIONS)[number];
export const GLOBAL_ACTIONS = ['create_project', 'trigger_jenkins', 'manage_users', 'administer_system', 'lint_pipeline_file', 'read_audit_log'] as const;
export type GlobalAction = (typeof GLOBAL_ACTIONS)[number];

export type Decision = 'allow' | 'deny' | 'hide';

const RANK: Record<ProjectRole, number> = { viewer: 0, developer: 1, maintainer: 2, owner: 3 };

interface ProjectRule {
  /** The least project role that may do the action on anything. */
  any: ProjectRole;
  /** The least role that may do it on what the actor created (edit, manage_credentials). */
  own?: ProjectRole;
  /** The least token scope it needs. */
  scope: TokenScope;
}

/** The table of docs/permissions.md. */
export const PROJECT_RULES: Record<ProjectAction, ProjectRule> = {
  read: { any: 'viewer', scope: 'read' },
  run: { any: 'developer', scope: 'run' },
  run_override: { any: 'developer', scope: 'write' },
  edit: { any: 'maintainer', own: 'developer', scope: 'write' },
  manage_credentials: { any: 'maintainer', own: 'developer', scope: 'write' },
  // The floor: a developer named as an environment's approver may decide; a viewer never (a
  // read-only account stays read-only). Which of those count is the environment's rule.
  approve: { any: 'developer', scope: 'run' },
  manage_environments: { any: 'maintainer', scope: 'write' },
  manage_notifications: { any: 'maintainer', scope: 'write' },
  manage_members: { any: 'maintainer', scope: 'admin' },
  administer: { any: 'owner', scope: 'admin' },
  read_audit: { any: 'maintainer', scope: 'read' },
};

/** Global actions: which global roles may, and the scope they need. */
export const GLOBAL_RULES: Record<GlobalAction, { roles: readonly Role[]; scope: TokenScope }> = {
  create_project: { roles: ['admin', 'developer'], scope: 'write' },
  trigger_jenkins: { roles: ['admin', 'developer'], scope: 'run' },
  manage_users: { roles: ['admin'], scope: 'admin' },
  administer_system: { roles: ['admin'], scope: 'admin' },
  lint_pipeline_file: { roles: ['admin', 'developer', 'viewer'], scope: 'read' },
  read_audit_log: { roles: ['admin'], scope: 'admin' },
};

export const isAdmin = (actor: Actor) => actor.role === 'admin';

/** Whether the actor's token (if scoped) reaches `needed` (domain/token-scopes.ts: scopes nest). */
export const withinScopes = (actor: Actor, needed: TokenScope): boolean => scopesAllow(actor.scopes, needed);

/** The role the actor acts with in a project: membership capped by the global role; null = none. */
export function effectiveRole(actor: Actor, membership: ProjectRole | null): ProjectRole | null {
  if (membership === null) return null;
  return actor.role === 'viewer' ? 'viewer' : membership;
}

export interface ProjectQuestion {
  actor: Actor;
  /** The actor's role in the resource's project; null when not a member (ignored for admins). */
  membership: ProjectRole | null;
  action: ProjectAction;
  /** Who created the resource (pipeline, credential), for the `own` rules. */
  createdBy?: number | null;
}

export function decide({ actor, membership, action, createdBy }: ProjectQuestion): Decision {
  const rule = PROJECT_RULES[action];
  if (isAdmin(actor)) return withinScopes(actor, rule.scope) ? 'allow' : 'deny';
  const role = effectiveRole(actor, membership);
  if (role === null) return 'hide';
  if (!withinScopes(actor, rule.scope)) return 'deny';
  if (RANK[role] >= RANK[rule.any]) return 'allow';
  const mine = createdBy !== undefined && createdBy !== null && createdBy === actor.id;
  if (rule.own && (mine || createdBy === undefined) && RANK[role] >= RANK[rule.own]) return 'allow';
  return 'deny';
}

/** A global action: allowed or 403 (these are not secret: everyone knows users and settings exist). */
export function decideGlobal(actor: Actor, action: GlobalAction): Exclude<Decision, 'hide'> {
  const rule = GLOBAL_RULES[action];
  return rule.roles.includes(actor.role) && withinScopes(actor, rule.scope) ? 'allow' : 'deny';
}

export interface MemberChange {
  actor: Actor;
  /** The actor's own membership in the project. */
  membership: ProjectRole | null;
  targetUserId: number;
  /** The target's role now (null: not a member yet). */
  from: ProjectRole | null;
  /** The role asked for (null: remove). */
  to: ProjectRole | null;
}

/**
 * Adding, changing or removing a member. Owners and admins do anything; a maintainer only
 * below owner (may not grant owner, nor change or remove an owner); nobody raises their own role
 * (an admin needs no role); any member may leave. Keeping a last owner is the service's job.
 */
export function memberChangeDecision({ actor, membership, targetUserId, from, to }: MemberChange): Decision {
  const base = decide({ actor, membership, action: 'manage_members' });
  const self = targetUserId === actor.id;
  if (isAdmin(actor)) return base;
  const role = effectiveRole(actor, membership);
  if (role === null) return 'hide';
  if (self && to === null) return withinScopes(actor, 'write') ? 'allow' : 'deny';
  if (self && to !== null && (from === null || RANK[to] > RANK[from])) return 'deny';
  if (base !== 'allow') return base;
  if (role === 'owner') return 'allow';
  const highest = Math.max(from === null ? -1 : RANK[from], to === null ? -1 : RANK[to]);
  return highest <= RANK[role] && highest < RANK.owner ? 'allow' : 'deny';
}

/** The project role a user gets in the `default` project when created (and by the upgrade). */
export const DEFAULT_PROJECT_ROLE: Record<Role, ProjectRole> = { admin: 'owner', developer: 'developer', viewer: 'viewer' };
