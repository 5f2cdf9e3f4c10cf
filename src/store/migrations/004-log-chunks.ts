import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Log chunks in the database, for deployments whose workers and API processes do not share a
 * disk: each row is one flushed batch of one stream (a step's log, or stream 0: the whole-run log).
 */
export function logChunks(dialect: Dialect) {
  const bytes = dialect === 'postgres' ? sql`bytea` : sql`blob`;
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('log_chunks')
        .addColumn('run_id', 'integer', (c) => c.notNull().references('pipeline_runs.id').onDelete('cascade'))
        .addColumn('stream', 'integer', (c) => c.notNull())
        .addColumn('offset', 'bigint', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('data', bytes as never, (c) => c.notNull())
        .addPrimaryKeyConstraint('log_chunks_pk', ['run_id', 'stream', 'offset'])
        .execute();
    },
  };
}
