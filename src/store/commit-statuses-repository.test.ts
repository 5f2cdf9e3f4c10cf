/**
 * The outbox's claims and order, on the repository (SQLite): a claimed row is no one else's
 * until its lease expires; then another sender takes it over and the first one's late answer is
 * not recorded; a later state supersedes an unsent one but waits for one in flight.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from './db.js';
import { migrateToLatest } from './migrate.js';
import { CommitStatusesRepository, type NewCommitStatus } from './commit-statuses-repository.js';

async function withRepo(work: (repo: CommitStatusesRepository, runId: number) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'ansflow-cs-'));
  const db = openDb({ databaseUrl: null, dataDir: dir });
  try {
    await migrateToLatest(db);
    const now = new Date().toISOString();
    const run = await db.kysely
      .insertInto('pipeline_runs')
      .values({
        pipeline_id: null,
        pipeline_name: 'p',
        number: 1,
        status: 'queued',
        trigger_type: 'webhook',
        trigger_user_id: null,
        trigger: '{"type":"webhook","provider":"github"}',
        branch: 'main',
        commit_sha: 'a'.repeat(40),
        variables: '{}',
        definition: '{"name":"p","repository_url":"https://github.com/a/b","branch":"main","steps":[],"variables":{}}',
        error_reason: null,
        cancel_requested_at: null,
        secrets_withheld: null,
        created_at: now,
        started_at: null,
        finished_at: null,
        project_id: 1,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await work(new CommitStatusesRepository(db.kysely), run.id);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const status = (runId: number, rank: number, state: string, at: string): NewCommitStatus => ({
  runId,
  rank,
  provider: 'github',
  apiUrl: 'https://api.github.com',
  repository: 'a/b',
  sha: 'a'.repeat(40),
  context: 'ansflow/p',
  state,
  description: state,
  targetUrl: 'https://ci.example.com/runs/1',
  at,
});

const iso = (ms: number) => new Date(ms).toISOString();

test('a claim is exclusive until its lease expires; a taken-over sender cannot record its answer', () =>
  withRepo(async (repo, runId) => {
    const t = Date.now();
    assert.equal(await repo.record(status(runId, 0, 'pending', iso(t))), true);
    assert.equal(await repo.record(status(runId, 0, 'pending', iso(t))), false, 'the same rank twice is one row');
    const [row] = await repo.due(iso(t), 10);
    assert.ok(row);
    assert.equal(await repo.claim(row.id, 'A', iso(t), iso(t + 60_000)), true);
    assert.equal(await repo.claim(row.id, 'B', iso(t + 1000), iso(t + 61_000)), false, 'held by A');
    assert.deepEqual(await repo.due(iso(t + 1000), 10), []);
    // A died: after its lease, B takes the row over.
    assert.equal((await repo.due(iso(t + 61_000), 10)).length, 1);
    assert.equal(await repo.claim(row.id, 'B', iso(t + 61_000), iso(t + 121_000)), true);
    await repo.failed(row.id, 'A', 'late answer of A', 500);
    assert.equal((await repo.forRun(runId))[0]!.outcome, 'pending', "A's late answer is not recorded");
    await repo.delivered(row.id, 'B', iso(t + 62_000), 201);
    const [done] = await repo.forRun(runId);
    assert.equal(done!.outcome, 'delivered');
    assert.equal(done!.attempts, 2);
  }));

test('a later state supersedes an unsent one, but waits while one is being sent', () =>
  withRepo(async (repo, runId) => {
    const t = Date.now();
    await repo.record(status(runId, 0, 'pending', iso(t)));
    const [queued] = await repo.due(iso(t), 10);
    assert.equal(await repo.claim(queued!.id, 'A', iso(t), iso(t + 60_000)), true);
    await repo.record(status(runId, 1, 'pending', iso(t + 10)));
    await repo.record(status(runId, 2, 'success', iso(t + 20)));
    assert.deepEqual(await repo.due(iso(t + 30), 10), [], 'nothing else of the run while its first state is in flight');
    await repo.delivered(queued!.id, 'A', iso(t + 40), 201);
    await repo.supersede(iso(t + 50));
    const due = await repo.due(iso(t + 50), 10);
    assert.deepEqual(
      due.map((r) => r.state),
      ['success'],
    );
    assert.deepEqual(
      (await repo.forRun(runId)).map((r) => r.outcome),
      ['delivered', 'superseded', 'pending'],
    );
  }));
