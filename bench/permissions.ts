/**
 * The cost of the permission check on the list API (issue 16, Performance: at most 5 % of
 * throughput and p99).
 *
 * Starts the real server (sources through tsx, SQLite in a fresh data folder), seeds through the
 * API 100 projects with 10 pipelines each (1,000) and a developer who is a member of all 100, then
 * drives `GET /api/pipelines/?page_size=20` with autocannon in a separate process, alternately as
 *   admin   a global admin: no membership is looked up, the list is not filtered;
 *   member  the developer: the list is filtered by membership (a subquery on project_members in
 *           the same statement) — both see the same 1,000 pipelines, so the pages are the same size.
 * Rounds alternate (admin, member, admin, member, ...) so that drift on a shared machine falls on
 * both; each round is warmed up for 2 s. The table gives the median of the rounds side by side and
 * is written into docs/benchmarks.md, with the server's CPU time per request (from /proc) and the
 * median of each round pair's member / admin ratio of it.
 *
 * On a shared machine even the CPU per request of whole rounds drifts by tens of percent, more
 * than the check costs. So the check's own work is also measured apart: after the HTTP rounds the
 * bench opens the server's database and times the only work a member's list request does that an
 * admin's does not (the pipelines repository's `list` with the membership filter against the same
 * call without it, alternating blocks of calls in this process), and gives the difference as a
 * share of the server's CPU per admin request. Authentication, routing and the answer are the
 * same for both callers (same page of the same pipelines).
 *
 *   node --import tsx bench/permissions.ts [--duration 6] [--rounds 5] [--connections 20] [--no-doc]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBenchServer, writeDocSection, type BenchServer } from './bench-server.js';
import { openDb } from '../src/store/db.js';
import { PipelinesRepository } from '../src/store/pipelines-repository.js';
import { SecretBox } from '../src/store/secret-box.js';
import { median } from './stats.js';
import { parseLoadOptions } from './load-options.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const AUTOCANNON = join(ROOT, 'node_modules', 'autocannon', 'autocannon.js');
const PROJECTS = 100;
const PER_PROJECT = 10;
const PATH = '/api/pipelines/?page_size=20';
const TARGET_PERCENT = 5;

async function call(server: BenchServer, token: string, method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(server.apiUrl + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function inParallel<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

async function seed(server: BenchServer, admin: string): Promise<{ token: string; id: number }> {
  await call(server, admin, 'POST', '/api/users/', { username: 'member', password: 'password-123', role: 'developer' });
  const projects: number[] = [];
  for (let p = 0; p < PROJECTS; p++) projects.push((await call(server, admin, 'POST', '/api/projects/', { name: `project-${p}` })).id);
  await inParallel(projects, 8, async (id) => {
    await call(server, admin, 'POST', `/api/projects/${id}/members/`, { username: 'member', role: 'developer' });
  });
  const pipelines = projects.flatMap((project) => Array.from({ length: PER_PROJECT }, (_, i) => ({ project, i })));
  await inParallel(pipelines, 8, async ({ project, i }) => {
    await call(server, admin, 'POST', '/api/pipelines/', {
      name: `p-${project}-${i}`,
      project,
      steps: [
        { name: 'build', type: 'shell_command', config: { command: 'make build' } },
        { name: 'test', type: 'shell_command', config: { command: 'make test' } },
      ],
    });
  });
  // The member leaves `default` (where users start), so what they see comes from the 100 projects only.
  const me = await fetch(`${server.apiUrl}/api/auth/login/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'member', password: 'password-123' }),
  });
  const token = ((await me.json()) as { access: string }).access;
  const profile = await call(server, token, 'GET', '/api/users/me/');
  const defaultProject = (await call(server, admin, 'GET', '/api/projects/?search=default')).results[0].id;
  await call(server, admin, 'DELETE', `/api/projects/${defaultProject}/members/${profile.id}/`);
  const seen = await call(server, token, 'GET', PATH);
  const all = await call(server, admin, 'GET', PATH);
  if (seen.count !== PROJECTS * PER_PROJECT || all.count !== PROJECTS * PER_PROJECT) throw new Error(`seeding: member sees ${seen.count}, admin ${all.count}`);
  return { token, id: profile.id as number };
}

/**
 * The check's own CPU per list call, in this process on the server's database: the pipelines
 * repository's `list` as a member's request calls it against the same call as an admin's, in
 * alternating blocks; medians of the blocks, in microseconds.
 */
const BLOCKS = 12;
const CALLS = 1000;

async function repositoryCost(dataDir: string, memberId: number, blocks = BLOCKS, calls = CALLS): Promise<{ adminUs: number; memberUs: number }> {
  const db = openDb({ databaseUrl: null, dataDir });
  try {
    // The summaries decrypt nothing; the key only has to be valid.
    const pipelines = new PipelinesRepository(db.kysely, new SecretBox('k'.repeat(40)));
    const page = { limit: 20, offset: 0 };
    const block = async (filter: { memberId?: number }) => {
      const start = process.cpuUsage();
      for (let i = 0; i < calls; i++) await pipelines.list(filter, page);
      const used = process.cpuUsage(start);
      return (used.user + used.system) / calls;
    };
    await block({});
    await block({ memberId });
    const admin: number[] = [];
    const member: number[] = [];
    for (let b = 0; b < blocks; b++) {
      admin.push(await block({}));
      member.push(await block({ memberId }));
    }
    return { adminUs: median(admin), memberUs: median(member) };
  } finally {
    await db.close();
  }
}

interface Result {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
  /** The server process's CPU time per answered request (user + system), in microseconds. */
  cpuUs: number;
}

/**
 * The server's CPU time so far, from /proc (clock ticks, 100 per second on Linux). On a shared
 * machine throughput and latency measure the neighbours as much as the server; the CPU the server
 * spends per request does not depend on how long it waited for a core.
 */
function serverCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function measured(pid: number, url: string, token: string, seconds: number, connections: number): Promise<Result> {
  const before = serverCpuSeconds(pid);
  const r = await autocannon(url, token, seconds, connections);
  const cpu = serverCpuSeconds(pid) - before;
  return { ...r, cpuUs: r.requests > 0 ? (cpu * 1e6) / r.requests : 0 };
}

function autocannon(url: string, token: string, seconds: number, connections: number): Promise<Omit<Result, 'cpuUs'>> {
  const args = [AUTOCANNON, '--json', '-n', '-c', String(connections), '-d', String(seconds), '-H', `Authorization=Bearer ${token}`, url];
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('exit', (code) => {
      try {
        if (code !== 0) throw new Error(`exit code ${code}`);
        const r = JSON.parse(out.trim().split('\n').pop()!) as {
          requests: { average: number; total: number };
          latency: { p50: number; p99: number };
          errors: number;
          non2xx: number;
        };
        done({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx, requests: r.requests.total });
      } catch (error) {
        reject(new Error(`autocannon failed (${String(error)}):\n${err}\n${out}`));
      }
    });
  });
}

async function main() {
  const options = parseLoadOptions(process.argv.slice(2), { duration: 6, rounds: 5, connections: 20 });
  const loadBefore = loadavg()[0]!;
  const server = await startBenchServer({});
  try {
    const admin = await server.login();
    const seedStart = Date.now();
    const { token: member, id: memberId } = await seed(server, admin);
    console.log(`seeded ${PROJECTS} projects, ${PROJECTS * PER_PROJECT} pipelines in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`);
    const url = server.apiUrl + PATH;
    const runs: Record<'admin' | 'member', Result[]> = { admin: [], member: [] };
    for (let round = 0; round < options.rounds; round++) {
      for (const who of ['admin', 'member'] as const) {
        const token = who === 'admin' ? admin : member;
        await autocannon(url, token, 2, options.connections);
        const r = await measured(server.child.pid!, url, token, options.duration, options.connections);
        runs[who].push(r);
        console.log(`round ${round + 1} ${who}: ${Math.round(r.rps)} req/s, p99 ${r.p99} ms, server CPU ${r.cpuUs.toFixed(0)} µs/request, errors ${r.errors}`);
      }
    }
    const loadAfter = loadavg()[0]!;
    const summary = (who: 'admin' | 'member') => ({
      rps: median(runs[who].map((r) => r.rps)),
      p50: median(runs[who].map((r) => r.p50)),
      p99: median(runs[who].map((r) => r.p99)),
      cpuUs: median(runs[who].map((r) => r.cpuUs)),
      errors: runs[who].reduce((n, r) => n + r.errors, 0),
    });
    const repository = await repositoryCost(server.dataDir, memberId);
    const pairRatios = runs.member.map((r, i) => (r.cpuUs / runs.admin[i]!.cpuUs - 1) * 100);
    const a = summary('admin');
    const m = summary('member');
    const throughputCost = ((a.rps - m.rps) / a.rps) * 100;
    const p99Cost = ((m.p99 - a.p99) / a.p99) * 100;
    const cpuCost = ((m.cpuUs - a.cpuUs) / a.cpuUs) * 100;
    const checkUs = repository.memberUs - repository.adminUs;
    const checkShare = (checkUs / a.cpuUs) * 100;
    const signed = (n: number) => `${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(1)} %`;
    const row = (name: string, request: string, s: ReturnType<typeof summary>) =>
      `| ${name} | ${request} | ${Math.round(s.rps).toLocaleString('en-US')} | ${s.p50} | ${s.p99} | ${Math.round(s.cpuUs)} | ${s.errors} |`;
    const verdict = (cost: number) => (cost <= TARGET_PERCENT ? 'met' : 'missed');
    const table = [
      `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC with \`node --import tsx bench/permissions.ts --duration ${options.duration} --rounds ${options.rounds} --connections ${options.connections}\`.`,
      '',
      `Machine: ${availableParallelism()} cores, ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}. The server (sources through tsx, SQLite, \`NODE_ENV=production\`) and autocannon share the cores, and the machine is shared with other work: 1-minute load average before / after: ${loadBefore.toFixed(2)} / ${loadAfter.toFixed(2)}. ${PROJECTS} projects × ${PER_PROJECT} pipelines; the member belongs to all ${PROJECTS} projects, so both callers see the same 1,000 pipelines. Rounds alternate admin / member, 2 s warm-up + ${options.duration} s each; medians of ${options.rounds} rounds.`,
      '',
      '| Caller | Request | req/s (median) | p50 (ms) | p99 (ms) | server CPU per request (µs, median) | errors / non-2xx |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
      row('admin (no membership lookup)', `\`GET ${PATH}\``, a),
      row('member of 100 projects (filtered)', `\`GET ${PATH}\``, m),
      '',
      `Cost of the permission check: throughput ${throughputCost.toFixed(1)} % (target ≤ ${TARGET_PERCENT} %: ${verdict(throughputCost)}), p99 ${p99Cost.toFixed(1)} % (target ≤ ${TARGET_PERCENT} %: ${verdict(p99Cost)}); server CPU per request ${cpuCost.toFixed(1)} % between the medians, ${signed(median(pairRatios))} median of the round pairs (pairs from ${signed(Math.min(...pairRatios))} to ${signed(Math.max(...pairRatios))}).`,
      '',
      `The check's own work, measured apart (the repository's \`list\` in the bench process on the server's database, ${BLOCKS} alternating blocks of ${CALLS.toLocaleString('en-US')} calls, medians): admin ${repository.adminUs.toFixed(1)} µs, member ${repository.memberUs.toFixed(1)} µs per call, so the check adds ${checkUs.toFixed(1)} µs of CPU to a request that costs the server ${Math.round(a.cpuUs)} µs: ${checkShare.toFixed(1)} % (target ≤ ${TARGET_PERCENT} %: ${verdict(checkShare)}).`,
    ].join('\n');
    console.log(`\n${table}\n`);
    if (options.writeDoc) writeDocSection('## Permission check on the list API (bench/permissions.ts)', 'bench/permissions.ts', table);
    if (a.errors + m.errors > 0) process.exitCode = 1;
  } finally {
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
