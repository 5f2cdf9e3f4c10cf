/**
 * The scheduler: every API process ticks it once a second. A due schedule's fire times since it
 * was last handled are split (domain/schedule.ts `dueFires`) into the one to run and the missed
 * ones. Due schedules are handled in batches, each batch in ONE transaction: the schedules are
 * claimed (store/schedules-repository.ts `claimDue`: locked on PostgreSQL, other processes take
 * the next ones), their runs written together (services/runs/trigger-run.ts `triggerRunsIn`),
 * their fire times recorded (one row per schedule and time, unique: the last guard against a fire
 * time starting two runs) and the schedules moved on. Either all of it commits or none: a batch
 * that fails leaves its schedules due, with no fire time recorded, for the next tick. Runs are
 * started as a webhook's are (no user: the schedule decides) with the trigger `scheduled`.
 */
import { randomUUID } from 'node:crypto';
import { dueFires, fireTimesBetween, nextFireTimes } from '../../domain/schedule.js';
import { fireKey, type NewFire, type Schedule, type SchedulesRepository } from '../../store/schedules-repository.js';
import type { StoreTx, Transactor } from '../../store/transaction.js';
import type { BatchOutcome, TriggerInput } from '../runs/trigger-run.js';

/** A fire time is on time while it is at most this late (beyond it, it was missed). */
export const FIRE_GRACE_MS = 60_000;
/**
 * Schedules claimed per transaction. Starting a run costs a few statements whatever the number of
 * runs written together, so a batch costs little more than one run; a batch holds its schedules
 * (and, on SQLite, the write lock) until it commits, so it stays short.
 */
export const BATCH = 100;
/** Batches per tick at most (the rest next tick, a second later). */
const MAX_BATCHES = 50;

export interface SchedulerDeps {
  schedules: SchedulesRepository;
  /** Opens the batch's transaction (store/transaction.ts). */
  transact: Transactor;
  /** Writes runs inside the batch's transaction (services/runs/trigger-run.ts `triggerRunsIn`). */
  startRuns(tx: StoreTx, inputs: readonly TriggerInput[]): Promise<{ outcomes: BatchOutcome[]; committed(): Promise<void> }>;
  now?: () => Date;
  /** Names this process in the fire times it records. */
  processId?: string;
}

export class Scheduler {
  private readonly processId: string;

  constructor(private readonly deps: SchedulerDeps) {
    this.processId = deps.processId ?? randomUUID();
  }

  /**
   * Handles the due schedules, batch by batch; returns the runs it started. A batch that fails is
   * retried one schedule at a time, so one schedule whose run cannot be written (its pipeline's
   * data, the database refusing a row) holds up no other; it stays due, and the first error is
   * thrown once the others are handled.
   */
  async tick(): Promise<number[]> {
    const now = this.deps.now?.() ?? new Date();
    const started: number[] = [];
    const failed = new Set<number>();
    const errors: unknown[] = [];
    const attempt = async (only: number[] | null): Promise<{ claimed: number[] } | { error: unknown; claimed: number[] }> => {
      let claimed: number[] = [];
      try {
        // The claimed schedules are known before anything else of the batch can fail.
        const batch = await this.deps.transact((tx) => this.batch(tx, now, only, failed, (ids) => (claimed = ids)));
        // Announced and handed to workers only once committed.
        await batch.committed();
        started.push(...batch.started);
        return { claimed };
      } catch (error) {
        return { error, claimed };
      }
    };
    for (let i = 0; i < MAX_BATCHES; i++) {
      const outcome = await attempt(null);
      if ('error' in outcome) {
        if (outcome.claimed.length === 0) {
          errors.push(outcome.error);
          break;
        }
        for (const id of outcome.claimed) {
          const alone = await attempt([id]);
          if ('error' in alone) {
            failed.add(id);
            errors.push(alone.error);
          }
        }
      } else if (outcome.claimed.length < BATCH) break;
    }
    if (errors.length > 0) throw errors[0];
    return started;
  }

  private async batch(
    tx: StoreTx,
    now: Date,
    only: number[] | null,
    skip: ReadonlySet<number>,
    onClaimed: (ids: number[]) => void,
  ): Promise<{ started: number[]; committed(): Promise<void> }> {
    const schedules = this.deps.schedules.in(tx);
    const due = await schedules.claimDue(now.toISOString(), BATCH, { only, skip: [...skip] });
    onClaimed(due.map((s) => s.id));
    const plans = due.map((schedule) => plan(schedule, now));
    // Fire times recorded before (a schedule moved back by hand, a process of an older version)
    // are not handled twice.
    const recorded = await schedules.firesRecorded(
      plans.map((p) => p.schedule.id),
      due.reduce((min, s) => (s.checked_until < min ? s.checked_until : min), now.toISOString()),
      now.toISOString(),
    );
    const fresh = (p: Plan, t: Date) => !recorded.has(fireKey(p.schedule.id, t.toISOString()));
    const fires: NewFire[] = plans.flatMap((p) =>
      p.missed
        .filter((t) => fresh(p, t))
        .map((t) => ({
          scheduleId: p.schedule.id,
          fireAt: t.toISOString(),
          outcome: 'missed' as const,
          runId: null,
          reason: 'nothing was running at this time',
        })),
    );
    const toRun = plans.filter((p): p is Plan & { run: Date } => p.run !== null && fresh(p, p.run));
    const { outcomes, committed } = await this.deps.startRuns(
      tx,
      toRun.map(({ schedule, run }) => ({
        pipelineId: schedule.pipeline_id,
        ...(schedule.branch !== null ? { branch: schedule.branch } : {}),
        ...(Object.keys(schedule.variables).length > 0 ? { variables: schedule.variables } : {}),
        trigger: { type: 'scheduled', schedule: { id: schedule.id, fire_at: run.toISOString() } },
      })),
    );
    const started: number[] = [];
    toRun.forEach(({ schedule, run }, i) => {
      const outcome = outcomes[i]!;
      const fireAt = run.toISOString();
      // A pipeline that cannot run (inactive, a branch its environment refuses): recorded, not retried.
      if ('refused' in outcome) fires.push({ scheduleId: schedule.id, fireAt, outcome: 'failed', runId: null, reason: outcome.refused.message });
      else {
        fires.push({ scheduleId: schedule.id, fireAt, outcome: 'started', runId: outcome.run.id, reason: null });
        started.push(outcome.run.id);
      }
    });
    await schedules.recordFires(fires, this.processId);
    await schedules.advanceMany(
      plans.map((p) => ({ id: p.schedule.id, nextFireAt: p.next?.toISOString() ?? null })),
      now.toISOString(),
    );
    return { started, committed };
  }
}

interface Plan {
  schedule: Schedule;
  run: Date | null;
  missed: Date[];
  next: Date | null;
}

function plan(schedule: Schedule, now: Date): Plan {
  const { times, next: after } = fireTimesBetween(schedule.cron, schedule.timezone, new Date(schedule.checked_until), now);
  const { run, missed } = dueFires(times, now, schedule.catch_up ? 'catch_up' : 'skip', FIRE_GRACE_MS);
  // The first fire time after now came with the due ones (computing one costs a millisecond: croner's time zone conversions).
  const next = after ?? nextFireTimes(schedule.cron, schedule.timezone, now, 1)[0] ?? null;
  return { schedule, run, missed, next };
}
