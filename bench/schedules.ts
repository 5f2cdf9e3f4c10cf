/**
 * 1,000 schedules firing in the same minute (issue 13, Performance): with three API processes on
 * one PostgreSQL database, each ticking its scheduler every second, they must start 1,000 runs,
 * none twice, all within 5 s of their fire time.
 *
 * Real processes from source (test/scale/support.ts): `--apis` API processes (`serve --role api`,
 * every one runs the scheduler), PostgreSQL (a fresh database) and Redis (any installation with more
 * than one process needs it), and `--workers` worker processes that run what is started (0: the
 * runs stay queued, only the scheduler is measured). Through the API: 1,000 pipelines of one
 * `true` step, then one schedule each, `M * * * *` (minute M of every hour) where M is the first
 * minute that leaves the schedules time to be written; their time zones alternate between UTC,
 * Europe/Berlin, America/New_York and Asia/Tokyo (whole-hour offsets: one instant for all).
 *
 * After the fire time the database is read directly: every run with trigger `scheduled`, its
 * schedule and fire time (from the run's own trigger, not the claim table, so a duplicate claim
 * would show), its `created_at` against the fire time (the lateness), and the `schedule_fires` rows
 * (outcome; which process claimed each).
 *
 *   [ANSFLOW_CLI_MAIN=dist/cli/main.js] node --import tsx bench/schedules.ts [--schedules 1000] [--apis 3] [--workers 0] [--no-doc]
 *
 * Prints a table and writes it into the "Schedules firing together" section of docs/benchmarks.md
 * (unless --no-doc). Exits non-zero when a run is missing or doubled, never because of a timing.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { api } from '../test/scale/support.js';
import { format, resolveConfig } from 'prettier';
import { writeDocSection } from './bench-server.js';
import { startPgCluster } from './pg-cluster.js';
import { ascending, median, percentile } from './stats.js';

const o = { schedules: 1000, apis: 3, workers: 0, writeDoc: true };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i]!;
  if (a === '--schedules') o.schedules = Number(process.argv[++i]);
  else if (a === '--apis') o.apis = Number(process.argv[++i]);
  else if (a === '--workers') o.workers = Number(process.argv[++i]);
  else if (a === '--no-doc') o.writeDoc = false;
  else throw new Error(`unknown argument ${a}`);
}

const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo'];
const TARGET_S = 5;
const problems: string[] = [];

/** CPU time (user + system) a process used so far, in ms (Linux: /proc/PID/stat, in clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Runs `work(i)` for i in [0, count) with `parallel` requests in flight. */
async function inParallel(count: number, parallel: number, work: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

async function main() {
  const { cluster, client, bases, token, printOutputs, stop } = await startPgCluster({ apis: o.apis, workers: o.workers });
  try {
    let t0 = Date.now();
    const pipelines: number[] = new Array<number>(o.schedules);
    await inParallel(o.schedules, 8, async (i) => {
      const r = await api(bases[i % bases.length]!, 'POST', '/api/pipelines/', token, {
        name: `scheduled-${String(i).padStart(4, '0')}`,
        steps: [{ name: 's', type: 'shell_command', config: { command: 'true' } }],
      });
      if (r.status !== 201) throw new Error(`create pipeline: ${r.status} ${r.text}`);
      pipelines[i] = r.json.id as number;
    });
    const pipelinesS = (Date.now() - t0) / 1000;

    // The fire minute: far enough ahead for the schedules to be written (they cost about what the
    // pipelines did) with 25 s to spare (8 of them measure the idle CPU), so none is created after its own fire time.
    const fireAt = new Date(Math.ceil((Date.now() + pipelinesS * 2000 + 25_000) / 60_000) * 60_000);
    const cron = `${fireAt.getUTCMinutes()} * * * *`;
    console.log(`${o.schedules} pipelines in ${pipelinesS.toFixed(1)} s; schedules "${cron}" fire at ${fireAt.toISOString()}`);
    t0 = Date.now();
    await inParallel(o.schedules, 8, async (i) => {
      const r = await api(bases[i % bases.length]!, 'POST', `/api/pipelines/${pipelines[i]}/schedules/`, token, {
        cron,
        timezone: ZONES[i % ZONES.length],
      });
      if (r.status !== 201) throw new Error(`create schedule: ${r.status} ${r.text}`);
      if (r.json.next_fire_times[0] !== fireAt.toISOString())
        throw new Error(`schedule ${r.json.id} fires first at ${r.json.next_fire_times[0]}, not ${fireAt.toISOString()}`);
    });
    const schedulesS = (Date.now() - t0) / 1000;
    if (Date.now() > fireAt.getTime() - 2000) throw new Error(`the schedules were written too late for ${fireAt.toISOString()}; try again`);
    const loadBefore = loadavg()[0]!;
    // The API processes' CPU time from shortly before the fire time to the last fire handled:
    // on a busy machine wall times stretch with the load, CPU time per fire much less.
    // What they use idle (ticking, polling) is measured over the 8 s before and taken off.
    const pids = cluster.apis.map((p) => p.pid);
    const cpuNow = () => pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
    while (Date.now() < fireAt.getTime() - 11_000) await new Promise((r) => setTimeout(r, 200));
    const idleStart = Date.now();
    const idleCpu = cpuNow();
    while (Date.now() < fireAt.getTime() - 3000) await new Promise((r) => setTimeout(r, 200));
    const cpuBefore = cpuNow();
    const windowStart = Date.now();
    const idlePerS = (cpuBefore - idleCpu) / ((windowStart - idleStart) / 1000);
    console.log(`${o.schedules} schedules in ${schedulesS.toFixed(1)} s; waiting for the fire time (load ${loadBefore.toFixed(2)})`);

    // Every fire time handled (a run or a recorded failure), or 90 s past the fire time.
    const count = async (sql: string) => Number((await client.query(sql)).rows[0].n);
    while (Date.now() < fireAt.getTime() + 90_000) {
      if ((await count(`SELECT count(*) AS n FROM schedule_fires WHERE outcome <> 'started' OR run_id IS NOT NULL`)) >= o.schedules) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const loadAfter = loadavg()[0]!;
    const windowS = (Date.now() - windowStart) / 1000;
    const cpuPerFire = (cpuNow() - cpuBefore - idlePerS * windowS) / o.schedules;

    const runs = (await client.query(`SELECT id, pipeline_id, trigger, created_at FROM pipeline_runs WHERE trigger_type = 'scheduled'`)).rows as {
      id: number;
      trigger: string;
      created_at: string;
    }[];
    const perFire = new Map<string, number>();
    const lateness: number[] = [];
    for (const run of runs) {
      const trigger = JSON.parse(run.trigger) as { schedule: { id: number; fire_at: string } };
      const key = `${trigger.schedule.id}@${trigger.schedule.fire_at}`;
      perFire.set(key, (perFire.get(key) ?? 0) + 1);
      lateness.push(Date.parse(run.created_at) - Date.parse(trigger.schedule.fire_at));
    }
    const doubled = [...perFire.values()].filter((n) => n > 1).length;
    const fires = (await client.query(`SELECT outcome, claimed_by, count(*)::int AS n FROM schedule_fires GROUP BY outcome, claimed_by`)).rows as {
      outcome: string;
      claimed_by: string;
      n: number;
    }[];
    const outcomes = new Map<string, number>();
    for (const f of fires) outcomes.set(f.outcome, (outcomes.get(f.outcome) ?? 0) + f.n);
    const byProcess = ascending(fires.filter((f) => f.outcome === 'started').map((f) => f.n)).reverse();
    const sorted = ascending(lateness);
    const within = lateness.filter((ms) => ms <= TARGET_S * 1000).length;
    if (runs.length !== o.schedules) problems.push(`${runs.length} scheduled runs for ${o.schedules} schedules`);
    if (perFire.size !== o.schedules) problems.push(`${o.schedules - perFire.size} schedule(s) started no run`);
    if (doubled > 0) problems.push(`${doubled} fire time(s) started more than one run`);
    for (const [outcome, n] of outcomes) if (outcome !== 'started') problems.push(`${n} fire time(s) recorded ${outcome}`);

    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const lines = [
      `Measured ${new Date().toISOString().slice(0, 10)} with \`${process.env.ANSFLOW_CLI_MAIN ? `ANSFLOW_CLI_MAIN=${process.env.ANSFLOW_CLI_MAIN} ` : ''}node --import tsx bench/schedules.ts --schedules ${o.schedules} --apis ${o.apis} --workers ${o.workers}\`: ${o.apis} API processes (each ticks its scheduler every second) and ${o.workers} worker process(es) ${process.env.ANSFLOW_CLI_MAIN ? 'from the build' : 'from source'}, PostgreSQL and Redis on this machine; ${availableParallelism()} cores, ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}; load average (1 min) ${loadBefore.toFixed(2)} before the fire time, ${loadAfter.toFixed(2)} after.`,
      '',
      "| schedules | runs started | fire times with 2+ runs | median late | p99 late | max late | within 5 s | runs started per process | API processes' CPU per fire |",
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
      `| ${o.schedules} | ${runs.length} | ${doubled} | ${s(median(lateness))} | ${s(percentile(sorted, 99))} | ${s(sorted.at(-1) ?? NaN)} | ${within} / ${o.schedules} | ${byProcess.join(' / ')} | ${cpuPerFire.toFixed(1)} ms |`,
      '',
      `Late = the run row's \`created_at\` minus its fire time (both in the run's \`trigger\`); "with 2+ runs" counts fire times (schedule, instant) that more than one run names. CPU per fire = the ${o.apis} API processes' user + system time from 3 s before the fire time until every fire was handled (${windowS.toFixed(1)} s), less what they use idle (${idlePerS.toFixed(0)} ms per second, measured over the 8 s before), divided by the schedules; PostgreSQL's and Redis' own CPU not included. Starting ${o.schedules.toLocaleString('en-US')} runs within 5 s on ${availableParallelism()} cores needs at most ${((availableParallelism() * 5000) / o.schedules).toFixed(0)} ms of CPU per fire for everything (processes, PostgreSQL, Redis), with the cores to itself.`,
    ];
    if (problems.length > 0) lines.push('', `Problems: ${problems.join('; ')}`);
    const table = lines.join('\n');
    console.log(`\n${table}\n`);
    if (o.writeDoc) writeDocSection('## Schedules firing together (bench/schedules.ts)', 'bench/schedules.ts', await forDoc(table));
  } catch (error) {
    printOutputs();
    throw error;
  } finally {
    await stop();
  }
  if (problems.length > 0) {
    console.error(`bench/schedules.ts: something broke:\n  - ${problems.join('\n  - ')}`);
    process.exitCode = 1;
  }
}

/** The block formatted as prettier formats docs/benchmarks.md (aligned tables, a blank line after the start marker), so the doc stays lint-clean. */
async function forDoc(text: string): Promise<string> {
  const doc = join(import.meta.dirname, '..', 'docs', 'benchmarks.md');
  return `\n${(await format(text, { ...(await resolveConfig(doc)), parser: 'markdown' })).trimEnd()}`;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
