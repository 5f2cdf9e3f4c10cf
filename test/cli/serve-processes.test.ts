/**
 * `ansflow serve --processes N`, the real command: it refuses to start without Redis; with
 * PostgreSQL and Redis three processes share the ports, each API process serves requests, a run
 * triggered and cancelled through any of them behaves, and SIGTERM stops them all.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, freePort, runCli } from '../support/server-process.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { connectTestRedis, type TestRedis } from '../support/redis.js';
import { waitFor } from '../support/wait.js';
import { isFinalStatus } from '../support/run-status.js';

/** The children of `pid` (from /proc), with the CPU time (utime + stime, clock ticks) each has used. */
function children(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the command name (which may hold spaces): state ppid ... utime(14) stime(15).
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ');
      if (Number(fields[1]) === pid) out.set(Number(entry), Number(fields[11]) + Number(fields[12]));
    } catch {
      // gone
    }
  }
  return out;
}

/** One request on a connection of its own (agent: false), so the cluster's round robin spreads them. */
function api(base: string, method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; json: any; text: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      base + path,
      {
        method,
        agent: false,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, json: text && String(res.headers['content-type']).includes('json') ? JSON.parse(text) : null, text }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

test('--processes above 1 refuses to start without Redis, naming ANSFLOW_REDIS_URL', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ansflow-procs-'));
  try {
    const r = await runCli(['serve', '--processes', '2'], {
      ANSFLOW_DATA_DIR: dataDir,
      ANSFLOW_REDIS_URL: '',
      ANSFLOW_API_PORT: '0',
      ANSFLOW_GATEWAY_PORT: '0',
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--processes above 1 needs ANSFLOW_REDIS_URL/);
    const bad = await runCli(['serve', '--processes', 'many'], { ANSFLOW_DATA_DIR: dataDir });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--processes must be a whole number/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

describe('ansflow serve --processes 3 on PostgreSQL and Redis', () => {
  let database: TestDatabase | null;
  let redis: TestRedis | null;
  let primary: ChildProcess | null = null;
  let output = '';
  let base = '';
  let dataDir = '';

  before(async () => {
    database = await createTestDatabase();
    redis = await connectTestRedis();
    if (!database || !redis) return;
    dataDir = mkdtempSync(join(tmpdir(), 'ansflow-procs-'));
    const apiPort = await freePort();
    let gatewayPort = await freePort();
    while (gatewayPort === apiPort) gatewayPort = await freePort();
    base = `http://127.0.0.1:${apiPort}`;
    primary = spawn(process.execPath, [...CLI, 'serve', '--processes', '3'], {
      env: {
        ...process.env,
        NODE_ENV: 'test',
        ANSFLOW_DATA_DIR: dataDir,
        ANSFLOW_DATABASE_URL: database.url,
        ANSFLOW_REDIS_URL: redis.url,
        ANSFLOW_REDIS_PREFIX: redis.prefix,
        ANSFLOW_API_PORT: String(apiPort),
        ANSFLOW_GATEWAY_PORT: String(gatewayPort),
        ANSFLOW_METRICS_LISTEN: 'off',
        ANSFLOW_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    primary.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    primary.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await waitFor(
      async () => (output.includes('3 processes serving') ? true : primary!.exitCode !== null ? assert.fail(output) : undefined),
      120_000,
      'three processes',
    );
  });

  after(async () => {
    if (primary && primary.exitCode === null) primary.kill('SIGKILL');
    for (const pid of primary?.pid ? children(primary.pid).keys() : []) process.kill(pid, 'SIGKILL');
    await redis?.cleanup();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('one start-up message; three processes, and every one serves API requests', async (t) => {
    if (!primary) return t.skip('PostgreSQL or Redis unreachable');
    assert.equal(output.split('AnsFlow is running').length - 1, 1, output);
    const before = children(primary.pid!);
    assert.equal(before.size, 3, `three processes under the primary: ${[...before.keys()].join(', ')}`);
    const token = (await api(base, 'POST', '/api/auth/login/', undefined, { username: 'admin', password: 'admin123' })).json.access as string;
    for (let round = 0; round < 20; round++) {
      const answers = await Promise.all(Array.from({ length: 15 }, () => api(base, 'GET', '/api/pipelines/', token)));
      assert.ok(answers.every((a) => a.status === 200));
    }
    const used = children(primary.pid!);
    for (const [pid, cpu] of used) assert.ok(cpu > before.get(pid)!, `process ${pid} did some of the work (${before.get(pid)} → ${cpu} ticks)`);
  });

  test('runs triggered and cancelled through any process end as they should', async (t) => {
    if (!primary) return t.skip('PostgreSQL or Redis unreachable');
    const token = (await api(base, 'POST', '/api/auth/login/', undefined, { username: 'admin', password: 'admin123' })).json.access as string;
    const quick = (
      await api(base, 'POST', '/api/pipelines/', token, { name: 'quick', steps: [{ name: 's', type: 'shell_command', config: { command: 'true' } }] })
    ).json.id;
    const slow = (
      await api(base, 'POST', '/api/pipelines/', token, { name: 'slow', steps: [{ name: 's', type: 'shell_command', config: { command: 'sleep 60' } }] })
    ).json.id;
    const quickRuns = await Promise.all(
      Array.from({ length: 6 }, async () => (await api(base, 'POST', `/api/pipelines/${quick}/run/`, token, {})).json.id as number),
    );
    const slowRuns = await Promise.all(
      Array.from({ length: 3 }, async () => (await api(base, 'POST', `/api/pipelines/${slow}/run/`, token, {})).json.id as number),
    );
    // Cancel once each has started, each request on a new connection (so through different processes).
    for (const id of slowRuns) {
      await waitFor(async () => ((await api(base, 'GET', `/api/pipeline-runs/${id}/`, token)).json.status === 'running' ? true : undefined), 60_000);
      assert.equal((await api(base, 'POST', `/api/pipeline-runs/${id}/cancel/`, token)).status, 202);
    }
    const final = async (id: number) =>
      waitFor(async () => {
        const run = (await api(base, 'GET', `/api/pipeline-runs/${id}/`, token)).json;
        return isFinalStatus(run.status) ? run.status : undefined;
      }, 60_000);
    for (const id of quickRuns) assert.equal(await final(id), 'success');
    for (const id of slowRuns) assert.equal(await final(id), 'cancelled');
  });

  test('SIGTERM stops every process and the primary exits 0', async (t) => {
    if (!primary) return t.skip('PostgreSQL or Redis unreachable');
    const pids = [...children(primary.pid!).keys()];
    const exited = new Promise<number | null>((resolve) => primary!.once('exit', (code) => resolve(code)));
    primary.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), `process ${pid} is gone`);
  });
});
