/** The real `ansflow serve` process: first start, `ansflow run --follow`, kill -9 recovery, SIGTERM. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startServerProcess, type ServerProcess } from '../support/server-process.js';
import { waitFor } from '../support/wait.js';

async function api(base: string, method: string, path: string, token?: string, body?: unknown) {
  const response = await fetch(base + path, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = response.headers.get('content-type')?.includes('json') && text ? JSON.parse(text) : null;
  return { status: response.status, json, text };
}

/** A sleep no other test runs, to find the step's process from outside its sandbox. */
const MARKER_SLEEP = '61.25';

function markerSleepers(): string[] {
  return readdirSync('/proc').filter((pid) => {
    try {
      return /^\d+$/.test(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8') === `sleep\u0000${MARKER_SLEEP}\u0000`;
    } catch {
      return false;
    }
  });
}

const login = async (base: string) =>
  (await api(base, 'POST', '/api/auth/login/', undefined, { username: 'admin', password: 'admin123' })).json.access as string;

describe('ansflow serve and ansflow run', () => {
  let dataDir: string;
  let server: ServerProcess | null = null;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ansflow-cli-'));
  });
  after(() => {
    server?.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('first start creates admin and prints how to log in; CLI help works', async () => {
    server = await startServerProcess({ ANSFLOW_DATA_DIR: dataDir, ANSFLOW_MAX_CONCURRENT_RUNS: '1' });
    assert.match(server.output(), /Log in as: admin \/ admin123/);
    assert.match(server.output(), /Steps run sandboxed \(bubblewrap; limits: /, 'the start-up message says how steps are isolated');
    const help = await runCli(['run', '--help'], {});
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: ansflow run/);
    for (const cmd of [
      ['serve', '--help'],
      ['migrate', '--help'],
      ['user', '--help'],
    ])
      assert.equal((await runCli(cmd, {})).code, 0, cmd.join(' '));
    assert.equal((await runCli(['nonsense'], {})).code, 2);
  });

  test('ansflow run --follow streams the log and exits with the run status', async () => {
    const base = server!.baseUrl;
    const token = await login(base);
    await api(base, 'POST', '/api/pipelines/', token, {
      name: 'cli-ok',
      steps: [{ name: 'greet', type: 'shell_command', config: { command: 'echo "hello $WHO"' } }],
    });
    await api(base, 'POST', '/api/pipelines/', token, {
      name: 'cli-bad',
      steps: [{ name: 'boom', type: 'shell_command', config: { command: 'echo failing; exit 4' } }],
    });
    const env = { ANSFLOW_URL: base, ANSFLOW_PASSWORD: 'admin123' };
    const ok = await runCli(['run', 'cli-ok', '--var', 'WHO=world', '--follow'], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /hello world/);
    assert.match(ok.stderr, /✔ greet: success/);
    const bad = await runCli(['run', 'CLI-BAD', '-f'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /failing/);
    const missing = await runCli(['run', 'no-such-pipeline'], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no pipeline named/);
    const badVar = await runCli(['run', 'cli-ok', '--var', 'PATH=/tmp'], env);
    assert.equal(badVar.code, 2);
    assert.match(badVar.stderr, /variables\.PATH/);
  });

  test('ansflow run <name> with the same name in two projects asks for --project, and runs the one named', async () => {
    const base = server!.baseUrl;
    const token = await login(base);
    const project = (await api(base, 'POST', '/api/projects/', token, { name: 'cli-second-team' })).json as { id: number };
    await api(base, 'POST', '/api/pipelines/', token, { name: 'twin', steps: [{ name: 's', type: 'shell_command', config: { command: 'echo in-default' } }] });
    const second = await api(base, 'POST', '/api/pipelines/', token, {
      name: 'TWIN',
      project: project.id,
      steps: [{ name: 's', type: 'shell_command', config: { command: 'echo in-second-team' } }],
    });
    assert.equal(second.status, 201, 'the same name in another project is allowed');
    const env = { ANSFLOW_URL: base, ANSFLOW_PASSWORD: 'admin123' };
    const ambiguous = await runCli(['run', 'twin'], env);
    assert.equal(ambiguous.code, 2);
    assert.match(ambiguous.stderr, /2 pipelines are named "twin".*--project/);
    const byName = await runCli(['run', 'twin', '--project', 'CLI-Second-Team', '-f'], env);
    assert.equal(byName.code, 0, byName.stderr);
    assert.match(byName.stdout, /in-second-team/);
    const missing = await runCli(['run', 'twin', '--project', 'no-such-team'], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no project named "no-such-team"/);
  });

  test('after kill -9 mid-run: the run ends as error, its log survives, the queued run still runs', async () => {
    let base = server!.baseUrl;
    let token = await login(base);
    const p = (
      await api(base, 'POST', '/api/pipelines/', token, {
        name: 'crashy',
        steps: [{ name: 'long', type: 'shell_command', config: { command: `echo before-crash; sleep ${MARKER_SLEEP}` } }],
      })
    ).json;
    const quick = (
      await api(base, 'POST', '/api/pipelines/', token, {
        name: 'queued-behind',
        steps: [{ name: 'q', type: 'shell_command', config: { command: 'echo ran-after-restart' } }],
      })
    ).json;
    const running = (await api(base, 'POST', `/api/pipelines/${p.id}/run/`, token, {})).json;
    await waitFor(
      async () => (await api(base, 'GET', `/api/pipeline-runs/${running.id}/logs/`, token)).text.includes('before-crash'),
      15000,
      'output before the crash',
    );
    const queued = (await api(base, 'POST', `/api/pipelines/${quick.id}/run/`, token, {})).json;
    assert.equal((await api(base, 'GET', `/api/pipeline-runs/${queued.id}/`, token)).json.status, 'queued', 'concurrency 1 keeps it queued');

    assert.equal(markerSleepers().length, 1, 'the step is running');
    server!.child.kill('SIGKILL');
    await server!.exited;
    server = await startServerProcess({ ANSFLOW_DATA_DIR: dataDir, ANSFLOW_MAX_CONCURRENT_RUNS: '1' });
    base = server.baseUrl;
    token = await login(base);

    const crashed = await waitFor(async () => {
      const r = (await api(base, 'GET', `/api/pipeline-runs/${running.id}/`, token)).json;
      return r.status !== 'running' ? r : undefined;
    });
    assert.equal(crashed.status, 'error');
    assert.match(crashed.error_reason, /server stopped/);
    assert.match((await api(base, 'GET', `/api/pipeline-runs/${running.id}/logs/`, token)).text, /before-crash/);
    // The step ran in its run's sandbox, whose PID namespace ended with the killed server's spawner.
    await waitFor(async () => (markerSleepers().length === 0 ? true : undefined), 5000, 'the orphaned step process to be gone');
    // Generous: the restarted server starts its sandboxes while the machine runs other suites. Should
    // it still not finish, the run as it stands and the server's own output say why (seen once in CI).
    const after = await waitFor(async () => {
      const r = (await api(base, 'GET', `/api/pipeline-runs/${queued.id}/`, token)).json;
      return r.status === 'success' || r.status === 'failed' ? r : undefined;
    }, 60_000).catch(async (error: Error) => {
      const r = (await api(base, 'GET', `/api/pipeline-runs/${queued.id}/`, token)).json;
      throw new Error(`${error.message}\nthe queued run: ${JSON.stringify(r)}\nthe restarted server's output:\n${server!.output()}`);
    });
    assert.equal(after.status, 'success');
  });

  test('SIGTERM lets a short running step finish and exits', async () => {
    const base = server!.baseUrl;
    const token = await login(base);
    const p = (
      await api(base, 'POST', '/api/pipelines/', token, {
        name: 'graceful',
        steps: [{ name: 'short', type: 'shell_command', config: { command: 'echo started; sleep 1; echo finished' } }],
      })
    ).json;
    const run = (await api(base, 'POST', `/api/pipelines/${p.id}/run/`, token, {})).json;
    await waitFor(async () => (await api(base, 'GET', `/api/pipeline-runs/${run.id}/logs/`, token)).text.includes('started'), 15000);
    server!.child.kill('SIGTERM');
    const code = await server!.exited;
    assert.equal(code, 0);
    server = await startServerProcess({ ANSFLOW_DATA_DIR: dataDir });
    const t2 = await login(server.baseUrl);
    const r = (await api(server.baseUrl, 'GET', `/api/pipeline-runs/${run.id}/`, t2)).json;
    assert.equal(r.status, 'success', JSON.stringify(r));
    server.child.kill('SIGTERM');
    await server.exited;
    server = null;
  });
});

test('the start-up message warns when steps are not isolated (ANSFLOW_SANDBOX=off)', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ansflow-cli-'));
  const server = await startServerProcess({ ANSFLOW_DATA_DIR: dataDir, ANSFLOW_SANDBOX: 'off' });
  try {
    assert.match(server.output(), /WARNING: steps are not isolated\. ANSFLOW_SANDBOX=off/);
  } finally {
    server.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
