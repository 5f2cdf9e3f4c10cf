import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Ansible, first class (issue 12): stored inventories with every saved version, the last
 * connectivity check of each host, and the structured results of Ansible steps.
 *
 * `inventories`: one per (project, lower-cased name). `content` is the text as written (INI or
 * YAML); `hosts` is what `ansible-inventory --list` made of it when it was saved (JSON: hosts,
 * their groups and variables), so reading hosts never runs Ansible. The credentials are names of
 * the project's credentials (as steps name them), `vault_credentials` a JSON list of names.
 *
 * `inventory_versions`: every save, numbered from 1 per inventory (restore writes a new one).
 * `inventory_host_checks`: the last check of each host: status, SSH reason, facts (JSON).
 * `ansible_events`: per step, in order, what the callback plugin reported (plays, tasks, per-host
 * results, the recap); `host` and `status` are columns so failed hosts are found without parsing.
 */
export function inventories(dialect: Dialect) {
  const id = dialect === 'postgres' ? sql`serial primary key` : sql`integer primary key autoincrement`;
  const bigId = dialect === 'postgres' ? sql`bigserial primary key` : sql`integer primary key autoincrement`;
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('inventories')
        .addColumn('id', sql`${id}` as never)
        .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('content', 'text', (c) => c.notNull())
        .addColumn('ssh_credential', 'text')
        .addColumn('become_credential', 'text')
        .addColumn('vault_credentials', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('hosts', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('created_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('updated_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('inventories_project_name', ['project_id', 'name_key'])
        .execute();

      await db.schema
        .createTable('inventory_versions')
        .addColumn('id', sql`${id}` as never)
        .addColumn('inventory_id', 'integer', (c) => c.notNull().references('inventories.id').onDelete('cascade'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('content', 'text', (c) => c.notNull())
        .addColumn('ssh_credential', 'text')
        .addColumn('become_credential', 'text')
        .addColumn('vault_credentials', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('created_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('inventory_versions_number', ['inventory_id', 'version'])
        .execute();

      await db.schema
        .createTable('inventory_host_checks')
        .addColumn('inventory_id', 'integer', (c) => c.notNull().references('inventories.id').onDelete('cascade'))
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('facts', 'text')
        .addColumn('checked_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('inventory_host_checks_pk', ['inventory_id', 'host'])
        .execute();

      await db.schema
        .createTable('ansible_events')
        .addColumn('id', sql`${bigId}` as never)
        .addColumn('run_id', 'integer', (c) => c.notNull().references('pipeline_runs.id').onDelete('cascade'))
        .addColumn('step_id', 'integer', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('host', 'text')
        .addColumn('status', 'text')
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('ansible_events_step').on('ansible_events').columns(['run_id', 'step_id', 'seq']).execute();
    },
  };
}
