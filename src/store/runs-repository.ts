/**
 * Runs and their steps. A run is created with its step rows and its queue row in ONE transaction
 * (the queue row is the job), so a crash can never leave a run without a job or a job without a run.
 */
import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { Database, PipelineRunRow, StepRunRow } from './schema.js';
import { UNFINISHED_RUN_STATUSES, type RunStatus, type StepStatus } from '../domain/status.js';
import { requiredLabels, type LeftOutStep, type PlanConditions, type PipelineDefinition, type StepDefinition, type Variables } from '../domain/pipeline.js';
import { labelKey } from '../domain/labels.js';
import { memberProjects, type PipelinesRepository } from './pipelines-repository.js';
import { applyAnsibleOverride, type AnsibleLaunchOverride } from '../domain/ansible-launch.js';
import { nowIso } from './time.js';
import { cappedCount, readWindow, type HistoryPage, type HistoryWindow } from './history-window.js';

export interface RunTrigger {
  type: 'manual' | 'webhook' | 'api' | 'scheduled';
  /** A scheduled run: its schedule and the fire time it ran for. */
  schedule?: { id: number; fire_at: string };
  user?: { id: number; username: string };
  event?: string;
  delivery_id?: string;
  provider?: string;
  ref?: string;
  author?: string | null;
  /** A push: the commit before it (the pipeline file's `paths` compare against it). */
  before?: string;
  /** Pull/merge requests: the request's number and branches (ANSFLOW_PR_* in every step). */
  pull_request?: { number: number; source_branch: string; target_branch: string };
  /** A retry (services/runs/retry-run.ts): the run it repeats, from which step, and the workspace snapshot it starts from. */
  retry?: { run_id: number; number: number; from: string; snapshot_key: string | null };
}

/** What cancelling an unfinished run needs to know of it (auto-cancel). */
export type UnfinishedRun = Pick<Run, 'id' | 'number' | 'status' | 'project_id' | 'pipeline' | 'trigger'>;

/** One problem of a pipeline file: which file, the field, where (1-based), what. */
export interface RunConfigError {
  file: string;
  path: string;
  line: number;
  column: number;
  message: string;
}

/** What a run came to, in brief (status and why). */
export interface RunOutcome {
  id: number;
  project_id: number;
  number: number;
  pipeline_name: string;
  status: RunStatus;
  error_reason: string | null;
}

export interface StepRun {
  id: number;
  position: number;
  name: string;
  type: string;
  parallel_group: string | null;
  status: StepStatus;
  started_at: string | null;
  finished_at: string | null;
  exit_code: number | null;
  attempts: number;
  message: string | null;
  /** The original run's step whose result this one reuses (a retry; not run again), else null. */
  reused_from: number | null;
}

export interface Run {
  id: number;
  /** The pipeline's project when the run was written (migration 009): who may read the run. */
  project_id: number;
  number: number;
  pipeline: { id: number | null; name: string };
  status: RunStatus;
  trigger: RunTrigger;
  branch: string;
  commit: string | null;
  variables: Variables;
  definition: PipelineDefinition;
  error_reason: string | null;
  cancel_requested_at: string | null;
  /**
   * Why the run got no secret variables and no credentials (`pull request from a fork`); null
   * when it got them. Such a run's stored variables never held the secrets in the first place.
   */
  secrets_withheld: string | null;
  /** The problems of an invalid pipeline file (the run started no step); null otherwise. */
  config_errors?: RunConfigError[] | null;
  /** When a user pinned the run: retention keeps it (migration 014); null when not pinned. */
  pinned_at: string | null;
  /** The environment its steps deploy to (migration 018); `id` null once the environment is deleted. */
  environment: { id: number | null; name: string } | null;
  /** When it started waiting at its environment's gate; null when it never waited. */
  waiting_since: string | null;
  /** When its gate let it through (approved, or no approval needed); null before. */
  approved_at: string | null;
  /** When an approved run leaves `waiting` (the environment's wait timer); null otherwise. */
  release_at: string | null;
  /** A fork's pull request given secrets: `waiting` for a maintainer's approval, then `approved` (migration 022); null: no such gate. */
  fork_gate?: 'waiting' | 'approved' | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  steps: StepRun[];
}

/** What a run and a run in a list share: everything but its steps, definition and variables. */
type RunHeader = Omit<Run, 'steps' | 'definition' | 'variables'>;

export type RunSummary = RunHeader & { steps_total: number; steps_done: number };

export interface RunFilter {
  pipelineId?: number;
  status?: RunStatus;
  branch?: string;
  trigger?: RunTrigger['type'];
  /** Only this project's runs. */
  project?: number;
  /** Only runs of the projects this user is a member of (a non-admin's reads). */
  memberId?: number;
}

export interface NewRun {
  pipelineId: number;
  trigger: RunTrigger;
  branch: string;
  commit: string | null;
  variables: Variables;
  /** Set when secrets are withheld: the caller has already left them out of `variables`. */
  secretsWithheld?: string | null;
  /** Launch-time changes to the Ansible steps (limit, tags, check mode, extra vars). */
  ansible?: AnsibleLaunchOverride;
  /**
   * The environment the run deploys to; `waiting`: the run is written `waiting` with no queue job
   * (its gate releases it, services/deployments/), else `queued` as any run.
   */
  environment?: { id: number; name: string; waiting: boolean };
  /**
   * A fork's pull request given secrets, not approved at this commit yet: written `waiting` with no
   * queue job until a maintainer approves (services/deployments/approval-gates.ts).
   */
  forkGate?: boolean;
}

/** The columns of a run header: a list reads only these (no definition, no secrets to decrypt). */
const HEADER_COLUMNS = [
  'id',
  'project_id',
  'number',
  'pipeline_id',
  'pipeline_name',
  'status',
  'trigger',
  'branch',
  'commit_sha',
  'error_reason',
  'cancel_requested_at',
  'secrets_withheld',
  'pinned_at',
  'environment_id',
  'environment_name',
  'waiting_since',
  'approved_at',
  'release_at',
  'fork_gate',
  'created_at',
  'started_at',
  'finished_at',
] as const;

const toHeader = (row: Pick<PipelineRunRow, (typeof HEADER_COLUMNS)[number]>): RunHeader => ({
  id: row.id,
  project_id: row.project_id,
  number: row.number,
  pipeline: { id: row.pipeline_id, name: row.pipeline_name },
  status: row.status as RunStatus,
  trigger: JSON.parse(row.trigger) as RunTrigger,
  branch: row.branch,
  commit: row.commit_sha,
  error_reason: row.error_reason,
  cancel_requested_at: row.cancel_requested_at,
  secrets_withheld: row.secrets_withheld,
  pinned_at: row.pinned_at,
  environment: row.environment_name !== null ? { id: row.environment_id, name: row.environment_name } : null,
  waiting_since: row.waiting_since,
  approved_at: row.approved_at,
  release_at: row.release_at,
  fork_gate: (row.fork_gate as Run['fork_gate']) ?? null,
  created_at: row.created_at,
  started_at: row.started_at,
  finished_at: row.finished_at,
});

const toStep = (row: StepRunRow): StepRun => ({
  id: row.id,
  position: row.position,
  name: row.name,
  type: row.type,
  parallel_group: row.parallel_group,
  status: row.status as StepStatus,
  started_at: row.started_at,
  finished_at: row.finished_at,
  exit_code: row.exit_code,
  attempts: row.attempts,
  message: row.message,
  reused_from: row.reused_from ?? null,
});

export class RunsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly pipelines: PipelinesRepository,
  ) {}

  /** The same repository working inside a transaction (see store/transaction.ts). */
  in(tx: Kysely<Database>): RunsRepository {
    return new RunsRepository(tx, this.pipelines);
  }

  /**
   * Creates the run, its pending steps and its queue job atomically; null if the pipeline is gone.
   * `onCommitted` runs right after the commit (wake a worker). The run is returned as written, not
   * read back: once committed, nothing may fail, or a client retrying would start it twice.
   */
  async create(input: NewRun, onCommitted?: (runId: number) => void, inTransaction?: (trx: Kysely<Database>, run: Run) => Promise<void>): Promise<Run | null> {
    // `inTransaction` writes what must commit with the run (its audit event).
    const created = await this.db.transaction().execute(async (trx): Promise<Run | null> => {
      const [written] = await writeRuns(trx, this.pipelines, [input]);
      if (!written) return null;
      await inTransaction?.(trx, written);
      return written;
    });
    if (created) onCommitted?.(created.id);
    return created;
  }

  /**
   * Several runs at once, in the caller's transaction (this repository bound to it with `in(tx)`),
   * with one statement per table whatever their number (the scheduler starts a minute's due
   * schedules this way). Returned in the order of `inputs`; null where the pipeline is gone.
   */
  async createMany(inputs: readonly NewRun[]): Promise<(Run | null)[]> {
    if (!this.db.isTransaction) throw new Error('createMany runs in a transaction: call it on runs.in(tx)');
    return writeRuns(this.db, this.pipelines, inputs);
  }

  async findById(id: number): Promise<Run | null> {
    const row = await this.db.selectFrom('pipeline_runs').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return null;
    const steps = await this.db.selectFrom('step_runs').selectAll().where('run_id', '=', id).orderBy('position').execute();
    return this.toRun(row, steps.map(toStep));
  }

  /** The run's project, or null when there is no such run. */
  async projectOf(id: number): Promise<number | null> {
    return (await this.db.selectFrom('pipeline_runs').select('project_id').where('id', '=', id).executeTakeFirst())?.project_id ?? null;
  }

  /** Where each of these runs stands (the webhook delivery log shows what its runs came to). */
  async outcomes(ids: readonly number[]): Promise<RunOutcome[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('pipeline_runs')
      .select(['id', 'project_id', 'number', 'pipeline_name', 'status', 'error_reason'])
      .where('id', 'in', [...ids])
      .execute();
    return rows.map((r) => ({
      id: r.id,
      project_id: r.project_id,
      number: r.number,
      pipeline_name: r.pipeline_name,
      status: r.status as RunStatus,
      error_reason: r.error_reason,
    }));
  }

  async status(id: number): Promise<RunStatus | null> {
    const row = await this.db.selectFrom('pipeline_runs').select('status').where('id', '=', id).executeTakeFirst();
    return (row?.status as RunStatus | undefined) ?? null;
  }

  /**
   * A page of runs, newest first (store/history-window.ts). Every filter has an index ending in id
   * (migration 014), so a page costs the same at any size of history; the membership filter is a
   * correlated EXISTS, so the walk still stops after the page.
   */
  async list(filter: RunFilter, window: HistoryWindow): Promise<HistoryPage<RunSummary>> {
    const q = this.filtered(filter);
    const page = await readWindow(window, (w) => {
      let p = q.select(HEADER_COLUMNS);
      if (w.bound) p = p.where('pipeline_runs.id', w.bound.op, w.bound.id);
      return p.orderBy('pipeline_runs.id', w.order).limit(w.limit).offset(w.offset).execute();
    });
    const { total, capped } = await this.count(filter);
    const counts =
      page.items.length === 0
        ? []
        : await this.db
            .selectFrom('step_runs')
            .select([
              'run_id',
              (eb) => eb.fn.countAll<number>().as('total'),
              sql<number>`sum(case when status in ('success','failed','skipped','cancelled','timeout') then 1 else 0 end)`.as('done'),
            ])
            .where(
              'run_id',
              'in',
              page.items.map((r) => r.id),
            )
            .groupBy('run_id')
            .execute();
    const byRun = new Map(counts.map((c) => [c.run_id, c]));
    return {
      ...page,
      total,
      capped,
      items: page.items.map((row) => {
        const c = byRun.get(row.id);
        return { ...toHeader(row), steps_total: Number(c?.total ?? 0), steps_done: Number(c?.done ?? 0) };
      }),
    };
  }

  private filtered(filter: RunFilter) {
    let q = this.db.selectFrom('pipeline_runs');
    if (filter.pipelineId !== undefined) q = q.where('pipeline_runs.pipeline_id', '=', filter.pipelineId);
    if (filter.project !== undefined) q = q.where('pipeline_runs.project_id', '=', filter.project);
    if (filter.status) q = q.where('pipeline_runs.status', '=', filter.status);
    if (filter.branch !== undefined) q = q.where('pipeline_runs.branch', '=', filter.branch);
    if (filter.trigger) q = q.where('pipeline_runs.trigger_type', '=', filter.trigger);
    const userId = filter.memberId;
    if (userId === undefined) return q;
    return q.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('project_members')
          .select('project_members.project_id')
          .whereRef('project_members.project_id', '=', 'pipeline_runs.project_id')
          .where('project_members.user_id', '=', userId),
      ),
    );
  }

  /**
   * Without a narrowing filter the count is a kept counter (migration 014's triggers): the
   * pipeline's, or the sum over the projects the caller reads. A filtered list, and a member's
   * list of one pipeline (a moved pipeline's older runs stay in its former project), counts at
   * most COUNT_CAP rows.
   */
  private async count(filter: RunFilter): Promise<{ total: number; capped: boolean }> {
    const narrowed = filter.status !== undefined || filter.branch !== undefined || filter.trigger !== undefined;
    if (!narrowed && filter.pipelineId !== undefined && filter.memberId === undefined && filter.project === undefined) {
      const row = await this.db.selectFrom('pipelines').select('runs_count').where('id', '=', filter.pipelineId).executeTakeFirst();
      if (row) return { total: Number(row.runs_count), capped: false };
    }
    if (!narrowed && filter.pipelineId === undefined) {
      let q = this.db.selectFrom('projects');
      if (filter.project !== undefined) q = q.where('projects.id', '=', filter.project);
      if (filter.memberId !== undefined) q = q.where('projects.id', 'in', memberProjects(this.db, filter.memberId));
      const row = await q.select((eb) => eb.fn.coalesce(eb.fn.sum<number>('runs_count'), sql<number>`0`).as('n')).executeTakeFirstOrThrow();
      return { total: Number(row.n), capped: false };
    }
    return cappedCount(this.db, this.filtered(filter).select('pipeline_runs.id'));
  }

  /**
   * The steps a run read from its pipeline file, in one transaction: the snapshot's steps and the
   * file's variables, the commit they were read at, and their pending step rows. Only while the run
   * has no steps (a run planned before a crash keeps its plan when it is queued again). The queue
   * row takes the plan's worker labels, so a worker without them can hand the run on.
   */
  async adoptPlan(
    id: number,
    plan: { commit: string; steps: StepDefinition[]; variables: Variables; conditions?: Record<string, PlanConditions>; leftOut?: LeftOutStep[] },
  ): Promise<Run | null> {
    await this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('pipeline_runs').select('definition').where('id', '=', id).executeTakeFirst();
      if (!row) return;
      const planned = await trx.selectFrom('step_runs').select('id').where('run_id', '=', id).limit(1).execute();
      if (planned.length > 0) return;
      const definition: PipelineDefinition = {
        ...(JSON.parse(row.definition) as PipelineDefinition),
        steps: plan.steps,
        variables: plan.variables,
        ...(plan.conditions && Object.keys(plan.conditions).length > 0 ? { conditions: plan.conditions } : {}),
        ...(plan.leftOut && plan.leftOut.length > 0 ? { left_out: plan.leftOut } : {}),
      };
      await trx
        .updateTable('pipeline_runs')
        .set({ definition: JSON.stringify(definition), commit_sha: plan.commit })
        .where('id', '=', id)
        .execute();
      // The file's `runs_on` is known only now: the queue row routes the run by it from here on.
      await trx
        .updateTable('run_queue')
        .set({ labels: labelKey(requiredLabels(plan.steps)) })
        .where('run_id', '=', id)
        .execute();
      if (plan.steps.length === 0) return;
      await trx
        .insertInto('step_runs')
        .values(
          plan.steps.map((s, position) => ({
            run_id: id,
            position,
            name: s.name,
            type: s.type,
            parallel_group: s.parallel_group ?? null,
            status: 'pending',
            started_at: null,
            finished_at: null,
            exit_code: null,
            attempts: 0,
            message: null,
            log_size: 0,
          })),
        )
        .execute();
    });
    return this.findById(id);
  }

  /** An invalid pipeline file's problems (and the commit it was read at, when known). */
  async recordConfigErrors(id: number, input: { commit: string | null; errors: RunConfigError[] }): Promise<void> {
    await this.db
      .updateTable('pipeline_runs')
      .set({ config_errors: JSON.stringify(input.errors), ...(input.commit !== null && { commit_sha: input.commit }) })
      .where('id', '=', id)
      .execute();
  }

  async markRunning(id: number, at: string): Promise<void> {
    await this.db.updateTable('pipeline_runs').set({ status: 'running', started_at: at }).where('id', '=', id).where('status', '=', 'queued').execute();
  }

  /**
   * Sets a final status unless the run already has one (or, with `from`, unless it has another
   * status than those); returns whether it changed.
   */
  async finish(id: number, status: RunStatus, at: string, reason: string | null, from: readonly RunStatus[] = UNFINISHED_RUN_STATUSES): Promise<boolean> {
    // A cancelled run shows why the cancel was asked ("superseded by run #12") when it was given.
    const result = await this.db
      .updateTable('pipeline_runs')
      .set({ status, finished_at: at, error_reason: status === 'cancelled' ? sql<string | null>`coalesce(cancel_reason, ${reason})` : reason })
      .where('id', '=', id)
      .where('status', 'in', from)
      .executeTakeFirst();
    // A run that left `from` meanwhile keeps its job (a gate released it); otherwise no job outlives its run.
    if (Number(result.numUpdatedRows) === 0 && from !== UNFINISHED_RUN_STATUSES) return false;
    await this.db.deleteFrom('run_queue').where('run_id', '=', id).execute();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Runs marked running with no queue row: their worker is gone (crash recovery). */
  async runningWithoutJob(): Promise<number[]> {
    const rows = await this.db
      .selectFrom('pipeline_runs')
      .select('id')
      .where('status', '=', 'running')
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('run_queue').select('run_id').whereRef('run_queue.run_id', '=', 'pipeline_runs.id'))))
      .execute();
    return rows.map((r) => r.id);
  }

  async backToQueued(id: number): Promise<void> {
    await this.db
      .updateTable('pipeline_runs')
      .set({ status: 'queued', started_at: null })
      .where('id', '=', id)
      .where('status', 'in', ['queued', 'running'])
      .execute();
  }

  /** Sets the run's commit if it had none (the first checkout tells which commit a branch run built). */
  async recordCommit(id: number, commit: string): Promise<void> {
    await this.db.updateTable('pipeline_runs').set({ commit_sha: commit }).where('id', '=', id).where('commit_sha', 'is', null).execute();
  }

  /** Of these runs, the ones someone asked to cancel. */
  async cancelRequested(ids: number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('pipeline_runs').select('id').where('id', 'in', ids).where('cancel_requested_at', 'is not', null).execute();
    return rows.map((r) => r.id);
  }

  /** `reason` ("superseded by run #12") becomes the cancelled run's reason, whoever settles it. */
  async requestCancel(id: number, at: string, reason: string | null = null): Promise<void> {
    await this.db
      .updateTable('pipeline_runs')
      .set({ cancel_requested_at: at, cancel_reason: reason })
      .where('id', '=', id)
      .where('cancel_requested_at', 'is', null)
      .execute();
  }

  /**
   * The unfinished runs of a pipeline older than `beforeId`, started by a webhook (auto-cancel
   * picks those of the same branch or pull request among them).
   */
  async unfinishedWebhookRuns(pipelineId: number, beforeId: number): Promise<UnfinishedRun[]> {
    const rows = await this.db
      .selectFrom('pipeline_runs')
      .select(['id', 'number', 'status', 'project_id', 'pipeline_id', 'pipeline_name', 'trigger'])
      .where('pipeline_id', '=', pipelineId)
      .where('id', '<', beforeId)
      .where('status', 'in', UNFINISHED_RUN_STATUSES)
      .where('trigger_type', '=', 'webhook')
      .where('cancel_requested_at', 'is', null)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      number: r.number,
      status: r.status as RunStatus,
      project_id: r.project_id,
      pipeline: { id: r.pipeline_id, name: r.pipeline_name },
      trigger: JSON.parse(r.trigger) as RunTrigger,
    }));
  }

  async stepStarted(stepId: number, attempt: number, at: string): Promise<void> {
    await this.db
      .updateTable('step_runs')
      .set((eb) => ({ status: 'running', attempts: attempt, started_at: eb.fn.coalesce('started_at', sql<string>`${at}`), finished_at: null, exit_code: null }))
      .where('id', '=', stepId)
      .execute();
  }

  async stepFinished(stepId: number, e: { status: StepStatus; exitCode: number | null; attempts: number; at: string; message: string | null }): Promise<void> {
    await this.db
      .updateTable('step_runs')
      .set({ status: e.status, exit_code: e.exitCode, attempts: e.attempts, finished_at: e.at, message: e.message })
      .where('id', '=', stepId)
      .execute();
  }

  /** Settles steps that never ran (skipped or cancelled); only touches steps not already final. */
  async settleSteps(runId: number, stepIds: number[] | 'unfinished', status: StepStatus, at: string, message: string | null = null): Promise<void> {
    if (stepIds !== 'unfinished' && stepIds.length === 0) return;
    let q = this.db
      .updateTable('step_runs')
      .set({ status, finished_at: at, message })
      .where('run_id', '=', runId)
      .where('status', 'in', ['pending', 'running']);
    if (stepIds !== 'unfinished') q = q.where('id', 'in', stepIds);
    await q.execute();
  }

  async countByStatus(status: RunStatus): Promise<number> {
    const row = await this.db
      .selectFrom('pipeline_runs')
      .where('status', '=', status)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  private toRun(row: PipelineRunRow, steps: StepRun[]): Run {
    return {
      ...toHeader(row),
      variables: this.pipelines.openVariables(row.variables),
      definition: JSON.parse(row.definition) as PipelineDefinition,
      config_errors: row.config_errors ? (JSON.parse(row.config_errors) as RunConfigError[]) : null,
      steps,
    };
  }
}

/**
 * Writes runs with their pending steps and queue jobs inside `trx`: one statement per table for all
 * of them (run numbers counted per pipeline, several runs of one pipeline numbered in input order).
 */
async function writeRuns(trx: Kysely<Database>, pipelines: PipelinesRepository, inputs: readonly NewRun[]): Promise<(Run | null)[]> {
  if (inputs.length === 0) return [];
  const perPipeline = new Map<number, number>();
  for (const input of inputs) perPipeline.set(input.pipelineId, (perPipeline.get(input.pipelineId) ?? 0) + 1);
  const ids = [...perPipeline.keys()];
  const allOnce = [...perPipeline.values()].every((n) => n === 1);
  const counters = await trx
    .updateTable('pipelines')
    .set((eb) => ({ run_counter: eb('run_counter', '+', allOnce ? 1 : byId(eb, perPipeline)) }))
    .where('id', 'in', ids)
    .returning(['id', 'run_counter', 'name', 'repository_url', 'branch', 'steps', 'project_id', 'config_path', 'repository_credential'])
    .execute();
  const counterOf = new Map(counters.map((c) => [c.id, c]));
  const taken = new Map<number, number>();
  const now = nowIso();
  const planned = inputs.map((input) => {
    const counter = counterOf.get(input.pipelineId);
    if (!counter) return null;
    const k = taken.get(input.pipelineId) ?? 0;
    taken.set(input.pipelineId, k + 1);
    const number = counter.run_counter - perPipeline.get(input.pipelineId)! + 1 + k;
    const definition: PipelineDefinition = {
      name: counter.name,
      repository_url: counter.repository_url,
      branch: counter.branch,
      // A pipeline file's steps are read by the worker at the run's commit (services/runs/plan-from-file.ts).
      steps: counter.config_path ? [] : applyAnsibleOverride(JSON.parse(counter.steps) as PipelineDefinition['steps'], input.ansible),
      variables: {},
      ...(counter.config_path ? { config_path: counter.config_path } : {}),
      ...(counter.config_path && counter.repository_credential ? { repository_credential: counter.repository_credential } : {}),
    };
    const environment = input.environment ?? null;
    const forkGate = input.forkGate === true;
    const waiting = environment?.waiting === true || forkGate;
    const status: RunStatus = waiting ? 'waiting' : 'queued';
    return { input, counter, number, definition, environment, forkGate, waiting, status };
  });
  const rows = planned.filter((p) => p !== null);
  if (rows.length === 0) return inputs.map(() => null);
  const inserted = await trx
    .insertInto('pipeline_runs')
    .values(
      rows.map(({ input, counter, number, definition, environment, forkGate, waiting, status }) => ({
        pipeline_id: input.pipelineId,
        project_id: counter.project_id,
        pipeline_name: counter.name,
        number,
        status,
        environment_id: environment?.id ?? null,
        environment_name: environment?.name ?? null,
        waiting_since: waiting ? now : null,
        approved_at: environment && !environment.waiting ? now : null,
        fork_gate: forkGate ? 'waiting' : null,
        trigger_type: input.trigger.type,
        trigger_user_id: input.trigger.user?.id ?? null,
        trigger: JSON.stringify(input.trigger),
        branch: input.branch,
        commit_sha: input.commit,
        variables: pipelines.sealVariables(input.variables),
        definition: JSON.stringify(definition),
        error_reason: null,
        cancel_requested_at: null,
        secrets_withheld: input.secretsWithheld ?? null,
        created_at: now,
        started_at: null,
        finished_at: null,
      })),
    )
    .returning(['id', 'pipeline_id', 'number'])
    .execute();
  // Matched by (pipeline, number), not by the order RETURNING happens to give.
  const idOf = new Map(inserted.map((r) => [`${r.pipeline_id}#${r.number}`, r.id]));
  const runIds = rows.map((p) => idOf.get(`${p.input.pipelineId}#${p.number}`)!);
  // One description of a pending step: what is inserted and what is returned.
  const pendingOf = rows.map((p) =>
    p.definition.steps.map((s, position) => ({
      position,
      name: s.name,
      type: s.type,
      parallel_group: s.parallel_group ?? null,
      status: 'pending' as const,
      started_at: null,
      finished_at: null,
      exit_code: null,
      attempts: 0,
      message: null,
    })),
  );
  const stepValues = pendingOf.flatMap((pending, i) => pending.map((step) => ({ ...step, run_id: runIds[i]!, log_size: 0 })));
  const stepRows = stepValues.length === 0 ? [] : await trx.insertInto('step_runs').values(stepValues).returning(['id', 'run_id', 'position']).execute();
  const stepIds = new Map(stepRows.map((r) => [`${r.run_id}#${r.position}`, r.id]));
  // A pipeline's last run is its newest one here.
  const lastRun = new Map<number, number>();
  rows.forEach((p, i) => lastRun.set(p.input.pipelineId, Math.max(lastRun.get(p.input.pipelineId) ?? 0, runIds[i]!)));
  if (lastRun.size === 1) {
    const [[pipelineId, runId]] = [...lastRun] as [[number, number]];
    await trx.updateTable('pipelines').set({ last_run_id: runId }).where('id', '=', pipelineId).execute();
  } else {
    await trx
      .updateTable('pipelines')
      .set((eb) => ({ last_run_id: byId(eb, lastRun) }))
      .where('id', 'in', [...lastRun.keys()])
      .execute();
  }
  // A waiting run has no job: it holds no worker slot until its gate releases it.
  const jobs = rows.flatMap((p, i) => (p.waiting ? [] : [jobRow(runIds[i]!, p.input.pipelineId, p.definition.steps, now)]));
  if (jobs.length > 0) await trx.insertInto('run_queue').values(jobs).execute();
  const written = rows.map((p, i): Run => {
    const runId = runIds[i]!;
    return {
      id: runId,
      project_id: p.counter.project_id,
      number: p.number,
      pipeline: { id: p.input.pipelineId, name: p.counter.name },
      status: p.status,
      trigger: p.input.trigger,
      branch: p.input.branch,
      commit: p.input.commit,
      variables: p.input.variables,
      definition: p.definition,
      error_reason: null,
      cancel_requested_at: null,
      secrets_withheld: p.input.secretsWithheld ?? null,
      pinned_at: null,
      environment: p.environment ? { id: p.environment.id, name: p.environment.name } : null,
      waiting_since: p.waiting ? now : null,
      approved_at: p.environment && !p.environment.waiting ? now : null,
      release_at: null,
      fork_gate: p.forkGate ? 'waiting' : null,
      created_at: now,
      started_at: null,
      finished_at: null,
      steps: pendingOf[i]!.map((step) => ({ id: stepIds.get(`${runId}#${step.position}`)!, ...step, reused_from: null })),
    };
  });
  let next = 0;
  return planned.map((p) => (p === null ? null : written[next++]!));
}

/** `CASE id WHEN k THEN v ... END` over a pipelines update: a value per row in one statement. */
function byId(eb: ExpressionBuilder<Database, 'pipelines'>, values: ReadonlyMap<number, number>) {
  const [[firstId, firstValue], ...rest] = [...values] as [[number, number], ...[number, number][]];
  // Cast: PostgreSQL types a CASE of bare parameters as text.
  const int = (value: number) => sql<number>`cast(${value} as integer)`;
  let expr = eb.case().when('id', '=', firstId).then(int(firstValue));
  for (const [id, value] of rest) expr = expr.when('id', '=', id).then(int(value));
  return expr.end();
}

const jobRow = (runId: number, pipelineId: number | null, steps: readonly StepDefinition[], at: string) => ({
  run_id: runId,
  pipeline_id: pipelineId,
  enqueued_at: at,
  state: 'queued',
  claimed_by: null,
  lease_expires_at: null,
  labels: labelKey(requiredLabels(steps)),
});

/** The queue job of a run (the embedded queue's row, the outbox of the Redis one). */
export async function insertJob(trx: Kysely<Database>, runId: number, pipelineId: number | null, steps: readonly StepDefinition[], at: string): Promise<void> {
  await trx
    .insertInto('run_queue')
    .values(jobRow(runId, pipelineId, steps, at))
    .execute();
}
