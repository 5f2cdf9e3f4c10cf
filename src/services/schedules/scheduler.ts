/**
 * The scheduler: every API process ticks it once a second. A due schedule's fire times since it
 * was last handled are split (domain/schedule.ts `dueFires`) into the one to run and the missed
 * ones; each is claimed by inserting its `schedule_fires` row, so with several processes a fire
 * time starts exactly one run, and a missed one is recorded once. A process fires several due
 * schedules at once (CONCURRENCY). Runs are started as a webhook's
 * are (no user: the schedule decides) with the trigger `scheduled`.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../../domain/errors.js';
import { dueFires, fireTimesBetween, nextFireTimes } from '../../domain/schedule.js';
import type { Schedule, SchedulesRepository } from '../../store/schedules-repository.js';
import type { TriggerInput } from '../runs/trigger-run.js';

/** A fire time is on time while it is at most this late (beyond it, it was missed). */
export const FIRE_GRACE_MS = 60_000;
/** Schedules handled per tick (the rest next tick, a second later). */
const BATCH = 2000;
/**
 * Fire times handled at once per process. Firing one is mostly waiting for the database (claim,
 * the run's transaction, the bookkeeping): one after another, 1,000 schedules due in the same
 * minute took 23 s (median) to start on three processes; the pool has 10 connections, so 8 leave
 * room for the API's requests.
 */
const CONCURRENCY = 8;

export interface SchedulerDeps {
  schedules: SchedulesRepository;
  trigger(input: TriggerInput): Promise<{ id: number }>;
  now?: () => Date;
  /** Names this process in the claims it writes. */
  processId?: string;
}

export class Scheduler {
  private readonly processId: string;

  constructor(private readonly deps: SchedulerDeps) {
    this.processId = deps.processId ?? randomUUID();
  }

  /** One pass over the due schedules; returns the runs it started. */
  async tick(): Promise<number[]> {
    const now = this.deps.now?.() ?? new Date();
    const due = await this.deps.schedules.due(now.toISOString(), BATCH);
    // Every process reads the same list: each starts at its own random place in it, so they
    // mostly fire different schedules and meet (a lost claim, two cheap statements) rarely.
    const from = Math.floor(Math.random() * due.length);
    const order = [...due.slice(from), ...due.slice(0, from)];
    const started: number[] = [];
    const errors: unknown[] = [];
    let next = 0;
    const lane = async () => {
      while (next < order.length) {
        const schedule = order[next++]!;
        try {
          const runId = await this.fire(schedule, now);
          if (runId !== null) started.push(runId);
        } catch (error) {
          errors.push(error); // this schedule is due again next tick; the others go on
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, order.length) }, lane));
    if (errors.length > 0) throw errors[0];
    return started;
  }

  private async fire(schedule: Schedule, now: Date): Promise<number | null> {
    const { schedules } = this.deps;
    const { times, next: after } = fireTimesBetween(schedule.cron, schedule.timezone, new Date(schedule.checked_until), now);
    const { run, missed } = dueFires(times, now, schedule.catch_up ? 'catch_up' : 'skip', FIRE_GRACE_MS);
    for (const time of missed) await schedules.claimFire(schedule.id, time.toISOString(), 'missed', this.processId, 'nothing was running at this time');
    let runId: number | null = null;
    if (run && (await schedules.claimFire(schedule.id, run.toISOString(), 'started', this.processId))) {
      try {
        runId = (
          await this.deps.trigger({
            pipelineId: schedule.pipeline_id,
            ...(schedule.branch !== null ? { branch: schedule.branch } : {}),
            ...(Object.keys(schedule.variables).length > 0 ? { variables: schedule.variables } : {}),
            trigger: { type: 'scheduled', schedule: { id: schedule.id, fire_at: run.toISOString() } },
          })
        ).id;
        await schedules.recordFire(schedule.id, run.toISOString(), 'started', runId, null);
      } catch (error) {
        // The pipeline cannot run (inactive, a branch its environment refuses): recorded, not retried.
        if (!(error instanceof AppError)) throw error;
        await schedules.recordFire(schedule.id, run.toISOString(), 'failed', null, error.message);
      }
    }
    // The first fire time after now came with the due ones (computing one costs a millisecond: croner's time zone conversions).
    const next = after ?? nextFireTimes(schedule.cron, schedule.timezone, now, 1)[0] ?? null;
    await schedules.advance(schedule.id, schedule.checked_until, now.toISOString(), next?.toISOString() ?? null);
    return runId;
  }
}
