import { sql, type CompiledQuery, type Kysely } from 'kysely';
import type { Database, PipelineRow } from './schema.js';
import type { PipelineStatus, StepDefinition, TriggerEventKind, Variables } from '../domain/pipeline.js';
import type { RunStatus } from '../domain/status.js';
import type { SecretBox } from './secret-box.js';
import { nowIso } from './time.js';
import { statementWriter, type StatementWriter } from './statement-writer.js';
import { defaultProjectId, scopedNameKey } from './scoped-name.js';
import type { InputDeclaration } from '../domain/launch-inputs.js';

export interface LastRun {
  id: number;
  status: RunStatus;
  started_at: string | null;
  finished_at: string | null;
}

/** The fields webhook matching needs (PipelinesRepository.webhookCandidates). */
export type WebhookCandidate = Pick<Pipeline, 'id' | 'project_id' | 'status' | 'repository_url' | 'branch' | 'trigger_events' | 'auto_cancel'>;

export interface Pipeline {
  id: number;
  /** The project it belongs to (migration 009). */
  project_id: number;
  name: string;
  description: string;
  status: PipelineStatus;
  repository_url: string | null;
  branch: string;
  trigger_events: TriggerEventKind[];
  /** Whether pull requests from forks get secret variables and credentials (off by default). */
  secrets_for_forks: boolean;
  /** A newer push to a branch, or commit on a pull request, cancels older unfinished runs for it (migration 013). */
  auto_cancel: boolean;
  /** The status badge is served without login (migration 013). */
  badge_public: boolean;
  /** A token credential of the project for commit statuses; null: the server's token (migration 013). */
  forge_credential: string | null;
  repository_credential: string | null;
  /** The pipeline file in the repository (`.ansflow.yml`); null: the steps stored here. */
  config_path: string | null;
  /** Secret values in clear: only inside the process, never in an API body. */
  variables: Variables;
  steps: StepDefinition[];
  /** The launch inputs a manual run is started with (migration 018; domain/launch-inputs.ts). */
  inputs: InputDeclaration[];
  steps_count: number;
  created_by: { id: number; username: string } | null;
  created_at: string;
  updated_at: string;
  last_run: LastRun | null;
}

export type PipelineSummary = Omit<Pipeline, 'variables' | 'steps' | 'inputs'>;

export interface PipelineFields {
  name: string;
  description: string;
  status: PipelineStatus;
  repository_url: string | null;
  branch: string;
  trigger_events: TriggerEventKind[];
  variables: Variables;
  steps: StepDefinition[];
  /** Omitted: none. */
  inputs?: InputDeclaration[];
  /** Omitted: false. */
  secrets_for_forks?: boolean;
  /** Omitted: false, false, null. */
  auto_cancel?: boolean;
  badge_public?: boolean;
  forge_credential?: string | null;
  repository_credential?: string | null;
  /** Omitted: null (the stored steps). */
  config_path?: string | null;
  /** Omitted: the `default` project on create, unchanged on update. */
  project_id?: number;
}

export interface PipelineFilter {
  /** Only pipelines of this project. */
  project?: number;
  /** Only pipelines of the projects this user is a member of (a non-admin's reads); undefined: all. */
  memberId?: number;
  search?: string;
  status?: PipelineStatus;
  createdBy?: number;
}

type JoinedRow = PipelineRow & {
  creator_username: string | null;
  run_status: string | null;
  run_started_at: string | null;
  run_finished_at: string | null;
};

export class PipelinesRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly secrets: SecretBox,
    /** How `update` runs its statement (store/statement-writer.ts); through `db` unless given. */
    private readonly writer: StatementWriter = statementWriter(db, null),
  ) {}

  /** The same repository working inside a transaction (see store/transaction.ts). */
  in(tx: Kysely<Database>): PipelinesRepository {
    return new PipelinesRepository(tx, this.secrets);
  }

  private base() {
    return this.db
      .selectFrom('pipelines')
      .leftJoin('users', 'users.id', 'pipelines.created_by')
      .leftJoin('pipeline_runs', 'pipeline_runs.id', 'pipelines.last_run_id')
      .selectAll('pipelines')
      .select([
        'users.username as creator_username',
        'pipeline_runs.status as run_status',
        'pipeline_runs.started_at as run_started_at',
        'pipeline_runs.finished_at as run_finished_at',
      ]);
  }

  private summary(row: JoinedRow): PipelineSummary {
    return {
      id: row.id,
      project_id: row.project_id,
      name: row.name,
      description: row.description,
      status: row.status as PipelineStatus,
      repository_url: row.repository_url,
      branch: row.branch,
      trigger_events: JSON.parse(row.trigger_events) as TriggerEventKind[],
      secrets_for_forks: row.secrets_for_forks === 1,
      auto_cancel: row.auto_cancel === 1,
      badge_public: row.badge_public === 1,
      forge_credential: row.forge_credential ?? null,
      repository_credential: row.repository_credential ?? null,
      config_path: row.config_path ?? null,
      steps_count: row.steps_count,
      created_by: row.created_by !== null && row.creator_username !== null ? { id: row.created_by, username: row.creator_username } : null,
      created_at: row.created_at,
      updated_at: row.updated_at,
      last_run:
        row.last_run_id !== null && row.run_status !== null
          ? { id: row.last_run_id, status: row.run_status as RunStatus, started_at: row.run_started_at, finished_at: row.run_finished_at }
          : null,
    };
  }

  private full(row: JoinedRow): Pipeline {
    const steps = JSON.parse(row.steps) as StepDefinition[];
    storedSteps.set(steps, row.steps);
    return {
      ...this.summary(row),
      steps,
      inputs: JSON.parse(row.inputs) as InputDeclaration[],
      variables: this.openVariables(row.variables),
    };
  }

  sealVariables(variables: Variables): string {
    const stored: Record<string, { value: string; secret: boolean }> = {};
    for (const [name, v] of Object.entries(variables)) stored[name] = { value: v.secret ? this.secrets.seal(v.value) : v.value, secret: v.secret };
    return JSON.stringify(stored);
  }

  openVariables(text: string): Variables {
    const stored = JSON.parse(text) as Record<string, { value: string; secret: boolean }>;
    const out: Variables = {};
    for (const [name, v] of Object.entries(stored)) out[name] = { value: v.secret ? this.secrets.open(v.value) : v.value, secret: v.secret };
    return out;
  }

  /**
   * `forPage`: the membership filter as a correlated EXISTS, so SQLite walks pipelines newest first
   * and stops after the page (an IN list made it sort every visible row first: 2-3x the cost of an
   * admin's list). The count keeps the IN list, which counts on the (project_id, id) index.
   */
  private filtered(filter: PipelineFilter, forPage = false) {
    let q = this.db.selectFrom('pipelines');
    if (filter.project !== undefined) q = q.where('pipelines.project_id', '=', filter.project);
    if (filter.memberId !== undefined) {
      // Written as SQL rather than built: the list runs on every page view, and building the
      // subquery with the query builder cost more than SQLite spends running it (bench/permissions.ts).
      const userId = filter.memberId;
      q = forPage
        ? q.where(sql<boolean>`exists (select 1 from project_members m where m.project_id = pipelines.project_id and m.user_id = ${userId})`)
        : q.where(sql<boolean>`pipelines.project_id in (select m.project_id from project_members m where m.user_id = ${userId})`);
    }
    if (filter.status) q = q.where('pipelines.status', '=', filter.status);
    if (filter.createdBy !== undefined) q = q.where('pipelines.created_by', '=', filter.createdBy);
    if (filter.search) {
      const pattern = `%${filter.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      q = q.where((eb) =>
        eb.or([
          eb(sql`lower(pipelines.name)`, 'like', sql`${pattern} escape '\\'`),
          eb(sql`lower(pipelines.description)`, 'like', sql`${pattern} escape '\\'`),
        ]),
      );
    }
    return q;
  }

  async list(filter: PipelineFilter, page: { limit: number; offset: number }): Promise<{ total: number; items: PipelineSummary[] }> {
    const total = await this.count(filter);
    if (total === 0 || page.offset >= total) return { total, items: [] };
    // One joined query for the page, with only the columns a summary shows (no steps/variables JSON).
    const rows = await this.filtered(filter, true)
      .leftJoin('users', 'users.id', 'pipelines.created_by')
      .leftJoin('pipeline_runs', 'pipeline_runs.id', 'pipelines.last_run_id')
      .select([
        'pipelines.id',
        'pipelines.project_id',
        'pipelines.name',
        'pipelines.description',
        'pipelines.status',
        'pipelines.repository_url',
        'pipelines.branch',
        'pipelines.trigger_events',
        'pipelines.secrets_for_forks',
        'pipelines.config_path',
        'pipelines.auto_cancel',
        'pipelines.badge_public',
        'pipelines.forge_credential',
        'pipelines.repository_credential',
        'pipelines.steps_count',
        'pipelines.created_by',
        'pipelines.created_at',
        'pipelines.updated_at',
        'pipelines.last_run_id',
        'users.username as creator_username',
        'pipeline_runs.status as run_status',
        'pipeline_runs.started_at as run_started_at',
        'pipeline_runs.finished_at as run_finished_at',
      ])
      .orderBy('pipelines.id', 'desc')
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    return { total, items: rows.map((r) => this.summary(r as JoinedRow)) };
  }

  /**
   * A member's unfiltered count is the sum of their projects' kept counters (migration 014's
   * triggers): counting their pipelines row by row was most of the permission check's cost
   * (bench/permissions.ts). Other filters count the matching rows.
   */
  private async count(filter: PipelineFilter): Promise<number> {
    const narrowed = filter.search || filter.status || filter.createdBy !== undefined;
    if (!narrowed && filter.memberId !== undefined) {
      // From the user's memberships to their projects' counters (a join on the (user_id,
      // project_id) index, half the cost of `projects.id in (subquery)`).
      const inProject = filter.project !== undefined ? sql`and m.project_id = ${filter.project}` : sql``;
      const { rows } = await sql<{ n: number | string | null }>`select sum(p.pipelines_count) as n from project_members m
        join projects p on p.id = m.project_id where m.user_id = ${filter.memberId} ${inProject}`.execute(this.db);
      return Number(rows[0]?.n ?? 0);
    }
    const row = await this.filtered(filter)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async exists(id: number): Promise<boolean> {
    return (await this.projectOf(id)) !== null;
  }

  /** The pipeline's project, or null when there is no such pipeline. */
  async projectOf(id: number): Promise<number | null> {
    return (await this.db.selectFrom('pipelines').select('project_id').where('id', '=', id).executeTakeFirst())?.project_id ?? null;
  }

  async findById(id: number): Promise<Pipeline | null> {
    const row = (await this.base().where('pipelines.id', '=', id).executeTakeFirst()) as JoinedRow | undefined;
    return row ? this.full(row) : null;
  }

  /** The pipelines of these ids that exist, in no particular order. */
  async findByIds(ids: readonly number[]): Promise<Pipeline[]> {
    if (ids.length === 0) return [];
    const rows = (await this.base()
      .where('pipelines.id', 'in', [...ids])
      .execute()) as JoinedRow[];
    return rows.map((row) => this.full(row));
  }

  /**
   * What webhook matching reads of every active pipeline with a repository, for each delivery:
   * only the matched fields (no steps to parse, no secrets to decrypt, no joins).
   */
  async webhookCandidates(): Promise<WebhookCandidate[]> {
    const rows = await this.db
      .selectFrom('pipelines')
      .select(['id', 'project_id', 'status', 'repository_url', 'branch', 'trigger_events', 'auto_cancel'])
      .where('status', '=', 'active')
      .where('repository_url', 'is not', null)
      .execute();
    return rows.map((r) => ({
      ...r,
      status: r.status as PipelineStatus,
      trigger_events: JSON.parse(r.trigger_events) as TriggerEventKind[],
      auto_cancel: r.auto_cancel === 1,
    }));
  }

  async countByStatus(status: PipelineStatus): Promise<number> {
    const row = await this.db
      .selectFrom('pipelines')
      .where('status', '=', status)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Returns null when another pipeline of the project has the name (case-insensitively). */
  async create(fields: PipelineFields, createdBy: number): Promise<Pipeline | null> {
    const now = nowIso();
    const projectId = fields.project_id ?? (await defaultProjectId(this.db));
    const row = await this.db
      .insertInto('pipelines')
      .values({
        ...this.columns(fields, projectId),
        run_counter: 0,
        last_run_id: null,
        created_by: createdBy,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('name_key').doNothing())
      .returning('id')
      .executeTakeFirst();
    return row ? this.findById(row.id) : null;
  }

  /**
   * Replaces the editable fields of `current`. Returns the pipeline as written, 'conflict' when
   * another pipeline of the (new) project has the name, null when it no longer exists.
   *
   * One statement: the unique index on `name_key` decides a clash (a check before it would be a
   * second statement and still lose races), and the result is built from `current` and `fields`
   * (`written`) instead of read back. An audited update passes its event as `thenWrite`: the update and
   * the event are written in one transaction, on SQLite synchronously (store/statement-writer.ts).
   * `last_run` is the one `current` was read with.
   */
  async update(
    current: Pipeline,
    fields: PipelineFields,
    options: {
      updatedAt?: string;
      /** A statement to write with the update, in its transaction, when the update changed the row (its audit event); null for none. */
      thenWrite?: (after: Pipeline) => CompiledQuery | null;
    } = {},
  ): Promise<Pipeline | 'conflict' | null> {
    const projectId = fields.project_id ?? current.project_id;
    const updatedAt = options.updatedAt ?? nowIso();
    const columns = this.columns(fields, projectId);
    const statement = this.db
      .updateTable('pipelines')
      .set({ ...columns, updated_at: updatedAt })
      .where('id', '=', current.id)
      .compile();
    // Steps written as they were read: the pipeline as written keeps the array read (the audit
    // diff then finds the steps unchanged by identity instead of walking both lists).
    const steps = storedSteps.get(current.steps) === columns.steps ? current.steps : fields.steps;
    const after = written(current, fields, projectId, updatedAt, steps);
    const thenWrite = options.thenWrite;
    try {
      const changed = thenWrite ? await this.writer.runThen(statement, () => thenWrite(after)) : await this.writer.run(statement);
      if (changed === 0) return null;
    } catch (error) {
      // On PostgreSQL this also aborts an enclosing transaction; its caller writes nothing more.
      if (isUniqueViolation(error)) return 'conflict';
      throw error;
    }
    return after;
  }

  async delete(id: number): Promise<boolean> {
    const result = await this.db.deleteFrom('pipelines').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  private columns(fields: PipelineFields, projectId: number) {
    return {
      name: fields.name,
      name_key: scopedNameKey(projectId, fields.name),
      description: fields.description,
      status: fields.status,
      repository_url: fields.repository_url,
      branch: fields.branch,
      trigger_events: JSON.stringify(fields.trigger_events),
      variables: this.sealVariables(fields.variables),
      steps: JSON.stringify(fields.steps),
      steps_count: fields.steps.length,
      inputs: JSON.stringify(fields.inputs ?? []),
      secrets_for_forks: fields.secrets_for_forks ? 1 : 0,
      auto_cancel: fields.auto_cancel ? 1 : 0,
      badge_public: fields.badge_public ? 1 : 0,
      forge_credential: fields.forge_credential ?? null,
      repository_credential: fields.repository_credential ?? null,
      config_path: fields.config_path ?? null,
      project_id: projectId,
    };
  }
}

/**
 * The stored JSON text of each steps list read from a row (keyed by the parsed array, so it goes
 * with it): `update` compares it with the text it writes, and an unchanged list keeps the array
 * read. Every audited update compared the two lists member by member.
 */
const storedSteps = new WeakMap<StepDefinition[], string>();

/**
 * What `findById` reads back after `update` wrote `fields` over `current`: every column `columns`
 * writes, mapped as `full` maps it, and the rest (creator, creation, last run) from `current`.
 * A test holds the two equal on both databases.
 */
function written(current: Pipeline, fields: PipelineFields, projectId: number, updatedAt: string, steps: StepDefinition[]): Pipeline {
  return {
    id: current.id,
    project_id: projectId,
    name: fields.name,
    description: fields.description,
    status: fields.status,
    repository_url: fields.repository_url,
    branch: fields.branch,
    trigger_events: fields.trigger_events,
    secrets_for_forks: fields.secrets_for_forks ?? false,
    auto_cancel: fields.auto_cancel ?? false,
    badge_public: fields.badge_public ?? false,
    forge_credential: fields.forge_credential ?? null,
    repository_credential: fields.repository_credential ?? null,
    config_path: fields.config_path ?? null,
    steps_count: fields.steps.length,
    created_by: current.created_by,
    created_at: current.created_at,
    updated_at: updatedAt,
    last_run: current.last_run,
    steps,
    inputs: fields.inputs ?? [],
    variables: fields.variables,
  };
}

export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint failed/.test(e?.message ?? '');
}

/** The ids of the projects a user is a member of, as a subquery (one statement per list, no extra round trip). */
export const memberProjects = (db: Kysely<Database>, userId: number) =>
  db.selectFrom('project_members').select('project_members.project_id').where('project_members.user_id', '=', userId);
