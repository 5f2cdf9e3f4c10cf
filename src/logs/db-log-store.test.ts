import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openDb, type Db } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import { DbLogStore } from './db-log-store.js';
import { describeLogStoreContract } from './log-store-contract.js';
import { createTestDatabase } from '../../test/support/postgres.js';

/** A migrated database with runs 1..6 and 999 (log chunks belong to runs). */
async function database(backend: 'sqlite' | 'postgres'): Promise<{ db: Db; cleanup: () => Promise<void> } | null> {
  const dir = mkdtempSync(join(tmpdir(), 'ansflow-dblogs-'));
  const pg = backend === 'postgres' ? await createTestDatabase() : null;
  if (backend === 'postgres' && !pg) return null;
  const db = openDb({ databaseUrl: pg?.url ?? null, dataDir: dir });
  await migrateToLatest(db);
  const now = new Date().toISOString();
  for (const id of [1, 2, 3, 4, 5, 6, 7, 999])
    await sql`insert into pipeline_runs (id, pipeline_id, pipeline_name, number, status, trigger_type, trigger_user_id, trigger, branch, commit_sha, variables, definition, created_at)
              values (${id}, null, 'p', ${id}, 'running', 'manual', null, '{}', 'main', null, '{}', '{}', ${now})`.execute(db.kysely);
  return {
    db,
    cleanup: async () => {
      await db.close();
      await pg?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

for (const backend of ['sqlite', 'postgres'] as const) {
  describeLogStoreContract(`DbLogStore on ${backend}`, async () => {
    const d = await database(backend);
    if (!d) throw new Error('PostgreSQL unreachable (see the warning above)');
    return { store: new DbLogStore(d.db.kysely, { flushMs: 5 }), cleanup: d.cleanup };
  });
}

test('DbLogStore: another process (a second store on the same database) reads a log while it is written', async () => {
  const d = await database('sqlite');
  try {
    const writerStore = new DbLogStore(d!.db.kysely, { flushMs: 5 });
    const readerStore = new DbLogStore(d!.db.kysely);
    const chunks: Array<{ offset: number; text: string }> = [];
    const w = writerStore.openStep({ runId: 1, stepId: 7, stepName: 'build', parallel: false, onChunk: (offset, text) => chunks.push({ offset, text }) });
    w.write(Buffer.from('line one\n'));
    await new Promise((r) => setTimeout(r, 50));
    const partial = await readerStore.read({ runId: 1, stepId: 7, offset: 0 });
    assert.equal(partial.data.toString(), 'line one\n', 'a chunk announced is readable elsewhere');
    w.write(Buffer.from('line two\n'));
    await w.close();
    const rest = await readerStore.read({ runId: 1, stepId: 7, offset: partial.nextOffset });
    assert.equal(rest.data.toString(), 'line two\n');
    assert.match((await readerStore.read({ runId: 1, stepId: null, offset: 0 })).data.toString(), /==> build\nline one\nline two\n/);
    assert.deepEqual(chunks[0], { offset: 0, text: 'line one\n' });
  } finally {
    await d!.cleanup();
  }
});

test('DbLogStore: memory stays bounded when the database cannot keep up, and the loss is reported', async () => {
  const d = await database('sqlite');
  try {
    const store = new DbLogStore(d!.db.kysely, { flushMs: 1000, maxBatchBytes: 1024, maxPendingBytes: 4096 });
    const w = store.openStep({ runId: 2, stepId: 1, stepName: 's', parallel: false });
    for (let i = 0; i < 100; i++) w.write(Buffer.alloc(1000, 'x'));
    await w.close();
    const text = (await store.read({ runId: 2, stepId: 1, offset: 0 })).data.toString();
    assert.ok(text.length < 100_000);
    assert.match(text, /bytes dropped, the database could not keep up/);
  } finally {
    await d!.cleanup();
  }
});
