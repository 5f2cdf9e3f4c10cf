import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Connectivity checks of stored inventories (issue 12): `POST /api/inventories/{id}/check/` runs
 * Ansible's ping and a narrow fact gathering against the inventory's hosts. Each check is a row
 * here, so a large one (answered 202) can be followed from any API process by its id, like a run:
 * `status` running / finished / error, the `host_limit` it was asked with, how many hosts it
 * selected, and `results` (JSON, one entry per host as Ansible reported it, written as they come).
 *
 * The last result of each host (status, SSH reason, the facts that matter) goes on the host's
 * record, `inventory_host_checks` (migration 017), which the hosts view reads.
 */
export function inventoryChecks(dialect: Dialect) {
  const id = dialect === 'postgres' ? sql`serial primary key` : sql`integer primary key autoincrement`;
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('inventory_checks')
        .addColumn('id', sql`${id}` as never)
        .addColumn('inventory_id', 'integer', (c) => c.notNull().references('inventories.id').onDelete('cascade'))
        .addColumn('inventory_version', 'integer', (c) => c.notNull())
        .addColumn('host_limit', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('host_count', 'integer', (c) => c.notNull())
        .addColumn('results', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('error', 'text')
        .addColumn('requested_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .execute();
      await db.schema.createIndex('inventory_checks_inventory').on('inventory_checks').columns(['inventory_id', 'id']).execute();
    },
  };
}
