/**
 * Scale-out benchmark (issue 6, Performance).
 *
 * The distributed mode as real processes from source (tsx): PostgreSQL (a fresh database),
 * Redis (the shared server under a unique key prefix), one API process and worker processes
 * started with `ansflow worker --concurrency 1`, so "slots" = worker processes. Workers are
 * added to one cluster between measurements (1 → 2 → 4 → 8), each step warmed up first.
 *
 *   1. throughput   slots × RUNS_PER_SLOT runs of one `sleep 1` step, POSTed back to back over
 *                   8 pipelines; wall = client clock before the first POST → the last run's
 *                   finished_at. Reports runs/minute, and the scheduling overhead per run
 *                   = wall × slots / runs − 1 s (what each run costs a slot beyond its sleep).
 *   2. latency      trigger → first step with every worker idle: the step runs `date +%s%N`,
 *                   compared with this process' clock right before the POST (same machine).
 *                   Distributed (API → PostgreSQL → BullMQ/Redis → a worker process) against the
 *                   embedded mode (`ansflow serve`, SQLite, in-process worker), same step.
 *
 *   node --import tsx bench/scale.ts [--no-doc] [--quick]
 *
 * Prints a table and writes it into the "Scale-out (bench/scale.ts)" section of
 * docs/benchmarks.md (its generated block only). Exits non-zero only when something broke (a
 * failed or lost run, a process that would not start), never because of a timing.
 */
import { cpus, availableParallelism, tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase } from '../test/support/postgres.js';
import { connectTestRedis } from '../test/support/redis.js';
import { isFinalStatus } from '../test/support/run-status.js';
import { startServerProcess } from '../test/support/server-process.js';
import { api, login, startCluster, type Cluster } from '../test/scale/support.js';
import { format, resolveConfig } from 'prettier';
import { writeDocSection } from './bench-server.js';
import { percentile } from './stats.js';

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const SLOTS = QUICK ? [1, 2] : [1, 2, 4, 8];
const RUNS_PER_SLOT = QUICK ? 3 : 6;
const LATENCY_SAMPLES = QUICK ? 8 : 20;
const PIPELINES = 8;

const problems: string[] = [];

interface Target {
  base: string;
  token: string;
}

async function createPipelines(t: Target, prefix: string, command: string, count: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const r = await api(t.base, 'POST', '/api/pipelines/', t.token, {
      name: `${prefix}-${i}`,
      steps: [{ name: 's', type: 'shell_command', config: { command } }],
    });
    if (r.status !== 201) throw new Error(`create pipeline: ${r.status} ${r.text}`);
    ids.push(r.json.id);
  }
  return ids;
}

async function trigger(t: Target, pipelineId: number): Promise<number> {
  const r = await api(t.base, 'POST', `/api/pipelines/${pipelineId}/run/`, t.token, {});
  if (r.status !== 201) throw new Error(`trigger: ${r.status} ${r.text}`);
  return r.json.id;
}

/** Polls the run list (one request per poll) until every id is final; returns the runs. */
async function waitAll(t: Target, ids: number[], timeoutMs: number): Promise<Map<number, any>> {
  const want = new Set(ids);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const done = new Map<number, any>();
    for (let page = 1; ; page++) {
      const r = await api(t.base, 'GET', `/api/pipeline-runs/?page_size=100&page=${page}`, t.token);
      if (r.status !== 200) break;
      for (const run of r.json.results) if (want.has(run.id) && isFinalStatus(run.status)) done.set(run.id, run);
      if (!r.json.next) break;
    }
    if (done.size === want.size) {
      // The list is a summary; fetch nothing more than needed: finished_at and status are in it.
      return done;
    }
    if (Date.now() > deadline) {
      problems.push(`lost runs: ${ids.filter((id) => !done.has(id)).join(', ')} not final after ${timeoutMs} ms`);
      return done;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function throughput(t: Target, pipelines: number[], slots: number) {
  const runs = slots * RUNS_PER_SLOT;
  // Warm-up: one run per slot, not measured.
  await waitAll(t, await Promise.all(Array.from({ length: slots }, (_, i) => trigger(t, pipelines[i % pipelines.length]!))), 60000);
  const t0 = Date.now();
  const ids: number[] = [];
  for (let i = 0; i < runs; i++) ids.push(await trigger(t, pipelines[i % pipelines.length]!));
  const done = await waitAll(t, ids, 60000 + runs * 4000);
  const bad = [...done.values()].filter((r) => r.status !== 'success');
  if (bad.length > 0) problems.push(`${bad.length} run(s) not successful with ${slots} slot(s): ${bad.map((r) => `${r.id}:${r.status}`).join(' ')}`);
  const last = Math.max(...[...done.values()].map((r) => Date.parse(r.finished_at)));
  const wallS = (last - t0) / 1000;
  return { slots, runs, wallS, perMinute: (runs / wallS) * 60, overheadMs: ((wallS * slots) / runs - 1) * 1000 };
}

async function latency(t: Target, pipelineId: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES + 2; i++) {
    const before = Date.now();
    const id = await trigger(t, pipelineId);
    const run = (await waitAll(t, [id], 30000)).get(id);
    if (run?.status !== 'success') {
      problems.push(`latency run ${id}: ${run?.status ?? 'lost'}`);
      continue;
    }
    const log = (await api(t.base, 'GET', `/api/pipeline-runs/${id}/logs/`, t.token)).text;
    const ns = /T=(\d+)/.exec(log)?.[1];
    if (!ns) {
      problems.push(`latency run ${id}: no timestamp in its log`);
      continue;
    }
    if (i >= 2) samples.push(Number(BigInt(ns) / 1000n) / 1000 - before); // first two: warm-up
    await new Promise((r) => setTimeout(r, 200));
  }
  return samples.sort((a, b) => a - b);
}

const LATENCY_COMMAND = 'echo "T=$(date +%s%N)"';

async function main() {
  const db = await createTestDatabase();
  const redis = await connectTestRedis();
  if (!db || !redis) {
    console.log('bench/scale.ts: PostgreSQL or Redis unreachable; nothing measured.');
    await redis?.cleanup();
    await db?.drop();
    return;
  }
  let cluster: Cluster | null = null;
  const rows: Awaited<ReturnType<typeof throughput>>[] = [];
  let distributed: number[] = [];
  let embedded: number[] = [];
  try {
    cluster = await startCluster({
      databaseUrl: db.url,
      redisUrl: redis.url,
      redisPrefix: redis.prefix,
      apis: 1,
      gateway: false,
      workers: [{ concurrency: 1 }],
    });
    const t: Target = { base: cluster.apis[0]!.baseUrl, token: await login(cluster.apis[0]!.baseUrl) };
    const sleepers = await createPipelines(t, 'sleep', 'sleep 1', PIPELINES);
    const stamp = (await createPipelines(t, 'stamp', LATENCY_COMMAND, 1))[0]!;
    distributed = await latency(t, stamp);
    for (const slots of SLOTS) {
      while (cluster.workers.length < slots) await cluster.startWorker({ concurrency: 1 });
      await new Promise((r) => setTimeout(r, 1500)); // new workers subscribe to the queue
      const row = await throughput(t, sleepers, slots);
      rows.push(row);
      console.log(
        `${slots} slot(s): ${row.runs} runs in ${row.wallS.toFixed(2)} s → ${row.perMinute.toFixed(1)} runs/min, overhead ${row.overheadMs.toFixed(0)} ms/run`,
      );
    }
  } finally {
    await cluster?.stop();
    await redis.cleanup().catch(() => {});
    await db.drop().catch(() => {});
  }

  const dataDir = mkdtempSync(join(tmpdir(), 'ansflow-bench-scale-'));
  const server = await startServerProcess({ ANSFLOW_DATA_DIR: dataDir, ANSFLOW_ADMIN_PASSWORD: 'admin123' });
  try {
    const t: Target = { base: server.baseUrl, token: await login(server.baseUrl) };
    const stamp = (await createPipelines(t, 'stamp', LATENCY_COMMAND, 1))[0]!;
    embedded = await latency(t, stamp);
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }

  const ideal = (slots: number) => slots * 60;
  const lines = [
    `Machine: ${availableParallelism()} CPU(s) (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}; ${new Date().toISOString().slice(0, 10)}.`,
    `Slots = worker processes (\`ansflow worker --concurrency 1\`), one API process, PostgreSQL + Redis on this machine; every run is one \`sleep 1\` step, ${RUNS_PER_SLOT} runs per slot.`,
    '',
    '| slots | runs | wall (s) | runs/min | ideal runs/min | scaling vs 1 slot | overhead per run (per slot) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.slots} | ${r.runs} | ${r.wallS.toFixed(2)} | ${r.perMinute.toFixed(1)} | ${ideal(r.slots)} | ${(r.perMinute / rows[0]!.perMinute).toFixed(2)}× | ${r.overheadMs.toFixed(0)} ms |`,
    ),
    '',
    `Trigger → first step (client clock before the POST → \`date +%s%N\` in the step), idle workers, ${LATENCY_SAMPLES} samples:`,
    '',
    '| mode | p50 | p95 | max |',
    '| --- | ---: | ---: | ---: |',
    `| distributed (API → PostgreSQL → BullMQ/Redis → worker process) | ${percentile(distributed, 50).toFixed(1)} ms | ${percentile(distributed, 95).toFixed(1)} ms | ${(distributed.at(-1) ?? NaN).toFixed(1)} ms |`,
    `| embedded (\`ansflow serve\`, SQLite, in-process worker) | ${percentile(embedded, 50).toFixed(1)} ms | ${percentile(embedded, 95).toFixed(1)} ms | ${(embedded.at(-1) ?? NaN).toFixed(1)} ms |`,
  ];
  if (problems.length > 0) lines.push('', `Problems: ${problems.join('; ')}`);
  // Formatted like the rest of the docs (aligned tables), so `prettier --check` stays clean.
  const docPath = join(import.meta.dirname, '..', 'docs', 'benchmarks.md');
  const table = (await format(lines.join('\n'), { ...(await resolveConfig(docPath)), parser: 'markdown' })).trimEnd();
  console.log(`\n${table}\n`);
  if (!args.includes('--no-doc') && !QUICK) writeDocSection('## Scale-out (bench/scale.ts)', 'bench/scale.ts', table);
  if (problems.length > 0) {
    console.error(`bench/scale.ts: something broke:\n  - ${problems.join('\n  - ')}`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
