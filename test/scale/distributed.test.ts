/**
 * The distributed mode as real processes on this machine: PostgreSQL for state, Redis (BullMQ,
 * pub/sub) for the queue, events and cancels, and separate API, gateway and worker processes.
 * Under CI=true PostgreSQL and Redis must be reachable (the support helpers fail instead of skipping).
 *
 * Cluster A (shared Redis, unique prefix): two APIs, one gateway, three workers (the third with
 * --labels gpu), a short worker lease so a kill -9 is noticed within seconds.
 * Cluster B (a private redis-server, PostgreSQL behind a cuttable TCP proxy): Redis restarted
 * mid-run, PostgreSQL briefly unreachable.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { WebSocket } from 'ws';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { connectTestRedis, startPrivateRedis, type PrivateRedis, type TestRedis } from '../support/redis.js';
import { waitFor } from '../support/wait.js';
import { processIsAlive } from '../../src/engine/process-group.js';
import { api, login, startCluster, startTcpProxy, waitForRuns, workerOf, type Cluster, type TcpProxy, type WorkerProc } from './support.js';

const LEASE_SECONDS = 3;
// Waits for something that must happen are bounded only so a hang fails: a loaded machine may be slow.
const LIVENESS_MS = 120_000;

const shell = (name: string, command: string, extra: Record<string, unknown> = {}) => ({ name, type: 'shell_command', config: { command }, ...extra });

async function createPipeline(base: string, token: string, name: string, steps: unknown[]): Promise<number> {
  const r = await api(base, 'POST', '/api/pipelines/', token, { name, steps });
  assert.equal(r.status, 201, r.text);
  return r.json.id as number;
}

async function trigger(base: string, token: string, pipelineId: number, variables?: Record<string, string>): Promise<number> {
  const r = await api(base, 'POST', `/api/pipelines/${pipelineId}/run/`, token, variables ? { variables } : {});
  assert.equal(r.status, 201, r.text);
  return r.json.id as number;
}

const logOf = async (base: string, token: string, runId: number) => (await api(base, 'GET', `/api/pipeline-runs/${runId}/logs/`, token)).text;

/** The `ws=<workspace>` marker each step prints, mapped to the worker whose data folder holds it. */
function workerFromLog(workers: readonly WorkerProc[], log: string): WorkerProc | undefined {
  const ws = /ws=(\S+)/.exec(log)?.[1];
  return ws ? workerOf(workers, ws) : undefined;
}

const MARK = 'echo "ws=$ANSFLOW_WORKSPACE"';

/** Host pids of the processes whose command line (arguments joined with spaces) passes `test`. */
function processesWhose(test: (line: string) => boolean): number[] {
  return readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      const line = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
      return test(line) ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
}

describe('distributed mode: two APIs, one gateway, three workers', () => {
  let db: TestDatabase | null = null;
  let redis: TestRedis | null = null;
  let cluster: Cluster | null = null;
  let token = '';
  const strayGroups: number[] = [];
  const base = (i: number) => cluster!.apis[i]!.baseUrl;

  before(async () => {
    db = await createTestDatabase();
    redis = await connectTestRedis();
    if (!db || !redis) return;
    cluster = await startCluster({
      databaseUrl: db.url,
      redisUrl: redis.url,
      redisPrefix: redis.prefix,
      apis: 2,
      workers: [{ concurrency: 2 }, { concurrency: 2 }, { concurrency: 2, labels: ['gpu'] }],
      // One run per pipeline at a time: shows that a dead worker's pipeline slot is released.
      env: { ANSFLOW_WORKER_LEASE_SECONDS: String(LEASE_SECONDS), ANSFLOW_MAX_RUNS_PER_PIPELINE: '1', ANSFLOW_CANCEL_GRACE_SECONDS: '2' },
    });
    token = await login(base(0));
  });

  after(async () => {
    for (const pid of strayGroups) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await cluster?.stop();
    await redis?.cleanup().catch(() => {});
    await db?.drop().catch(() => {});
  });

  const skipIfUnavailable = (t: { skip(reason: string): void }) => {
    if (!cluster) {
      t.skip('PostgreSQL or Redis unreachable');
      return true;
    }
    return false;
  };

  test('system status on the gateway lists the three workers with labels and load', async (t) => {
    if (skipIfUnavailable(t)) return;
    const status = await waitFor(
      async () => {
        const r = await api(cluster!.gateway!.baseUrl, 'GET', '/api/v1/system/status');
        return r.status === 200 && r.json.workers?.length === 3 ? r.json : undefined;
      },
      LIVENESS_MS,
      'three live workers in system status',
    );
    const byId = new Map(status.workers.map((w: any) => [w.id, w]));
    for (const w of cluster!.workers) {
      const listed: any = byId.get(w.workerId);
      assert.ok(listed, `${w.name} (${w.workerId}) listed: ${JSON.stringify(status.workers)}`);
      assert.deepEqual(listed.labels, w.labels);
      assert.equal(listed.concurrency, 2);
      assert.equal(typeof listed.active, 'number');
    }
  });

  test('runs triggered through either API all succeed, on more than one worker; logs readable from the other API', async (t) => {
    if (skipIfUnavailable(t)) return;
    const pipelines: number[] = [];
    for (let i = 0; i < 4; i++)
      pipelines.push(await createPipeline(base(i % 2), token, `spread-${i}`, [shell('work', `${MARK}; echo "run=$ANSFLOW_RUN_ID"; sleep 1; echo done`)]));
    const triggeredBy = new Map<number, number>();
    for (let round = 0; round < 2; round++)
      for (const [i, p] of pipelines.entries()) {
        const via = (i + round) % 2;
        triggeredBy.set(await trigger(base(via), token, p), via);
      }
    const runs = await waitForRuns(base(0), token, [...triggeredBy.keys()], 40000);
    const used = new Set<string>();
    for (const [id, via] of triggeredBy) {
      assert.equal(runs.get(id).status, 'success', JSON.stringify(runs.get(id)));
      const log = await logOf(base(1 - via), token, id);
      assert.match(log, new RegExp(`run=${id}\\b`));
      assert.match(log, /done/);
      const w = workerFromLog(cluster!.workers, log);
      assert.ok(w, `run ${id} ran in a worker's data folder: ${log}`);
      used.add(w.name);
    }
    assert.ok(used.size >= 2, `work spread over more than one worker (used: ${[...used].join(', ')})`);
  });

  test('a WebSocket client on the gateway gets the status updates and log chunks of a run executed on a worker', async (t) => {
    if (skipIfUnavailable(t)) return;
    const p = await createPipeline(base(0), token, 'ws-watched', [shell('talk', `${MARK}; sleep 1; echo ws-line-1; sleep 0.5; echo ws-line-2`)]);
    const runId = await trigger(base(1), token, p);
    const ws = new WebSocket(`${cluster!.gateway!.baseUrl.replace('http', 'ws')}/ws/pipeline-runs/${runId}?token=${token}`);
    const messages: any[] = [];
    const closed = new Promise<number>((resolve, reject) => {
      ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
      ws.on('close', (code) => resolve(code));
      ws.on('error', reject);
    });
    const timer = setTimeout(() => ws.terminate(), 20000);
    const code = await closed;
    clearTimeout(timer);
    assert.equal(code, 1000, `closed normally after the final status: ${JSON.stringify(messages)}`);
    const statuses = messages.filter((m) => m.type === 'pipeline_status_update').map((m) => m.data.status);
    assert.ok(statuses.length >= 2, `several status updates: ${statuses.join(',')}`);
    assert.equal(statuses.at(-1), 'success');
    const text = messages
      .filter((m) => m.type === 'log')
      .map((m) => m.data.text)
      .join('');
    assert.match(text, /ws-line-1\n/);
    assert.match(text, /ws-line-2\n/);
    assert.ok(workerFromLog(cluster!.workers, await logOf(base(0), token, runId)), 'executed by a worker process');
  });

  test('labels: steps with runs_on: [gpu] run only on the worker started with --labels gpu', async (t) => {
    if (skipIfUnavailable(t)) return;
    const gpu = cluster!.workers.find((w) => w.labels.includes('gpu'))!;
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const p = await createPipeline(base(i % 2), token, `gpu-${i}`, [shell('prep', 'echo prep'), shell('train', `${MARK}; sleep 0.3`, { runs_on: ['gpu'] })]);
      ids.push(await trigger(base((i + 1) % 2), token, p));
    }
    const runs = await waitForRuns(base(0), token, ids, 30000);
    for (const id of ids) {
      assert.equal(runs.get(id).status, 'success', JSON.stringify(runs.get(id)));
      assert.equal(workerFromLog(cluster!.workers, await logOf(base(1), token, id))?.name, gpu.name, `run ${id} on the gpu worker`);
    }
  });

  test('cancel through API #2 reaches the worker running the step: its process tree is gone, status cancelled', async (t) => {
    if (skipIfUnavailable(t)) return;
    // Pids printed inside a step are its sandbox's own: the processes are found from outside.
    const p = await createPipeline(base(0), token, 'to-cancel', [shell('long', `${MARK}; sleep 120.37 & wait`)]);
    const runId = await trigger(base(0), token, p);
    const pids = await waitFor(
      async () => {
        const found = [...processesWhose((line) => line === 'sleep 120.37'), ...processesWhose((line) => line.includes('sleep 120.37 &'))];
        return found.length === 2 ? found : undefined;
      },
      LIVENESS_MS,
      'the step to start',
    );
    strayGroups.push(...pids);
    assert.ok(pids.every(processIsAlive));
    const started = Date.now();
    const r = await api(base(1), 'POST', `/api/pipeline-runs/${runId}/cancel/`, token);
    assert.equal(r.status, 202, r.text);
    await waitFor(async () => pids.every((pid) => !processIsAlive(pid)), LIVENESS_MS, 'the step process tree to be gone');
    const run = (await waitForRuns(base(1), token, [runId], 8000)).get(runId);
    assert.equal(run.status, 'cancelled');
    assert.ok(Date.now() - started < 8000);
  });

  test('a worker killed with kill -9 mid-step: the run ends error after its lease, its slot is released, later runs complete elsewhere; a claimed run that never started a step runs again', async (t) => {
    if (skipIfUnavailable(t)) return;
    const crashy = await createPipeline(base(0), token, 'crashy', [shell('long', `${MARK}; echo "started"; sleep \${NAP:-0}; echo finished`)]);
    const doomedRun = await trigger(base(0), token, crashy, { NAP: '60.73' });
    const log = await waitFor(
      async () => {
        const text = await logOf(base(1), token, doomedRun);
        return text.includes('started') ? text : undefined;
      },
      LIVENESS_MS,
      'the step to start',
    );
    const sleeper = await waitFor(async () => processesWhose((line) => line === 'sleep 60.73')[0], LIVENESS_MS, 'the step to sleep');
    strayGroups.push(sleeper);
    const victim = workerFromLog(cluster!.workers, log)!;
    assert.ok(victim);
    // Same pipeline, at most one run of it at a time: this one waits for the dead run's slot.
    const behind = await trigger(base(1), token, crashy);
    victim.child.kill('SIGKILL');
    await victim.exited;
    const killedAt = Date.now();
    // The step's sandbox ends with the worker that held it.
    await waitFor(async () => !processIsAlive(sleeper) || undefined, LIVENESS_MS, "the dead worker's step to end with its sandbox");

    const crashed = (await waitForRuns(base(1), token, [doomedRun], 30000)).get(doomedRun);
    assert.equal(crashed.status, 'error', JSON.stringify(crashed));
    assert.match(crashed.error_reason, /server stopped/);
    assert.ok(Date.now() - killedAt < (4 * LEASE_SECONDS + 10) * 1000, 'noticed within a few leases');
    assert.match(await logOf(base(0), token, doomedRun), /started/, 'the log written before the crash stays readable');

    const client = new pg.Client({ connectionString: db!.url });
    await client.connect();
    try {
      const queued = await client.query('SELECT count(*)::int AS n FROM run_queue WHERE run_id = $1', [doomedRun]);
      assert.equal(queued.rows[0].n, 0, 'the dead run left the queue');

      const survivors = cluster!.workers.filter((w) => w !== victim);
      const afterRuns = (await waitForRuns(base(0), token, [behind], 30000)).get(behind);
      assert.equal(afterRuns.status, 'success', 'the run of the same pipeline got the released slot');
      const later: number[] = [];
      for (let i = 0; i < 4; i++) {
        const p = await createPipeline(base(i % 2), token, `after-crash-${i}`, [shell('s', `${MARK}; sleep 0.2`)]);
        later.push(await trigger(base((i + 1) % 2), token, p));
      }
      const done = await waitForRuns(base(0), token, later, 30000);
      for (const id of later) {
        assert.equal(done.get(id).status, 'success');
        assert.ok(survivors.includes(workerFromLog(cluster!.workers, await logOf(base(1), token, id))!), 'ran on a remaining worker');
      }

      // A run claimed by the dead worker that had not started a step: no live worker offers its
      // label, so it waits queued; it is then marked claimed by the dead worker (as if it had
      // claimed it just before kill -9), and a worker with the label is started.
      const special = await createPipeline(base(0), token, 'special', [shell('s', `${MARK}; echo ran-again`, { runs_on: ['special'] })]);
      const orphan = await trigger(base(1), token, special);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await api(base(0), 'GET', `/api/pipeline-runs/${orphan}/`, token)).json.status, 'queued');
      const claimed = await client.query(
        `UPDATE run_queue SET state = 'claimed', claimed_by = $2, lease_expires_at = $3 WHERE run_id = $1 AND state = 'queued'`,
        [orphan, victim.workerId, new Date(Date.now() + 1000).toISOString()],
      );
      assert.equal(claimed.rowCount, 1);
      const heir = await cluster!.startWorker({ concurrency: 1, labels: ['special'] });
      const rerun = (await waitForRuns(base(0), token, [orphan], 30000)).get(orphan);
      assert.equal(rerun.status, 'success', JSON.stringify(rerun));
      const rerunLog = await logOf(base(1), token, orphan);
      assert.match(rerunLog, /ran-again/);
      assert.equal(workerFromLog(cluster!.workers, rerunLog)?.name, heir.name);
    } finally {
      await client.end();
    }
  });
});

describe('distributed mode: Redis restarted and PostgreSQL briefly unreachable', () => {
  let db: TestDatabase | null = null;
  let redis: PrivateRedis | null = null;
  let proxy: TcpProxy | null = null;
  let cluster: Cluster | null = null;
  let token = '';
  let skipReason: string | null = null;

  before(async () => {
    db = await createTestDatabase();
    if (!db) return void (skipReason = 'PostgreSQL unreachable');
    if (spawnSync('redis-server', ['--version']).status !== 0) {
      const message = 'redis-server is not installed (needed to restart a private Redis)';
      if (process.env.CI === 'true') throw new Error(`${message} (CI=true: these tests must run)`);
      console.warn(`\n!!! SKIPPING Redis restart tests: ${message}\n`);
      return void (skipReason = message);
    }
    redis = await startPrivateRedis();
    const target = new URL(db.url);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    target.host = `127.0.0.1:${proxy.port}`;
    cluster = await startCluster({
      databaseUrl: target.toString(),
      redisUrl: redis.url,
      redisPrefix: 'ansflow',
      apis: 1,
      workers: [{ concurrency: 2 }, { concurrency: 2 }],
    });
    token = await login(cluster.apis[0]!.baseUrl);
  });

  after(async () => {
    if (cluster && ![...cluster.apis, cluster.gateway!, ...cluster.workers].every((x) => x.alive())) console.error(`a process died:\n${cluster.outputs()}`);
    await cluster?.stop();
    await proxy?.close();
    await redis?.kill();
    await db?.drop().catch(() => {});
  });

  test('Redis restarted mid-run (its data lost): every run queued before or during the restart finishes', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const base = cluster!.apis[0]!.baseUrl;
    const pipelines: number[] = [];
    for (let i = 0; i < 3; i++) pipelines.push(await createPipeline(base, token, `redis-${i}`, [shell('s', `${MARK}; echo start; sleep 1.5; echo end`)]));
    const before: number[] = [];
    for (let i = 0; i < 6; i++) before.push(await trigger(base, token, pipelines[i % 3]!));
    await waitFor(
      async () => (await api(base, 'GET', `/api/pipeline-runs/${before[0]}/`, token)).json.status === 'running',
      LIVENESS_MS,
      'a run to be running',
    );

    await redis!.kill();
    const during: number[] = [];
    for (let i = 0; i < 3; i++) during.push(await trigger(base, token, pipelines[i]!));
    await new Promise((r) => setTimeout(r, 1000));
    await redis!.start();
    const after: number[] = [];
    for (let i = 0; i < 2; i++) after.push(await trigger(base, token, pipelines[i]!));

    const all = [...before, ...during, ...after];
    const runs = await waitForRuns(base, token, all, 60000);
    const statuses = all.map((id) => `${id}:${runs.get(id).status}`);
    assert.ok(
      all.every((id) => runs.get(id).status === 'success'),
      `all runs succeeded: ${statuses.join(' ')}\n${cluster!.outputs().slice(-4000)}`,
    );
    for (const id of all) assert.match(await logOf(base, token, id), /end/);
    assert.ok(
      [...cluster!.apis, cluster!.gateway!, ...cluster!.workers].every((p) => p.alive()),
      'no process died',
    );
  });

  test('a step that finishes while PostgreSQL is unreachable: the run still ends with its real outcome and whole log', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const base = cluster!.apis[0]!.baseUrl;
    const p = await createPipeline(base, token, 'pg-in-flight', [shell('s', `${MARK}; echo start; sleep 1; echo end`), shell('t', 'echo second-step')]);
    const runId = await trigger(base, token, p);
    await waitFor(async () => (await logOf(base, token, runId)).includes('start'), LIVENESS_MS, 'the step to print');
    await proxy!.cut();
    // The first step ends and the second starts during the outage; their writes wait for the database.
    await new Promise((r) => setTimeout(r, 1500));
    await proxy!.restore();
    const runs = await waitForRuns(base, token, [runId], 30000);
    assert.equal(runs.get(runId).status, 'success', cluster!.outputs().slice(-3000));
    const log = await logOf(base, token, runId);
    assert.match(log, /end/);
    assert.match(log, /second-step/);
  });

  test('PostgreSQL unreachable: clear 503s, nothing half-written, and the service resumes by itself', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const base = cluster!.apis[0]!.baseUrl;
    const gateway = cluster!.gateway!.baseUrl;
    const p = await createPipeline(base, token, 'pg-before', [shell('s', `${MARK}; echo ok`)]);

    await proxy!.cut();
    try {
      const list = await api(base, 'GET', '/api/pipelines/', token);
      assert.equal(list.status, 503, list.text);
      assert.equal(list.json.error.code, 'SERVICE_UNAVAILABLE');
      assert.equal(typeof list.json.error.message, 'string');
      assert.equal(list.json.path, '/api/pipelines/');
      assert.ok(list.headers.get('retry-after'));

      const create = await api(base, 'POST', '/api/pipelines/', token, { name: 'pg-during', steps: [shell('s', 'echo never')] });
      assert.equal(create.status, 503, create.text);
      assert.equal(create.json.error.code, 'SERVICE_UNAVAILABLE');

      const run = await api(base, 'POST', `/api/pipelines/${p}/run/`, token, {});
      assert.equal(run.status, 503, run.text);
      assert.equal(run.json.error.code, 'SERVICE_UNAVAILABLE');

      const status = await api(gateway, 'GET', '/api/v1/system/status');
      assert.equal(status.status, 503, status.text);
      assert.equal(status.json.status, 'unhealthy');
    } finally {
      await proxy!.restore();
    }

    // Resumes without a restart of any process.
    await waitFor(async () => (await api(base, 'GET', '/api/pipelines/', token)).status === 200, LIVENESS_MS, 'the API to answer again');
    await waitFor(async () => (await api(gateway, 'GET', '/api/v1/system/status')).status === 200, LIVENESS_MS, 'the gateway to be healthy again');
    const list = await api(base, 'GET', '/api/pipelines/?page_size=100', token);
    const names = list.json.results.map((x: { name: string }) => x.name);
    assert.ok(names.includes('pg-before'));
    assert.ok(!names.includes('pg-during'), 'the create attempted during the outage left nothing behind');
    const runs = await api(base, 'GET', `/api/pipelines/${p}/runs/`, token);
    assert.equal(runs.json.count, 0, 'the trigger attempted during the outage left no run');
    // The name is free: no half-written row holds it.
    await createPipeline(base, token, 'pg-during', [shell('s', `${MARK}; echo after-outage`)]);

    const runId = await trigger(base, token, p);
    const done = (await waitForRuns(base, token, [runId], 30000)).get(runId);
    assert.equal(done.status, 'success', JSON.stringify(done));

    // Cut in the middle of traffic: every answer is a success or a 503 (never a 500), and what
    // exists afterwards is whole: a pipeline with all its steps, a run with its step rows and
    // its queue job (so it runs), whether or not its client saw the 201.
    const steps = [shell('a', 'echo a'), shell('b', 'echo b'), shell('c', `${MARK}; echo c`)];
    // The storm's runs need a label no worker has yet, so they stay queued while the cut happens
    // (what becomes of runs executing during an outage is not what this checks).
    const storm = await createPipeline(base, token, 'storm-target', [shell('s', `${MARK}; echo stormed`, { runs_on: ['storm'] })]);
    // Creates in 0..19, triggers in 20..39, sent interleaved.
    const requests: Promise<Awaited<ReturnType<typeof api>>>[] = new Array(40);
    const succeeded = [0, 0];
    let someSucceeded: () => void = () => {};
    const enough = new Promise<void>((resolve) => (someSucceeded = resolve));
    for (let i = 0; i < 20; i++) {
      requests[i] = api(base, 'POST', '/api/pipelines/', token, { name: `storm-${i}`, steps, variables: { K: 'v' } });
      requests[20 + i] = api(base, 'POST', `/api/pipelines/${storm}/run/`, token, {});
    }
    for (const [i, r] of requests.entries())
      void r
        .then((a) => {
          if (a.status === 201) succeeded[i < 20 ? 0 : 1]!++;
          if (succeeded[0]! >= 3 && succeeded[1]! >= 3) someSucceeded();
        })
        .catch(() => {});
    // Cut once a few requests have gone through: the rest are in flight at all stages.
    await Promise.race([enough, new Promise((r) => setTimeout(r, 5000))]);
    await proxy!.cut();
    const answers = await Promise.all(requests.map((r) => r.catch((e: Error) => ({ status: 0, text: e.message, json: null }))));
    await new Promise((r) => setTimeout(r, 500));
    await proxy!.restore();
    const unexpected = answers.filter((a) => a.status !== 201 && a.status !== 503);
    assert.deepEqual(
      unexpected.map((a) => `${a.status} ${a.text}`),
      [],
      'only 201 or 503 during a cut',
    );
    for (const a of answers.filter((x) => x.status === 503)) assert.equal(a.json.error.code, 'SERVICE_UNAVAILABLE');

    await waitFor(async () => (await api(base, 'GET', '/api/pipelines/', token)).status === 200, LIVENESS_MS, 'the API to answer again');
    const listed = (await api(base, 'GET', '/api/pipelines/?page_size=100', token)).json.results as Array<{ id: number; name: string }>;
    for (let i = 0; i < 20; i++) {
      const found = listed.find((x) => x.name === `storm-${i}`);
      if (answers[i]!.status === 201) assert.ok(found, `storm-${i} answered 201 and exists`);
      if (!found) continue;
      const full = await api(base, 'GET', `/api/pipelines/${found.id}/`, token);
      assert.equal(full.json.steps.length, 3, `storm-${i} is whole`);
    }
    const stormRuns = (await api(base, 'GET', `/api/pipelines/${storm}/runs/?page_size=100`, token)).json.results as Array<{ id: number }>;
    const acknowledged = answers
      .slice(20)
      .filter((a) => a.status === 201)
      .map((a) => a.json.id as number);
    for (const id of acknowledged)
      assert.ok(
        stormRuns.some((r) => r.id === id),
        `run ${id} answered 201 and exists`,
      );
    const client = new pg.Client({ connectionString: db!.url });
    await client.connect();
    try {
      const rows = await client.query(
        `SELECT r.id, (SELECT count(*)::int FROM step_runs s WHERE s.run_id = r.id) AS steps, (SELECT count(*)::int FROM run_queue q WHERE q.run_id = r.id) AS queued
           FROM pipeline_runs r WHERE r.pipeline_id = $1`,
        [storm],
      );
      assert.equal(rows.rows.length, stormRuns.length);
      for (const row of rows.rows)
        assert.deepEqual({ steps: row.steps, queued: row.queued }, { steps: 1, queued: 1 }, `run ${row.id} has its step row and its queue job`);
    } finally {
      await client.end();
    }
    await cluster!.startWorker({ concurrency: 4, labels: ['storm'] });
    const stormDone = await waitForRuns(
      base,
      token,
      stormRuns.map((r) => r.id),
      60000,
    );
    for (const r of stormRuns) {
      const run = stormDone.get(r.id);
      assert.equal(run.status, 'success', `every run that exists is whole and runs: ${JSON.stringify(run)}`);
      assert.equal(run.steps.length, 1);
    }
    const created = (from: number) => answers.slice(from, from + 20).filter((a) => a.status === 201).length;
    t.diagnostic(`cut mid-traffic: creates ${created(0)}/20 and triggers ${created(20)}/20 answered 201; ${stormRuns.length} runs exist`);
    assert.ok(
      [...cluster!.apis, cluster!.gateway!, ...cluster!.workers].every((x) => x.alive()),
      'no process died',
    );
  });
});
