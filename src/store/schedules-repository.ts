/**
 * Schedules of pipelines and their fire times (migration 018). A fire time is claimed by inserting
 * its `schedule_fires` row (unique per schedule and time): with several processes looking at the
 * same due schedule, exactly one insert succeeds, so a fire time starts at most one run.
 */
import type { Kysely, Selectable } from 'kysely';
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

  /** Claims a fire time; false when another process claimed it first (or it was handled before). */
  async claimFire(scheduleId: number, fireAt: string, outcome: FireOutcome, claimedBy: string, reason: string | null = null): Promise<boolean> {
    const inserted = await this.db
      .insertInto('schedule_fires')
      .values({ schedule_id: scheduleId, fire_at: fireAt, outcome, run_id: null, reason, claimed_by: claimedBy, created_at: nowIso() })
      .onConflict((oc) => oc.columns(['schedule_id', 'fire_at']).doNothing())
      .returning('id')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  async recordFire(scheduleId: number, fireAt: string, outcome: FireOutcome, runId: number | null, reason: string | null): Promise<void> {
    await this.db
      .updateTable('schedule_fires')
      .set({ outcome, run_id: runId, reason })
      .where('schedule_id', '=', scheduleId)
      .where('fire_at', '=', fireAt)
      .execute();
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
