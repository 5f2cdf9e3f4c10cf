/**
 * A pipeline file's `runs_on` routes its run like a stored step's does, in the distributed mode as
 * real processes (one API, two workers on PostgreSQL and Redis; the second started with --labels
 * gpu). The labels are known only once the file is read: whichever worker reads it stores the plan
 * and, lacking the labels, hands the run back to the queue of those labels, where the gpu worker
 * runs all of it (one run, one workspace). A file without `runs_on` runs wherever it was read.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { connectTestRedis, type TestRedis } from '../support/redis.js';
import { createBareRepo, makeTempDir, startGitDaemon, type GitServer, type TempDir } from '../support/git-fixtures.js';
import { waitFor } from '../support/wait.js';
import { api, login, startCluster, waitForRuns, workerOf, type Cluster } from './support.js';

const MARK = 'echo "ws=$ANSFLOW_WORKSPACE"';

describe('runs_on in a pipeline file routes the run to a worker with the labels', () => {
  let db: TestDatabase | null = null;
  let redis: TestRedis | null = null;
  let cluster: Cluster | null = null;
  let tmp: TempDir;
  let daemon: GitServer;
  let token = '';
  const base = () => cluster!.apis[0]!.baseUrl;

  before(async () => {
    tmp = makeTempDir();
    createBareRepo(tmp.path, 'gpu-app', {
      history: [
        {
          '.ansflow.yml': [
            'steps:',
            `  - { name: prep, run: '${MARK}' }`,
            `  - { name: train, run: '${MARK}; echo trained', needs: [prep], runs_on: [gpu] }`,
            '',
          ].join('\n'),
        },
      ],
    });
    createBareRepo(tmp.path, 'plain-app', { history: [{ '.ansflow.yml': `steps:\n  - { name: only, run: '${MARK}' }\n` }] });
    daemon = await startGitDaemon(tmp.path);
    db = await createTestDatabase();
    redis = await connectTestRedis();
    if (!db || !redis) return;
    cluster = await startCluster({
      databaseUrl: db.url,
      redisUrl: redis.url,
      redisPrefix: redis.prefix,
      apis: 1,
      gateway: false,
      // The gpu worker starts later, in the first test, so that the unlabelled one reads the files.
      workers: [{ concurrency: 2 }],
    });
    token = await login(base());
  });
  after(async () => {
    await cluster?.stop();
    await redis?.cleanup().catch(() => {});
    await db?.drop().catch(() => {});
    await daemon?.stop();
    tmp?.cleanup();
  });

  const pipeline = async (name: string, repo: string) => {
    const r = await api(base(), 'POST', '/api/pipelines/', token, { name, repository_url: daemon.url(repo), config_path: '.ansflow.yml' });
    assert.equal(r.status, 201, r.text);
    return r.json.id as number;
  };
  const trigger = async (id: number) => {
    const r = await api(base(), 'POST', `/api/pipelines/${id}/run/`, token, {});
    assert.equal(r.status, 201, r.text);
    return r.json.id as number;
  };
  const workersOf = async (runId: number) => {
    const log = (await api(base(), 'GET', `/api/pipeline-runs/${runId}/logs/`, token)).text;
    return [...log.matchAll(/ws=(\S+)/g)].map((m) => workerOf(cluster!.workers, m[1]!)?.name);
  };

  test('the unlabelled worker reads the file and hands the run on; the gpu worker runs all of it', async (t) => {
    if (!cluster) return t.skip('PostgreSQL or Redis unreachable');
    const id = await pipeline('gpu-file', 'gpu-app');
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await trigger(id));
    // Read and planned by the only worker, which lacks `gpu`: queued again, with its steps stored.
    for (const runId of runs) {
      let last: unknown;
      const waiting = await waitFor(
        async () => {
          const r = (await api(base(), 'GET', `/api/pipeline-runs/${runId}/`, token)).json;
          last = r;
          return r.status === 'queued' && r.steps.length === 2 ? r : undefined;
        },
        60_000,
        `run ${runId} planned and waiting for a gpu worker`,
      ).catch((e: Error) => assert.fail(`${e.message}\n${JSON.stringify(last)}\n${cluster!.outputs().slice(-4000)}`));
      assert.equal(waiting.error_reason, null);
      assert.ok(waiting.steps.every((s: { status: string }) => s.status === 'pending'));
    }
    const gpu = await cluster.startWorker({ concurrency: 2, labels: ['gpu'] });
    const done = await waitForRuns(base(), token, runs, 60_000);
    for (const runId of runs) {
      const run = done.get(runId);
      assert.equal(run.status, 'success', `${JSON.stringify(run)}\n${cluster.outputs()}`);
      assert.deepEqual(
        run.steps.map((s: { name: string }) => s.name),
        ['prep', 'train'],
      );
      assert.deepEqual(await workersOf(runId), [gpu.name, gpu.name], `run ${runId}: both steps on the gpu worker`);
    }
  });

  test('a file without runs_on runs on whichever worker read it (both workers now)', async (t) => {
    if (!cluster) return t.skip('PostgreSQL or Redis unreachable');
    const id = await pipeline('plain-file', 'plain-app');
    const runs = [];
    for (let i = 0; i < 4; i++) runs.push(await trigger(id));
    const done = await waitForRuns(base(), token, runs, 60_000);
    for (const runId of runs) {
      assert.equal(done.get(runId).status, 'success');
      const [where] = await workersOf(runId);
      assert.ok(where, `run ${runId} ran on a worker of the cluster`);
    }
  });
});
