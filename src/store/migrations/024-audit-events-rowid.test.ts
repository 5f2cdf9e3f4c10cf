/**
 * 024 on a database as 023 left it: every event kept with its id and fields, the indexes back,
 * no `sqlite_sequence` row (the point of the change), and new events numbered after the old.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openDb } from '../db.js';
import { migrateTo } from '../migrate.js';
import { AuditEventsRepository } from '../audit-events-repository.js';

test('024-audit-events-rowid keeps every event and id, drops the sequence row, and numbers new events after the old', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ansflow-m024-'));
  const db = openDb({ databaseUrl: null, dataDir: dir });
  try {
    await migrateTo(db, '023-delete-and-member-indexes');
    const events = new AuditEventsRepository(db.kysely);
    for (let i = 1; i <= 5; i++)
      await events.insert(
        {
          action: 'pipeline.update',
          actor: { id: 1, username: 'admin' },
          origin: { ip: '10.0.0.1', userAgent: 'curl' },
          target: { type: 'pipeline', id: i, name: `p${i}` },
          projectId: 7,
          diff: { description: { before: 'a', after: `b${i}` } },
        },
        `2026-01-0${i}T00:00:00.000Z`,
      );
    // The newest removed: AUTOINCREMENT remembers 5 in sqlite_sequence.
    await db.kysely.deleteFrom('audit_events').where('id', '=', 5).execute();
    const before = await db.kysely.selectFrom('audit_events').selectAll().orderBy('id').execute();
    const seq = await sql<{ seq: number }>`select seq from sqlite_sequence where name = 'audit_events'`.execute(db.kysely);
    assert.equal(seq.rows[0]?.seq, 5);

    await migrateTo(db, '024-audit-events-rowid');
    const after = await db.kysely.selectFrom('audit_events').selectAll().orderBy('id').execute();
    assert.deepEqual(after, before, 'every row, ids and fields as they were');
    const table = await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = 'audit_events'`.execute(db.kysely);
    assert.doesNotMatch(table.rows[0]!.sql, /autoincrement/i);
    const indexes = await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = 'audit_events' order by name`.execute(
      db.kysely,
    );
    assert.deepEqual(
      indexes.rows.map((r) => r.name),
      ['audit_events_project', 'audit_events_target'],
    );
    const left = await sql<{ n: number }>`select count(*) as n from sqlite_sequence where name in ('audit_events', 'audit_events_next')`.execute(db.kysely);
    assert.equal(left.rows[0]!.n, 0, 'no sequence row: an insert writes no sqlite_sequence page');
    await events.insert({ action: 'login.succeeded', actor: null, origin: null, target: { type: 'user', id: 1, name: 'admin' } }, '2026-02-01T00:00:00.000Z');
    const newest = await db.kysely.selectFrom('audit_events').select('id').orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
    assert.equal(newest.id, 5, 'the rowid after the largest kept (4): 5, the id the deleted event had, which retention never allows (it keeps the newest)');
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
