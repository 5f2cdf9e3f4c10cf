/**
 * 026 and the batched index upkeep it enables (SQLite): stored events stay indexed, new ones are
 * written unindexed and indexed together, by a read that filters by target or project or after
 * INDEX_EVERY events, and the filtered reads go through the partial indexes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { openDb } from '../db.js';
import { migrateTo, migrateToLatest } from '../migrate.js';
import { AuditEventsRepository, INDEX_EVERY } from '../audit-events-repository.js';
import type { AuditEntry } from '../../domain/audit.js';
import type { Database } from '../schema.js';

const event = (i: number, projectId = 7): AuditEntry => ({
  action: 'pipeline.update',
  actor: { id: 1, username: 'admin' },
  origin: null,
  target: { type: 'pipeline', id: i % 3, name: `p${i % 3}` },
  projectId,
  diff: { description: { before: 'a', after: `b${i}` } },
});

/** Rows the partial indexes hold, counted through each index. */
async function throughIndexes(db: Kysely<Database>) {
  const target = await sql<{
    n: number;
  }>`select count(*) as n from audit_events indexed by audit_events_target where indexed = 1 and target_type = 'pipeline'`.execute(db);
  const project = await sql<{ n: number }>`select count(*) as n from audit_events indexed by audit_events_project where indexed = 1 and project_id = 7`.execute(
    db,
  );
  return { target: target.rows[0]!.n, project: project.rows[0]!.n };
}

const plan = async (db: Kysely<Database>, query: string) =>
  (await sql<{ detail: string }>`${sql.raw(`explain query plan ${query}`)}`.execute(db)).rows.map((r) => r.detail).join(' | ');

test('026: stored events stay indexed; new events are written unindexed and indexed in batches; filtered reads use the partial indexes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ansflow-m026-'));
  const db = openDb({ databaseUrl: null, dataDir: dir });
  try {
    await migrateTo(db, '025-member-filter-indexes');
    const before = new AuditEventsRepository(db.kysely);
    for (let i = 1; i <= 3; i++) await before.insert(event(i), `2026-01-0${i}T00:00:00.000Z`);
    await migrateToLatest(db);
    const stored = await db.kysely.selectFrom('audit_events').select(['id', 'indexed']).orderBy('id').execute();
    assert.deepEqual(
      stored.map((r) => r.indexed),
      [1, 1, 1],
      'the default covers every stored row: nothing rewritten',
    );
    const indexes = await sql<{ sql: string }>`select sql from sqlite_master where type = 'index' and tbl_name = 'audit_events' order by name`.execute(
      db.kysely,
    );
    assert.equal(indexes.rows.length, 2);
    for (const row of indexes.rows) assert.match(row.sql, /where indexed = 1$/i);
    assert.deepEqual(await throughIndexes(db.kysely), { target: 3, project: 3 });

    const events = new AuditEventsRepository(db.kysely, { batchedIndexes: true });
    for (let i = 4; i <= 8; i++) await events.insert(event(i), `2026-01-0${i}T00:00:00.000Z`);
    assert.deepEqual(await throughIndexes(db.kysely), { target: 3, project: 3 }, 'the new events touched no index');

    // A filtered read indexes what is pending first, and sees every event.
    const ofTarget = await events.list({ targetType: 'pipeline', targetId: '1' }, 50);
    assert.deepEqual(
      ofTarget.map((e) => e.id),
      [7, 4, 1],
    );
    assert.deepEqual(await throughIndexes(db.kysely), { target: 8, project: 8 });
    const ofProjects = await events.list({ projectIds: [7] }, 50);
    assert.equal(ofProjects.length, 8);
    assert.ok(!('indexed' in ofProjects[0]!), 'the bookkeeping column is not part of an event');

    // INDEX_EVERY events written by this process are indexed after the turn that wrote the last.
    const more = Array.from({ length: INDEX_EVERY }, (_, i) => event(100 + i));
    await events.insertMany(more, '2026-02-01T00:00:00.000Z');
    assert.deepEqual(await throughIndexes(db.kysely), { target: 8, project: 8 });
    await new Promise((resolve) => setImmediate(resolve));
    await events.indexPending();
    assert.deepEqual(await throughIndexes(db.kysely), { target: 8 + INDEX_EVERY, project: 8 + INDEX_EVERY });

    // The reads' plans: each filter through its partial index, newest first without a sort; the
    // catch-up's search for the newest indexed row walks the table backwards, not an index.
    assert.match(
      await plan(db.kysely, "select id from audit_events where target_type = 'pipeline' and target_id = '1' and indexed = 1 order by id desc limit 50"),
      /USING (COVERING )?INDEX audit_events_target/,
    );
    assert.match(
      await plan(db.kysely, 'select id from audit_events where project_id in (7, 8) and indexed = 1 order by id desc limit 50'),
      /INDEX audit_events_project/,
    );
    const mark = await plan(db.kysely, 'select id from audit_events not indexed where indexed = 1 order by id desc limit 1');
    assert.match(mark, /SCAN audit_events/);
    assert.doesNotMatch(mark, /TEMP B-TREE|INDEX/);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
