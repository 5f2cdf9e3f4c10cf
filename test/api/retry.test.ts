/**
 * Retrying a run from the step that failed, through the real server and worker: a new run (its own
 * number, linked as a retry) reuses the steps before the failure (not run again: no start, no log,
 * their results kept) and starts from the workspace as the original left it; what cannot be
 * retried is refused with the reason (409), and a missing snapshot offers a full run instead.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from '../support/api-harness.js';
import { isFinalStatus } from '../support/run-status.js';
import { waitFor } from '../support/wait.js';

describe('retry from the failed step', () => {
  let h: Harness;
  let admin: string;
  let viewer: string;
  before(async () => {
    h = await startApi();
    admin = await h.login();
    viewer = await h.userToken('retry-viewer', 'viewer');
  });
  after(() => h.close());

  const shell = (name: string, command: string) => ({ name, type: 'shell_command', config: { command } });
  const finished = (runId: number) =>
    waitFor(
      async () => {
        const r = await h.request('GET', `/api/pipeline-runs/${runId}/`, { token: admin });
        return isFinalStatus(r.json.status) ? r.json : undefined;
      },
      30000,
      `run ${runId} to finish`,
    );
  const log = async (runId: number, stepId: number) => (await h.request('GET', `/api/pipeline-runs/${runId}/logs/?step=${stepId}`, { token: admin })).text;

  test('the failed step and what follows run again in the workspace the reused steps left; the reused ones do not run', async () => {
    const made = await h.request('POST', '/api/pipelines/', {
      token: admin,
      body: {
        name: 'retry-me',
        steps: [
          shell('build', 'echo "built in run $ANSFLOW_RUN_NUMBER" > out.txt; echo building'),
          // Fails in the first run only (a flaky test).
          shell('test', 'cat out.txt; [ "$ANSFLOW_RUN_NUMBER" -gt 1 ]'),
          shell('package', 'cat out.txt > package.txt; cat package.txt'),
        ],
      },
    });
    assert.equal(made.status, 201, made.text);
    const first = await h.request('POST', `/api/pipelines/${made.json.id}/run/`, { token: admin, body: {} });
    const original = await finished(first.json.id);
    assert.equal(original.status, 'failed');

    assert.equal((await h.request('POST', `/api/pipeline-runs/${original.id}/retry/`, { token: viewer, body: { from: 'failed' } })).status, 403);
    const retried = await h.request('POST', `/api/pipeline-runs/${original.id}/retry/`, { token: admin, body: { from: 'failed' } });
    assert.equal(retried.status, 201, retried.text);
    assert.equal(retried.json.number, original.number + 1);
    assert.deepEqual(retried.json.retry_of, { run_id: original.id, number: original.number, from: 'failed' });
    const retry = await finished(retried.json.id);
    assert.equal(retry.status, 'success', await log(retry.id, retry.steps[1].id));
    // The build step was reused: its original result, not run again (no log of its own, the original's timestamps).
    assert.equal(retry.steps[0].reused_from, original.steps[0].id);
    assert.equal(retry.steps[0].status, 'success');
    assert.equal(retry.steps[0].started_at, original.steps[0].started_at);
    assert.equal(await log(retry.id, retry.steps[0].id), '');
    assert.deepEqual(
      retry.steps.slice(1).map((s: { reused_from: number | null }) => s.reused_from),
      [null, null],
    );
    // Its output was there: the workspace came from the snapshot after it.
    assert.match(await log(retry.id, retry.steps[1].id), /^built in run 1\n/);
    assert.match(await log(retry.id, retry.steps[2].id), /built in run 1/);

    // The audit log has the retry.
    const events = await h.request('GET', '/api/audit-events/?action=run.retry', { token: admin });
    assert.ok(events.json.results.some((e: { target: { id: string } }) => String(e.target.id) === String(retry.id)));

    // Nothing failed in the retry: nothing to retry; an unknown step is named; an unfinished run waits.
    const nothing = await h.request('POST', `/api/pipeline-runs/${retry.id}/retry/`, { token: admin, body: { from: 'failed' } });
    assert.equal(nothing.status, 409);
    assert.match(nothing.json.error.message, /nothing to retry/);
    const unknown = await h.request('POST', `/api/pipeline-runs/${retry.id}/retry/`, { token: admin, body: { from: 'deploy' } });
    assert.equal(unknown.status, 409);
    assert.match(unknown.json.error.message, /no step "deploy"/);

    // From a chosen step (by id): a retry of the retry, from package, reuses build (through to the run that ran it) and test.
    const again = await h.request('POST', `/api/pipeline-runs/${retry.id}/retry/`, { token: admin, body: { from: retry.steps[2].id } });
    assert.equal(again.status, 201, again.text);
    const third = await finished(again.json.id);
    assert.equal(third.status, 'success');
    assert.deepEqual(
      third.steps.map((s: { reused_from: number | null }) => s.reused_from),
      [original.steps[0].id, retry.steps[1].id, null],
    );
  });

  test('without a snapshot the retry is refused and a full run is offered', async () => {
    const made = await h.request('POST', '/api/pipelines/', {
      token: admin,
      body: { name: 'no-snapshot', steps: [shell('one', 'true'), shell('two', 'exit 1')] },
    });
    const run = await finished((await h.request('POST', `/api/pipelines/${made.json.id}/run/`, { token: admin, body: {} })).json.id);
    assert.equal(run.status, 'failed');
    // The snapshot goes (as when it expired).
    await h.ctx.artifactStore.deletePrefix(`runs/${run.id}/`);
    const r = await h.request('POST', `/api/pipeline-runs/${run.id}/retry/`, { token: admin, body: { from: 'failed' } });
    assert.equal(r.status, 409, r.text);
    assert.match(r.json.error.message, /No usable workspace snapshot was kept after step "one".*run the pipeline again from the start/);
    assert.deepEqual(r.json.error.details.full_rerun, [`POST /api/pipelines/${made.json.id}/run/`]);
    // Retrying from the first step needs no snapshot.
    assert.equal((await h.request('POST', `/api/pipeline-runs/${run.id}/retry/`, { token: admin, body: { from: 'one' } })).status, 201);
  });

  test('a snapshot whose earlier part (the delta it builds on) is gone is no snapshot: refused the same way', async () => {
    const made = await h.request('POST', '/api/pipelines/', {
      token: admin,
      body: { name: 'broken-chain', steps: [shell('one', 'echo 1 > one.txt'), shell('two', 'echo 2 > two.txt'), shell('three', 'exit 1')] },
    });
    const run = await finished((await h.request('POST', `/api/pipelines/${made.json.id}/run/`, { token: admin, body: {} })).json.id);
    assert.equal(run.status, 'failed');
    const one = run.steps.find((s: { name: string }) => s.name === 'one');
    // The snapshot after "two" holds what changed since the one after "one"; that one goes.
    await h.ctx.artifactStore.delete(`runs/${run.id}/snapshots/s${one.id}.tgz`);
    const r = await h.request('POST', `/api/pipeline-runs/${run.id}/retry/`, { token: admin, body: { from: 'failed' } });
    assert.equal(r.status, 409, r.text);
    assert.match(r.json.error.message, /No usable workspace snapshot was kept after step "two"/);
  });
});
