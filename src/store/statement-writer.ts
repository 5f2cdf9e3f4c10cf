/**
 * Writes of one compiled statement, alone or followed by what must commit with it. The audited
 * change that is a single statement (a pipeline's update) goes through here: the statement, and
 * its audit event only when the statement changed a row, in one transaction (issue 16).
 *
 * On SQLite, while no transaction holds the connection, both run synchronously on better-sqlite3
 * between BEGIN IMMEDIATE and COMMIT. Nothing can interleave (there is no await between them),
 * so the connection need not be held through Kysely's mutex, and the transaction costs no
 * Transaction object, provider or promise per statement: in the request, Kysely's transaction
 * machinery cost as much as the event's own write. A statement run alone outside a transaction
 * is SQLite's autocommit either way. When some transaction has the connection (another request
 * between its statements), the write waits for it through Kysely like any query.
 *
 * On PostgreSQL the statements go through Kysely (a transaction for two).
 */
import type { CompiledQuery, Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { SqliteHandle } from './db.js';

export interface StatementWriter {
  /** Runs `statement`; answers how many rows it changed. */
  run(statement: CompiledQuery): Promise<number>;
  /**
   * Runs `statement` and, if it changed a row, `then()`'s statement (none when it answers null), in
   * one transaction; answers how many rows `statement` changed. An error in either (a unique
   * violation) writes neither.
   */
  runThen(statement: CompiledQuery, then: () => CompiledQuery | null): Promise<number>;
}

export function statementWriter(kysely: Kysely<Database>, sqlite: SqliteHandle | null): StatementWriter {
  const viaKysely: StatementWriter = {
    run: async (statement) => Number((await kysely.executeQuery(statement)).numAffectedRows ?? 0),
    runThen: (statement, then) => {
      const both = async (db: Kysely<Database>) => {
        const changed = Number((await db.executeQuery(statement)).numAffectedRows ?? 0);
        const next = changed > 0 ? then() : null;
        if (next) await db.executeQuery(next);
        return changed;
      };
      // Inside a transaction already (a repository bound to one): its statements, in it.
      return kysely.isTransaction ? both(kysely) : kysely.transaction().execute(both);
    },
  };
  if (!sqlite || kysely.isTransaction) return viaKysely;
  const { database, prepare, begin, commit, rollback } = sqlite;
  const runNow = (statement: CompiledQuery): number => prepare(statement.sql).run(statement.parameters as unknown[]).changes;
  const bothNow = (statement: CompiledQuery, then: () => CompiledQuery | null): number => {
    begin();
    try {
      const changed = runNow(statement);
      const next = changed > 0 ? then() : null;
      if (next) runNow(next);
      commit();
      return changed;
    } catch (error) {
      if (database.inTransaction) rollback();
      throw error;
    }
  };
  // async: the body runs at once, to its end (there is no await in it), and a throw becomes a rejection.
  return {
    run: async (statement) => (database.inTransaction ? viaKysely.run(statement) : runNow(statement)),
    runThen: async (statement, then) => (database.inTransaction ? viaKysely.runThen(statement, then) : bothNow(statement, then)),
  };
}
