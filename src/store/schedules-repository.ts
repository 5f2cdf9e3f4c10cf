/**
 * Schedules of pipelines and their fire times (migration 018). A fire time is claimed by inserting
 * its `schedule_fires` row (unique per schedule and time): with several processes looking at the
 * same due schedule, exactly one insert succeeds, so a fire time starts at most one run.
 *
 * The scheduler takes due schedules in batches (`claimDue`) inside a transaction that also writes
 * their runs, fire rows and next fire times: on PostgreSQL the batch's rows are locked (other
 * processes skip them and take the next due ones), on SQLite the claim is a write, so the
 * transaction holds the database's one write lock from its first statement.
 */
import { PostgresAdapter, type Kysely, type Selectable } from 'kysely';
import type { Database, SchedulesTable } from './schema.js';
import { nowIso } from './time.js';

export interface Schedule {
  id: number;
  pipeline_id: number;
  description: string;
  cron: string;
  timezone: string;
  /** null: the pipeline's branch. */
  branch: string | null;
  variables: Record<string, string>;
  enabled: boolean;
  /** A fire time missed while nothing ran: true runs it once (the latest), false skips and records it. */
  catch_up: boolean;
  next_fire_at: string | null;
  /** Fire times up to here were handled. */
  checked_until: string;
  created_by: { id: number; username: string } | null;
  created_at: string;
  updated_at: string;
}

/** What a create or update writes: a schedule without its identity and bookkeeping. */
export type ScheduleFields = Omit<Schedule, 'id' | 'pipeline_id' | 'created_by' | 'created_at' | 'updated_at'>;

export type FireOutcome = 'started' | 'missed' | 'failed';

/** A fire time to record: its run, or why it has none. */
export interface NewFire {
  scheduleId: number;
  fireAt: string;
  outcome: FireOutcome;
  runId: number | null;
  reason: string | null;
}

/** Fire rows per INSERT (7 parameters each). */
const FIRES_PER_INSERT = 1000;

/** The key of a fire time in `firesRecorded`'s answer. */
export const fireKey = (scheduleId: number, fireAt: string) => `${scheduleId}@${fireAt}`;

export interface ScheduleFire {
  fire_at: string;
  outcome: FireOutcome;
  run_id: number | null;
  reason: string | null;
  created_at: string;
}

type Row = Selectable<SchedulesTable> & { creator_username: string | null };

const toSchedule = (r: Row): Schedule => ({
  id: r.id,
  pipeline_id: r.pipeline_id,
  description: r.description,
  cron: r.cron,
  timezone: r.timezone,
  branch: r.branch,
  variables: JSON.parse(r.variables) as Record<string, string>,
  enabled: r.enabled === 1,
  catch_up: r.catch_up === 1,
  next_fire_at: r.next_fire_at,
  checked_until: r.checked_until,
  created_by: r.created_by !== null && r.creator_username !== null ? { id: r.created_by, username: r.creator_username } : null,
  created_at: r.created_at,
  updated_at: r.updated_at,
});

const columns = (f: ScheduleFields) => ({
  description: f.description,
  cron: f.cron,
  timezone: f.timezone,
  branch: f.branch,
  variables: JSON.stringify(f.variables),
  enabled: f.enabled ? 1 : 0,
  catch_up: f.catch_up ? 1 : 0,
  next_fire_at: f.next_fire_at,
  checked_until: f.checked_until,
});

export class SchedulesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  in(tx: Kysely<Database>): SchedulesRepository {
    return new SchedulesRepository(tx);
  }

  private select() {
    return this.db
      .selectFrom('schedules')
      .leftJoin('users', 'users.id', 'schedules.created_by')
      .selectAll('schedules')
      .select('users.username as creator_username');
  }

  async findById(id: number): Promise<Schedule | null> {
    const row = await this.select().where('schedules.id', '=', id).executeTakeFirst();
    return row ? toSchedule(row) : null;
  }

  async ofPipeline(pipelineId: number): Promise<Schedule[]> {
    return (await this.select().where('schedules.pipeline_id', '=', pipelineId).orderBy('schedules.id').execute()).map(toSchedule);
  }

  async create(pipelineId: number, fields: ScheduleFields, createdBy: number | null): Promise<Schedule> {
    const now = nowIso();
    const { id } = await this.db
      .insertInto('schedules')
      .values({ pipeline_id: pipelineId, ...columns(fields), created_by: createdBy, created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    return (await this.findById(id))!;
  }

  async update(id: number, fields: ScheduleFields): Promise<Schedule | null> {
    const result = await this.db
      .updateTable('schedules')
      .set({ ...columns(fields), updated_at: nowIso() })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1 ? this.findById(id) : null;
  }

  async delete(id: number): Promise<boolean> {
    return Number((await this.db.deleteFrom('schedules').where('id', '=', id).executeTakeFirst()).numDeletedRows) === 1;
  }

  /** Enabled schedules whose next fire time has come (the `schedules_next_fire` index). */
  async due(now: string, limit: number): Promise<Schedule[]> {
    return (
      await this.select().where('schedules.enabled', '=', 1).where('schedules.next_fire_at', '<=', now).orderBy('schedules.next_fire_at').limit(limit).execute()
    ).map(toSchedule);
  }

  /** Moves the schedule on, unless another process moved it since `from` was read. */
  async advance(id: number, from: string, checkedUntil: string, nextFireAt: string | null): Promise<boolean> {
    const result = await this.db
      .updateTable('schedules')
      .set({ checked_until: checkedUntil, next_fire_at: nextFireAt })
      .where('id', '=', id)
      .where('checked_until', '=', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Takes up to `limit` due schedules for the caller's transaction (call on `in(tx)`): one UPDATE
   * that touches nothing and returns them. PostgreSQL locks the rows until the transaction ends and
   * skips rows another transaction holds (FOR UPDATE SKIP LOCKED), re-checking a row another
   * process changed meanwhile against "due", so a schedule moved on is not taken again. `only`:
   * among these; `skip`: not these (a tick's schedules that failed alone).
   */
  async claimDue(now: string, limit: number, among: { only?: readonly number[] | null; skip?: readonly number[] } = {}): Promise<Schedule[]> {
    if (!this.db.isTransaction) throw new Error('claimDue holds its claim for a transaction: call it on schedules.in(tx)');
    const postgres = this.db.getExecutor().adapter instanceof PostgresAdapter;
    const rows = await this.db
      .updateTable('schedules')
      .set((eb) => ({ checked_until: eb.ref('checked_until') }))
      .where('id', 'in', (eb) => {
        const due = eb
          .selectFrom('schedules as due')
          .select('due.id')
          .where('due.enabled', '=', 1)
          .where('due.next_fire_at', '<=', now)
          .$if(!!among.only, (q) => q.where('due.id', 'in', [...among.only!]))
          .$if((among.skip?.length ?? 0) > 0, (q) => q.where('due.id', 'not in', [...among.skip!]))
          .orderBy('due.next_fire_at')
          .limit(limit);
        return postgres ? due.forUpdate().skipLocked() : due;
      })
      .returningAll()
      .execute();
    return rows.map((r) => toSchedule({ ...r, creator_username: null }));
  }

  /**
   * The fire times of these schedules in (`after`, `until`] that have a row already (handled
   * before; call inside the claim's transaction), as `fireKey`s.
   */
  async firesRecorded(scheduleIds: readonly number[], after: string, until: string): Promise<Set<string>> {
    if (scheduleIds.length === 0) return new Set();
    const rows = await this.db
      .selectFrom('schedule_fires')
      .select(['schedule_id', 'fire_at'])
      .where('schedule_id', 'in', [...scheduleIds])
      .where('fire_at', '>', after)
      .where('fire_at', '<=', until)
      .execute();
    return new Set(rows.map((r) => fireKey(r.schedule_id, r.fire_at)));
  }

  /**
   * Records fire times with their outcome, in one statement. A fire time recorded already fails it
   * (the unique key): the caller's transaction, with the runs it wrote, is rolled back.
   */
  async recordFires(fires: readonly NewFire[], claimedBy: string): Promise<void> {
    if (fires.length === 0) return;
    const at = nowIso();
    // A schedule may bring up to a thousand missed fire times: rows in chunks, within the databases' limits on parameters.
    for (let i = 0; i < fires.length; i += FIRES_PER_INSERT)
      await this.db
        .insertInto('schedule_fires')
        .values(
          fires.slice(i, i + FIRES_PER_INSERT).map((f) => ({
            schedule_id: f.scheduleId,
            fire_at: f.fireAt,
            outcome: f.outcome,
            run_id: f.runId,
            reason: f.reason,
            claimed_by: claimedBy,
            created_at: at,
          })),
        )
        .execute();
  }

  /**
   * Moves claimed schedules on in one statement: handled up to `checkedUntil`, each to its next
   * fire time. Throws (rolling the caller's transaction back) unless every one was moved.
   */
  async advanceMany(moves: readonly { id: number; nextFireAt: string | null }[], checkedUntil: string): Promise<void> {
    if (moves.length === 0) return;
    const result = await this.db
      .updateTable('schedules')
      .set((eb) => {
        const [first, ...rest] = moves as [(typeof moves)[0], ...typeof moves];
        let next = eb.case().when('id', '=', first.id).then(first.nextFireAt);
        for (const m of rest) next = next.when('id', '=', m.id).then(m.nextFireAt);
        return { checked_until: checkedUntil, next_fire_at: next.end() };
      })
      .where(
        'id',
        'in',
        moves.map((m) => m.id),
      )
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== moves.length) throw new Error(`moved ${Number(result.numUpdatedRows)} of ${moves.length} claimed schedules`);
  }

  async fires(scheduleId: number, limit: number): Promise<ScheduleFire[]> {
    const rows = await this.db
      .selectFrom('schedule_fires')
      .select(['fire_at', 'outcome', 'run_id', 'reason', 'created_at'])
      .where('schedule_id', '=', scheduleId)
      .orderBy('fire_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ ...r, outcome: r.outcome as FireOutcome }));
  }
}
