/** Environments of projects (migration 018): their approval rules, and their deployments (runs). */
import type { Kysely, Selectable } from 'kysely';
import type { Database, EnvironmentsTable } from './schema.js';
import type { Environment, EnvironmentConcurrency, TimeoutOutcome } from '../domain/environments.js';
import type { ProjectRole } from '../domain/permissions.js';
import type { RunStatus } from '../domain/status.js';
import { isUniqueViolation, memberProjects } from './pipelines-repository.js';
import { nowIso } from './time.js';

/** What a create or a replace writes. */
export interface EnvironmentFields {
  project_id: number;
  name: string;
  description: string;
  required_approvals: number;
  approvers: { users: string[]; roles: ProjectRole[] };
  prevent_self_approval: boolean;
  branches: string[];
  wait_timer_seconds: number;
  approval_timeout_seconds: number | null;
  timeout_outcome: TimeoutOutcome;
  concurrency: EnvironmentConcurrency | null;
}

/** One deployment: a run that targeted the environment, with who approved it. */
export interface Deployment {
  run: { id: number; number: number; pipeline: { id: number | null; name: string }; status: RunStatus };
  branch: string;
  commit: string | null;
  triggered_by: string | null;
  approved_by: string[];
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

type Row = Selectable<EnvironmentsTable> & { creator_username: string | null };

const toEnvironment = (row: Row): Environment => ({
  id: row.id,
  project_id: row.project_id,
  name: row.name,
  description: row.description,
  required_approvals: row.required_approvals,
  approvers: { users: JSON.parse(row.approver_users) as string[], roles: JSON.parse(row.approver_roles) as ProjectRole[] },
  prevent_self_approval: row.prevent_self_approval === 1,
  branches: JSON.parse(row.branches) as string[],
  wait_timer_seconds: row.wait_timer_seconds,
  approval_timeout_seconds: row.approval_timeout_seconds,
  timeout_outcome: row.timeout_outcome as TimeoutOutcome,
  concurrency: row.concurrency as EnvironmentConcurrency | null,
  created_by: row.created_by !== null && row.creator_username !== null ? { id: row.created_by, username: row.creator_username } : null,
  created_at: row.created_at,
  updated_at: row.updated_at,
});

const columns = (f: EnvironmentFields) => ({
  project_id: f.project_id,
  name: f.name,
  description: f.description,
  required_approvals: f.required_approvals,
  approver_users: JSON.stringify(f.approvers.users),
  approver_roles: JSON.stringify(f.approvers.roles),
  prevent_self_approval: f.prevent_self_approval ? 1 : 0,
  branches: JSON.stringify(f.branches),
  wait_timer_seconds: f.wait_timer_seconds,
  approval_timeout_seconds: f.approval_timeout_seconds,
  timeout_outcome: f.timeout_outcome,
  concurrency: f.concurrency,
});

export class EnvironmentsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  in(tx: Kysely<Database>): EnvironmentsRepository {
    return new EnvironmentsRepository(tx);
  }

  private select() {
    return this.db
      .selectFrom('environments')
      .leftJoin('users', 'users.id', 'environments.created_by')
      .selectAll('environments')
      .select('users.username as creator_username');
  }

  async findById(id: number): Promise<Environment | null> {
    const row = await this.select().where('environments.id', '=', id).executeTakeFirst();
    return row ? toEnvironment(row) : null;
  }

  async findByName(projectId: number, name: string): Promise<Environment | null> {
    const row = await this.select().where('environments.project_id', '=', projectId).where('environments.name', '=', name).executeTakeFirst();
    return row ? toEnvironment(row) : null;
  }

  async list(filter: { project?: number; memberId?: number }, page: { limit: number; offset: number }): Promise<{ total: number; items: Environment[] }> {
    let q = this.db.selectFrom('environments');
    if (filter.project !== undefined) q = q.where('environments.project_id', '=', filter.project);
    if (filter.memberId !== undefined) q = q.where('environments.project_id', 'in', memberProjects(this.db, filter.memberId));
    const { n } = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const ids = (
      await q.select('environments.id').orderBy('environments.project_id').orderBy('environments.name').limit(page.limit).offset(page.offset).execute()
    ).map((r) => r.id);
    if (ids.length === 0) return { total: Number(n), items: [] };
    const rows = await this.select().where('environments.id', 'in', ids).execute();
    const byId = new Map(rows.map((r) => [r.id, toEnvironment(r)]));
    return { total: Number(n), items: ids.map((id) => byId.get(id)!) };
  }

  /** Null when the project already has an environment of that name. */
  async create(fields: EnvironmentFields, createdBy: number): Promise<Environment | null> {
    const now = nowIso();
    try {
      const { id } = await this.db
        .insertInto('environments')
        .values({ ...columns(fields), created_by: createdBy, created_at: now, updated_at: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      return this.findById(id);
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
  }

  /** 'conflict' when another environment of the project has the name; null when it is gone. */
  async update(id: number, fields: EnvironmentFields): Promise<Environment | 'conflict' | null> {
    const clash = await this.db
      .selectFrom('environments')
      .select('id')
      .where('project_id', '=', fields.project_id)
      .where('name', '=', fields.name)
      .where('id', '<>', id)
      .executeTakeFirst();
    if (clash) return 'conflict';
    const result = await this.db
      .updateTable('environments')
      .set({ ...columns(fields), updated_at: nowIso() })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1 ? this.findById(id) : null;
  }

  async delete(id: number): Promise<boolean> {
    const result = await this.db.deleteFrom('environments').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  /** The runs that targeted the environment, newest first, with who approved each. */
  async deployments(environmentId: number, page: { limit: number; offset: number }, status?: RunStatus): Promise<{ total: number; items: Deployment[] }> {
    let base = this.db.selectFrom('pipeline_runs').where('environment_id', '=', environmentId);
    if (status) base = base.where('status', '=', status);
    const { n } = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await base
      .select(['id', 'number', 'pipeline_id', 'pipeline_name', 'status', 'branch', 'commit_sha', 'trigger', 'created_at', 'started_at', 'finished_at'])
      .orderBy('id', 'desc')
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    const approvals =
      rows.length === 0
        ? []
        : await this.db
            .selectFrom('run_approvals')
            .select(['run_id', 'username'])
            .where(
              'run_id',
              'in',
              rows.map((r) => r.id),
            )
            .where('decision', '=', 'approve')
            .orderBy('id')
            .execute();
    return {
      total: Number(n),
      items: rows.map((r) => {
        const trigger = JSON.parse(r.trigger) as { user?: { username: string }; author?: string | null; type: string };
        return {
          run: { id: r.id, number: r.number, pipeline: { id: r.pipeline_id, name: r.pipeline_name }, status: r.status as RunStatus },
          branch: r.branch,
          commit: r.commit_sha,
          triggered_by: trigger.user?.username ?? trigger.author ?? null,
          approved_by: approvals.filter((a) => a.run_id === r.id).map((a) => a.username),
          created_at: r.created_at,
          started_at: r.started_at,
          finished_at: r.finished_at,
        };
      }),
    };
  }

  /** What is live: the newest successful deployment, or null. */
  async live(environmentId: number): Promise<Deployment | null> {
    return (await this.deployments(environmentId, { limit: 1, offset: 0 }, 'success')).items[0] ?? null;
  }
}
