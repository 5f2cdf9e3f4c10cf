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
  ) {}

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
    const created = await this.projects.create({ name: input.name.trim(), description: input.description ?? '' }, actor.id);
    if (!created) throw duplicateName(input.name);
    return { ...created, my_role: 'owner' };
  }

  async update(actor: Actor, id: number, input: ProjectInput): Promise<ProjectView> {
    const my_role = await this.access.require(actor, id, 'administer', { what: 'Project' });
    const current = await this.find(id);
    if (current.name.toLowerCase() === DEFAULT_PROJECT && input.name.trim().toLowerCase() !== DEFAULT_PROJECT)
      throw validationError({ name: ['The default project keeps its name: pipelines created without a project go there.'] });
    const saved = await this.projects.update(id, { name: input.name.trim(), description: input.description ?? '' });
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
    if (!(await this.projects.delete(id))) throw notFound('Project');
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
    await this.projects.removeMember(id, userId);
  }

  private async setRole(actor: Actor, id: number, userId: number, role: ProjectRole): Promise<ProjectMember> {
    const membership = await this.access.membership(actor, id);
    const from = await this.projects.roleOf(id, userId);
    this.assertChange(memberChangeDecision({ actor, membership, targetUserId: userId, from, to: role }));
    if (from === 'owner' && role !== 'owner' && (await this.projects.countOwners(id)) <= 1) throw conflict('A project keeps at least one owner');
    await this.projects.setMember(id, userId, role);
    const member = (await this.projects.members(id)).find((m) => m.user.id === userId);
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

const duplicateName = (name: string) => conflict(`A project named "${name}" already exists`, { name: ['A project with this name already exists.'] });
