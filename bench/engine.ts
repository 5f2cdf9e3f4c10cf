/**
 * Execution engine benchmark (issue 3, Performance).
 *
 * Starts the real server (`node dist/cli/main.js serve`, embedded queue, SQLite) as a child
 * process in a fresh data folder and measures, each against a baseline measured in the same run:
 *
 *   1. per-step overhead   a pipeline of 50 `true` steps (run started_at → finished_at, and wall
 *                          time from the trigger to the final status seen on the live feed, the
 *                          all-runs WebSocket, as the web UI sees it) vs spawning
 *                          the same 50 `bash -e -c true` one after another from this process;
 *   2. trigger → 1st step  the step writes `date +%s%N`; compared with this process' clock right
 *                          before the HTTP request, minus the baseline cost of spawning
 *                          `bash -e -c 'date +%s%N > file'` directly (spawn → timestamp);
 *   3. log throughput      a step printing 200,000 lines, trigger → final status (log checked
 *                          complete) vs the same command redirected to a file;
 *   4. memory              server VmRSS sampled every 100 ms while one step prints 1 GiB;
 *   5. concurrency         200 runs POSTed at once over 8 pipelines, ANSFLOW_MAX_CONCURRENT_RUNS=8,
 *                          each `sleep 0.2`: all `success`, none lost, max concurrent steps ≤ 8.
 *
 *   npm run build && node --import tsx bench/engine.ts [--no-doc] [--quick] [--only 1,2,...]
 *                                                      [--profile dir] [--main path/to/cli/main.js]
 *
 * Prints one table and writes it into the "Engine (bench/engine.ts)" section of docs/benchmarks.md
 * (only the generated results block; the hand-written analysis around it stays).
 * Exits non-zero only when something broke (a failed or lost run, exceeded concurrency, a server
 * that would not start), never because a timing target was missed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { isFinalStatus } from '../test/support/run-status.js';
import { startBenchServer } from './bench-server.js';
import { CpuAccount } from './cpu-account.js';
import { ascending, maxOverlap, median, percentile } from './stats.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
let MAIN = join(ROOT, 'dist', 'cli', 'main.js');
const DOC = join(ROOT, 'docs', 'benchmarks.md');
const SECTION = '## Engine (bench/engine.ts)';
const RESULTS_START = '<!-- bench/engine.ts results: start (generated, do not edit) -->';
const RESULTS_END = '<!-- bench/engine.ts results: end -->';

const opts = { writeDoc: true, quick: false, only: new Set([1, 2, 3, 4, 5]), profileDir: '' };
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i]!;
  if (arg === '--no-doc') opts.writeDoc = false;
  else if (arg === '--quick') opts.quick = true;
  else if (arg === '--only') {
    opts.only = new Set((process.argv[++i] ?? '').split(',').map(Number));
    opts.writeDoc = false;
  } else if (arg === '--profile') {
    // Servers run with --cpu-prof; the .cpuprofile files land in this folder (implies --no-doc).
    opts.profileDir = resolve(process.argv[++i] ?? 'engine-profiles');
    opts.writeDoc = false;
  } else if (arg === '--main') {
    MAIN = resolve(process.argv[++i] ?? '');
    opts.writeDoc = false;
  } else if (arg === '--help' || arg === '-h') {
    console.log('node --import tsx bench/engine.ts [--no-doc] [--quick] [--only 1,2,3,4,5] [--profile dir] [--main path/to/cli/main.js]');
    process.exit(0);
  } else throw new Error(`unknown argument ${arg}`);
}

const STEPS = 50;
const OVERHEAD_REPEATS = opts.quick ? 2 : 5;
const TRIGGER_REPEATS = opts.quick ? 8 : 30;
const LOG_LINES = 200_000;
const LOG_REPEATS = opts.quick ? 2 : 5;
const MEMORY_BYTES = 1024 * 1024 * 1024;
const CONCURRENT_RUNS = 200;
const CONCURRENT_PIPELINES = 8;
const CONCURRENCY_LIMIT = 8;

const problems: string[] = [];
const broken = (message: string) => {
  problems.push(message);
  console.error(`BROKEN: ${message}`);
};

// ---------------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The p-th percentile of unsorted values. */
const pct = (xs: number[], p: number) => percentile(ascending(xs), p);
const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
/** Wall clock in nanoseconds with sub-millisecond resolution (comparable with `date +%s%N`). */
const wallNs = () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
const iso = (s: string | null | undefined) => (s ? Date.parse(s) : NaN);

/** Spawns one process like the engine does (own group, piped stdio) and resolves when it closed. */
function spawnBash(command: string, drainOutput = true): Promise<number | null> {
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-e', '-c', command], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    if (drainOutput) {
      child.stdout!.resume();
      child.stderr!.resume();
    }
    child.once('error', fail);
    child.once('close', (code) => done(code));
  });
}

// ---------------------------------------------------------------------------------------------
// The server under test

interface Server {
  url: string;
  child: ChildProcess;
  dataDir: string;
  token: string;
  output: () => string;
  stop: () => Promise<void>;
  /** CPU time of the server and everything it starts (null: cannot be counted here). */
  cpu: CpuAccount | null;
  /** When the all-runs WebSocket feed told of each run's final status (performance.now()). */
  finals: Map<number, number>;
  finalWaiters: Map<number, (at: number) => void>;
}
const live = new Set<Server>();

async function startServer(extraEnv: Record<string, string> = {}): Promise<Server> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  const nodeFlags = opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : [];
  const started = await startBenchServer(extraEnv, { main: MAIN, nodeFlags });
  const extras: { feed?: WebSocket } = {};
  const server: Server = {
    url: started.apiUrl,
    child: started.child,
    dataDir: started.dataDir,
    token: '',
    output: started.output,
    stop: async () => {
      live.delete(server);
      extras.feed?.terminate();
      await started.stop();
      server.cpu?.close();
    },
    finals: new Map(),
    finalWaiters: new Map(),
    cpu: CpuAccount.open('ansflow-bench-server'),
  };
  server.cpu?.add(started.child.pid!);
  live.add(server);
  server.token = await started.login();
  // The final status is learnt from the live feed, as the web UI learns it: polling the run every
  // 2 ms (as before) took a large share of the server's CPU on a 2-core machine, in the way of the
  // very steps being measured.
  const feed = (extras.feed = new WebSocket(`${started.gatewayUrl.replace(/^http/, 'ws')}/ws/pipeline-runs/?token=${encodeURIComponent(server.token)}`, {
    perMessageDeflate: false,
  }));
  feed.on('message', (data) => {
    const at = performance.now();
    const m = JSON.parse(data.toString()) as { type: string; data: { run_id: number; status: string } };
    if (m.type !== 'pipeline_status_update' || !isFinalStatus(m.data.status) || server.finals.has(m.data.run_id)) return;
    server.finals.set(m.data.run_id, at);
    server.finalWaiters.get(m.data.run_id)?.(at);
  });
  await new Promise<void>((resolve, reject) => {
    feed.once('open', () => resolve());
    feed.once('error', reject);
  });
  return server;
}

async function api<T>(server: Server, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(server.url + path, {
    method,
    headers: { Authorization: `Bearer ${server.token}`, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

interface StepView {
  id: number;
  name: string;
  status: string;
  started_at: string | null;
  finished_at: string | null;
}
interface RunView {
  id: number;
  status: string;
  reason?: string | null;
  started_at: string | null;
  finished_at: string | null;
  steps: StepView[];
}

let pipelineCounter = 0;
async function createPipeline(server: Server, commands: string[]): Promise<number> {
  const body = {
    name: `bench-engine-${process.pid}-${++pipelineCounter}`,
    steps: commands.map((command, i) => ({ name: `step ${i + 1}`, type: 'shell_command', config: { command } })),
  };
  return (await api<{ id: number }>(server, 'POST', '/api/pipelines/', body)).id;
}

const trigger = async (server: Server, pipelineId: number) => (await api<RunView>(server, 'POST', `/api/pipelines/${pipelineId}/run/`, {})).id;
const getRun = (server: Server, runId: number) => api<RunView>(server, 'GET', `/api/pipeline-runs/${runId}/`);

/**
 * Waits until the run is final; returns the run and the wall time (ms) the final status was seen:
 * when the live feed announced it, or (a message missed) when a slow poll found it.
 */
async function waitFinal(server: Server, runId: number, pollMs = 50, timeoutMs = 300_000): Promise<{ run: RunView; seenAt: number }> {
  const deadline = Date.now() + timeoutMs;
  const announced = new Promise<number>((resolve) => {
    const known = server.finals.get(runId);
    if (known !== undefined) resolve(known);
    else server.finalWaiters.set(runId, resolve);
  });
  try {
    for (;;) {
      const fromFeed = await Promise.race([announced, sleep(Math.max(pollMs, 50)).then(() => undefined)]);
      const run = await getRun(server, runId);
      if (isFinalStatus(run.status)) return { run, seenAt: fromFeed ?? performance.now() };
      if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status} after ${timeoutMs} ms`);
      if (server.child.exitCode !== null) throw new Error(`server died:\n${server.output()}`);
    }
  } finally {
    server.finalWaiters.delete(runId);
  }
}

function expectSuccess(what: string, run: RunView): boolean {
  if (run.status === 'success') return true;
  broken(`${what}: run ${run.id} ended ${run.status}${run.reason ? ` (${run.reason})` : ''}`);
  return false;
}

// ---------------------------------------------------------------------------------------------
// CPU time: what the work costs in CPU, which a busy machine stretches far less than wall time.

const directAccount = CpuAccount.open('ansflow-bench-direct');

/** CPU ms this process and what it starts use for `work` (the direct baselines). */
async function directCpu(work: () => Promise<unknown>): Promise<number> {
  if (!directAccount) {
    await work();
    return NaN;
  }
  directAccount.add(process.pid);
  const c0 = directAccount.usageMs();
  try {
    await work();
  } finally {
    directAccount.leave(process.pid);
  }
  return directAccount.usageMs() - c0;
}

/** How long after a run's final status the server's CPU is still counted for it (its sandbox winds down). */
const CPU_SETTLE_MS = 300;

/** CPU ms the server (with its spawners, sandboxes and steps) uses for `work` and CPU_SETTLE_MS after. */
async function serverCpu<T>(server: Server, work: () => Promise<T>): Promise<{ result: T; cpu: number }> {
  const c0 = server.cpu?.usageMs() ?? NaN;
  const result = await work();
  await sleep(CPU_SETTLE_MS);
  return { result, cpu: (server.cpu?.usageMs() ?? NaN) - c0 };
}

function cpuRow(bench: string, metric: string, engine: number[], direct: number[], per: 'delta' | 'ratio'): void {
  const e = median(engine);
  const d = median(direct);
  rows.push({
    bench,
    metric,
    ansflow: f(e, 2),
    baseline: f(d, 2),
    delta: per === 'delta' ? `+${f(e - d, 2)}` : `${f(e / d, 2)}x`,
    target: '(CPU)',
    ok: null,
  });
}

// ---------------------------------------------------------------------------------------------
// Results

interface Row {
  bench: string;
  metric: string;
  ansflow: string;
  baseline: string;
  delta: string;
  target: string;
  ok: boolean | null;
}
const rows: Row[] = [];
const notes: string[] = [];

// ---------------------------------------------------------------------------------------------
// 1. Per-step overhead

async function benchOverhead(server: Server, mode: string) {
  const pipelineId = await createPipeline(
    server,
    Array.from({ length: STEPS }, () => 'true'),
  );
  // Warm-up: the first run loads code paths (and the baseline warms bash in the page cache).
  expectSuccess('overhead warm-up', (await waitFinal(server, await trigger(server, pipelineId))).run);
  for (let i = 0; i < STEPS; i++) await spawnBash('true');

  const baseline: number[] = [];
  const runSpan: number[] = [];
  const wall: number[] = [];
  const stepSpan: number[] = [];
  const gaps: number[] = [];
  const cpuDirect: number[] = [];
  const cpuEngine: number[] = [];
  for (let r = 0; r < OVERHEAD_REPEATS; r++) {
    const b0 = performance.now();
    let b1 = 0;
    const direct = await directCpu(async () => {
      for (let i = 0; i < STEPS; i++) await spawnBash('true');
      b1 = performance.now();
    });
    baseline.push((b1 - b0) / STEPS);
    cpuDirect.push(direct / STEPS);

    const t0 = performance.now();
    const {
      result: { run, seenAt },
      cpu,
    } = await serverCpu(server, async () => waitFinal(server, await trigger(server, pipelineId)));
    if (!expectSuccess('overhead', run)) continue;
    cpuEngine.push(cpu / STEPS);
    wall.push((seenAt - t0) / STEPS);
    runSpan.push((iso(run.finished_at) - iso(run.started_at)) / STEPS);
    stepSpan.push(median(run.steps.map((s) => iso(s.finished_at) - iso(s.started_at))));
    for (let i = 1; i < run.steps.length; i++) gaps.push(iso(run.steps[i]!.started_at) - iso(run.steps[i - 1]!.finished_at));
  }
  const b = median(baseline);
  const s = median(runSpan);
  const w = median(wall);
  rows.push({
    bench: `1 per-step ${mode}`,
    metric: `ms/step, 50 steps, run started→finished (median of ${OVERHEAD_REPEATS})`,
    ansflow: f(s, 2),
    baseline: f(b, 2),
    delta: `+${f(s - b, 2)}`,
    target: '≤ +3',
    ok: s - b <= 3,
  });
  rows.push({
    bench: `1 per-step ${mode}`,
    metric: 'ms/step, trigger → final status seen (wall)',
    ansflow: f(w, 2),
    baseline: f(b, 2),
    delta: `+${f(w - b, 2)}`,
    target: '≤ +3',
    ok: w - b <= 3,
  });
  cpuRow(`1 per-step ${mode}`, 'CPU ms/step: server with its spawners and steps, vs this process spawning', cpuEngine, cpuDirect, 'delta');
  notes.push(
    `${mode} per-step detail: step started→finished median ${f(median(stepSpan), 2)} ms (ms-resolution timestamps), ` +
      `gap from one step's finished_at to the next one's started_at median ${f(median(gaps), 2)} ms, p90 ${f(pct(gaps, 90), 2)} ms`,
  );
}

// ---------------------------------------------------------------------------------------------
// 2. Trigger to first step

async function benchTrigger(server: Server, mode: string) {
  // In the workspace (run-<id> on the host): a sandboxed step sees nothing else of the data folder.
  const pipelineId = await createPipeline(server, ['date +%s%N > "$ANSFLOW_WORKSPACE/stamp"']);
  const scratch = mkdtempSync(join(tmpdir(), 'ansflow-bench-stamp-'));
  const baseline: number[] = [];
  const raw: number[] = [];
  const toStarted: number[] = [];
  const cpuDirect: number[] = [];
  const cpuEngine: number[] = [];
  try {
    const one = async (): Promise<void> => {
      // Baseline: this process spawns the same kind of shell that writes a timestamp.
      const file = join(scratch, 'stamp');
      let s0 = 0n;
      cpuDirect.push(
        await directCpu(async () => {
          s0 = wallNs();
          await spawnBash(`date +%s%N > '${file}'`);
        }),
      );
      baseline.push(Number(BigInt(readFileSync(file, 'utf8').trim()) - s0) / 1e6);

      let t0 = 0n;
      const { result: runId, cpu } = await serverCpu(server, async () => {
        t0 = wallNs();
        const id = await trigger(server, pipelineId);
        await waitFinal(server, id, 2);
        return id;
      });
      cpuEngine.push(cpu);
      const run = await getRun(server, runId);
      if (!expectSuccess('trigger', run)) return;
      const stamp = BigInt(readFileSync(join(server.dataDir, 'workspaces', `run-${runId}`, 'stamp'), 'utf8').trim());
      raw.push(Number(stamp - t0) / 1e6);
      toStarted.push(iso(run.steps[0]!.started_at) - Number(t0 / 1_000_000n));
    };
    for (let i = 0; i < 3; i++) await one(); // warm-up
    baseline.length = raw.length = toStarted.length = cpuDirect.length = cpuEngine.length = 0;
    for (let i = 0; i < TRIGGER_REPEATS; i++) await one();
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const b = median(baseline);
  const r = median(raw);
  rows.push({
    bench: `2 trigger ${mode}`,
    metric: `ms, HTTP trigger → step process writes its timestamp (median of ${TRIGGER_REPEATS})`,
    ansflow: f(r, 2),
    baseline: f(b, 2),
    delta: `+${f(r - b, 2)}`,
    target: '< 10 (delta)',
    ok: r - b < 10,
  });
  cpuRow(`2 trigger ${mode}`, 'CPU ms per one-step run from the trigger (server and all it starts) vs one direct spawn', cpuEngine, cpuDirect, 'delta');
  notes.push(
    `${mode} trigger detail: raw p10/p90 ${f(pct(raw, 10), 2)}/${f(pct(raw, 90), 2)} ms; baseline spawn→timestamp p10/p90 ${f(pct(baseline, 10), 2)}/${f(pct(baseline, 90), 2)} ms; ` +
      `trigger → step started_at (stored, ms resolution) median ${f(median(toStarted), 1)} ms`,
  );
}

// ---------------------------------------------------------------------------------------------
// 3. Log throughput

async function benchLogs(server: Server, mode: string) {
  const command = `seq 1 ${LOG_LINES} | sed 's/^/line /'`;
  const expectedBytes = Number((await captureSize(command)).bytes);
  const pipelineId = await createPipeline(server, [command]);
  const scratch = mkdtempSync(join(tmpdir(), 'ansflow-bench-log-'));
  const baseline: number[] = [];
  const piped: number[] = [];
  const wall: number[] = [];
  const span: number[] = [];
  const cpuDirect: number[] = [];
  const cpuEngine: number[] = [];
  try {
    await waitFinal(server, await trigger(server, pipelineId)); // warm-up
    for (let r = 0; r < LOG_REPEATS; r++) {
      const b0 = performance.now();
      let b1 = 0;
      cpuDirect.push(
        await directCpu(async () => {
          await spawnBash(`${command} > '${join(scratch, 'out.log')}'`);
          b1 = performance.now();
        }),
      );
      baseline.push(b1 - b0);
      // Second reference: the same output through a pipe into this Node process (discarded).
      const p0 = performance.now();
      await spawnBash(command);
      piped.push(performance.now() - p0);

      const t0 = performance.now();
      const {
        result: { runId, run, seenAt },
        cpu,
      } = await serverCpu(server, async () => {
        const id = await trigger(server, pipelineId);
        return { runId: id, ...(await waitFinal(server, id, 2)) };
      });
      cpuEngine.push(cpu);
      if (!expectSuccess('log throughput', run)) continue;
      wall.push(seenAt - t0);
      span.push(iso(run.finished_at) - iso(run.started_at));
      const stored = await storedSize(server, runId, run.steps[0]!.id);
      if (stored !== expectedBytes) broken(`log throughput: run ${runId} stored ${stored} bytes, expected ${expectedBytes}`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const b = median(baseline);
  const w = median(wall);
  const s = median(span);
  rows.push({
    bench: `3 logs ${mode}`,
    metric: `ms, ${LOG_LINES.toLocaleString('en')} lines, trigger → final status seen (median of ${LOG_REPEATS})`,
    ansflow: f(w, 1),
    baseline: f(b, 1),
    delta: `${f(w / b, 2)}x`,
    target: '≤ 1.5x',
    ok: w / b <= 1.5,
  });
  const p = median(piped);
  rows.push({
    bench: `3 logs ${mode}`,
    metric: 'ms, same; reference: piped into a Node process and discarded',
    ansflow: f(w, 1),
    baseline: f(p, 1),
    delta: `${f(w / p, 2)}x`,
    target: '(info)',
    ok: null,
  });
  rows.push({
    bench: `3 logs ${mode}`,
    metric: 'ms, same, run started_at → finished_at',
    ansflow: f(s, 1),
    baseline: f(b, 1),
    delta: `${f(s / b, 2)}x`,
    target: '≤ 1.5x',
    ok: s / b <= 1.5,
  });
  cpuRow(`3 logs ${mode}`, 'CPU ms, same run (server and all it starts) vs the command writing to a file', cpuEngine, cpuDirect, 'ratio');
}

async function captureSize(command: string): Promise<{ bytes: number }> {
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-e', '-c', command], { stdio: ['ignore', 'pipe', 'inherit'] });
    let bytes = 0;
    child.stdout!.on('data', (c: Buffer) => (bytes += c.length));
    child.once('error', fail);
    child.once('close', () => done({ bytes }));
  });
}

/** The size of a step's stored log, read through the API (offset near the end → X-Next-Offset). */
async function storedSize(server: Server, runId: number, stepId: number, near = 0): Promise<number> {
  const res = await fetch(`${server.url}/api/pipeline-runs/${runId}/logs/?step=${stepId}&offset=${near}`, {
    headers: { Authorization: `Bearer ${server.token}` },
  });
  const body = await res.arrayBuffer();
  if (!res.ok) throw new Error(`logs of run ${runId}: HTTP ${res.status}`);
  const next = Number(res.headers.get('x-next-offset'));
  return Number.isFinite(next) ? next : near + body.byteLength;
}

// ---------------------------------------------------------------------------------------------
// 4. Memory

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function benchMemory() {
  const server = await startServer();
  try {
    const pid = server.child.pid!;
    const line = 'x'.repeat(99);
    const command = `yes '${line}' | head -c ${MEMORY_BYTES}`;
    const pipelineId = await createPipeline(server, [command]);
    const warm = await createPipeline(server, [`yes '${line}' | head -c 10000000`]);
    expectSuccess('memory warm-up', (await waitFinal(server, await trigger(server, warm), 20)).run);
    await sleep(1000);
    const before: number[] = [];
    for (let i = 0; i < 10; i++) {
      before.push(rssKb(pid));
      await sleep(100);
    }
    const base = median(before) / 1024;
    let peak = 0;
    const samples: number[] = [];
    const sampler = setInterval(() => {
      try {
        const mb = rssKb(pid) / 1024;
        samples.push(mb);
        peak = Math.max(peak, mb);
      } catch {
        /* the server is gone; reported below */
      }
    }, 100);
    const t0 = performance.now();
    const runId = await trigger(server, pipelineId);
    const { run, seenAt } = await waitFinal(server, runId, 100, 600_000);
    clearInterval(sampler);
    const after = rssKb(pid) / 1024;
    if (expectSuccess('memory', run)) {
      const stored = await storedSize(server, runId, run.steps[0]!.id, MEMORY_BYTES - 100);
      if (stored !== MEMORY_BYTES) broken(`memory: run ${runId} stored ${stored} bytes, expected ${MEMORY_BYTES}`);
    }
    const seconds = (seenAt - t0) / 1000;
    const scratch = mkdtempSync(join(tmpdir(), 'ansflow-bench-mem-'));
    const b0 = performance.now();
    await spawnBash(`${command} > '${join(scratch, 'out.log')}'`);
    const baseSeconds = (performance.now() - b0) / 1000;
    rmSync(scratch, { recursive: true, force: true });
    rows.push({
      bench: '4 memory',
      metric: `server RSS MB: before → peak while a step prints 1 GiB (${samples.length} samples)`,
      ansflow: `${f(base, 0)} → ${f(peak, 0)}`,
      baseline: f(base, 0),
      delta: `+${f(peak - base, 1)} MB`,
      target: '< +50 MB',
      ok: peak - base < 50,
    });
    notes.push(
      `memory detail: RSS after the run ${f(after, 0)} MB; the 1 GiB step took ${f(seconds, 1)} s through the server ` +
        `(${f(1024 / seconds, 0)} MiB/s) vs ${f(baseSeconds, 1)} s redirected to a file directly`,
    );
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// 5. Concurrency

async function benchConcurrency() {
  const server = await startServer({ ANSFLOW_MAX_CONCURRENT_RUNS: String(CONCURRENCY_LIMIT) });
  try {
    const pipelines: number[] = [];
    for (let i = 0; i < CONCURRENT_PIPELINES; i++) pipelines.push(await createPipeline(server, ['sleep 0.2']));
    const t0 = performance.now();
    const results = await Promise.allSettled(Array.from({ length: CONCURRENT_RUNS }, (_, i) => trigger(server, pipelines[i % CONCURRENT_PIPELINES]!)));
    const triggered = performance.now() - t0;
    const ids = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const rejected = results.filter((r) => r.status === 'rejected');
    if (rejected.length > 0) broken(`concurrency: ${rejected.length} triggers failed: ${String((rejected[0] as PromiseRejectedResult).reason)}`);
    if (new Set(ids).size !== ids.length) broken('concurrency: duplicate run ids');

    // Wait until nothing is queued or running (two cheap counts per poll).
    const count = async (status: string) => (await api<{ count: number }>(server, 'GET', `/api/pipeline-runs/?status=${status}&page_size=1`)).count;
    const deadline = Date.now() + 300_000;
    for (;;) {
      const [queued, running] = await Promise.all([count('queued'), count('running')]);
      if (queued + running === 0) break;
      if (Date.now() > deadline) {
        broken(`concurrency: ${queued} queued and ${running} running after 300 s`);
        break;
      }
      await sleep(20);
    }
    const wall = performance.now() - t0;

    const runs: RunView[] = [];
    for (let i = 0; i < ids.length; i += 20) runs.push(...(await Promise.all(ids.slice(i, i + 20).map((id) => getRun(server, id)))));
    const notSuccess = runs.filter((r) => r.status !== 'success');
    if (notSuccess.length > 0)
      broken(`concurrency: ${notSuccess.length} runs not successful, e.g. run ${notSuccess[0]!.id} ${notSuccess[0]!.status} ${notSuccess[0]!.reason ?? ''}`);
    let stored = 0;
    for (const id of pipelines) stored += (await api<{ count: number }>(server, 'GET', `/api/pipelines/${id}/runs/?page_size=1`)).count;
    if (stored !== CONCURRENT_RUNS) broken(`concurrency: ${stored} runs stored for ${CONCURRENT_RUNS} triggers`);

    // Maximum overlap of the steps' and of the runs' [started_at, finished_at) intervals.
    const interval = (x: { started_at: string | null; finished_at: string | null }): [number, number][] =>
      x.started_at && x.finished_at ? [[iso(x.started_at), iso(x.finished_at)]] : [];
    const maxSteps = maxOverlap(runs.flatMap((r) => r.steps.flatMap(interval)));
    const maxRuns = maxOverlap(runs.flatMap(interval));
    if (maxSteps > CONCURRENCY_LIMIT) broken(`concurrency: ${maxSteps} steps ran at once, limit ${CONCURRENCY_LIMIT}`);
    if (maxRuns > CONCURRENCY_LIMIT) broken(`concurrency: ${maxRuns} runs were running at once, limit ${CONCURRENCY_LIMIT}`);

    const ideal = (CONCURRENT_RUNS / CONCURRENCY_LIMIT) * 200;
    const ok = runs.length - notSuccess.length;
    rows.push({
      bench: '5 concurrency',
      metric: `${CONCURRENT_RUNS} runs at once over ${CONCURRENT_PIPELINES} pipelines, limit ${CONCURRENCY_LIMIT}: success / stored`,
      ansflow: `${ok} / ${stored}`,
      baseline: `${CONCURRENT_RUNS}`,
      delta: `${CONCURRENT_RUNS - ok} lost/failed`,
      target: 'all success',
      ok: ok === CONCURRENT_RUNS && stored === CONCURRENT_RUNS,
    });
    rows.push({
      bench: '5 concurrency',
      metric: 'max concurrent steps / runs (from stored times)',
      ansflow: `${maxSteps} / ${maxRuns}`,
      baseline: String(CONCURRENCY_LIMIT),
      delta: '',
      target: `≤ ${CONCURRENCY_LIMIT}`,
      ok: maxSteps <= CONCURRENCY_LIMIT && maxRuns <= CONCURRENCY_LIMIT,
    });
    rows.push({
      bench: '5 concurrency',
      metric: 'wall s (first POST → all final) / runs per s',
      ansflow: `${f(wall / 1000, 2)} / ${f((CONCURRENT_RUNS * 1000) / wall, 1)}`,
      baseline: `${f(ideal / 1000, 2)} / ${f((CONCURRENT_RUNS * 1000) / ideal, 1)}`,
      delta: `+${f((wall - ideal) / CONCURRENT_RUNS, 1)} ms/run`,
      target: '(ideal = 200×0.2 s / 8)',
      ok: null,
    });
    notes.push(`concurrency detail: the ${CONCURRENT_RUNS} POSTs took ${f(triggered, 0)} ms to be answered`);
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Output

function table(): string {
  const head = ['#', 'metric', 'AnsFlow', 'baseline', 'difference', 'target', 'met'];
  const body = rows.map((r) => [r.bench, r.metric, r.ansflow, r.baseline, r.delta, r.target, r.ok === null ? '–' : r.ok ? 'yes' : 'NO']);
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...body.map((c) => `| ${c.join(' | ')} |`)].join('\n');
}

function environment(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC · Node ${process.version} · ${availableParallelism()} × ${cpu} · load average before ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;
}

async function writeDoc(raw: string) {
  // Formatted like `npm run lint` (prettier) expects, so the generated block stays lint-clean.
  const prettier = await import('prettier');
  const block = (await prettier.format(raw, { ...(await prettier.resolveConfig(DOC)), parser: 'markdown' })).trimEnd();
  // Re-read right before writing: other sections of this file are edited by other people.
  let text = existsSync(DOC)
    ? readFileSync(DOC, 'utf8')
    : '# Benchmarks\n\nFigures measured on the project machine; each section says how to reproduce them.\n';
  const generated = `${RESULTS_START}\n\n${block}\n\n${RESULTS_END}`;
  const s = text.indexOf(RESULTS_START);
  const e = text.indexOf(RESULTS_END);
  if (s !== -1 && e > s) text = text.slice(0, s) + generated + text.slice(e + RESULTS_END.length);
  else {
    const at = text.indexOf(SECTION);
    if (at === -1) text = `${text.trimEnd()}\n\n${SECTION}\n\n${generated}\n`;
    else {
      const next = text.indexOf('\n## ', at + SECTION.length);
      const end = next === -1 ? text.length : next;
      text = `${text.slice(0, end).trimEnd()}\n\n${generated}\n${text.slice(end)}`;
    }
  }
  writeFileSync(DOC, text.endsWith('\n') ? text : `${text}\n`);
}

async function main() {
  const env = environment();
  console.log(`engine benchmark · ${env}`);
  // The same measurements with steps unsandboxed and sandboxed (the default), side by side.
  for (const [mode, sandbox] of [
    ['unsandboxed', 'off'],
    ['sandboxed', 'on'],
  ] as const) {
    if (!(opts.only.has(1) || opts.only.has(2) || opts.only.has(3))) break;
    const server = await startServer({ ANSFLOW_SANDBOX: sandbox });
    try {
      if (opts.only.has(1)) await benchOverhead(server, mode);
      if (opts.only.has(2)) await benchTrigger(server, mode);
      if (opts.only.has(3)) await benchLogs(server, mode);
    } finally {
      await server.stop();
    }
  }
  if (opts.only.has(4)) await benchMemory();
  if (opts.only.has(5)) await benchConcurrency();
  directAccount?.close();

  const block = [`Measured ${env}.`, '', table(), '', ...notes.map((n) => `- ${n}`)].join('\n');
  console.log(`\n${table()}\n`);
  for (const n of notes) console.log(`- ${n}`);
  if (opts.writeDoc) {
    await writeDoc(block);
    console.log(`\nwrote ${DOC.replace(`${ROOT}/`, '')}`);
  }
  if (problems.length > 0) {
    console.error(`\n${problems.length} problem(s):\n  - ${problems.join('\n  - ')}`);
    process.exitCode = 1;
  }
}

const cleanup = () => Promise.allSettled([...live].map((s) => s.stop()));
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
main().catch(async (error: unknown) => {
  console.error(error);
  await cleanup();
  process.exit(1);
});
