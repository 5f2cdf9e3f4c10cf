/**
 * History at any size (issue 15): the cost of every list and detail read with a small history and
 * with a large one, on SQLite and PostgreSQL, side by side. Target: the large one at most 1.5x
 * the small one.
 *
 * For each database and size: the real server (sources through tsx) on a fresh data folder or
 * database; through the API a second project, a member of it and 20 pipelines; then straight
 * inserts (test/support/history-seed.ts) of SIZE runs (half of them in one pipeline, the rest
 * spread over the others; two step rows each) and SIZE webhook deliveries, plus a log file for
 * the run whose detail is read. PostgreSQL gets VACUUM ANALYZE after the fill, what autovacuum (on
 * by default; the test machine's runs with it off) does on its own after a bulk load, and its
 * counter tables VACUUM FULL (see readsOf: the bulk fill bloats them as a running server does
 * not). SQLite gets nothing the application does not do itself.
 * Each read is then requested sequentially over one keep-alive connection: 20 warm-up requests,
 * then `--requests` timed ones; the table shows the median and the ratio large / small.
 *
 *   node --import tsx bench/history.ts [--sizes 1000,1000000] [--db sqlite,postgres] [--requests 200] [--no-doc] [--keep] [--reuse]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { sql } from 'kysely';
import { openDb } from '../src/store/db.js';
import { seedDeliveries, seedRuns } from '../test/support/history-seed.js';
import { startBenchServer, writeDocSection, type BenchServer } from './bench-server.js';
import { median, percentile, ascending } from './stats.js';

type Dialect = 'sqlite' | 'postgres';
const PG_ADMIN = process.env.ANSFLOW_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PIPELINES = 20;
const TARGET = 1.5;

interface Options {
  sizes: number[];
  dbs: Dialect[];
  requests: number;
  writeDoc: boolean;
  /** Leave the PostgreSQL databases in place afterwards (to EXPLAIN the reads by hand). */
  keep: boolean;
  /** Measure the PostgreSQL databases a `--keep` run left, without filling them again. */
  reuse: boolean;
}

function parse(argv: string[]): Options {
  const o: Options = { sizes: [1000, 1_000_000], dbs: ['sqlite', 'postgres'], requests: 200, writeDoc: true, keep: false, reuse: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--sizes') o.sizes = argv[++i]!.split(',').map(Number);
    else if (a === '--db') o.dbs = argv[++i]!.split(',') as Dialect[];
    else if (a === '--requests') o.requests = Number(argv[++i]);
    else if (a === '--no-doc') o.writeDoc = false;
    else if (a === '--keep') o.keep = true;
    else if (a === '--reuse') o.reuse = o.keep = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (o.sizes.length !== 2 || o.sizes.some((n) => !Number.isInteger(n) || n < 100)) throw new Error('--sizes needs two sizes of at least 100');
  return o;
}

/**
 * fetch, once more on a connection error: after a long fill, a kept-alive connection the server
 * has since closed fails on first use (EPIPE).
 */
async function request(url: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch {
    return fetch(url, init);
  }
}

async function api(server: BenchServer, token: string, method: string, path: string, body?: unknown): Promise<any> {
  const r = await request(server.apiUrl + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function login(server: BenchServer, username: string, password: string): Promise<string> {
  const r = await request(`${server.apiUrl}/api/auth/login/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  return ((await r.json()) as { access: string }).access;
}

/** The server compiles its sources through tsx at start: on a busy machine that takes more than login()'s minute. */
async function patientLogin(server: BenchServer): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await server.login();
    } catch (error) {
      if (server.child.exitCode !== null || attempt === 5) throw error;
    }
  }
}

interface Read {
  name: string;
  path: string;
  as: 'admin' | 'member';
}

/** Fills one database with `size` runs and deliveries and returns the reads to time (paths depend on ids). */
async function fill(
  server: BenchServer,
  databaseUrl: string | null,
  size: number,
  reuse: boolean,
): Promise<{ reads: Read[]; tokens: Record<'admin' | 'member', string>; seconds: number }> {
  const admin = await patientLogin(server);
  if (reuse) return { ...(await readsOf(server, databaseUrl, size, false)), tokens: await tokensOf(server), seconds: 0 };
  const project = (await api(server, admin, 'POST', '/api/projects/', { name: 'history' })).id as number;
  await api(server, admin, 'POST', '/api/users/', { username: 'member', password: 'password-123', role: 'developer' });
  await api(server, admin, 'POST', `/api/projects/${project}/members/`, { username: 'member', role: 'developer' });
  const pipelines: { id: number; name: string }[] = [];
  for (let i = 0; i < PIPELINES; i++) {
    const p = await api(server, admin, 'POST', '/api/pipelines/', {
      name: `history-${i}`,
      project,
      steps: [
        { name: 'build', type: 'shell_command', config: { command: 'make' } },
        { name: 'test', type: 'shell_command', config: { command: 'make test' } },
      ],
    });
    pipelines.push({ id: p.id, name: p.name });
  }
  const started = Date.now();
  const db = openDb({ databaseUrl, dataDir: server.dataDir, poolSize: 2 });
  const big = pipelines[0]!;
  const batch = databaseUrl ? 2000 : 1000;
  // Half the history in one pipeline, the rest spread over the others; older runs first, so ids
  // grow with time as they do when the server writes them.
  const rest = size - Math.floor(size / 2);
  const others = pipelines.slice(1);
  const since = new Date(Date.now() - size * 60_000);
  for (let k = 0; k < others.length; k++) {
    const count = Math.floor(rest / others.length) + (k < rest % others.length ? 1 : 0);
    await seedRuns(db.kysely, { pipelineId: others[k]!.id, projectId: project, pipelineName: others[k]!.name, count, since, batch });
  }
  await seedRuns(db.kysely, { pipelineId: big.id, projectId: project, pipelineName: big.name, count: Math.floor(size / 2), since, batch });
  await seedDeliveries(db.kysely, { count: size, projectId: project, prefix: 'bench', batch });
  await db.close();
  const read = await readsOf(server, databaseUrl, size, true);
  // Sign in again: a long fill outlives the first tokens.
  return { ...read, tokens: await tokensOf(server), seconds: (Date.now() - started) / 1000 };
}

async function tokensOf(server: BenchServer): Promise<Record<'admin' | 'member', string>> {
  return { admin: await server.login(), member: await login(server, 'member', 'password-123') };
}

/** The reads to time, from what the database holds (paths depend on ids), and the log file the run detail reads. */
async function readsOf(server: BenchServer, databaseUrl: string | null, size: number, analyze: boolean): Promise<{ reads: Read[] }> {
  const db = openDb({ databaseUrl, dataDir: server.dataDir, poolSize: 2 });
  const big = await db.kysely.selectFrom('pipelines').select(['id', 'name']).where('name', '=', 'history-0').executeTakeFirstOrThrow();
  const bigRuns = await db.kysely.selectFrom('pipeline_runs').select('id').where('pipeline_id', '=', big.id).orderBy('id', 'asc').execute();
  const middle = bigRuns[bigRuns.length >> 1]!.id;
  const allMiddle = (
    await db.kysely
      .selectFrom('pipeline_runs')
      .select((eb) => eb.fn.max('id').as('m'))
      .executeTakeFirstOrThrow()
  ).m as number;
  const deliveryMax = Number(
    (
      await db.kysely
        .selectFrom('webhook_deliveries')
        .select((eb) => eb.fn.max('id').as('m'))
        .executeTakeFirstOrThrow()
    ).m,
  );
  if (databaseUrl && analyze) {
    // The fill updated each kept counter's row once per run inside 2,000-row transactions, so
    // none of those row versions could be pruned as they went: the two projects' rows span 100 MB.
    // A server inserts each run in its own transaction, whose dead versions HOT pruning and
    // autovacuum reclaim; VACUUM FULL gives the counters the size they have there.
    await sql`vacuum full projects, pipelines, history_counters`.execute(db.kysely);
    await sql`vacuum analyze`.execute(db.kysely);
  }
  await db.close();
  // The middle run's log, as the file log store writes it: <data>/logs/<run>/run.log.
  const logDir = join(server.dataDir, 'logs', String(middle));
  mkdirSync(logDir, { recursive: true });
  writeFileSync(join(logDir, 'run.log'), Array.from({ length: 200 }, (_, i) => `[build] line ${i} of the build output\n`).join(''));
  const half = Math.floor(Number(allMiddle) / 2);
  const deep = Math.max(2, Math.floor(bigRuns.length / 2 / 20));
  const reads: Read[] = [
    { name: "pipeline's runs, first page", path: `/api/pipelines/${big.id}/runs/`, as: 'admin' },
    { name: "pipeline's runs, halfway back (cursor from next)", path: `/api/pipelines/${big.id}/runs/?page=${deep}&cursor=b${middle}`, as: 'admin' },
    { name: "pipeline's runs, status=failed", path: `/api/pipelines/${big.id}/runs/?status=failed`, as: 'admin' },
    { name: "pipeline's runs, branch=develop", path: `/api/pipelines/${big.id}/runs/?branch=develop`, as: 'admin' },
    { name: "pipeline's runs, trigger=api", path: `/api/pipelines/${big.id}/runs/?trigger=api`, as: 'admin' },
    { name: "pipeline's runs, first page (member)", path: `/api/pipelines/${big.id}/runs/`, as: 'member' },
    { name: 'all runs, first page', path: '/api/pipeline-runs/', as: 'admin' },
    { name: 'all runs, halfway back (cursor)', path: `/api/pipeline-runs/?page=${Math.max(2, Math.floor(size / 40))}&cursor=b${half}`, as: 'admin' },
    { name: 'all runs, status=failed', path: '/api/pipeline-runs/?status=failed', as: 'admin' },
    { name: 'all runs, branch=develop', path: '/api/pipeline-runs/?branch=develop', as: 'admin' },
    { name: 'all runs, trigger=api', path: '/api/pipeline-runs/?trigger=api', as: 'admin' },
    { name: 'all runs, first page (member)', path: '/api/pipeline-runs/', as: 'member' },
    { name: 'all runs, status=failed (member)', path: '/api/pipeline-runs/?status=failed', as: 'member' },
    { name: 'all runs, branch=develop (member)', path: '/api/pipeline-runs/?branch=develop', as: 'member' },
    { name: 'all runs, trigger=api (member)', path: '/api/pipeline-runs/?trigger=api', as: 'member' },
    { name: 'run detail', path: `/api/pipeline-runs/${middle}/`, as: 'admin' },
    { name: 'run log', path: `/api/pipeline-runs/${middle}/logs/`, as: 'admin' },
    { name: 'pipelines with last_run', path: '/api/pipelines/', as: 'admin' },
    { name: 'pipelines with last_run (member)', path: '/api/pipelines/', as: 'member' },
    { name: 'deliveries, first page', path: '/api/webhook-deliveries/', as: 'admin' },
    {
      name: 'deliveries, halfway back (cursor)',
      path: `/api/webhook-deliveries/?page=${Math.max(2, Math.floor(size / 40))}&cursor=b${Math.floor(deliveryMax / 2)}`,
      as: 'admin',
    },
    { name: 'deliveries, provider=gitlab', path: '/api/webhook-deliveries/?provider=gitlab', as: 'admin' },
    { name: 'deliveries, first page (member)', path: '/api/webhook-deliveries/', as: 'member' },
    { name: "pipeline's runs, halfway back by page number (offset; not a target)", path: `/api/pipelines/${big.id}/runs/?page=${deep}`, as: 'admin' },
  ];
  return { reads };
}

interface Filled {
  server: BenchServer;
  reads: Read[];
  tokens: Record<'admin' | 'member', string>;
  seconds: number;
  drop: () => Promise<void>;
}

async function start(dialect: Dialect, size: number, keep: boolean, reuse: boolean): Promise<Filled> {
  let databaseUrl: string | null = null;
  let dropDb = async () => {};
  if (dialect === 'postgres') {
    const name = `ansflow_bench_history_${size}`;
    const admin = new pg.Client({ connectionString: PG_ADMIN });
    await admin.connect();
    if (!reuse) {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.query(`create database ${name}`);
    }
    await admin.end();
    databaseUrl = PG_ADMIN.replace(/\/[^/]*$/, `/${name}`);
    dropDb = async () => {
      if (keep) return console.log(`kept ${databaseUrl}`);
      const c = new pg.Client({ connectionString: PG_ADMIN });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    };
  }
  // Tokens that outlive a long measurement.
  const server = await startBenchServer({ ANSFLOW_ACCESS_TOKEN_TTL: '86400', ...(databaseUrl ? { ANSFLOW_DATABASE_URL: databaseUrl } : {}) });
  try {
    const filled = await fill(server, databaseUrl, size, reuse);
    console.log(`${dialect} ${size.toLocaleString('en-US')}: filled in ${filled.seconds.toFixed(0)} s`);
    return { server, ...filled, drop: async () => (await server.stop(), await dropDb()) };
  } catch (error) {
    console.error(`server output:\n${server.output().slice(-4000)}`);
    await server.stop();
    await dropDb();
    throw error;
  }
}

/**
 * Both sizes' servers run at once and each read alternates between them (small, large, small,
 * ...), so a busy moment of the shared machine falls on both sides alike.
 */
async function measure(dialect: Dialect, sizes: [number, number], requests: number, keep: boolean, reuse: boolean) {
  const small = await start(dialect, sizes[0], keep, reuse);
  let large: Filled | undefined;
  try {
    large = await start(dialect, sizes[1], keep, reuse);
    const results = new Map<string, [number, number]>();
    for (let i = 0; i < small.reads.length; i++) {
      const reads = [small.reads[i]!, large.reads[i]!] as const;
      const sides = [small, large] as const;
      const once = async (k: 0 | 1) => {
        const t0 = process.hrtime.bigint();
        const r = await request(sides[k].server.apiUrl + reads[k].path, { headers: { authorization: `Bearer ${sides[k].tokens[reads[k].as]}` } });
        await r.arrayBuffer();
        if (r.status !== 200) throw new Error(`${reads[k].path}: ${r.status}`);
        return Number(process.hrtime.bigint() - t0) / 1e6;
      };
      for (let w = 0; w < 20; w++) {
        await once(0);
        await once(1);
      }
      const samples: [number[], number[]] = [[], []];
      for (let n = 0; n < requests; n++) {
        samples[0].push(await once(0));
        samples[1].push(await once(1));
      }
      const m: [number, number] = [median(samples[0]), median(samples[1])];
      results.set(reads[0].name, m);
      console.log(
        `  ${reads[0].name}: ${m[0].toFixed(2)} ms / ${m[1].toFixed(2)} ms (p95 ${percentile(ascending(samples[0]), 95).toFixed(2)} / ${percentile(ascending(samples[1]), 95).toFixed(2)})`,
      );
    }
    return { reads: small.reads, results, seconds: large.seconds };
  } finally {
    await small.drop();
    await large?.drop();
  }
}

async function main() {
  const o = parse(process.argv.slice(2));
  const [small, large] = o.sizes as [number, number];
  const columns: ({ dialect: Dialect } & Awaited<ReturnType<typeof measure>>)[] = [];
  for (const dialect of o.dbs) columns.push({ dialect, ...(await measure(dialect, [small, large], o.requests, o.keep, o.reuse)) });
  const fmt = (n: number) => n.toLocaleString('en-US');
  const header = ['Read', ...columns.flatMap((c) => [`${c.dialect} ${fmt(small)} (ms)`, `${c.dialect} ${fmt(large)} (ms)`, `${c.dialect} ratio`])];
  const lines = [
    `| ${header.join(' | ')} |`,
    `| --- | ${header
      .slice(1)
      .map(() => '---:')
      .join(' | ')} |`,
  ];
  let missed = 0;
  for (const read of columns[0]!.reads) {
    const informational = read.name.includes('not a target');
    const cells = columns.flatMap((c) => {
      const [a, b] = c.results.get(read.name)!;
      const ratio = b / a;
      if (!informational && ratio > TARGET) missed++;
      return [a.toFixed(2), b.toFixed(2), `${ratio.toFixed(2)}x${!informational && ratio > TARGET ? ' (missed)' : ''}`];
    });
    lines.push(`| ${read.name} | ${cells.join(' | ')} |`);
  }
  const fills = columns
    .map((c) => `${c.dialect}: ${fmt(large)} runs (${fmt(2 * large)} step rows) and ${fmt(large)} deliveries filled in ${c.seconds.toFixed(0)} s`)
    .join('; ');
  const table = [
    `Measured ${new Date().toISOString().slice(0, 10)} with \`node --import tsx bench/history.ts --sizes ${small},${large} --db ${o.dbs.join(',')} --requests ${o.requests}\`.`,
    '',
    `Machine: ${availableParallelism()} cores, ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, shared with other work. Both sizes' servers run at once and each read alternates between them, ${o.requests} times (after 20 warm-up each); medians of sequential requests over keep-alive connections, client and servers on the same machine; ratio = large / small (target ≤ ${TARGET}x). ${fills}.`,
    '',
    ...lines,
    '',
    `Reads over the target: ${missed}.`,
  ].join('\n');
  console.log(`\n${table}\n`);
  if (o.writeDoc) writeDocSection('## History at any size (bench/history.ts)', 'bench/history.ts', table);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
