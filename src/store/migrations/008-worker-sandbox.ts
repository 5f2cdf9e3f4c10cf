import type { Kysely } from 'kysely';

/** Each worker says whether its steps are isolated, so system status can warn when one's are not. */
export function workerSandbox() {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('workers')
        .addColumn('sandbox', 'text', (c) => c.notNull().defaultTo(''))
        .execute();
    },
  };
}
