/**
 * The permission policy (domain/permissions.ts) with the actor's membership looked up: one
 * primary-key query per check, none for a global admin. Services call it; it turns a decision
 * into the answer: `hide` is the resource's own 404, `deny` a 403.
 */
import { notFound, permissionDenied } from '../../domain/errors.js';
import { decide, decideGlobal, isAdmin, type Actor, type Decision, type ProjectAction, type ProjectRole } from '../../domain/permissions.js';
import type { ProjectsRepository } from '../../store/projects-repository.js';

export interface Guard {
  /** What the 404 names ('Pipeline', 'Run', ...). */
  what: string;
  /** Who created the resource, for the `own` rules of edit and manage_credentials. */
  createdBy?: number | null;
  /** The 403's message. */
  denied?: string;
}

export class ProjectAccess {
  constructor(private readonly projects: Pick<ProjectsRepository, 'roleOf' | 'membershipsOf'>) {}

  /** The actor's role in the project (null for a non-member; not looked up for an admin). */
  membership(actor: Actor, projectId: number): Promise<ProjectRole | null> {
    return isAdmin(actor) ? Promise.resolve(null) : this.projects.roleOf(projectId, actor.id);
  }

  async decision(actor: Actor, projectId: number, action: ProjectAction, createdBy?: number | null): Promise<Decision> {
    return decide({ actor, membership: await this.membership(actor, projectId), action, ...(createdBy !== undefined ? { createdBy } : {}) });
  }

  /** Returns the actor's membership when allowed; throws 404 (hidden) or 403 (denied). */
  async require(actor: Actor, projectId: number, action: ProjectAction, guard: Guard): Promise<ProjectRole | null> {
    const membership = await this.membership(actor, projectId);
    const decision = decide({ actor, membership, action, ...(guard.createdBy !== undefined ? { createdBy: guard.createdBy } : {}) });
    if (decision === 'hide') throw notFound(guard.what);
    if (decision === 'deny') throw permissionDenied(guard.denied ?? deniedMessage(action));
    return membership;
  }

  /** The list filter of what the actor may read: everything for an admin, else their projects. */
  readFilter(actor: Actor): { memberId?: number } {
    return isAdmin(actor) ? {} : { memberId: actor.id };
  }

  /**
   * How much of the audit log the actor reads: all of it (`'all'`: admins with their full scope),
   * or the events of the projects where the policy allows `read_audit` (maintainers and owners).
   */
  async auditScope(actor: Actor): Promise<'all' | number[]> {
    if (decideGlobal(actor, 'read_audit_log') === 'allow') return 'all';
    const memberships = await this.projects.membershipsOf(actor.id);
    return [...memberships].filter(([, role]) => decide({ actor, membership: role, action: 'read_audit' }) === 'allow').map(([id]) => id);
  }

  /** A `project` filter on a list: 404 unless the actor may read that project. */
  async requireReadable(actor: Actor, projectId: number): Promise<void> {
    await this.require(actor, projectId, 'read', { what: 'Project' });
  }
}

const MESSAGES: Record<ProjectAction, string> = {
  read: 'You cannot read this',
  run: 'Your role in this project does not allow running pipelines',
  run_override: 'Your role in this project does not allow running with other variables or a commit',
  edit: 'Your role in this project does not allow changing this pipeline',
  manage_credentials: 'Your role in this project does not allow changing this credential',
  approve: 'Your role in this project does not allow approving deployments',
  manage_environments: 'Your role in this project does not allow changing its environments',
  manage_notifications: 'Your role in this project does not allow changing its notification channels',
  manage_members: 'Your role in this project does not allow managing its members',
  administer: 'Only owners of this project may do this',
  read_audit: "Only this project's maintainers and owners may read its audit events",
};

const deniedMessage = (action: ProjectAction) => MESSAGES[action];
