/**
 * The sweeper on its own (SQLite, real folders): what it removes and keeps, the bytes it reports
 * (counted as it removes, several runs at a time), its artifacts hook once per removed run, and
 * removeCounting against folderBytes. The end-to-end behaviour through the server is
 * test/api/retention.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openDb } from '../../store/db.js';
import { migrateToLatest } from '../../store/migrate.js';
import { RetentionRepository } from '../../store/retention-repository.js';
import { seedRuns } from '../../../test/support/history-seed.js';
import { RetentionSweeper } from './retention-sweeper.js';
import { folderBytes, removeCounting } from './disk-usage.js';

function tree(root: string, id: number): void {
  mkdirSync(join(root, 'nested', 'deeper'), { recursive: true });
  writeFileSync(join(root, 'run.log'), 'x'.repeat(100 + id));
  writeFileSync(join(root, 'nested', 'a.txt'), 'y'.repeat(37));
  writeFileSync(join(root, 'nested', 'deeper', 'b.bin'), Buffer.alloc(4096 + id));
}

test('removeCounting: the bytes folderBytes counts, everything removed, links removed and never followed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ansflow-rc-'));
  try {
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'keep.txt'), 'must survive');
    const target = join(dir, 'target');
    tree(target, 3);
    symlinkSync(outside, join(target, 'link-to-folder'));
    symlinkSync(join(outside, 'keep.txt'), join(target, 'nested', 'link-to-file'));
    // A folder a step made read-only (as root, which the tests may run as, this is no obstacle).
    chmodSync(join(target, 'nested', 'deeper'), 0o500);
    const expected = await folderBytes(target);
    assert.ok(expected > 4096);
    assert.equal(await removeCounting(target), expected);
    assert.equal(existsSync(target), false);
    assert.equal(existsSync(join(outside, 'keep.txt')), true, 'a link is removed, not followed');
    assert.equal(await removeCounting(target), 0, 'absent: 0');
    writeFileSync(join(dir, 'file'), 'abc');
    assert.equal(await removeCounting(join(dir, 'file')), 3);
    assert.equal(existsSync(join(dir, 'file')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a sweep: the newest N and pinned runs stay; the others go with their logs, workspaces and artifacts; bytes add up', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ansflow-sweep-'));
  const db = openDb({ databaseUrl: null, dataDir: dir });
  try {
    await migrateToLatest(db);
    const now = new Date().toISOString();
    const pipelineId = (
      await sql<{
        id: number;
      }>`insert into pipelines (name, name_key, status, branch, trigger_events, variables, steps, steps_count, project_id, created_at, updated_at)
        values ('old', 'old', 'active', 'main', '[]', '{}', '[]', 0, 1, ${now}, ${now}) returning id`.execute(db.kysely)
    ).rows[0]!.id;
    await seedRuns(db.kysely, { pipelineId, projectId: 1, pipelineName: 'old', count: 23 });
    const ids = (await db.kysely.selectFrom('pipeline_runs').select('id').orderBy('id').execute()).map((r) => r.id);
    const pinned = ids[2]!;
    // Pinned (no user to name in a fresh database, so pinned_at alone, which is what retention reads).
    await db.kysely.updateTable('pipeline_runs').set({ pinned_at: now }).where('id', '=', pinned).execute();

    const logsRoot = join(dir, 'logs');
    const workspaceRoot = join(dir, 'workspaces');
    mkdirSync(workspaceRoot, { recursive: true });
    for (const id of ids) tree(join(logsRoot, String(id)), id);
    // Some runs still have a workspace (a folder and its HOME), one a link to a sandbox slot.
    for (const id of ids.slice(0, 6)) {
      tree(join(workspaceRoot, `run-${id}`), id);
      mkdirSync(join(workspaceRoot, `run-${id}.home`));
      writeFileSync(join(workspaceRoot, `run-${id}.home`, '.bashrc'), 'z'.repeat(11));
    }
    const slot = join(workspaceRoot, 'sandbox-0123456789abcdef');
    mkdirSync(join(slot, 'workspace'), { recursive: true });
    mkdirSync(join(slot, 'home'));
    writeFileSync(join(slot, 'workspace', 'f'), 'slot');
    const linked = ids[7]!;
    symlinkSync(join('sandbox-0123456789abcdef', 'workspace'), join(workspaceRoot, `run-${linked}`));
    symlinkSync(join('sandbox-0123456789abcdef', 'home'), join(workspaceRoot, `run-${linked}.home`));

    const keep = new Set([...ids.slice(-5), pinned]);
    const gone = ids.filter((id) => !keep.has(id));
    let expected = 0;
    for (const id of gone) {
      expected += await folderBytes(join(logsRoot, String(id)));
      expected += await folderBytes(join(workspaceRoot, `run-${id}`));
      expected += await folderBytes(join(workspaceRoot, `run-${id}.home`));
      expected += 5; // the artifacts hook's answer
    }
    const hooked: number[] = [];
    const repo = new RetentionRepository(db.kysely);
    const sweeper = new RetentionSweeper({
      retention: repo,
      defaults: { keep_runs: 5, keep_days: null },
      owner: 'test',
      logsRoot,
      workspaceRoot,
      removeArtifacts: async (runId) => {
        hooked.push(runId);
        await new Promise((r) => setTimeout(r, runId % 3));
        return 5;
      },
      intervalMs: 60_000,
      batch: 4,
      pauseMs: 0,
      fileConcurrency: 3,
    });
    const result = await sweeper.sweepOnce();
    assert.deepEqual(result, { deleted: gone.length, freedBytes: expected, expiredArtifacts: 0, auditEvents: 0, leftovers: 0 });
    const left = (await db.kysely.selectFrom('pipeline_runs').select('id').orderBy('id').execute()).map((r) => r.id);
    assert.deepEqual(
      left,
      [...keep].sort((a, b) => a - b),
    );
    assert.deepEqual(
      hooked.sort((a, b) => a - b),
      gone,
      'the artifacts hook once for each removed run',
    );
    for (const id of gone) {
      assert.equal(existsSync(join(logsRoot, String(id))), false, `log folder of ${id} removed`);
      assert.equal(existsSync(join(workspaceRoot, `run-${id}`)), false, `workspace of ${id} removed`);
      assert.equal(existsSync(join(workspaceRoot, `run-${id}.home`)), false, `HOME of ${id} removed`);
    }
    assert.equal(existsSync(slot), false, 'the sandbox slot a removed run linked to went with it');
    for (const id of keep) assert.equal(existsSync(join(logsRoot, String(id))), true, `log folder of kept run ${id}`);
    const record = await repo.record();
    assert.equal(record?.last_deleted_runs, gone.length);
    assert.equal(record?.last_freed_bytes, expected);
    assert.equal(record?.last_error, null);
    const pipeline = await db.kysely.selectFrom('pipelines').select(['runs_count']).where('id', '=', pipelineId).executeTakeFirstOrThrow();
    assert.equal(Number(pipeline.runs_count), keep.size, 'the kept counter follows the deletes');
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
