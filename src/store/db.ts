/**
 * Opens the database: SQLite (better-sqlite3, WAL) in the data folder by default, PostgreSQL when
 * the URL says so. Everything above this file sees only `Kysely<Database>`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { createRequire } from 'node:module';
import { Kysely, PostgresDialect, SqliteDialect, sql, type Driver, type SqliteDialectConfig } from 'kysely';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  kysely: Kysely<Database>;
  dialect: Dialect;
  /** SQLite's one connection, for writes that run synchronously on it (store/statement-writer.ts); null on PostgreSQL. */
  sqlite: SqliteHandle | null;
  /** A short query, for health checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** better-sqlite3's connection with the statement cache Kysely uses and the transaction statements. */
export interface SqliteHandle {
  database: SQLite.Database;
  prepare(text: string): SQLite.Statement;
  begin(): void;
  commit(): void;
  rollback(): void;
}

export function openDb(options: { databaseUrl: string | null; dataDir: string; poolSize?: number }): Db {
  const url = options.databaseUrl;
  if (url && /^postgres(ql)?:\/\//.test(url)) return openPostgres(url, options.poolSize ?? 10);
  const file = url?.startsWith('sqlite://') ? url.slice('sqlite://'.length) : join(options.dataDir, 'ansflow.db');
  return openSqlite(file, options.dataDir);
}

function openSqlite(file: string, dataDir: string): Db {
  if (file !== ':memory:') mkdirSync(dataDir, { recursive: true });
  const database = new SQLite(file);
  database.pragma('journal_mode = WAL');
  // NORMAL is durable across application crashes in WAL mode; only an OS crash may lose the last commits.
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  const cached = withStatementCache(database);
  const transactions = transactionStatements(database);
  const kysely = new Kysely<Database>({ dialect: new SqliteDialectDirectTransactions({ database: cached }, transactions) });
  return {
    kysely,
    dialect: 'sqlite',
    sqlite: { database, prepare: cached.prepare, ...transactions },
    ping: async () => {
      await sql`select 1`.execute(kysely);
    },
    close: () => kysely.destroy(),
  };
}

function openPostgres(url: string, max: number): Db {
  // Loaded on demand: pg is ~16 MB an SQLite installation never needs, and a smaller process forks
  // its steps faster (fork copies the parent's page tables).
  const pg = createRequire(import.meta.url)('pg') as typeof import('pg');
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
  });
  // A dropped connection must not crash the process; the next query reports the error instead.
  // pool 'error' covers idle clients only: a client checked out (a transaction between two
  // queries) emits 'error' on itself, and without a listener that kills the process. Its queries
  // fail on their own and the pool discards it on release.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    kysely,
    dialect: 'postgres',
    sqlite: null,
    ping: async () => {
      await sql`select 1`.execute(kysely);
    },
    close: () => kysely.destroy(),
  };
}

/**
 * BEGIN, COMMIT and ROLLBACK go straight to better-sqlite3. Kysely's driver sends each as a query
 * (a compiled query built, the statement looked up, a result with two BigInts, a promise); it
 * calls them only while the transaction holds SQLite's one connection (the driver's mutex), and
 * better-sqlite3 runs them synchronously either way, so this is the same work without the
 * wrapping. Every audited change runs in a transaction (issue 16: the audit's cost).
 */
class SqliteDialectDirectTransactions extends SqliteDialect {
  constructor(
    config: SqliteDialectConfig,
    private readonly transactions: TransactionStatements,
  ) {
    super(config);
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    const { begin, commit, rollback } = this.transactions;
    driver.beginTransaction = async () => begin();
    driver.commitTransaction = async () => commit();
    driver.rollbackTransaction = async () => rollback();
    return driver;
  }
}

type TransactionStatements = Pick<SqliteHandle, 'begin' | 'commit' | 'rollback'>;

function transactionStatements(database: SQLite.Database): TransactionStatements {
  // IMMEDIATE: the transaction takes SQLite's write lock when it begins, not at its first write.
  // Another connection to the file (the notification thread's) may commit between a deferred
  // transaction's first read and its first write; SQLite then refuses the write with
  // SQLITE_BUSY_SNAPSHOT at once, without waiting out busy_timeout. Taking the lock first makes
  // the other connection wait instead (its writes are single short statements).
  const begin = database.prepare('BEGIN IMMEDIATE');
  const commit = database.prepare('COMMIT');
  const rollback = database.prepare('ROLLBACK');
  return { begin: () => void begin.run(), commit: () => void commit.run(), rollback: () => void rollback.run() };
}

const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely's SQLite driver prepares every query again; preparing was ~16 % of the CPU of a list
 * request. Statements are reusable (SQLite re-prepares them itself after a schema change), so one
 * per SQL text is kept, oldest evicted first.
 */
function withStatementCache(database: SQLite.Database) {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare(text: string) {
      let statement = statements.get(text);
      if (statement === undefined) {
        statement = database.prepare(text);
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
        statements.set(text, statement);
      }
      return statement;
    },
  };
}
