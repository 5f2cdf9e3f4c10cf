import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * The credentials store. `secret` is the kind's secret object as JSON, sealed as a whole
 * (SecretBox); `name_key` is the lower-cased name, unique, as for pipelines and users.
 * `fingerprint` is the OpenSSH SHA256 fingerprint of an ssh key's public half (null otherwise).
 */
export function credentials(dialect: Dialect) {
  const id = dialect === 'postgres' ? sql`serial primary key` : sql`integer primary key autoincrement`;
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('credentials')
        .addColumn('id', sql`${id}` as never)
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull().unique())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text')
        .addColumn('created_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('updated_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
  };
}
