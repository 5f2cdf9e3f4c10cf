/**
 * Applies migrations one by one, each in a transaction of its own with its row in
 * `ansflow_migrations`: a migration that fails leaves the database exactly as the previous one
 * left it (SQLite and PostgreSQL both roll back schema changes), and the error names it.
 *
 * Kysely's Migrator runs SQLite migrations outside any transaction (a failure halfway leaves half a
 * schema) and PostgreSQL's all in one; this runner keeps its table layout (name, timestamp), so
 * databases migrated by it before are read as they are.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { Db } from './db.js';

const TABLE = 'ansflow_migrations';
/** The key Kysely's PostgreSQL adapter locks, so a server of an older release waits for this one too. */
const PG_LOCK_ID = sql.lit(BigInt('3853314791062309107'));

/** A migration failed (rolled back) or the database is not one this release can migrate. */
export class MigrationError extends Error {
  constructor(
    message: string,
    readonly migration: string | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

/**
 * Runs the pending migrations of `all` in name order, up to and including `target` (all when
 * null); returns the names applied. Safe to call from several processes at once: PostgreSQL
 * serialises them on an advisory lock, SQLite on its write lock (`begin immediate`), and each
 * transaction checks again that its migration is still pending.
 */
export async function runMigrations(db: Db, all: Record<string, Migration>, target: string | null = null): Promise<string[]> {
  const names = Object.keys(all).sort();
  if (target !== null && !names.includes(target)) throw new MigrationError(`no migration is named ${target}`, target);
  const wanted = target === null ? names : names.slice(0, names.indexOf(target) + 1);
  await inTransaction(db, async (conn) => {
    await sql`create table if not exists ${sql.table(TABLE)} (name varchar(255) not null primary key, timestamp varchar(255) not null)`.execute(conn);
  });
  const done = await executed(db.kysely);
  const unknown = done.filter((name) => !names.includes(name));
  if (unknown.length > 0)
    throw new MigrationError(
      `the database was migrated by a newer release of AnsFlow (it has migration ${unknown.join(', ')}, unknown to this one); run that release or restore a backup`,
      unknown[0]!,
    );
  const applied: string[] = [];
  for (const name of wanted) {
    if (done.includes(name)) continue;
    const ran = await inTransaction(db, async (conn) => {
      // Another process may have applied it while this one waited for the lock.
      if ((await executed(conn)).includes(name)) return false;
      try {
        await all[name]!.up(conn);
        await sql`insert into ${sql.table(TABLE)} (name, timestamp) values (${name}, ${new Date().toISOString()})`.execute(conn);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new MigrationError(`database migration ${name} failed and was rolled back, so the database is as it was before it: ${reason}`, name, {
          cause: error,
        });
      }
      return true;
    });
    if (ran) applied.push(name);
  }
  return applied;
}

async function executed(conn: Kysely<any>): Promise<string[]> {
  const rows = await sql<{ name: string }>`select name from ${sql.table(TABLE)}`.execute(conn);
  return rows.rows.map((r) => r.name);
}

/** One connection, one transaction; on SQLite it takes the write lock at once, so two starting processes queue instead of failing. */
async function inTransaction<T>(db: Db, work: (conn: Kysely<any>) => Promise<T>): Promise<T> {
  return db.kysely.connection().execute(async (conn) => {
    await sql.raw(db.dialect === 'sqlite' ? 'begin immediate' : 'begin').execute(conn);
    try {
      if (db.dialect === 'postgres') await sql`select pg_advisory_xact_lock(${PG_LOCK_ID})`.execute(conn);
      const result = await work(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (error) {
      await sql`rollback`.execute(conn).catch(() => {});
      throw error;
    }
  });
}
