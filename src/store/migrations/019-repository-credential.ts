import type { Kysely } from 'kysely';

/**
 * The credential a pipeline's repository is read with (issue 11): `pipelines.repository_credential`,
 * the name of a credential (ssh_key, username_password or token) of the pipeline's project, or
 * null to read the repository without one. A run snapshots the name; the worker opens it to fetch
 * the repository's mirror for the pipeline file, and the file's checkouts of that repository use it.
 */
export function repositoryCredential() {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('pipelines').addColumn('repository_credential', 'text').execute();
    },
  };
}
