/**
 * The soak (issue 15, Performance; not in CI, not in `npm run bench`: it takes 20 minutes).
 *
 * The scale-out topology as real processes from source (test/scale/support.ts): PostgreSQL (a
 * fresh database), Redis (a fresh key prefix), one API, one gateway and three workers
 * (`ansflow worker --concurrency 2`). For `--minutes` (default 20), side by side:
 *   - webhooks    a signed GitHub push every `--webhook-ms` (a new commit each) to a pipeline
 *                 watching that repository (on github.com: the run must end, however its
 *                 checkout goes);
 *   - triggers    a manual run every `--trigger-ms` of a log-heavy pipeline (20,000 lines);
 *   - cancels     every `--cancel-ms` a run of a `sleep 60` pipeline, cancelled after a second;
 *   - viewers     200 WebSocket clients: 150 on the all-runs feed for the whole soak, 50 on the
 *                 newest log-heavy run's feed, moving to the next run when theirs ends, or
 *                 after `--move-on-ms` (30 s) on a run not yet finished (counted apart: that
 *                 close is the viewer's own, and it too reads 1000 at the viewer);
 *   - list        GET /api/pipeline-runs/ sequentially, its latency recorded by minute;
 *   - memory      every process's resident set (/proc/<pid>/status VmRSS) every 10 s.
 * Then the load stops and every run must end within two minutes.
 *
 * Verdicts (printed, and written into docs/benchmarks.md unless --no-doc):
 *   no run lost   every run a trigger, a webhook (its 202's `triggered_runs`) or a cancel
 *                 started is in the database, and nothing else is;
 *   none stuck    all of them final after the drain; cancels `cancelled`, log-heavy `success`;
 *   memory flat   each process, after warm-up (the first quarter, at least 1 minute), split in
 *                 thirds: the last third's mean RSS at most 10 % over the first third's, and its
 *                 floor (lowest sample: where collections brought it back) at most 10 % over the
 *                 first third's floor. Thirds, not shorter windows: a heap grows and is collected
 *                 in cycles of minutes, and a window shorter than a cycle compares a trough with
 *                 a peak. (Post-GC heap sizes are not sampled: the processes are read from
 *                 /proc only, so the RSS floor stands for the post-collection minimum.)
 *   list stable   the list's p99 per minute after warm-up (the table shows them).
 *
 *   node --import tsx bench/soak.ts [--minutes 20] [--viewers 200] [--move-on-ms 30000] [--no-doc]
 *   ANSFLOW_CLI_MAIN=dist/cli/main.js node --import tsx bench/soak.ts   (the processes from a build: npm run build)
 */
import { randomUUID, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import WebSocket from 'ws';
import { createTestDatabase } from '../test/support/postgres.js';
import { connectTestRedis } from '../test/support/redis.js';
import { api, login, startCluster, type Cluster, type Proc } from '../test/scale/support.js';
import { signGithubBody } from '../src/integrations/github/verify-signature.js';
import { writeDocSection } from './bench-server.js';
import { ascending, percentile } from './stats.js';

const o = { minutes: 20, viewers: 200, webhookMs: 3000, triggerMs: 2000, cancelMs: 10_000, moveOnMs: 30_000, writeDoc: true };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i]!;
  const next = () => Number(process.argv[++i]);
  if (a === '--minutes') o.minutes = next();
  else if (a === '--viewers') o.viewers = next();
  else if (a === '--webhook-ms') o.webhookMs = next();
  else if (a === '--trigger-ms') o.triggerMs = next();
  else if (a === '--cancel-ms') o.cancelMs = next();
  else if (a === '--move-on-ms') o.moveOnMs = next();
  else if (a === '--no-doc') o.writeDoc = false;
  else throw new Error(`unknown argument ${a}`);
}

const GITHUB_SECRET = randomBytes(16).toString('hex');
const FINAL = new Set(['success', 'failed', 'cancelled', 'timeout', 'error']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resident set of a process in bytes (Linux). */
function rss(pid: number): number | null {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : null;
  } catch {
    return null;
  }
}

interface Started {
  id: number;
  kind: 'webhook' | 'trigger' | 'cancel';
}

async function main() {
  const database = await createTestDatabase();
  const redis = await connectTestRedis();
  if (!database || !redis) throw new Error('the soak needs PostgreSQL and Redis');
  const cluster: Cluster = await startCluster({
    databaseUrl: database.url,
    redisUrl: redis.url,
    redisPrefix: redis.prefix,
    apis: 1,
    gateway: true,
    workers: [{ concurrency: 2 }, { concurrency: 2 }, { concurrency: 2 }],
    env: {
      ANSFLOW_GITHUB_WEBHOOK_SECRET: GITHUB_SECRET,
      // 200 viewers from one address: the per-address handshake limit is for the internet, not this.
      ANSFLOW_WS_HANDSHAKE_RATE_LIMIT: '100000',
      ANSFLOW_WEBHOOK_RATE_LIMIT: '100000',
      NODE_ENV: 'production',
      // The soak's one sign-in must outlive it.
      ANSFLOW_ACCESS_TOKEN_TTL: '86400',
    },
  });
  const problems: string[] = [];
  const load = [loadavg()[0]!];
  try {
    const base = cluster.apis[0]!.baseUrl;
    const gateway = cluster.gateway!.baseUrl;
    const token = await login(base);
    const create = async (body: Record<string, unknown>) => {
      const r = await api(base, 'POST', '/api/pipelines/', token, body);
      if (r.status !== 201) throw new Error(`create pipeline: ${r.status} ${r.text}`);
      return r.json.id as number;
    };
    // The pipeline the pushes trigger.
    const push: any = {
      ref: 'refs/heads/main',
      before: '0'.repeat(40),
      after: '1'.repeat(40),
      repository: {
        full_name: 'ansflow-soak/app',
        clone_url: 'https://github.com/ansflow-soak/app.git',
        html_url: 'https://github.com/ansflow-soak/app',
        default_branch: 'main',
      },
      head_commit: { id: '1'.repeat(40), message: 'soak', timestamp: new Date().toISOString(), author: { name: 'soak', email: 'soak@example.com' } },
      commits: [],
      pusher: { name: 'soak' },
    };
    await create({
      name: 'soak-webhook',
      repository_url: push.repository.clone_url,
      branch: '**',
      trigger_events: ['push'],
      steps: [{ name: 's', type: 'shell_command', config: { command: 'true' } }],
    });
    const heavy = await create({ name: 'soak-logs', steps: [{ name: 'logs', type: 'shell_command', config: { command: 'seq 1 20000' } }] });
    const slow = await create({ name: 'soak-cancel', steps: [{ name: 'sleep', type: 'shell_command', config: { command: 'sleep 60' } }] });

    const started: Started[] = [];
    const deadline = Date.now() + o.minutes * 60_000;
    const warmUpEnd = Date.now() + Math.max(60_000, (o.minutes * 60_000) / 4);
    let running = true;
    const every = async (ms: number, what: () => Promise<void>) => {
      while (running && Date.now() < deadline) {
        const t0 = Date.now();
        try {
          await what();
        } catch (error) {
          problems.push(`${(error as Error).message}`);
        }
        await sleep(Math.max(0, ms - (Date.now() - t0)));
      }
    };

    // Webhooks.
    const webhooks = every(o.webhookMs, async () => {
      push.after = randomBytes(20).toString('hex');
      push.head_commit = { ...push.head_commit, id: push.after };
      const body = JSON.stringify(push);
      const r = await fetch(`${gateway}/api/v1/webhooks/github`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'push',
          'x-github-delivery': randomUUID(),
          'x-hub-signature-256': signGithubBody(GITHUB_SECRET, Buffer.from(body)),
        },
        body,
      });
      const answer = (await r.json()) as { triggered_runs?: number[] };
      if (r.status !== 202) throw new Error(`webhook: ${r.status} ${JSON.stringify(answer)}`);
      for (const id of answer.triggered_runs ?? []) started.push({ id, kind: 'webhook' });
    });
    // Manual triggers of the log-heavy pipeline; the newest one is what run viewers watch.
    let newestHeavy = 0;
    const triggers = every(o.triggerMs, async () => {
      const r = await api(base, 'POST', `/api/pipelines/${heavy}/run/`, token, {});
      if (r.status !== 201) throw new Error(`trigger: ${r.status} ${r.text}`);
      started.push({ id: r.json.id, kind: 'trigger' });
      newestHeavy = r.json.id;
    });
    // Cancels.
    const cancels = every(o.cancelMs, async () => {
      const r = await api(base, 'POST', `/api/pipelines/${slow}/run/`, token, {});
      if (r.status !== 201) throw new Error(`trigger (cancel): ${r.status} ${r.text}`);
      started.push({ id: r.json.id, kind: 'cancel' });
      await sleep(1000);
      const c = await api(base, 'POST', `/api/pipeline-runs/${r.json.id}/cancel/`, token);
      if (c.status !== 202) throw new Error(`cancel: ${c.status} ${c.text}`);
    });

    // Viewers.
    const wsBase = gateway.replace(/^http/, 'ws');
    const feedMessages = { all: 0, run: 0, runFeedsEnded: 0, movedOn: 0, unexpectedCloses: 0 };
    const sockets = new Set<WebSocket>();
    const openAll = () => {
      const socket = new WebSocket(`${wsBase}/ws/pipeline-runs/?token=${token}`);
      sockets.add(socket);
      socket.on('message', () => feedMessages.all++);
      socket.on('error', () => undefined);
      socket.on('close', (code) => {
        sockets.delete(socket);
        if (running) {
          feedMessages.unexpectedCloses++;
          problems.push(`an all-runs viewer was closed (${code})`);
        }
      });
    };
    const watchRuns = async () => {
      let last = 0;
      while (running) {
        // The newest log-heavy run this viewer has not watched yet.
        const runId = newestHeavy > last ? newestHeavy : 0;
        last = runId || last;
        if (!runId) {
          await sleep(200);
          continue;
        }
        await new Promise<void>((resolve) => {
          const socket = new WebSocket(`${wsBase}/ws/pipeline-runs/${runId}?token=${token}`);
          sockets.add(socket);
          let final = false;
          let last = 'none';
          // Set when this viewer closes the socket itself: its close event then says 1000 as well.
          let movedOn = false;
          socket.on('message', (data) => {
            feedMessages.run++;
            const m = JSON.parse(data.toString());
            if (m.type === 'pipeline_status_update') last = String(m.data?.status);
            if (m.type === 'pipeline_status_update' && FINAL.has(m.data?.status)) final = true;
          });
          socket.on('error', () => undefined);
          socket.on('close', (code) => {
            sockets.delete(socket);
            clearTimeout(moveOn);
            if (final) feedMessages.runFeedsEnded++;
            else if (movedOn) feedMessages.movedOn++;
            else if (running) problems.push(`a run viewer of run ${runId} closed (${code}) before the final status (last status: ${last})`);
            resolve();
          });
          // Keep up: after `--move-on-ms` on one run move on (the run may be queued behind others).
          const moveOn = setTimeout(() => {
            movedOn = true;
            socket.close(1000);
          }, o.moveOnMs);
        });
      }
    };
    const allViewers = Math.round(o.viewers * 0.75);
    for (let i = 0; i < allViewers; i++) openAll();
    const runViewers = Array.from({ length: o.viewers - allViewers }, () => watchRuns());

    // The list's latency, by minute.
    const byMinute: number[][] = [];
    const t0 = Date.now();
    const lister = (async () => {
      while (running && Date.now() < deadline) {
        const s = process.hrtime.bigint();
        const r = await api(base, 'GET', '/api/pipeline-runs/', token);
        if (r.status !== 200) problems.push(`list: ${r.status}`);
        const minute = Math.floor((Date.now() - t0) / 60_000);
        (byMinute[minute] ??= []).push(Number(process.hrtime.bigint() - s) / 1e6);
        await sleep(20);
      }
    })();

    // Memory.
    const procs: Proc[] = [...cluster.apis, cluster.gateway!, ...cluster.workers];
    const memory: Array<{ at: number; bytes: Array<number | null> }> = [];
    const sampler = setInterval(() => memory.push({ at: Date.now(), bytes: procs.map((p) => rss(p.pid)) }), 10_000);
    const progress = setInterval(
      () => console.log(`  ${((Date.now() - t0) / 60_000).toFixed(1)} min: ${started.length} runs started, load ${loadavg()[0]!.toFixed(1)}`),
      60_000,
    );

    await Promise.all([webhooks, triggers, cancels, lister]);
    load.push(loadavg()[0]!);
    running = false;
    clearInterval(sampler);
    clearInterval(progress);
    for (const socket of sockets) socket.close(1000);
    await Promise.all(runViewers);

    // Drain: every run final within two minutes.
    const drainDeadline = Date.now() + 120_000;
    const statuses = new Map<number, string>();
    for (;;) {
      statuses.clear();
      for (let page = 1; ; page++) {
        const r = await api(base, 'GET', `/api/pipeline-runs/?page_size=100&page=${page}`, token);
        for (const run of r.json.results) statuses.set(run.id, run.status);
        if (!r.json.next) break;
      }
      if (started.every((s) => FINAL.has(statuses.get(s.id) ?? '')) || Date.now() > drainDeadline) break;
      await sleep(2000);
    }
    const lost = started.filter((s) => !statuses.has(s.id));
    const stuck = started.filter((s) => statuses.has(s.id) && !FINAL.has(statuses.get(s.id)!));
    const extra = [...statuses.keys()].filter((id) => !started.some((s) => s.id === id));
    const wrong = started.filter(
      (s) =>
        FINAL.has(statuses.get(s.id) ?? '') &&
        ((s.kind === 'cancel' && statuses.get(s.id) !== 'cancelled') || (s.kind === 'trigger' && statuses.get(s.id) !== 'success')),
    );
    const count = (kind: Started['kind']) => started.filter((s) => s.kind === kind).length;
    const tally = (kind: Started['kind']) => {
      const t = new Map<string, number>();
      for (const s of started.filter((x) => x.kind === kind)) t.set(statuses.get(s.id) ?? 'lost', (t.get(statuses.get(s.id) ?? 'lost') ?? 0) + 1);
      return [...t.entries()].map(([k, v]) => `${v} ${k}`).join(', ');
    };

    // Memory verdicts: the first third after warm-up against the last (see the top).
    const after = memory.filter((m) => m.at >= warmUpEnd);
    const third = Math.max(1, Math.floor(after.length / 3));
    const values = (rows: typeof after, i: number) => rows.map((r) => r.bytes[i]).filter((b): b is number => b !== null);
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
    const floor = (v: number[]) => (v.length > 0 ? Math.min(...v) : 0);
    const growth = (from: number, to: number) => (from > 0 ? (to / from - 1) * 100 : NaN);
    const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
    const memoryRows = procs.map((p, i) => {
      const [early, late] = [values(after.slice(0, third), i), values(after.slice(-third), i)];
      const first = mean(early);
      const last = mean(late);
      return {
        name: p.name,
        first,
        last,
        growth: growth(first, last),
        firstFloor: floor(early),
        lastFloor: floor(late),
        floorGrowth: growth(floor(early), floor(late)),
        peak: Math.max(...memory.map((m) => m.bytes[i] ?? 0)),
      };
    });
    const minutes = byMinute.map((samples, minute) => ({
      minute,
      n: samples.length,
      p99: percentile(ascending(samples), 99),
      p50: percentile(ascending(samples), 50),
    }));
    load.push(loadavg()[0]!);

    const verdict = (ok: boolean) => (ok ? 'yes' : 'NO');
    const lines = [
      `Measured ${new Date().toISOString().slice(0, 10)} with \`${process.env.ANSFLOW_CLI_MAIN ? `ANSFLOW_CLI_MAIN=${process.env.ANSFLOW_CLI_MAIN} ` : ''}node --import tsx bench/soak.ts --minutes ${o.minutes} --viewers ${o.viewers}\`: PostgreSQL, Redis, one API, one gateway, three workers (concurrency 2), ${process.env.ANSFLOW_CLI_MAIN ? `from the build (${process.env.ANSFLOW_CLI_MAIN})` : 'all from source'}; ${availableParallelism()} cores, ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}; load average (1 min) ${load.map((l) => l.toFixed(1)).join(' → ')}.`,
      '',
      `Runs started: ${started.length} (webhooks ${count('webhook')}: ${tally('webhook')}; log-heavy triggers ${count('trigger')}: ${tally('trigger')}; cancels ${count('cancel')}: ${tally('cancel')}). WebSocket: ${allViewers} all-runs viewers received ${feedMessages.all.toLocaleString('en-US')} messages; ${o.viewers - allViewers} run viewers received ${feedMessages.run.toLocaleString('en-US')} and saw ${feedMessages.runFeedsEnded} runs to their final status (${feedMessages.movedOn} times a viewer moved on after ${o.moveOnMs / 1000} s, its run not yet finished).`,
      '',
      '| Verdict | met | detail |',
      '| --- | --- | --- |',
      `| no run lost | ${verdict(lost.length === 0 && extra.length === 0)} | ${lost.length} started but not in the database, ${extra.length} in the database but never started |`,
      `| none stuck | ${verdict(stuck.length === 0 && wrong.length === 0)} | ${stuck.length} not final two minutes after the load; ${wrong.length} ended otherwise than expected |`,
      `| memory flat (< 10 % after warm-up, last third vs first: mean and floor) | ${verdict(memoryRows.every((r) => r.growth < 10 && r.floorGrowth < 10))} | ${memoryRows.map((r) => `${r.name} ${r.growth.toFixed(1)} % / ${r.floorGrowth.toFixed(1)} %`).join(', ')} |`,
      `| problems seen by the clients | ${verdict(problems.length === 0)} | ${problems.length === 0 ? 'none' : problems.slice(0, 5).join('; ') + (problems.length > 5 ? ` … (${problems.length})` : '')} |`,
      '',
      `RSS sampled every 10 s; after warm-up ${after.length} samples, thirds of ${third}.`,
      '',
      '| Process | first third: mean / floor | last third: mean / floor | growth: mean / floor | peak |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...memoryRows.map(
        (r) =>
          `| ${r.name} | ${mb(r.first)} / ${mb(r.firstFloor)} | ${mb(r.last)} / ${mb(r.lastFloor)} | ${r.growth.toFixed(1)} % / ${r.floorGrowth.toFixed(1)} % | ${mb(r.peak)} |`,
      ),
      '',
      '| Minute | list requests | p50 (ms) | p99 (ms) |',
      '| ---: | ---: | ---: | ---: |',
      ...minutes.map(
        (m) => `| ${m.minute + 1}${t0 + (m.minute + 1) * 60_000 <= warmUpEnd ? ' (warm-up)' : ''} | ${m.n} | ${m.p50.toFixed(1)} | ${m.p99.toFixed(1)} |`,
      ),
    ];
    const table = lines.join('\n');
    console.log(`\n${table}\n`);
    if (o.writeDoc) writeDocSection('## Soak (bench/soak.ts)', 'bench/soak.ts', table);
    if (lost.length || stuck.length) process.exitCode = 1;
  } catch (error) {
    console.error(cluster.outputs().slice(-8000));
    throw error;
  } finally {
    await cluster.stop();
    await redis.cleanup();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
