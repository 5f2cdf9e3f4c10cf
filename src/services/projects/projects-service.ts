/**
 * Project use cases: list, read, create, change, delete, and members. Every decision is the
 * policy's (domain/permissions.ts) through ProjectAccess; this file adds the rules that need the
 * database: a project keeps at least one owner, the `default` project cannot be deleted, and a
 * project that still holds pipelines or credentials is not deleted (409).
 */
import { conflict, notFound, permissionDenied, validationError } from '../../domain/errors.js';
import { decideGlobal, isAdmin, memberChangeDecision, type Actor, type ProjectRole } from '../../domain/permissions.js';
import { DEFAULT_PROJECT, type Project, type ProjectMember, type ProjectsRepository } from '../../store/projects-repository.js';
import type { UsersRepository } from '../../store/users-repository.js';
import type { ProjectAccess } from './project-access.js';
import { auditDiff, type AuditTarget } from '../../domain/audit.js';
import { entry, type AuditLog, type RecordEvent } from '../audit/audit-log.js';

export type ProjectView = Project & { my_role: ProjectRole | null };

export interface ProjectInput {
  name: string;
  description?: string;
}

export class ProjectsService {
  constructor(
    private readonly projects: ProjectsRepository,
    private readonly users: Pick<UsersRepository, 'findById' | 'findByUsername'>,
    private readonly access: ProjectAccess,
    /** Every change of a project or its members is written with its audit event, in one transaction. */
    private readonly audit?: AuditLog,
  ) {}

  /** A change and its audit event in one transaction (without an audit log: the change alone). */
  private change<T>(work: (projects: ProjectsRepository, record: RecordEvent) => Promise<T>): Promise<T> {
    if (!this.audit) return work(this.projects, async () => {});
    return this.audit.change((tx, record) => work(this.projects.in(tx), record));
  }

  /** The projects the actor may read (all for an admin), with the actor's role in each. */
  async list(actor: Actor, page: { limit: number; offset: number }, search?: string): Promise<{ total: number; items: ProjectView[] }> {
    const memberships = await this.projects.membershipsOf(actor.id);
    const { total, items } = await this.projects.list(isAdmin(actor) ? undefined : [...memberships.keys()], page, search);
    return { total, items: items.map((p) => ({ ...p, my_role: memberships.get(p.id) ?? null })) };
  }

  async get(actor: Actor, id: number): Promise<ProjectView> {
    const my_role = await this.access.require(actor, id, 'read', { what: 'Project' });
    return { ...(await this.find(id)), my_role: isAdmin(actor) ? await this.projects.roleOf(id, actor.id) : my_role };
  }

  async create(actor: Actor, input: ProjectInput): Promise<ProjectView> {
    if (decideGlobal(actor, 'create_project') !== 'allow') throw permissionDenied('Viewers cannot create projects');
    const created = await this.change(async (projects, record) => {
      const project = await projects.create({ name: input.name.trim(), description: input.description ?? '' }, actor.id);
      if (project) await record(entry(actor, 'project.create', projectTarget(project), auditDiff(null, projectView(project)), project.id));
      return project;
    });
    if (!created) throw duplicateName(input.name);
    return { ...created, my_role: 'owner' };
  }

  async update(actor: Actor, id: number, input: ProjectInput): Promise<ProjectView> {
    const my_role = await this.access.require(actor, id, 'administer', { what: 'Project' });
    const current = await this.find(id);
    if (current.name.toLowerCase() === DEFAULT_PROJECT && input.name.trim().toLowerCase() !== DEFAULT_PROJECT)
      throw validationError({ name: ['The default project keeps its name: pipelines created without a project go there.'] });
    const saved = await this.change(async (projects, record) => {
      const after = await projects.update(id, { name: input.name.trim(), description: input.description ?? '' });
      if (after && after !== 'conflict')
        await record(entry(actor, 'project.update', projectTarget(after), auditDiff(projectView(current), projectView(after)), id));
      return after;
    });
    if (saved === 'conflict') throw duplicateName(input.name);
    if (!saved) throw notFound('Project');
    return { ...saved, my_role };
  }

  async delete(actor: Actor, id: number): Promise<void> {
    await this.access.require(actor, id, 'administer', { what: 'Project' });
    const current = await this.find(id);
    if (current.name.toLowerCase() === DEFAULT_PROJECT) throw conflict('The default project cannot be deleted');
    const contents = await this.projects.contents(id);
    if (contents.pipelines > 0 || contents.credentials > 0 || contents.unfinishedRuns > 0)
      throw conflict(
        `Project "${current.name}" still holds ${contents.pipelines} pipeline(s), ${contents.credentials} credential(s) and ${contents.unfinishedRuns} unfinished run(s); delete or move them first`,
      );
    const deleted = await this.change(async (projects, record) => {
      if (!(await projects.delete(id))) return false;
      await record(entry(actor, 'project.delete', projectTarget(current), auditDiff(projectView(current), null), id));
      return true;
    });
    if (!deleted) throw notFound('Project');
  }

  async members(actor: Actor, id: number): Promise<ProjectMember[]> {
    await this.access.require(actor, id, 'read', { what: 'Project' });
    return this.projects.members(id);
  }

  /** Adds a member, or changes the role of one who already is. */
  async addMember(actor: Actor, id: number, input: { user_id?: number; username?: string; role: ProjectRole }): Promise<ProjectMember> {
    await this.access.require(actor, id, 'read', { what: 'Project' });
    const user =
      input.user_id !== undefined
        ? await this.users.findById(input.user_id)
        : input.username !== undefined
          ? await this.users.findByUsername(input.username)
          : null;
    if (input.user_id === undefined && input.username === undefined) throw validationError({ user_id: ['Give user_id or username.'] });
    if (!user) throw validationError({ [input.user_id !== undefined ? 'user_id' : 'username']: ['There is no such user.'] });
    return this.setRole(actor, id, user.id, input.role);
  }

  async changeMember(actor: Actor, id: number, userId: number, role: ProjectRole): Promise<ProjectMember> {
    await this.access.require(actor, id, 'read', { what: 'Project' });
    if ((await this.projects.roleOf(id, userId)) === null) throw notFound('Member');
    return this.setRole(actor, id, userId, role);
  }

  async removeMember(actor: Actor, id: number, userId: number): Promise<void> {
    const membership = await this.access.require(actor, id, 'read', { what: 'Project' });
    const from = await this.projects.roleOf(id, userId);
    if (from === null) throw notFound('Member');
    this.assertChange(memberChangeDecision({ actor, membership, targetUserId: userId, from, to: null }));
    if (from === 'owner' && (await this.projects.countOwners(id)) <= 1) throw conflict('A project keeps at least one owner');
    const username = (await this.projects.members(id)).find((m) => m.user.id === userId)?.user.username ?? null;
    await this.change(async (projects, record) => {
      await projects.removeMember(id, userId);
      await record(entry(actor, 'membership.remove', memberTarget(id, userId, username), { role: { before: from } }, id));
    });
  }

  private async setRole(actor: Actor, id: number, userId: number, role: ProjectRole): Promise<ProjectMember> {
    const membership = await this.access.membership(actor, id);
    const from = await this.projects.roleOf(id, userId);
    this.assertChange(memberChangeDecision({ actor, membership, targetUserId: userId, from, to: role }));
    if (from === 'owner' && role !== 'owner' && (await this.projects.countOwners(id)) <= 1) throw conflict('A project keeps at least one owner');
    const member = await this.change(async (projects, record) => {
      await projects.setMember(id, userId, role);
      const after = (await projects.members(id)).find((m) => m.user.id === userId);
      if (after && from !== role)
        await record(
          entry(
            actor,
            from === null ? 'membership.add' : 'membership.change',
            memberTarget(id, userId, after.user.username),
            auditDiff({ role: from }, { role }),
            id,
          ),
        );
      return after;
    });
    if (!member) throw notFound('Member');
    return member;
  }

  private assertChange(decision: 'allow' | 'deny' | 'hide'): void {
    if (decision === 'hide') throw notFound('Project');
    if (decision === 'deny') throw permissionDenied('Your role in this project does not allow this change of members');
  }

  private async find(id: number): Promise<Project> {
    const project = await this.projects.findById(id);
    if (!project) throw notFound('Project');
    return project;
  }
}

const projectTarget = (p: Pick<Project, 'id' | 'name'>): AuditTarget => ({ type: 'project', id: p.id, name: p.name });
const projectView = (p: Pick<Project, 'name' | 'description'>) => ({ name: p.name, description: p.description });
/** A membership is named `<project id>/<user id>`, so its history can be filtered like any target. */
const memberTarget = (projectId: number, userId: number, username: string | null): AuditTarget => ({
  type: 'membership',
  id: `${projectId}/${userId}`,
  name: username,
});

const duplicateName = (name: string) => conflict(`A project named "${name}" already exists`, { name: ['A project with this name already exists.'] });
