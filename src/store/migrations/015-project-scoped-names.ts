import { sql, type Kysely } from 'kysely';

/**
 * Pipeline and credential names become unique per project instead of across the installation
 * (issue 16): `name_key` is rewritten to "<project id>:<lower-cased name>" (see store/scoped-name.ts).
 * The existing key is already the lower-cased name, so it is prefixed as it is.
 */
export function projectScopedNames() {
  return {
    async up(db: Kysely<any>) {
      for (const table of ['pipelines', 'credentials']) {
        await sql`update ${sql.table(table)} set name_key = cast(project_id as text) || ':' || name_key`.execute(db);
      }
    },
  };
}
