import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { openDb } from './db.js';

test('an SQLite transaction holds the write lock from its start: another connection committing between its read and its write cannot fail it', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ansflow-db-'));
  const db = openDb({ databaseUrl: null, dataDir });
  // A second connection to the same file, as the notification thread opens; it does not wait for locks.
  const other = new SQLite(join(dataDir, 'ansflow.db'), { timeout: 0 });
  t.after(async () => {
    other.close();
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  await sql`create table counters (name text primary key, value integer not null)`.execute(db.kysely);
  await sql`insert into counters values ('a', 0), ('b', 0)`.execute(db.kysely);

  let otherWrite: 'committed' | 'refused' | undefined;
  await db.kysely.transaction().execute(async (tx) => {
    await sql`select value from counters where name = 'a'`.execute(tx);
    // With a deferred BEGIN this commit succeeds and the update below fails with SQLITE_BUSY_SNAPSHOT.
    try {
      other.prepare(`update counters set value = value + 1 where name = 'b'`).run();
      otherWrite = 'committed';
    } catch (error) {
      assert.equal((error as { code?: string }).code, 'SQLITE_BUSY');
      otherWrite = 'refused';
    }
    await sql`update counters set value = value + 1 where name = 'a'`.execute(tx);
  });

  assert.equal(otherWrite, 'refused', 'the other connection had to wait for the transaction');
  const rows = other.prepare('select name, value from counters order by name').all();
  assert.deepEqual(rows, [
    { name: 'a', value: 1 },
    { name: 'b', value: 0 },
  ]);
});
