import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Personal access tokens and the audit log.
 *
 * `personal_tokens.token_hash` is the SHA-256 of the whole token (hex): a token has 190 random
 * bits, so a plain hash is as strong as a slow one, and lookup by hash needs no comparison of
 * secrets. `audit_events` is append-only (no route updates or deletes it); `target_id` is text so
 * targets of every kind fit, and `project_id` has no foreign key so an event outlives its project.
 * Events are inserted in id order, which is also time order.
 */
export function tokensAudit(dialect: Dialect) {
  const id = dialect === 'postgres' ? sql`serial primary key` : sql`integer primary key autoincrement`;
  const bigId = dialect === 'postgres' ? sql`bigserial primary key` : sql`integer primary key autoincrement`;
  // (audit_events.id is a plain rowid on SQLite since 024-audit-events-rowid.)
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('personal_tokens')
        .addColumn('id', sql`${id}` as never)
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema.createIndex('personal_tokens_user').on('personal_tokens').column('user_id').execute();

      await db.schema
        .createTable('audit_events')
        .addColumn('id', sql`${bigId}` as never)
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
      // Two indexes only: each one is written by every audited change (bench/audit.ts). Pages are
      // read newest first by id, so time and actor filters walk back from the newest event.
      await db.schema.createIndex('audit_events_target').on('audit_events').columns(['target_type', 'target_id']).execute();
      await db.schema.createIndex('audit_events_project').on('audit_events').column('project_id').execute();
    },
  };
}
