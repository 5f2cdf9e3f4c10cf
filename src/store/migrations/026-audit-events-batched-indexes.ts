import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * SQLite: the audit log's two indexes (target, project) are kept up in batches instead of by every
 * event's INSERT. Each index entry an event wrote was one more B-tree page in the audited change's
 * commit, a WAL frame of 4 KiB written by two `pwrite`s: the two indexes were most of what the
 * event added to a pipeline update (issue 16, docs/benchmarks.md: over the network, each side in
 * its own process pinned to a core, +18-20 % with them, +9 % with them dropped).
 *
 * A row carries `indexed`: 1 for every row the indexes cover, which are now partial
 * (`WHERE indexed = 1`). New events are written with 0, so their INSERT touches the table alone;
 * AuditEventsRepository sets the newest rows to 1 in one statement every so many events and
 * before every read that filters by target or project, so a batch of events dirties each index
 * page once. Rows already stored are indexed (the column's default), so the migration rewrites
 * nothing: the column is added, the indexes made again as partial ones.
 *
 * PostgreSQL gets the column (one schema for both; its default 1 on every row) and keeps its full
 * indexes: concurrent writers there commit ids out of order, and its index upkeep is not in the
 * commit's own WAL writes the same way.
 */
export function auditEventsBatchedIndexes(dialect: Dialect) {
  return {
    async up(db: Kysely<unknown>) {
      await sql`alter table audit_events add column indexed integer not null default 1`.execute(db);
      if (dialect !== 'sqlite') return;
      await db.schema.dropIndex('audit_events_target').execute();
      await db.schema.dropIndex('audit_events_project').execute();
      await sql`create index audit_events_target on audit_events (target_type, target_id) where indexed = 1`.execute(db);
      await sql`create index audit_events_project on audit_events (project_id) where indexed = 1`.execute(db);
    },
  };
}
