import type { Kysely } from 'kysely';

/**
 * Pipelines as code (issue 11b). `pipelines.config_path`: the pipeline file in the repository
 * (`.ansflow.yml`); null keeps the steps stored in AnsFlow. `pipeline_runs.config_errors`: the
 * problems of an invalid pipeline file (JSON: `[{file, path, line, column, message}]`), null when
 * the run's steps were read without problems or are stored ones. Same types on both databases.
 */
export function pipelineFile() {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('pipelines').addColumn('config_path', 'text').execute();
      await db.schema.alterTable('pipeline_runs').addColumn('config_errors', 'text').execute();
    },
  };
}
