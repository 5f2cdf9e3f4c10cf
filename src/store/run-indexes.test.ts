/**
 * Migration 023's indexes, by the plans SQLite makes with them (no timing):
 *   - deleting a run finds every row that points at it or at its step rows through an index: the
 *     DELETE's program (with its foreign-key and trigger sub-programs) never scans a table;
 *   - a member's run list filtered by status counts its rows from (status, project_id, id) alone,
 *     while the page still walks (status, id) newest first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, type CompiledQuery } from 'kysely';
import { openDb } from './db.js';
import { migrateToLatest } from './migrate.js';
import type { Database } from './schema.js';
import { RunsRepository } from './runs-repository.js';
import type { PipelinesRepository } from './pipelines-repository.js';

async function withMigrated(work: (file: string) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'ansflow-idx-'));
  const db = openDb({ databaseUrl: null, dataDir: dir });
  try {
    await migrateToLatest(db);
    await db.close();
    await work(join(dir, 'ansflow.db'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Op {
  addr: number;
  opcode: string;
  p1: number;
  p2: number;
}

test('deleting runs: every row pointing at a run or its steps is found by an index, no table is scanned', async () => {
  await withMigrated(async (file) => {
    const db = new SQLite(file);
    try {
      db.pragma('foreign_keys = ON');
      const tables = new Map<number, string>();
      for (const r of db.prepare("select name, rootpage from sqlite_master where type = 'table'").all() as { name: string; rootpage: number }[])
        tables.set(r.rootpage, r.name);
      const ops = db.prepare('explain delete from pipeline_runs where id in (?, ?)').all(1, 2) as Op[];
      // The listing holds the statement's program, then each sub-program (triggers, foreign-key
      // actions), each numbered from 0; cursors are per program.
      const scanned: string[] = [];
      const opened = new Set<string>();
      let cursors = new Map<number, string>();
      let last = -1;
      for (const op of ops) {
        if (op.addr <= last) cursors = new Map();
        last = op.addr;
        if (op.opcode === 'OpenRead' || op.opcode === 'OpenWrite') {
          const table = tables.get(op.p2);
          if (table) cursors.set(op.p1, table);
          else cursors.delete(op.p1);
          opened.add(String(op.p2));
        }
        if (op.opcode === 'Rewind' && cursors.has(op.p1)) scanned.push(cursors.get(op.p1)!);
      }
      assert.deepEqual(scanned, [], `tables read from end to end when deleting runs: ${scanned.join(', ')}`);
      // And the lookups that used to scan go through the new indexes.
      const roots = new Map(
        (db.prepare("select name, rootpage from sqlite_master where type = 'index'").all() as { name: string; rootpage: number }[]).map((r) => [
          r.name,
          String(r.rootpage),
        ]),
      );
      for (const index of [
        'pipeline_runs_retry_of',
        'step_runs_reused_from',
        'run_artifacts_step_run',
        'schedule_fires_run',
        'fork_approvals_run',
        'notification_deliveries_run',
      ])
        assert.ok(opened.has(roots.get(index)!), `${index} used when deleting runs`);
    } finally {
      db.close();
    }
  });
});

for (const [filter, column, pageIndex, countIndex] of [
  [{ status: 'failed' }, 'status', 'pipeline_runs_status_id', 'pipeline_runs_status_project'],
  [{ branch: 'main' }, 'branch', 'pipeline_runs_branch_id', 'pipeline_runs_branch_project'],
  [{ trigger: 'webhook' }, 'trigger_type', 'pipeline_runs_trigger_id', 'pipeline_runs_trigger_project'],
] as const)
  test(`a member's run list by ${column}: the count reads (${column}, project_id, id) only, the page walks (${column}, id)`, async () => {
    await withMigrated(async (file) => {
      const raw = new SQLite(file);
      const queries: CompiledQuery[] = [];
      const kysely = new Kysely<Database>({
        dialect: new SqliteDialect({ database: raw }),
        log: (event) => {
          if (event.level === 'query') queries.push(event.query);
        },
      });
      try {
        // The list reads runs only; the pipelines repository is for creating runs.
        const repo = new RunsRepository(kysely, null as unknown as PipelinesRepository);
        await repo.list({ ...filter, memberId: 7 }, { limit: 20, offset: 0 });
        const plan = (q: CompiledQuery) =>
          (raw.prepare(`explain query plan ${q.sql}`).all(...(q.parameters as unknown[])) as { detail: string }[]).map((r) => r.detail).join('\n');
        const runsQueries = queries.filter((q) => q.sql.includes('from "pipeline_runs"') && q.sql.includes('"project_members"'));
        const count = runsQueries.find((q) => q.sql.startsWith('select count(*)'));
        const page = runsQueries.find((q) => q.sql.includes('order by "pipeline_runs"."id" desc'));
        assert.ok(count && page, `the list's queries: ${queries.map((q) => q.sql).join('\n')}`);
        assert.match(plan(count), new RegExp(`SEARCH pipeline_runs USING COVERING INDEX ${countIndex} \\(${column}=\\?\\)`));
        assert.match(plan(page), new RegExp(`SEARCH pipeline_runs USING INDEX ${pageIndex} \\(${column}=\\?\\)`));
        assert.doesNotMatch(plan(page), /TEMP B-TREE/);
      } finally {
        await kysely.destroy();
      }
    });
  });
