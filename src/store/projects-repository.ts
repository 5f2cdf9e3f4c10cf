/** Projects and their members (migration 009). */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { ProjectRole } from '../domain/permissions.js';
import { isUniqueViolation } from './pipelines-repository.js';
import { nowIso } from './time.js';

export const DEFAULT_PROJECT = 'default';

export interface Project {
  id: number;
  name: string;
  description: string;
  created_by: { id: number; username: string } | null;
  created_at: string;
  updated_at: string;
}

export interface ProjectMember {
  user: { id: number; username: string };
  role: ProjectRole;
  created_at: string;
}

/** What still lives in a project (its delete is refused while it holds pipelines or credentials). */
export interface ProjectContents {
  pipelines: number;
  credentials: number;
  unfinishedRuns: number;
}

export class ProjectsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  in(tx: Kysely<Database>): ProjectsRepository {
    return new ProjectsRepository(tx);
  }

  private transaction<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    return this.db.isTransaction ? work(this.db) : this.db.transaction().execute(work);
  }

  private base() {
    return this.db
      .selectFrom('projects')
      .leftJoin('users', 'users.id', 'projects.created_by')
      .select([
        'projects.id',
        'projects.name',
        'projects.description',
        'projects.created_by',
        'projects.created_at',
        'projects.updated_at',
        'users.username as creator_username',
      ]);
  }

  async findById(id: number): Promise<Project | null> {
    const row = await this.base().where('projects.id', '=', id).executeTakeFirst();
    return row ? toProject(row) : null;
  }

  /** Project ids by name (any case); names without a project are left out. */
  async idsByName(names: readonly string[]): Promise<Map<string, number>> {
    if (names.length === 0) return new Map();
    const keys = names.map((n) => n.toLowerCase());
    const rows = await this.db.selectFrom('projects').select(['id', 'name_key']).where('name_key', 'in', keys).execute();
    return new Map(rows.map((r) => [r.name_key, r.id]));
  }

  async defaultProjectId(): Promise<number | null> {
    const row = await this.db.selectFrom('projects').select('id').where('name_key', '=', DEFAULT_PROJECT).executeTakeFirst();
    return row?.id ?? null;
  }

  /** `ids`: only these (a member's projects); undefined: all (an admin). */
  async list(ids: readonly number[] | undefined, page: { limit: number; offset: number }, search?: string): Promise<{ total: number; items: Project[] }> {
    if (ids !== undefined && ids.length === 0) return { total: 0, items: [] };
    let count = this.db.selectFrom('projects');
    let rows = this.base();
    if (ids !== undefined) {
      count = count.where('projects.id', 'in', ids);
      rows = rows.where('projects.id', 'in', ids);
    }
    if (search) {
      const pattern = `%${search.toLowerCase()}%`;
      count = count.where('projects.name_key', 'like', pattern);
      rows = rows.where('projects.name_key', 'like', pattern);
    }
    const total = Number((await count.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    if (total === 0 || page.offset >= total) return { total, items: [] };
    const found = await rows.orderBy('projects.name_key').limit(page.limit).offset(page.offset).execute();
    return { total, items: found.map(toProject) };
  }

  /** Creates the project with `ownerId` as its owner, at once. Null when the name is taken. */
  async create(fields: { name: string; description: string }, ownerId: number): Promise<Project | null> {
    const now = nowIso();
    const id = await this.transaction(async (trx) => {
      const row = await trx
        .insertInto('projects')
        .values({
          name: fields.name,
          name_key: fields.name.toLowerCase(),
          description: fields.description,
          created_by: ownerId,
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) => oc.column('name_key').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!row) return null;
      await trx.insertInto('project_members').values({ project_id: row.id, user_id: ownerId, role: 'owner', created_at: now }).execute();
      return row.id;
    });
    return id === null ? null : this.findById(id);
  }

  async update(id: number, fields: { name: string; description: string }): Promise<Project | 'conflict' | null> {
    try {
      const result = await this.db
        .updateTable('projects')
        .set({ name: fields.name, name_key: fields.name.toLowerCase(), description: fields.description, updated_at: nowIso() })
        .where('id', '=', id)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return null;
    } catch (error) {
      if (isUniqueViolation(error)) return 'conflict';
      throw error;
    }
    return this.findById(id);
  }

  async contents(id: number): Promise<ProjectContents> {
    const count = async (table: 'pipelines' | 'credentials') =>
      Number(
        (
          await this.db
            .selectFrom(table)
            .where('project_id', '=', id)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const unfinished = await this.db
      .selectFrom('pipeline_runs')
      .where('project_id', '=', id)
      .where('finished_at', 'is', null)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return { pipelines: await count('pipelines'), credentials: await count('credentials'), unfinishedRuns: Number(unfinished.n) };
  }

  /** Deletes the project with its members and the history of its deleted pipelines (their runs). */
  async delete(id: number): Promise<boolean> {
    return this.transaction(async (trx) => {
      await trx.deleteFrom('pipeline_runs').where('project_id', '=', id).execute();
      await trx.deleteFrom('project_members').where('project_id', '=', id).execute();
      const result = await trx.deleteFrom('projects').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    });
  }

  /** The actor's role in one project (the permission check's one query). */
  async roleOf(projectId: number, userId: number): Promise<ProjectRole | null> {
    const row = await this.db.selectFrom('project_members').select('role').where('project_id', '=', projectId).where('user_id', '=', userId).executeTakeFirst();
    return (row?.role as ProjectRole | undefined) ?? null;
  }

  /** Every project the user is a member of, with the role. */
  async membershipsOf(userId: number): Promise<Map<number, ProjectRole>> {
    const rows = await this.db.selectFrom('project_members').select(['project_id', 'role']).where('user_id', '=', userId).execute();
    return new Map(rows.map((r) => [r.project_id, r.role as ProjectRole]));
  }

  async members(projectId: number): Promise<ProjectMember[]> {
    const rows = await this.db
      .selectFrom('project_members')
      .innerJoin('users', 'users.id', 'project_members.user_id')
      .select(['users.id', 'users.username', 'project_members.role', 'project_members.created_at'])
      .where('project_members.project_id', '=', projectId)
      .orderBy('users.username_key')
      .execute();
    return rows.map((r) => ({ user: { id: r.id, username: r.username }, role: r.role as ProjectRole, created_at: r.created_at }));
  }

  async countOwners(projectId: number): Promise<number> {
    const row = await this.db
      .selectFrom('project_members')
      .where('project_id', '=', projectId)
      .where('role', '=', 'owner')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Adds or changes a membership. */
  async setMember(projectId: number, userId: number, role: ProjectRole): Promise<void> {
    await this.db
      .insertInto('project_members')
      .values({ project_id: projectId, user_id: userId, role, created_at: nowIso() })
      .onConflict((oc) => oc.columns(['project_id', 'user_id']).doUpdateSet({ role }))
      .execute();
  }

  async removeMember(projectId: number, userId: number): Promise<boolean> {
    const result = await this.db.deleteFrom('project_members').where('project_id', '=', projectId).where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }
}

type ProjectJoinedRow = {
  id: number;
  name: string;
  description: string;
  created_by: number | null;
  created_at: string;
  updated_at: string;
  creator_username: string | null;
};

const toProject = (row: ProjectJoinedRow): Project => ({
  id: row.id,
  name: row.name,
  description: row.description,
  created_by: row.created_by !== null && row.creator_username !== null ? { id: row.created_by, username: row.creator_username } : null,
  created_at: row.created_at,
  updated_at: row.updated_at,
});
