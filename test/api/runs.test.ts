import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { startApi, type Harness } from '../support/api-harness.js';
import { isFinalStatus } from '../support/run-status.js';
import { waitFor } from '../support/wait.js';

describe('runs through the API', () => {
  let h: Harness;
  let admin: string;
  before(async () => {
    // A 1 s TERM→KILL grace, so the SIGTERM-ignoring child below must be killed long before it wakes.
    h = await startApi({ cancelGraceSeconds: 1 });
    admin = await h.login();
  });
  after(() => h.close());

  const pipeline = async (name: string, steps: unknown[], extra: Record<string, unknown> = {}) => {
    const r = await h.request('POST', '/api/pipelines/', { token: admin, body: { name, steps, ...extra } });
    assert.equal(r.status, 201, r.text);
    return r.json.id as number;
  };
  const shell = (name: string, command: string, extra: Record<string, unknown> = {}) => ({ name, type: 'shell_command', config: { command }, ...extra });
  const run = async (pipelineId: number, body: unknown = {}) => {
    const r = await h.request('POST', `/api/pipelines/${pipelineId}/run/`, { token: admin, body });
    assert.equal(r.status, 201, r.text);
    return r.json;
  };
  const finished = (runId: number, timeoutMs = 20000) =>
    waitFor(
      async () => {
        const r = await h.request('GET', `/api/pipeline-runs/${runId}/`, { token: admin });
        return isFinalStatus(r.json.status) ? r.json : undefined;
      },
      timeoutMs,
      `run ${runId} to finish`,
    );
  const log = async (runId: number, query = '') => (await h.request('GET', `/api/pipeline-runs/${runId}/logs/${query}`, { token: admin })).text;

  test('the document trigger example runs for real: variables in the environment, output in the log', async () => {
    const id = await pipeline('env-echo', [
      shell('Build', 'echo "env=$ENVIRONMENT version=$VERSION run=$ANSFLOW_RUN_NUMBER branch=$ANSFLOW_BRANCH"; test -z "$ANSFLOW_SECRET_KEY"'),
    ]);
    const queued = await run(id, { branch: 'main', variables: { ENVIRONMENT: 'staging', VERSION: '1.0.0' } });
    assert.equal(queued.status, 'queued');
    assert.equal(queued.number, 1);
    assert.equal(queued.trigger.type, 'manual');
    assert.equal(queued.trigger.user.username, 'admin');
    assert.equal(queued.steps[0].status, 'pending');
    const done = await finished(queued.id);
    assert.equal(done.status, 'success', JSON.stringify(done));
    assert.equal(done.progress, 100);
    assert.equal(done.steps[0].exit_code, 0);
    assert.ok(done.duration_ms >= 0);
    assert.match(await log(queued.id), /env=staging version=1\.0\.0 run=1 branch=main/);
    const second = await run(id);
    assert.equal(second.number, 2, 'numbers count per pipeline');
  });

  test('a failing step fails the run and skips what follows; continue_on_error does not', async () => {
    const id = await pipeline('fails', [
      shell('ok', 'echo one'),
      shell('allowed', 'exit 3', { continue_on_error: true }),
      shell('bad', 'echo about-to-fail; exit 7'),
      shell('never', 'echo SHOULD-NOT-RUN'),
    ]);
    const done = await finished((await run(id)).id);
    assert.equal(done.status, 'failed');
    assert.deepEqual(
      done.steps.map((s: { status: string }) => s.status),
      ['success', 'failed', 'failed', 'skipped'],
    );
    assert.equal(done.steps[2].exit_code, 7);
    const text = await log(done.id);
    assert.match(text, /about-to-fail/);
    assert.doesNotMatch(text, /SHOULD-NOT-RUN/);
  });

  test('a step writes to /dev/stderr and /dev/stdout like in a terminal; stdout and stderr keep their order', async () => {
    const id = await pipeline('dev-std', [shell('std', 'echo one; echo two >&2; echo three > /dev/stderr; echo four | tee /dev/stdout >&2')]);
    const done = await finished((await run(id)).id);
    assert.equal(done.status, 'success', await log(done.id));
    assert.match(await log(done.id, `?step=${done.steps[0].id}`), /^one\ntwo\nthree\nfour\nfour\n$/);
  });

  test('logs: per step, and from a byte offset with X-Next-Offset', async () => {
    const id = await pipeline('logs', [shell('a', 'echo first-line'), shell('b', 'echo second-line')]);
    const done = await finished((await run(id)).id);
    const stepB = done.steps[1].id;
    const only = await log(done.id, `?step=${stepB}`);
    assert.match(only, /second-line/);
    assert.doesNotMatch(only, /first-line/);
    const whole = await h.request('GET', `/api/pipeline-runs/${done.id}/logs/`, { token: admin });
    assert.equal(whole.headers.get('content-type'), 'text/plain; charset=utf-8');
    const next = Number(whole.headers.get('x-next-offset'));
    assert.equal(next, Buffer.byteLength(whole.text));
    const cut = whole.text.indexOf('second-line');
    const tail = await h.request('GET', `/api/pipeline-runs/${done.id}/logs/?offset=${Buffer.byteLength(whole.text.slice(0, cut))}`, { token: admin });
    assert.ok(tail.text.startsWith('second-line'), tail.text);
    assert.equal((await h.request('GET', `/api/pipeline-runs/${done.id}/logs/?step=999999`, { token: admin })).status, 404);
  });

  test('secret variables are masked in the log and never returned', async () => {
    const id = await pipeline(
      'secrets',
      [shell('leak', 'echo "token=$API_TOKEN"; printf "%s" "${API_TOKEN:0:5}"; sleep 0.1; printf "%s\\n" "${API_TOKEN:5}"')],
      {
        variables: { API_TOKEN: { value: 'tok-12345-abcdef', secret: true } },
      },
    );
    const started = await run(id);
    assert.deepEqual(started.variables.API_TOKEN, { value: '******', secret: true });
    await finished(started.id);
    const text = await log(started.id);
    assert.ok(!text.includes('tok-12345-abcdef'), text);
    assert.match(text, /token=\*\*\*\*\*\*/);
  });

  test('cancel kills the whole process tree, marks the rest cancelled, and is idempotent; a finished run → 409', async () => {
    const marker = `${h.dataDir}/child-survived`;
    const id = await pipeline('cancel-me', [shell('long', `(trap '' TERM; sleep 4; touch ${marker}) & echo started; sleep 30`), shell('after', 'echo never')]);
    const started = await run(id);
    await waitFor(async () => (await log(started.id)).includes('started'), 10000, 'step output');
    const c1 = await h.request('POST', `/api/pipeline-runs/${started.id}/cancel/`, { token: admin });
    assert.equal(c1.status, 202);
    const c2 = await h.request('POST', `/api/pipeline-runs/${started.id}/cancel/`, { token: admin });
    assert.ok(c2.status === 202 || c2.status === 409, `second cancel: ${c2.status}`);
    const done = await finished(started.id, 15000);
    assert.equal(done.status, 'cancelled');
    assert.deepEqual(
      done.steps.map((s: { status: string }) => s.status),
      ['cancelled', 'cancelled'],
    );
    await new Promise((r) => setTimeout(r, 4500));
    assert.equal(existsSync(marker), false, 'the SIGTERM-ignoring background child was killed');
    const late = await h.request('POST', `/api/pipeline-runs/${started.id}/cancel/`, { token: admin });
    assert.equal(late.status, 409);
    assert.equal(late.json.error.code, 'RESOURCE_CONFLICT');
  });

  test('a step timeout ends the step and the run as timeout', async () => {
    const id = await pipeline('slow', [shell('sleepy', 'sleep 20', { timeout_seconds: 1 })]);
    const done = await finished((await run(id)).id, 15000);
    assert.equal(done.status, 'timeout');
    assert.equal(done.steps[0].status, 'timeout');
  });

  test('retries re-run a failing step', async () => {
    // In the workspace, which attempts share (the data folder is hidden from steps).
    const counter = '"$ANSFLOW_WORKSPACE/attempts"';
    const id = await pipeline('flaky', [shell('flaky', `echo x >> ${counter}; test $(wc -l < ${counter}) -ge 3`, { retries: 2 })]);
    const done = await finished((await run(id)).id);
    assert.equal(done.status, 'success');
    assert.equal(done.steps[0].attempts, 3);
  });

  test('parallel groups run at the same time', async () => {
    const id = await pipeline('parallel', [
      shell('a', 'sleep 1; echo a', { parallel_group: 'g' }),
      shell('b', 'sleep 1; echo b', { parallel_group: 'g' }),
      shell('c', 'echo c'),
    ]);
    const done = await finished((await run(id)).id);
    assert.equal(done.status, 'success');
    const [a, b] = done.steps;
    assert.ok(Date.parse(b.started_at) < Date.parse(a.finished_at), 'b started before a finished');
    assert.ok(Date.parse(done.steps[2].started_at) >= Math.max(Date.parse(a.finished_at), Date.parse(b.finished_at)));
  });

  test('bad run input: deny-listed variables, bad branch; viewers cannot run; unknown pipeline 404', async () => {
    const id = await pipeline('guarded', [shell('s', 'true')]);
    for (const [body, field] of [
      [{ variables: { PATH: '/tmp' } }, 'variables.PATH'],
      [{ variables: { LD_PRELOAD: '/x.so' } }, 'variables.LD_PRELOAD'],
      [{ variables: { GIT_SSH_COMMAND: 'touch /tmp/pwned' } }, 'variables.GIT_SSH_COMMAND'],
      [{ variables: { BASH_ENV: '/tmp/x' } }, 'variables.BASH_ENV'],
      [{ variables: { '1BAD': 'x' } }, 'variables.1BAD'],
      [{ branch: 'a";$(touch /tmp/pwned);echo"' }, 'branch'],
      [{ branch: '--upload-pack=x' }, 'branch'],
      [{ commit: 'not-a-sha' }, 'commit'],
    ] as const) {
      const r = await h.request('POST', `/api/pipelines/${id}/run/`, { token: admin, body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.ok(r.json.error.details[field], `${field}: ${r.text}`);
    }
    const runs = await h.request('GET', `/api/pipelines/${id}/runs/`, { token: admin });
    assert.equal(runs.json.count, 0, 'nothing was queued by bad requests');
    const viewer = await h.userToken('runs-viewer', 'viewer');
    assert.equal((await h.request('POST', `/api/pipelines/${id}/run/`, { token: viewer, body: {} })).status, 403);
    assert.equal((await h.request('POST', '/api/pipelines/99999/run/', { token: admin, body: {} })).status, 404);
    const missing = await h.request('GET', '/api/pipelines/99999/runs/', { token: admin });
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, 'RESOURCE_NOT_FOUND');
  });

  test('a run keeps its snapshot when the pipeline is edited or deleted; history lists it', async () => {
    const id = await pipeline('snapshot', [shell('orig', 'echo original')]);
    const r = await run(id);
    await finished(r.id);
    await h.request('PUT', `/api/pipelines/${id}/`, { token: admin, body: { name: 'snapshot', steps: [shell('new', 'echo new'), shell('two', 'true')] } });
    const after = await h.request('GET', `/api/pipeline-runs/${r.id}/`, { token: admin });
    assert.deepEqual(
      after.json.steps.map((s: { name: string }) => s.name),
      ['orig'],
    );
    const history = await h.request('GET', `/api/pipelines/${id}/runs/`, { token: admin });
    assert.equal(history.json.count, 1);
    assert.equal(history.json.results[0].id, r.id);
    const list = await h.request('GET', `/api/pipelines/?search=snapshot`, { token: admin });
    assert.equal(list.json.results[0].last_run.id, r.id);
    assert.equal(list.json.results[0].last_run.status, 'success');
    await h.request('DELETE', `/api/pipelines/${id}/`, { token: admin });
    const kept = await h.request('GET', `/api/pipeline-runs/${r.id}/`, { token: admin });
    assert.equal(kept.status, 200);
    assert.equal(kept.json.pipeline.name, 'snapshot');
    assert.match(await log(r.id), /original/);
    const all = await h.request('GET', `/api/pipeline-runs/?status=success`, { token: admin });
    assert.ok(all.json.results.some((x: { id: number }) => x.id === r.id));
  });
});
