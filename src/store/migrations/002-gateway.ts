import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * The gateway's tables: Jenkins builds triggered through the integration API, and the in-flight
 * marker of webhook deliveries (`completed_at` stays null while a delivery's runs are being
 * created, so a concurrent duplicate waits for the first one's runs instead of answering early).
 */
export function gateway(dialect: Dialect) {
  const id = dialect === 'postgres' ? sql`serial primary key` : sql`integer primary key autoincrement`;
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('webhook_deliveries').addColumn('completed_at', 'text').execute();
      // Deliveries that existed before this migration were all complete.
      await sql`update webhook_deliveries set completed_at = received_at`.execute(db);
      await db.schema.createIndex('webhook_deliveries_verdict').on('webhook_deliveries').columns(['verdict', 'id']).execute();

      await db.schema
        .createTable('jenkins_builds')
        .addColumn('id', sql`${id}` as never)
        .addColumn('job_name', 'text', (c) => c.notNull())
        .addColumn('parameters', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('queue_id', 'integer')
        .addColumn('build_number', 'integer')
        .addColumn('build_url', 'text')
        .addColumn('result', 'text')
        .addColumn('console', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('console_truncated', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('error', 'text')
        .addColumn('triggered_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .execute();
    },
  };
}
