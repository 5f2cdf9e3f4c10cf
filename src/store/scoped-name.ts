import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * Pipeline and credential names are unique per project, case-insensitively (two teams may both have
 * a pipeline called "deploy"). The unique column `name_key` holds "<project id>:<lower-cased name>":
 * SQLite cannot drop the column-level unique index of migration 001 without rebuilding the table
 * (and a rebuild would fire the foreign keys that point at it), so the key carries the scope
 * instead of a composite index. Uniqueness across projects would also answer 409 to a name the
 * caller may not read, which tells them it exists in a project they cannot see.
 */
export function scopedNameKey(projectId: number, name: string): string {
  return `${projectId}:${name.toLowerCase()}`;
}

/** Where a pipeline or credential goes when its project is not given (the upgrade's `default`). */
export async function defaultProjectId(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('projects').select('id').where('name_key', '=', 'default').executeTakeFirst();
  if (!row) throw new Error('The default project does not exist');
  return row.id;
}
