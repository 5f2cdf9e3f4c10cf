/**
 * The statement writer's contract, on SQLite and on PostgreSQL: a statement alone, a statement
 * with what must commit with it, nothing written when either fails, and (SQLite) no interleaving
 * with a transaction that holds the connection between its statements.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompiledQuery, sql } from 'kysely';
import { openDb, type Db } from './db.js';
import { statementWriter, type StatementWriter } from './statement-writer.js';
import { isUniqueViolation } from './pipelines-repository.js';
import { createTestDatabase } from '../../test/support/postgres.js';

const statement = (text: string, ...parameters: unknown[]) => CompiledQuery.raw(text, parameters);

interface World {
  db: Db;
  writer: StatementWriter;
  names(): Promise<string[]>;
  events(): Promise<string[]>;
  close(): Promise<void>;
}

async function world(db: Db, close: () => Promise<void>): Promise<World> {
  await sql`create table things (id integer primary key, name text not null unique)`.execute(db.kysely);
  const key = db.dialect === 'postgres' ? 'serial primary key' : 'integer primary key';
  await sql.raw(`create table things_events (id ${key}, what text not null)`).execute(db.kysely);
  await sql`insert into things (id, name) values (1, 'one'), (2, 'two')`.execute(db.kysely);
  const column = async (query: string) => (await sql.raw<{ v: string }>(query).execute(db.kysely)).rows.map((r) => r.v);
  return {
    db,
    writer: statementWriter(db.kysely, db.sqlite),
    names: () => column('select name as v from things order by id'),
    events: () => column('select what as v from things_events order by id'),
    close,
  };
}

const ph = (db: Db, n: number) => (db.dialect === 'postgres' ? `$${n}` : '?');
const rename = (db: Db, id: number, name: string) => statement(`update things set name = ${ph(db, 1)} where id = ${ph(db, 2)}`, name, id);
const event = (db: Db, what: string) => statement(`insert into things_events (what) values (${ph(db, 1)})`, what);

function contract(name: string, open: () => Promise<World | null>) {
  describe(`statement writer: ${name}`, () => {
    const each = (title: string, body: (w: World) => Promise<void>) =>
      test(title, async (t) => {
        const w = await open();
        if (!w) return t.skip('database unavailable');
        try {
          await body(w);
        } finally {
          await w.close();
        }
      });

    each('runs one statement and answers the rows it changed', async (w) => {
      assert.equal(await w.writer.run(rename(w.db, 1, 'uno')), 1);
      assert.equal(await w.writer.run(rename(w.db, 9, 'none')), 0);
      assert.deepEqual(await w.names(), ['uno', 'two']);
    });

    each('writes the second statement with the first when it changed a row, and only then', async (w) => {
      assert.equal(await w.writer.runThen(rename(w.db, 1, 'uno'), () => event(w.db, 'renamed 1')), 1);
      let asked = false;
      const missing = await w.writer.runThen(rename(w.db, 9, 'none'), () => {
        asked = true;
        return event(w.db, 'renamed 9');
      });
      assert.equal(missing, 0);
      assert.equal(asked, false, 'no second statement is built for an unchanged row');
      assert.equal(await w.writer.runThen(rename(w.db, 2, 'dos'), () => null), 1, 'a second statement may be none');
      assert.deepEqual(await w.names(), ['uno', 'dos']);
      assert.deepEqual(await w.events(), ['renamed 1']);
    });

    each('writes neither when the first violates a unique index, and the next write commits', async (w) => {
      const error = await w.writer
        .runThen(rename(w.db, 1, 'two'), () => event(w.db, 'clash'))
        .then(
          () => null,
          (e: unknown) => e,
        );
      assert.ok(isUniqueViolation(error), `a unique violation, got ${String(error)}`);
      assert.equal(await w.writer.runThen(rename(w.db, 1, 'uno'), () => event(w.db, 'renamed')), 1);
      assert.deepEqual(await w.names(), ['uno', 'two']);
      assert.deepEqual(await w.events(), ['renamed']);
    });

    each('writes neither when the second fails', async (w) => {
      await assert.rejects(w.writer.runThen(rename(w.db, 1, 'uno'), () => statement('insert into no_such_table values (1)')));
      assert.deepEqual(await w.names(), ['one', 'two']);
      assert.deepEqual(await w.events(), []);
      assert.equal(await w.writer.runThen(rename(w.db, 2, 'dos'), () => event(w.db, 'renamed 2')), 1, 'the connection is usable after');
    });

    each('inside a transaction, runs in it: rolled back with it', async (w) => {
      await assert.rejects(
        w.db.kysely.transaction().execute(async (tx) => {
          await statementWriter(tx, w.db.sqlite).runThen(rename(w.db, 1, 'uno'), () => event(w.db, 'in tx'));
          throw new Error('roll back');
        }),
        /roll back/,
      );
      assert.deepEqual(await w.names(), ['one', 'two']);
      assert.deepEqual(await w.events(), []);
    });

    each('does not write into a transaction that another unit holds between its statements', async (w) => {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let began!: () => void;
      const begun = new Promise<void>((resolve) => (began = resolve));
      const other = w.db.kysely
        .transaction()
        .execute(async (tx) => {
          await sql`insert into things_events (what) values ('other')`.execute(tx);
          began();
          await held;
          throw new Error('the other unit rolls back');
        })
        .catch((e: Error) => e.message);
      await begun;
      const ours = w.writer.runThen(rename(w.db, 1, 'uno'), () => event(w.db, 'ours'));
      release();
      assert.equal(await other, 'the other unit rolls back');
      assert.equal(await ours, 1);
      assert.deepEqual(await w.names(), ['uno', 'two'], 'our update survived the other rollback');
      assert.deepEqual(await w.events(), ['ours']);
    });
  });
}

contract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ansflow-writer-'));
  const db = openDb({ databaseUrl: null, dataDir: dir });
  return world(db, async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

contract('PostgreSQL', async () => {
  const database = await createTestDatabase();
  if (!database) return null;
  const db = openDb({ databaseUrl: database.url, dataDir: tmpdir(), poolSize: 4 });
  return world(db, async () => {
    await db.close();
    await database.drop();
  });
});
