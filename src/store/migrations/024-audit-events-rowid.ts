import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * SQLite: `audit_events.id` becomes a plain `integer primary key` (the rowid) instead of
 * `autoincrement`. AUTOINCREMENT only differs in never reusing the id of a deleted newest row,
 * and pays for it with a write of `sqlite_sequence` in every audited change's transaction: one
 * more page in each commit of the hottest write path (issue 16 caps what the event may add to a
 * pipeline update at 10 %). Retention never removes the newest event
 * (AuditEventsRepository.pruneOlderThan), so a new id is always above every earlier one anyway.
 *
 * SQLite cannot change a column's definition in place: the table is copied (ids kept) into a new
 * one and its two indexes made again, in this migration's transaction. PostgreSQL's `bigserial`
 * has no such cost and is left as it is.
 */
export function auditEventsRowid(dialect: Dialect) {
  return {
    async up(db: Kysely<unknown>) {
      if (dialect !== 'sqlite') return;
      await db.schema
        .createTable('audit_events_next')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor_id', 'integer')
        .addColumn('actor_username', 'text')
        .addColumn('source_ip', 'text')
        .addColumn('user_agent', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target_type', 'text', (c) => c.notNull())
        .addColumn('target_id', 'text')
        .addColumn('target_name', 'text')
        .addColumn('project_id', 'integer')
        .addColumn('diff', 'text')
        .execute();
      const columns = sql.raw('id, at, actor_id, actor_username, source_ip, user_agent, action, target_type, target_id, target_name, project_id, diff');
      await sql`insert into audit_events_next (${columns}) select ${columns} from audit_events order by id`.execute(db);
      await db.schema.dropTable('audit_events').execute();
      await db.schema.alterTable('audit_events_next').renameTo('audit_events').execute();
      await sql`delete from sqlite_sequence where name = 'audit_events'`.execute(db);
      await db.schema.createIndex('audit_events_target').on('audit_events').columns(['target_type', 'target_id']).execute();
      await db.schema.createIndex('audit_events_project').on('audit_events').column('project_id').execute();
    },
  };
}
