/**
 * The retention sweeper at work (issue 15, Performance): while it deletes 100,000 expired runs,
 * do trigger → first step and the list API's p99 stay within 1.5x of the same server quiet?
 *
 * The real server as a child process (SQLite, or PostgreSQL with `--db postgres`), the sweeper
 * looking every second (ANSFLOW_RETENTION_SWEEP_SECONDS=1) with the default batch (100 runs) and
 * pause. Set-up: pipeline `old` gets `--runs` finished runs (straight inserts, two step rows each,
 * dated a year back) and a small log file each, as the file log store writes it; pipeline `live`
 * has one `true` step. Two client loops run side by side, each sequential:
 *   - runs: trigger `live`, wait for the run to end, record trigger → the step's `started_at`
 *     (this process' clock before the POST; same machine);
 *   - list: GET /api/pipeline-runs/ (first page) as fast as it answers, recording each latency.
 * Phase `quiet`: `--rounds` runs with nothing to sweep. Phase `sweep`: PUT `old`'s retention to
 * keep 10 runs; the sweeper's next look starts removing; both loops go on until `old` is down to
 * 10 runs (its pipeline's run list `count`). The table compares the phases.
 *
 *   node --import tsx bench/sweeper.ts [--runs 100000] [--rounds 30] [--db sqlite,postgres] [--no-doc]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openDb } from '../src/store/db.js';
import { seedRuns } from '../test/support/history-seed.js';
import { startBenchServer, writeDocSection, type BenchServer } from './bench-server.js';
import { ascending, median, percentile } from './stats.js';

type Dialect = 'sqlite' | 'postgres';
const PG_ADMIN = process.env.ANSFLOW_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const TARGET = 1.5;
const KEEP = 10;

const o = { runs: 100_000, rounds: 30, dbs: ['sqlite'] as Dialect[], writeDoc: true };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--runs') o.runs = Number(process.argv[++i]);
  else if (a === '--rounds') o.rounds = Number(process.argv[++i]);
  else if (a === '--db') o.dbs = process.argv[++i]!.split(',') as Dialect[];
  else if (a === '--no-doc') o.writeDoc = false;
  else throw new Error(`unknown argument ${a}`);
}

const FINAL = new Set(['success', 'failed', 'cancelled', 'timeout', 'error']);

async function call(server: BenchServer, token: string, method: string, path: string, body?: unknown): Promise<any> {
  const init: RequestInit = {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  };
  let r: Response;
  try {
    r = await fetch(server.apiUrl + path, init);
  } catch {
    // After the long fill a kept-alive connection the server has since closed fails on first use (EPIPE).
    r = await fetch(server.apiUrl + path, init);
  }
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

interface Samples {
  toFirstStep: number[];
  list: number[];
}

/** Both client loops until `done()` says stop (checked between requests) and at least `minRuns` runs were timed. */
async function measure(server: BenchServer, token: string, live: number, done: () => boolean, minRuns: number): Promise<Samples> {
  const samples: Samples = { toFirstStep: [], list: [] };
  let stop = false;
  const runs = (async () => {
    while (!stop) {
      const t0 = Date.now();
      const run = await call(server, token, 'POST', `/api/pipelines/${live}/run/`, {});
      let detail = run;
      while (!FINAL.has(detail.status)) {
        await new Promise((r) => setTimeout(r, 25));
        detail = await call(server, token, 'GET', `/api/pipeline-runs/${run.id}/`);
      }
      if (detail.status !== 'success') throw new Error(`run ${run.id} ended ${detail.status}: ${detail.error_reason}`);
      samples.toFirstStep.push(Date.parse(detail.steps[0].started_at) - t0);
      if (samples.toFirstStep.length >= minRuns && done()) stop = true;
    }
  })();
  const list = (async () => {
    while (!stop) {
      const t0 = process.hrtime.bigint();
      await call(server, token, 'GET', '/api/pipeline-runs/');
      samples.list.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  })();
  try {
    await runs;
  } finally {
    stop = true;
    await list;
  }
  return samples;
}

async function bench(dialect: Dialect) {
  let databaseUrl: string | null = null;
  const name = 'ansflow_bench_sweeper';
  if (dialect === 'postgres') {
    const admin = new pg.Client({ connectionString: PG_ADMIN });
    await admin.connect();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.query(`create database ${name}`);
    await admin.end();
    databaseUrl = PG_ADMIN.replace(/\/[^/]*$/, `/${name}`);
  }
  const server = await startBenchServer({
    ANSFLOW_RETENTION_SWEEP_SECONDS: '1',
    ANSFLOW_WORKSPACE_RETENTION_HOURS: '0',
    ...(databaseUrl ? { ANSFLOW_DATABASE_URL: databaseUrl } : {}),
  });
  try {
    const token = await server.login();
    const project = (await call(server, token, 'POST', '/api/projects/', { name: 'sweeper' })).id as number;
    const old = (
      await call(server, token, 'POST', '/api/pipelines/', { name: 'old', project, steps: [{ name: 's', type: 'shell_command', config: { command: 'true' } }] })
    ).id as number;
    const live = (
      await call(server, token, 'POST', '/api/pipelines/', {
        name: 'live',
        project,
        steps: [{ name: 'first', type: 'shell_command', config: { command: 'true' } }],
      })
    ).id as number;
    const fillStarted = Date.now();
    const db = openDb({ databaseUrl, dataDir: server.dataDir, poolSize: 2 });
    await seedRuns(db.kysely, {
      pipelineId: old,
      projectId: project,
      pipelineName: 'old',
      count: o.runs,
      since: new Date(Date.now() - 365 * 86_400_000),
      batch: 1000,
    });
    const ids = (await db.kysely.selectFrom('pipeline_runs').select('id').where('pipeline_id', '=', old).execute()).map((r) => r.id);
    await db.close();
    // A log file each, where the file log store keeps them: the sweeper removes these too.
    const line = '[s] a line of build output, as a step writes it\n'.repeat(8);
    for (const id of ids) {
      const dir = join(server.dataDir, 'logs', String(id));
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'run.log'), line);
    }
    const fillSeconds = (Date.now() - fillStarted) / 1000;
    console.log(`${dialect}: ${o.runs.toLocaleString('en-US')} runs and their logs in ${fillSeconds.toFixed(0)} s`);
    // Warm-up: a few runs and lists, not counted.
    await measure(server, token, live, () => true, 3);

    const load = [loadavg()[0]!];
    const quiet = await measure(server, token, live, () => true, o.rounds);
    load.push(loadavg()[0]!);
    console.log(`  quiet: ${quiet.toFirstStep.length} runs, ${quiet.list.length} list requests`);

    let remaining = o.runs;
    let checking = false;
    const countLeft = async () => {
      if (checking) return;
      checking = true;
      try {
        remaining = (await call(server, token, 'GET', `/api/pipelines/${old}/runs/?page_size=1`)).count as number;
      } finally {
        checking = false;
      }
    };
    const poller = setInterval(() => void countLeft(), 500);
    const sweepStarted = Date.now();
    await call(server, token, 'PUT', `/api/pipelines/${old}/retention/`, { keep_runs: KEEP, keep_days: null });
    let sweep: Samples;
    try {
      sweep = await measure(server, token, live, () => remaining <= KEEP, 1);
    } finally {
      clearInterval(poller);
    }
    const sweepSeconds = (Date.now() - sweepStarted) / 1000;
    load.push(loadavg()[0]!);
    // The sweeper records its count when its sweep ends (after the last batch's files): wait for that.
    let status: any = null;
    for (let waited = 0; waited < 60_000; waited += 500) {
      status = await (await fetch(`${server.gatewayUrl}/api/v1/system/status`)).json();
      const record = status.storage?.retention?.sweeper;
      if (record && record.claimed_by === null && record.total_deleted_runs >= o.runs - KEEP) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    console.log(`  the sweeper's record: ${JSON.stringify(status.storage?.retention?.sweeper)}`);
    console.log(`  sweep: ${sweep.toFirstStep.length} runs, ${sweep.list.length} list requests, ${sweepSeconds.toFixed(0)} s`);
    return {
      dialect,
      quiet,
      sweep,
      sweepSeconds,
      fillSeconds,
      load,
      sweeperDeleted: (status.storage?.retention?.sweeper?.total_deleted_runs ?? null) as number | null,
    };
  } catch (error) {
    console.error(`server output:\n${server.output().slice(-4000)}`);
    throw error;
  } finally {
    await server.stop();
    if (databaseUrl) {
      const c = new pg.Client({ connectionString: PG_ADMIN });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    }
  }
}

async function main() {
  const results: Awaited<ReturnType<typeof bench>>[] = [];
  for (const dialect of o.dbs) results.push(await bench(dialect));
  const ms = (v: number) => v.toFixed(1);
  const lines = ['| Measure | ' + results.map((r) => `${r.dialect} quiet | ${r.dialect} during the sweep | ratio`).join(' | ') + ' |'];
  lines.push('| --- | ' + results.map(() => '---: | ---: | ---:').join(' | ') + ' |');
  let missed = 0;
  const row = (label: string, pick: (s: Samples) => number, target: boolean) => {
    const cells = results.map((r) => {
      const a = pick(r.quiet);
      const b = pick(r.sweep);
      const over = target && b / a > TARGET;
      if (over) missed++;
      return `${ms(a)} | ${ms(b)} | ${(b / a).toFixed(2)}x${over ? ' (missed)' : ''}`;
    });
    lines.push(`| ${label} | ${cells.join(' | ')} |`);
  };
  row('trigger → first step, median (ms)', (s) => median(s.toFirstStep), false);
  row('trigger → first step, p99 (ms)', (s) => percentile(ascending(s.toFirstStep), 99), true);
  row('GET /api/pipeline-runs/, median (ms)', (s) => median(s.list), false);
  row('GET /api/pipeline-runs/, p99 (ms)', (s) => percentile(ascending(s.list), 99), true);
  lines.push(
    `| samples (runs / list requests) | ${results.map((r) => `${r.quiet.toFirstStep.length} / ${r.quiet.list.length} | ${r.sweep.toFirstStep.length} / ${r.sweep.list.length} |`).join(' | ')}`,
  );
  const details = results
    .map(
      (r) =>
        `${r.dialect}: ${o.runs.toLocaleString('en-US')} runs (and ${(2 * o.runs).toLocaleString('en-US')} step rows, a log file each) filled in ${r.fillSeconds.toFixed(0)} s; swept to ${KEEP} in ${r.sweepSeconds.toFixed(0)} s (${Math.round(o.runs / r.sweepSeconds).toLocaleString('en-US')} runs/s; the sweeper's own count: ${r.sweeperDeleted ?? '?'} deleted); load average (1 min) ${r.load.map((l) => l.toFixed(1)).join(' → ')}`,
    )
    .join('. ');
  const table = [
    `Measured ${new Date().toISOString().slice(0, 10)} with \`node --import tsx bench/sweeper.ts --runs ${o.runs} --rounds ${o.rounds} --db ${o.dbs.join(',')}\`.`,
    '',
    `Machine: ${availableParallelism()} cores, ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}. ${details}. Target: the p99s during the sweep at most ${TARGET}x quiet.`,
    '',
    ...lines,
    '',
    `Measures over the target: ${missed}.`,
  ].join('\n');
  console.log(`\n${table}\n`);
  if (o.writeDoc) writeDocSection('## Retention sweeper under load (bench/sweeper.ts)', 'bench/sweeper.ts', table);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
