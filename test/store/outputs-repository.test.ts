/**
 * The outputs repository on SQLite and PostgreSQL (migration 016): artifacts listed whole with
 * their files, a retry's reused artifacts, caches (first writer wins per scope and key, hit
 * counting, least-recently-used eviction over the budget), snapshots, expiry.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { PipelinesRepository } from '../../src/store/pipelines-repository.js';
import { RunsRepository } from '../../src/store/runs-repository.js';
import { OutputsRepository } from '../../src/store/outputs-repository.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`outputs repository on ${backend}`, () => {
    let db: Db;
    let dir: string;
    let pgDb: TestDatabase | null = null;
    let outputs: OutputsRepository;
    let runs: RunsRepository;
    let pipelineId: number;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ansflow-outputs-'));
      if (backend === 'postgres') pgDb = await createTestDatabase();
      db = openDb({ databaseUrl: pgDb?.url ?? null, dataDir: dir });
      await migrateToLatest(db);
      const pipelines = new PipelinesRepository(db.kysely, new SecretBox('k'.repeat(40)));
      runs = new RunsRepository(db.kysely, pipelines);
      outputs = new OutputsRepository(db.kysely);
      const projectId = (await db.kysely.selectFrom('projects').select('id').executeTakeFirstOrThrow()).id;
      pipelineId = (await pipelines.create(
        {
          name: 'p',
          description: '',
          status: 'active',
          repository_url: null,
          branch: 'main',
          trigger_events: [],
          variables: {},
          steps: [
            { name: 'a', type: 'shell_command', config: { command: 'true' } },
            { name: 'b', type: 'shell_command', config: { command: 'true' } },
          ],
          project_id: projectId,
        },
        null as unknown as number,
      ))!.id;
    });
    after(async () => {
      await db?.close();
      await pgDb?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    const newRun = async () => (await runs.create({ pipelineId, trigger: { type: 'manual' }, branch: 'main', commit: null, variables: {} }))!;

    test('an artifact is listed whole with its files; a failed one with its error and no files', async () => {
      const run = await newRun();
      const id = await outputs.recordArtifact({
        runId: run.id,
        stepRunId: run.steps[0]!.id,
        name: 'dist',
        keyPrefix: `runs/${run.id}/artifacts/s${run.steps[0]!.id}`,
        files: Array.from({ length: 1200 }, (_, i) => ({ path: `f/${String(i).padStart(4, '0')}.js`, size: i, sha256: 'ab'.repeat(32), key: `k/${i}` })),
        refused: [{ path: 'dist/passwd', reason: 'a symbolic link (not followed)' }],
        bytes: 5000,
        expiresAt: null,
        error: null,
      });
      await outputs.recordArtifact({
        runId: run.id,
        stepRunId: run.steps[1]!.id,
        name: 'big',
        keyPrefix: 'x',
        files: [],
        refused: [],
        bytes: 0,
        expiresAt: null,
        error: 'over its limit',
      });
      const listed = await outputs.artifactsOfRun(run.id);
      assert.deepEqual(
        listed.map((a) => [a.name, a.status, a.file_count, a.size_bytes, a.error]),
        [
          ['dist', 'stored', 1200, 5000, null],
          ['big', 'failed', 0, 0, 'over its limit'],
        ],
      );
      assert.deepEqual(listed[0]!.refused, [{ path: 'dist/passwd', reason: 'a symbolic link (not followed)' }]);
      assert.equal((await outputs.filesOf(id)).length, 1200);
      assert.deepEqual(await outputs.file(id, 'f/0007.js'), { path: 'f/0007.js', size: 7, sha256: 'ab'.repeat(32), key: 'k/7' });
      assert.equal(await outputs.file(id, '../f/0007.js'), null);
    });

    test("a retry lists the artifacts of the original's steps it reused", async () => {
      const original = await newRun();
      await outputs.recordArtifact({
        runId: original.id,
        stepRunId: original.steps[0]!.id,
        name: 'a',
        keyPrefix: 'p',
        files: [],
        refused: [],
        bytes: 0,
        expiresAt: null,
        error: null,
      });
      await outputs.recordArtifact({
        runId: original.id,
        stepRunId: original.steps[1]!.id,
        name: 'b',
        keyPrefix: 'p',
        files: [],
        refused: [],
        bytes: 0,
        expiresAt: null,
        error: null,
      });
      const retry = await newRun();
      await db.kysely.updateTable('step_runs').set({ reused_from: original.steps[0]!.id }).where('id', '=', retry.steps[0]!.id).execute();
      assert.deepEqual(
        (await outputs.artifactsOfRun(retry.id)).map((a) => [a.name, a.run_id]),
        [['a', original.id]],
      );
    });

    test('caches: the first writer of a scope and key wins; lookups count hits; eviction takes the least recently used', async () => {
      assert.equal(await outputs.saveCache({ pipelineId, scope: 'branch-main', key: 'deps-1', objectKey: 'c/1', size: 100, entries: 3, runId: 1 }), 'saved');
      assert.equal(await outputs.saveCache({ pipelineId, scope: 'branch-main', key: 'deps-1', objectKey: 'c/1b', size: 100, entries: 3, runId: 2 }), 'exists');
      assert.equal(await outputs.saveCache({ pipelineId, scope: 'pr-4', key: 'deps-1', objectKey: 'c/2', size: 100, entries: 3, runId: 3 }), 'saved');
      await new Promise((r) => setTimeout(r, 5));
      assert.equal(await outputs.saveCache({ pipelineId, scope: 'branch-main', key: 'deps-2', objectKey: 'c/3', size: 100, entries: 3, runId: 4 }), 'saved');
      assert.deepEqual((await outputs.caches(pipelineId, ['branch-main'])).map((c) => c.key).sort(), ['deps-1', 'deps-2']);
      const first = (await outputs.caches(pipelineId, ['branch-main'])).find((c) => c.key === 'deps-1')!;
      await new Promise((r) => setTimeout(r, 5));
      await outputs.cacheLookedUp(pipelineId, first.id, true);
      await outputs.cacheLookedUp(pipelineId, null, false);
      assert.deepEqual(await outputs.cacheStats(pipelineId), { lookups: 2, exact_hits: 1, partial_hits: 0 });
      assert.equal((await outputs.caches(pipelineId, ['branch-main'])).find((c) => c.key === 'deps-1')!.hits, 1);
      // 300 bytes over a budget of 150: the two least recently used go (pr-4's, then deps-2), deps-1 was just used.
      assert.deepEqual(await outputs.evictOverBudget(150), ['c/2', 'c/3']);
      assert.deepEqual(
        (await outputs.caches(pipelineId)).map((c) => c.key),
        ['deps-1'],
      );
      assert.deepEqual(await outputs.evictOverBudget(50, 'c/1'), [], 'the entry just saved is kept');
      assert.deepEqual(
        (await outputs.deleteCaches(pipelineId, null)).map((c) => c.object_key),
        ['c/1'],
      );
    });

    test('snapshots are one per step; expired artifacts are removed and their prefixes returned', async () => {
      const run = await newRun();
      await outputs.recordSnapshot({ runId: run.id, stepRunId: run.steps[0]!.id, objectKey: 's/1', size: 10, worker: 'w1' });
      await outputs.recordSnapshot({ runId: run.id, stepRunId: run.steps[0]!.id, objectKey: 's/1', size: 12, worker: 'w1' });
      assert.deepEqual(
        (await outputs.snapshotsOfRun(run.id)).map((s) => [s.step_run_id, s.size_bytes]),
        [[run.steps[0]!.id, 12]],
      );
      await outputs.recordArtifact({
        runId: run.id,
        stepRunId: run.steps[0]!.id,
        name: 'old',
        keyPrefix: 'runs/x/old',
        files: [],
        refused: [],
        bytes: 0,
        expiresAt: '2000-01-01T00:00:00.000Z',
        error: null,
      });
      assert.deepEqual(await outputs.removeExpiredArtifacts(new Date().toISOString(), 10), ['runs/x/old']);
      assert.equal((await outputs.artifactsOfRun(run.id)).length, 0);
    });

    test("a snapshot that failed after its step's result is on the step's message, after what it said; its record goes", async () => {
      const run = await newRun();
      const [a, b] = run.steps;
      await runs.stepFinished(a!.id, { status: 'success', exitCode: 0, attempts: 1, at: new Date().toISOString(), message: null });
      await runs.stepFinished(b!.id, { status: 'success', exitCode: 0, attempts: 1, at: new Date().toISOString(), message: 'it said this' });
      await outputs.recordSnapshot({ runId: run.id, stepRunId: a!.id, objectKey: 's/a', size: 10, worker: 'w1' });
      await outputs.snapshotFailed({ stepRunId: a!.id, message: 'snapshot: not taken: the store is down' });
      await outputs.snapshotFailed({ stepRunId: b!.id, message: 'snapshot: not taken: full' });
      const steps = (await runs.findById(run.id))!.steps;
      assert.deepEqual(
        steps.map((s) => [s.status, s.message]),
        [
          ['success', 'snapshot: not taken: the store is down'],
          ['success', 'it said this; snapshot: not taken: full'],
        ],
      );
      assert.deepEqual(await outputs.snapshotsOfRun(run.id), []);
    });
  });
}
