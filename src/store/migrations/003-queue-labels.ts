import type { Kysely } from 'kysely';

/**
 * Labels on queue jobs: the labels a worker must have to take a run (the union of its steps'
 * `runs_on`), sorted and comma-separated; '' means any worker. Same text on both databases.
 */
export function queueLabels() {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('run_queue')
        .addColumn('labels', 'text', (c) => c.notNull().defaultTo(''))
        .execute();
    },
  };
}
