/**
 * Schedules against the real server and database: the API (bad input named by field, next five
 * fire times, permissions, audit); the scheduler with a controllable clock (daylight saving fires
 * once at the right instant, missed fire times skipped or caught up once, runs show `scheduled`);
 * and three schedulers over three PostgreSQL connection pools firing the same minute: every fire
 * time starts exactly one run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, type Harness } from '../support/api-harness.js';
import { Scheduler, type SchedulerDeps } from '../../src/services/schedules/scheduler.js';
import { transactor } from '../../src/store/transaction.js';
import { createTestDatabase } from '../support/postgres.js';
import { loadConfig } from '../../src/config.js';
import { createContext, type AppContext } from '../../src/runtime/context.js';
import { createLogger } from '../../src/runtime/logger.js';

const iso = (s: string) => new Date(s).toISOString();

describe('schedules', () => {
  let h: Harness;
  let admin: string;
  let pipelineId: number;

  before(async () => {
    h = await startApi();
    admin = await h.login();
    const p = await h.request('POST', '/api/pipelines/', {
      token: admin,
      body: { name: 'nightly', steps: [{ name: 's', type: 'shell_command', config: { command: 'true' } }] },
    });
    pipelineId = p.json.id;
  });
  after(() => h?.close());

  const runsOf = (scheduleId: number) => scheduledRuns(h.ctx, scheduleId);

  test('bad input is refused naming the field; a good schedule answers its next five fire times', async () => {
    const bad = async (body: Record<string, unknown>, field: string, why: RegExp) => {
      const r = await h.request('POST', `/api/pipelines/${pipelineId}/schedules/`, { token: admin, body });
      assert.equal(r.status, 400, r.text);
      assert.match(r.json.error.details[field]?.[0] ?? '', why, JSON.stringify(body));
    };
    await bad({ cron: '* * * * * *' }, 'cron', /Seconds are not allowed/);
    await bad({ cron: '0 0 30 2 *' }, 'cron', /never fires/);
    await bad({ cron: '0 9 * * *', timezone: 'Mars/Olympus_Mons' }, 'timezone', /Unknown time zone/);
    await bad({ cron: '0 9 * * *', branch: 'a..b' }, 'branch', /./);
    await bad({ cron: '0 9 * * *', variables: { LD_PRELOAD: 'x' } }, 'variables.LD_PRELOAD', /./);
    const made = await h.request('POST', `/api/pipelines/${pipelineId}/schedules/`, {
      token: admin,
      body: { cron: '0 9 * * 1-5', timezone: 'Europe/Berlin', variables: { TARGET: 'nightly' } },
    });
    assert.equal(made.status, 201, made.text);
    assert.equal(made.json.next_fire_times.length, 5);
    for (const t of made.json.next_fire_times) assert.match(new Date(t).toLocaleString('en-GB', { timeZone: 'Europe/Berlin' }), /09:00:00/);
    const listed = await h.request('GET', `/api/pipelines/${pipelineId}/schedules/`, { token: admin });
    assert.ok(listed.json.some((s: { id: number }) => s.id === made.json.id));
    const put = await h.request('PUT', `/api/pipelines/${pipelineId}/schedules/${made.json.id}/`, { token: admin, body: { cron: '@daily', enabled: false } });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.json.next_fire_times, [], 'a disabled schedule fires never');
    const audit = await h.request('GET', `/api/audit-events/?target_type=schedule&target_id=${made.json.id}`, { token: admin });
    assert.deepEqual(audit.json.results.map((e: { action: string }) => e.action).sort(), ['schedule.create', 'schedule.update']);
    assert.equal((await h.request('DELETE', `/api/pipelines/${pipelineId}/schedules/${made.json.id}/`, { token: admin })).status, 204);
    assert.equal((await h.request('DELETE', `/api/pipelines/${pipelineId}/schedules/${made.json.id}/`, { token: admin })).status, 404);
  });

  test('a schedule that fires for real starts a run (the API process ticks every second)', async () => {
    const made = await h.request('POST', `/api/pipelines/${pipelineId}/schedules/`, { token: admin, body: { cron: '* * * * *', catch_up: true } });
    const s = (await h.ctx.delivery.repos.schedules.findById(made.json.id))!;
    // As if it had been created two minutes ago: its last fire time is due now.
    const from = new Date(Date.now() - 120_000);
    const { nextFireTimes } = await import('../../src/domain/schedule.js');
    await h.ctx.delivery.repos.schedules.advance(s.id, s.checked_until, from.toISOString(), nextFireTimes(s.cron, 'UTC', from, 1)[0]!.toISOString());
    const deadline = Date.now() + 10_000;
    let runs: Awaited<ReturnType<typeof runsOf>> = [];
    while (Date.now() < deadline && runs.length === 0) {
      runs = await runsOf(s.id);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(runs.length, 1);
  });
});

/** A context's scheduler (as an API process builds it) with the test's clock. */
function schedulerOf(ctx: AppContext, now: () => Date, startRuns: SchedulerDeps['startRuns'] = (tx, inputs) => ctx.runs.triggerIn(tx, inputs)) {
  return new Scheduler({ schedules: ctx.delivery.repos.schedules, transact: transactor(ctx.db.kysely), startRuns, now });
}

/** The scheduled runs of a schedule, oldest first. */
async function scheduledRuns(ctx: AppContext, scheduleId: number) {
  return (await ctx.db.kysely.selectFrom('pipeline_runs').select(['id', 'trigger']).where('trigger_type', '=', 'scheduled').orderBy('id').execute())
    .map((r) => ({ id: r.id, trigger: JSON.parse(r.trigger) as { type: string; schedule: { id: number; fire_at: string } } }))
    .filter((r) => r.trigger.schedule.id === scheduleId);
}

/**
 * The scheduler with a clock the test moves, over a context that serves nothing (so no scheduler
 * of a server ticks with the real clock beside it).
 */
describe('the scheduler, with a controllable clock', () => {
  let ctx: AppContext;
  let dir: string;
  let pipelineId: number;
  const admin = { id: 1, username: 'admin', role: 'admin' as const };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ansflow-sched-clock-'));
    ctx = await createContext(loadConfig({ NODE_ENV: 'test', ANSFLOW_DATA_DIR: dir }), createLogger('warn'));
    await ctx.users.ensureAdmin('admin123');
    pipelineId = (await ctx.pipelines.create(admin, { name: 'nightly', steps: [{ name: 's', type: 'shell_command', config: { command: 'true' } }] })).id;
  });
  after(async () => {
    await ctx?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const runsOf = (scheduleId: number) => scheduledRuns(ctx, scheduleId);
  const clocked = (start: string) => {
    let now = new Date(start);
    const scheduler = schedulerOf(ctx, () => now);
    return { scheduler, set: (t: string) => (now = new Date(t)) };
  };
  /** A schedule as if created at `at` (it counts from then). */
  const scheduleAt = async (at: string, body: { cron: string; timezone?: string; catch_up?: boolean }) => {
    const made = await ctx.delivery.schedules.create(admin, pipelineId, body);
    const { nextFireTimes } = await import('../../src/domain/schedule.js');
    const next = nextFireTimes(made.cron, made.timezone, new Date(at), 1)[0]!.toISOString();
    assert.ok(await ctx.delivery.repos.schedules.advance(made.id, made.checked_until, iso(at), next));
    return made.id;
  };

  test('daylight saving: a missing time fires once after the gap, a repeated time fires once (ticking every 10 minutes)', async () => {
    const id = await scheduleAt('2026-03-28T12:00:00Z', { cron: '30 2 * * *', timezone: 'Europe/Berlin' });
    const clock = clocked('2026-03-28T12:00:00Z');
    for (let t = Date.parse('2026-03-28T12:00:00Z'); t <= Date.parse('2026-03-30T12:00:00Z'); t += 10 * 60_000) {
      clock.set(new Date(t).toISOString());
      await clock.scheduler.tick();
    }
    assert.deepEqual(
      (await runsOf(id)).map((r) => r.trigger.schedule.fire_at),
      ['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z'],
    );

    const fall = await scheduleAt('2026-10-24T12:00:00Z', { cron: '30 2 * * *', timezone: 'Europe/Berlin' });
    for (let t = Date.parse('2026-10-24T12:00:00Z'); t <= Date.parse('2026-10-25T12:00:00Z'); t += 10 * 60_000) {
      clock.set(new Date(t).toISOString());
      await clock.scheduler.tick();
    }
    assert.deepEqual(
      (await runsOf(fall)).map((r) => r.trigger.schedule.fire_at),
      ['2026-10-25T00:30:00.000Z'],
      '02:30 happens twice that night and fires once',
    );
    assert.equal((await runsOf(fall))[0]!.trigger.type, 'scheduled');
  });

  test('fire times missed while nothing ran are skipped and recorded, or with catch_up run once', async () => {
    const skip = await scheduleAt('2026-05-01T00:00:30Z', { cron: '0 * * * *' });
    const catchUp = await scheduleAt('2026-05-01T00:00:30Z', { cron: '0 * * * *', catch_up: true });
    const clock = clocked('2026-05-01T03:30:00Z');
    await clock.scheduler.tick();
    assert.equal((await runsOf(skip)).length, 0);
    const skipped = (await ctx.delivery.schedules.list(admin, pipelineId)).find((s) => s.id === skip)!;
    assert.deepEqual(
      skipped.recent_fires.map((f) => `${f.fire_at} ${f.outcome}`),
      ['2026-05-01T03:00:00.000Z missed', '2026-05-01T02:00:00.000Z missed', '2026-05-01T01:00:00.000Z missed'],
    );
    assert.deepEqual(
      (await runsOf(catchUp)).map((r) => r.trigger.schedule.fire_at),
      ['2026-05-01T03:00:00.000Z'],
      'one run catches up',
    );
    await clock.scheduler.tick();
    assert.equal((await runsOf(catchUp)).length, 1, 'a second tick starts nothing more');
  });
});

/**
 * The scheduler's batches on SQLite: two schedulers of one process ticking at once, more schedules
 * than a batch, a refused pipeline beside the others, and a batch whose runs cannot be written
 * (nothing of it recorded; the schedules stay due and start once later).
 */
describe('the scheduler in batches (SQLite)', () => {
  let ctx: AppContext;
  let dir: string;
  const admin = { id: 1, username: 'admin', role: 'admin' as const };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ansflow-sched-batch-'));
    ctx = await createContext(loadConfig({ NODE_ENV: 'test', ANSFLOW_DATA_DIR: dir }), createLogger('warn'));
    await ctx.users.ensureAdmin('admin123');
  });
  after(async () => {
    await ctx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `count` schedules firing every five minutes, due at 10:00 on `day`, over `pipelines` pipelines. */
  const dueSchedules = async (day: string, count: number, pipelines: number) => {
    const made: { id: number; pipelineId: number }[] = [];
    const ps: number[] = [];
    for (let i = 0; i < pipelines; i++)
      ps.push(
        (await ctx.pipelines.create(admin, { name: `batch-${day}-${i}`, steps: [{ name: 's', type: 'shell_command', config: { command: 'true' } }] })).id,
      );
    for (let i = 0; i < count; i++) {
      const pipelineId = ps[i % ps.length]!;
      const s = await ctx.delivery.schedules.create(admin, pipelineId, { cron: '*/5 * * * *' });
      assert.ok(await ctx.delivery.repos.schedules.advance(s.id, s.checked_until, `${day}T09:59:30.000Z`, `${day}T10:00:00.000Z`));
      made.push({ id: s.id, pipelineId });
    }
    return made;
  };
  const firesOf = async (ids: number[]) =>
    ctx.db.kysely.selectFrom('schedule_fires').select(['schedule_id', 'fire_at', 'outcome', 'run_id', 'reason']).where('schedule_id', 'in', ids).execute();

  test('two schedulers ticking at once over more schedules than a batch: every fire time starts exactly one run; a refused pipeline is recorded failed', async () => {
    const made = await dueSchedules('2026-07-01', 130, 40);
    const inactive = made[0]!.pipelineId;
    await ctx.db.kysely.updateTable('pipelines').set({ status: 'inactive' }).where('id', '=', inactive).execute();
    const now = () => new Date('2026-07-01T10:00:01Z');
    const started = (await Promise.all([schedulerOf(ctx, now).tick(), schedulerOf(ctx, now).tick()])).flat();
    const refused = made.filter((m) => m.pipelineId === inactive).map((m) => m.id);
    assert.equal(started.length, made.length - refused.length);
    assert.equal(new Set(started).size, started.length);
    for (const m of made) {
      const runs = await scheduledRuns(ctx, m.id);
      assert.equal(runs.length, refused.includes(m.id) ? 0 : 1, `schedule ${m.id}`);
      if (runs[0]) assert.equal(runs[0].trigger.schedule.fire_at, '2026-07-01T10:00:00.000Z');
    }
    const fires = await firesOf(made.map((m) => m.id));
    assert.equal(fires.length, made.length, 'one fire row per schedule');
    for (const f of fires) {
      if (refused.includes(f.schedule_id))
        assert.deepEqual([f.outcome, f.run_id, f.reason], ['failed', null, 'The pipeline is inactive; activate it to run it']);
      else assert.ok(f.outcome === 'started' && f.run_id !== null && started.includes(f.run_id));
    }
    // Several runs of one pipeline written together are numbered apart, and the pipeline shows its newest.
    const runsOf = await ctx.db.kysely.selectFrom('pipeline_runs').select(['id', 'pipeline_id', 'number']).where('id', 'in', started).execute();
    const byPipeline = new Map<number, { id: number; number: number }[]>();
    for (const r of runsOf) byPipeline.set(r.pipeline_id!, [...(byPipeline.get(r.pipeline_id!) ?? []), r]);
    for (const [pipelineId, runs] of byPipeline) {
      assert.deepEqual(
        runs.map((r) => r.number).sort((a, b) => a - b),
        runs.map((_, i) => i + 1),
        `pipeline ${pipelineId}`,
      );
      const newest = runs.reduce((a, b) => (b.id > a.id ? b : a));
      assert.equal((await ctx.pipelines.get(admin, pipelineId)).last_run?.id ?? null, newest.id);
    }
    const audit = await ctx.db.kysely.selectFrom('audit_events').select('target_id').where('action', '=', 'run.trigger').execute();
    for (const id of started)
      assert.ok(
        audit.some((a) => a.target_id === String(id)),
        `run ${id} audited`,
      );
    // Moved on: the next tick at the same instant starts nothing.
    assert.deepEqual(await schedulerOf(ctx, now).tick(), []);
  });

  // (A day before the other test's: its schedules are not due here.)
  test('a batch whose runs cannot be written records nothing: its schedules stay due and start once later', async () => {
    const made = await dueSchedules('2026-06-30', 5, 5);
    const ids = made.map((m) => m.id);
    const now = () => new Date('2026-06-30T10:00:01Z');
    const real: SchedulerDeps['startRuns'] = (tx, inputs) => ctx.runs.triggerIn(tx, inputs);
    // The database fails while the batch writes (after its runs went in): the whole batch, and each schedule alone.
    const failing: SchedulerDeps['startRuns'] = async (tx, inputs) => {
      await real(tx, inputs);
      throw new Error('connection lost');
    };
    await assert.rejects(schedulerOf(ctx, now, failing).tick(), /connection lost/);
    assert.deepEqual(await firesOf(ids), [], 'no fire time recorded');
    for (const id of ids) assert.deepEqual(await scheduledRuns(ctx, id), [], 'no run left behind');
    for (const id of ids) assert.equal((await ctx.delivery.repos.schedules.findById(id))!.next_fire_at, '2026-06-30T10:00:00.000Z', 'still due');

    // One schedule whose run cannot be written holds up no other.
    const poisoned = made[2]!;
    const poisoning: SchedulerDeps['startRuns'] = async (tx, inputs) => {
      if (inputs.some((i) => i.pipelineId === poisoned.pipelineId)) throw new Error('bad row');
      return real(tx, inputs);
    };
    await assert.rejects(schedulerOf(ctx, now, poisoning).tick(), /bad row/);
    for (const m of made) assert.equal((await scheduledRuns(ctx, m.id)).length, m === poisoned ? 0 : 1, `schedule ${m.id}`);
    assert.deepEqual(await firesOf([poisoned.id]), []);

    const later = () => new Date('2026-06-30T10:00:20Z');
    await schedulerOf(ctx, later).tick();
    for (const m of made) assert.equal((await scheduledRuns(ctx, m.id)).length, 1, `schedule ${m.id} ran once`);
    const fires = await firesOf(ids);
    assert.deepEqual(
      fires.map((f) => `${f.fire_at} ${f.outcome}`),
      ids.map(() => '2026-06-30T10:00:00.000Z started'),
    );
  });
});

describe('several schedulers, one database (PostgreSQL)', () => {
  test('three schedulers over three connection pools: every fire time of 150 schedules (more than a batch each) starts exactly one run', async () => {
    const pg = await createTestDatabase();
    if (!pg) return;
    const dirs: string[] = [];
    const contexts: AppContext[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const dir = mkdtempSync(join(tmpdir(), 'ansflow-sched-'));
        dirs.push(dir);
        const config = loadConfig({ NODE_ENV: 'test', ANSFLOW_DATA_DIR: dir, ANSFLOW_DATABASE_URL: pg.url, ANSFLOW_SECRET_KEY: 'k'.repeat(43) + '=' });
        contexts.push(await createContext(config, createLogger('warn')));
      }
      const [first] = contexts;
      await first!.users.ensureAdmin('admin123');
      const admin = { id: 1, username: 'admin', role: 'admin' as const };
      const pipelines: number[] = [];
      for (let i = 0; i < 10; i++)
        pipelines.push(
          (await first!.pipelines.create(admin, { name: `many-${i}`, steps: [{ name: 's', type: 'shell_command', config: { command: 'true' } }] })).id,
        );
      const ids: number[] = [];
      for (let i = 0; i < 150; i++) {
        const s = await first!.delivery.schedules.create(admin, pipelines[i % 10]!, { cron: '*/5 * * * *' });
        await first!.delivery.repos.schedules.advance(s.id, s.checked_until, '2026-06-01T09:59:30.000Z', '2026-06-01T10:00:00.000Z');
        ids.push(s.id);
      }
      const now = new Date('2026-06-01T10:00:01Z');
      const schedulers = contexts.map((c) => schedulerOf(c, () => now));
      const started = (await Promise.all(schedulers.map((s) => s.tick()))).flat();
      assert.equal(started.length, 150, 'each fire time started one run, whichever process claimed it');
      const rows = await first!.db.kysely.selectFrom('pipeline_runs').select('trigger').where('trigger_type', '=', 'scheduled').execute();
      const perSchedule = new Map<number, number>();
      for (const r of rows) {
        const id = (JSON.parse(r.trigger) as { schedule: { id: number } }).schedule.id;
        perSchedule.set(id, (perSchedule.get(id) ?? 0) + 1);
      }
      assert.deepEqual([...perSchedule.values()].sort(), new Array(150).fill(1));
      assert.deepEqual(
        [...perSchedule.keys()].sort((a, b) => a - b),
        ids,
      );
      const claimedBy = await first!.db.kysely.selectFrom('schedule_fires').select('claimed_by').distinct().execute();
      assert.ok(claimedBy.length >= 1);
      // Runs of one pipeline written by several processes at once are numbered apart.
      const numbers = await first!.db.kysely.selectFrom('pipeline_runs').select(['pipeline_id', 'number']).execute();
      for (const p of pipelines)
        assert.deepEqual(
          numbers
            .filter((n) => n.pipeline_id === p)
            .map((n) => n.number)
            .sort((a, b) => a - b),
          Array.from({ length: 15 }, (_, i) => i + 1),
        );
    } finally {
      for (const c of contexts) await c.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
      await pg.drop();
    }
  });
});
