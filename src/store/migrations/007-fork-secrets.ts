import type { Kysely } from 'kysely';

/**
 * Secrets and pull requests from forks. `pipelines.secrets_for_forks` (0/1, default 0): whether a
 * pull request from a fork gets the pipeline's secret variables and credentials.
 * `pipeline_runs.secrets_withheld`: why a run got neither (null when it got them), shown with the
 * run. Same types on both databases.
 */
export function forkSecrets() {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('pipelines')
        .addColumn('secrets_for_forks', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('pipeline_runs').addColumn('secrets_withheld', 'text').execute();
    },
  };
}
