/**
 * Retention end to end (issue 15): a pipeline keeps its newest N runs; the server's own sweeper
 * removes the others in small batches, with their log folders and workspaces; a pinned run is
 * kept until unpinned; run numbers never repeat; pin, unpin and the policy change are audited;
 * the system status shows disk use and what the sweeper did. Runs are real runs of the worker.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startApi, type Harness } from '../support/api-harness.js';
import { isFinalStatus } from '../support/run-status.js';
import { waitFor } from '../support/wait.js';
import { RetentionRepository } from '../../src/store/retention-repository.js';

describe('retention', () => {
  let h: Harness;
  let admin: string;
  before(async () => {
    h = await startApi({ retentionSweepSeconds: 1, retentionBatch: 2 });
    admin = await h.login();
  });
  after(() => h.close());

  const get = async (path: string) => {
    const r = await h.request('GET', path, { token: admin });
    return r;
  };
  const runToEnd = async (pipelineId: number) => {
    const r = await h.request('POST', `/api/pipelines/${pipelineId}/run/`, { token: admin, body: {} });
    assert.equal(r.status, 201, r.text);
    return waitFor(
      async () => {
        const run = (await get(`/api/pipeline-runs/${r.json.id}/`)).json;
        return isFinalStatus(run.status) ? run : undefined;
      },
      30_000,
      `run ${r.json.id}`,
    );
  };
  const logDir = (id: number) => join(h.dataDir, 'logs', String(id));
  const workspace = (id: number) => join(h.dataDir, 'workspaces', `run-${id}`);

  test('keep the newest 2: older runs go with their logs and workspaces, the pinned one stays until unpinned, numbers go on', async () => {
    const created = await h.request('POST', '/api/pipelines/', {
      token: admin,
      body: {
        name: 'kept-short',
        steps: [{ name: 'say', type: 'shell_command', config: { command: 'echo retention-$ANSFLOW_RUN_NUMBER > out.txt; echo said' } }],
      },
    });
    assert.equal(created.status, 201, created.text);
    const pipelineId = created.json.id as number;
    const runs = [];
    for (let i = 0; i < 5; i++) runs.push(await runToEnd(pipelineId));
    assert.deepEqual(
      runs.map((r) => r.number),
      [1, 2, 3, 4, 5],
    );
    for (const r of runs) assert.ok(existsSync(logDir(r.id)), `log of run ${r.id}`);
    assert.ok(existsSync(workspace(runs[1].id)), 'workspaces are kept after a run (until retention)');

    const pinned = await h.request('POST', `/api/pipeline-runs/${runs[0].id}/pin/`, { token: admin });
    assert.equal(pinned.status, 200, pinned.text);
    assert.ok(pinned.json.pinned_at);

    const bad = await h.request('PUT', `/api/pipelines/${pipelineId}/retention/`, { token: admin, body: { keep_runs: 0, keep_days: null } });
    assert.equal(bad.status, 400);
    assert.ok(bad.json.error.details.keep_runs, bad.text);
    const set = await h.request('PUT', `/api/pipelines/${pipelineId}/retention/`, { token: admin, body: { keep_runs: 2, keep_days: null } });
    assert.equal(set.status, 200, set.text);
    assert.deepEqual(set.json.effective, { keep_runs: 2, keep_days: null });
    assert.deepEqual((await get(`/api/pipelines/${pipelineId}/retention/`)).json.own, { keep_runs: 2, keep_days: null });

    // The sweeper (every second, two runs a batch) removes runs 2 and 3; 1 is pinned, 4 and 5 are the newest two.
    await waitFor(async () => (await get(`/api/pipelines/${pipelineId}/runs/`)).json.count === 3, 20_000, 'runs 2 and 3 removed');
    const left = (await get(`/api/pipelines/${pipelineId}/runs/`)).json.results.map((r: { number: number }) => r.number);
    assert.deepEqual(left, [5, 4, 1]);
    for (const gone of [runs[1], runs[2]]) {
      assert.equal((await get(`/api/pipeline-runs/${gone.id}/`)).status, 404);
      // Files go right after their batch's rows commit.
      await waitFor(async () => !existsSync(logDir(gone.id)) && !existsSync(workspace(gone.id)), 10_000, `log folder and workspace of run ${gone.id} removed`);
    }
    assert.ok(existsSync(logDir(runs[3].id)) && existsSync(logDir(runs[0].id)), 'kept runs keep their logs');
    const kept = await get(`/api/pipeline-runs/${runs[0].id}/logs/`);
    assert.equal(kept.status, 200);
    assert.match(kept.text, /said/);

    const next = await runToEnd(pipelineId);
    assert.equal(next.number, 6, 'numbers never repeat after removals');

    const unpinned = await h.request('DELETE', `/api/pipeline-runs/${runs[0].id}/pin/`, { token: admin });
    assert.equal(unpinned.status, 200);
    assert.equal(unpinned.json.pinned_at, null);
    await waitFor(async () => (await get(`/api/pipelines/${pipelineId}/runs/`)).json.count === 2, 20_000, 'the unpinned run and run 4 removed');
    assert.deepEqual(
      (await get(`/api/pipelines/${pipelineId}/runs/`)).json.results.map((r: { number: number }) => r.number),
      [6, 5],
    );

    const events = (await get('/api/audit-events/?format=jsonl')).text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => ['run.pin', 'run.unpin', 'pipeline.retention'].includes(e.action));
    assert.deepEqual(events.map((e) => e.action).sort(), ['pipeline.retention', 'run.pin', 'run.unpin']);
    assert.deepEqual(events.find((e) => e.action === 'pipeline.retention').diff.keep_runs, { before: null, after: 2 });

    const status = await waitFor(
      async () => {
        const r = await fetch(`${h.gatewayUrl}/api/v1/system/status`);
        const body = (await r.json()) as any;
        return body.storage?.disk && body.storage.retention.sweeper.total_deleted_runs >= 4 ? body : undefined;
      },
      20_000,
      'system status with disk use and the sweep',
    );
    assert.equal(typeof status.storage.disk.database_bytes, 'number');
    assert.ok(status.storage.disk.database_bytes > 0);
    assert.equal(typeof status.storage.disk.logs_bytes, 'number');
    assert.equal(typeof status.storage.disk.workspaces_bytes, 'number');
    assert.equal(status.storage.disk.artifacts_bytes, 0);
    assert.ok(status.storage.retention.sweeper.last_finished_at);
    assert.equal(status.storage.retention.sweeper.last_error, null);
  });

  test('one sweep at a time across processes: the claim is a lease in the database', async () => {
    // A second repository on the same database stands for another process.
    const other = new RetentionRepository(h.ctx.db.kysely);
    const now = Date.now() + 3_600_000; // later than any lease the running sweeper holds
    assert.equal(await other.claim('process-a', 60, now), true);
    assert.equal(await other.claim('process-b', 60, now), false, 'held by a');
    assert.equal(await other.claim('process-a', 60, now), true, 'the holder renews');
    assert.equal(await other.claim('process-b', 60, now + 61_000), true, "a's lease ran out");
    await other.finished('process-b', { deleted: 0, freedBytes: 0, error: null });
  });

  test("pinning needs the run right in the run's project: viewers may not, outsiders do not see the run", async () => {
    const created = await h.request('POST', '/api/pipelines/', {
      token: admin,
      body: { name: 'pin-rights', steps: [{ name: 's', type: 'shell_command', config: { command: 'true' } }] },
    });
    const run = await runToEnd(created.json.id);
    const viewer = await h.userToken('pin-viewer', 'viewer');
    assert.equal((await h.request('POST', `/api/pipeline-runs/${run.id}/pin/`, { token: viewer })).status, 403);
    assert.equal((await h.request('POST', '/api/pipeline-runs/999999/pin/', { token: admin })).status, 404);
  });
});
