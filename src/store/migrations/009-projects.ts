import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Projects and their members. Pipelines, credentials, runs and webhook deliveries get the project
 * they belong to, so every read can be limited to the projects a user is a member of.
 *
 * The upgrade keeps everyone's access: a `default` project takes every existing pipeline,
 * credential and run (and every delivery), and every existing user becomes its member with the
 * project role of their global role (admin -> owner, developer -> developer, viewer -> viewer);
 * admins also keep the global admin role, which reads and does everything.
 *
 * `pipeline_runs.project_id` is copied from the pipeline when the run is written, so a run keeps
 * its project after its pipeline is deleted. `webhook_deliveries.project_ids` is ",1,3," (the
 * projects of the runs it started; "," when it started none: admins only).
 *
 * The new columns default to the `default` project (which cannot be deleted or renamed), so a
 * row written without a project lands there. SQLite cannot add a REFERENCES column with a non-null
 * default while foreign keys are on, so there they are plain integers; PostgreSQL gets foreign keys.
 */
export function projects(dialect: Dialect) {
  const id = dialect === 'postgres' ? sql`serial primary key` : sql`integer primary key autoincrement`;
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('projects')
        .addColumn('id', sql`${id}` as never)
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('created_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('project_members')
        .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('project_members_pk', ['project_id', 'user_id'])
        .execute();
      await db.schema.createIndex('project_members_user').on('project_members').columns(['user_id', 'project_id']).execute();

      const now = new Date().toISOString();
      const created = await db
        .insertInto('projects')
        .values({
          name: 'default',
          name_key: 'default',
          description: 'Everything that existed before projects.',
          created_by: null,
          created_at: now,
          updated_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const defaultId = Number(created.id);

      await sql`insert into project_members (project_id, user_id, role, created_at)
        select ${defaultId}, id, case role when 'admin' then 'owner' when 'developer' then 'developer' else 'viewer' end, ${now} from users`.execute(db);

      for (const table of ['pipelines', 'credentials', 'pipeline_runs']) {
        if (dialect === 'postgres') {
          await db.schema
            .alterTable(table)
            .addColumn('project_id', 'integer', (c) => c.notNull().defaultTo(defaultId))
            .execute();
          await db.schema.alterTable(table).addForeignKeyConstraint(`${table}_project_fk`, ['project_id'], 'projects', ['id']).execute();
        } else {
          await db.schema
            .alterTable(table)
            .addColumn('project_id', 'integer', (c) => c.notNull().defaultTo(defaultId))
            .execute();
        }
        await db.schema.createIndex(`${table}_project`).on(table).columns(['project_id', 'id']).execute();
      }
      await db.schema
        .alterTable('webhook_deliveries')
        .addColumn('project_ids', 'text', (c) => c.notNull().defaultTo(','))
        .execute();
      await db
        .updateTable('webhook_deliveries')
        .set({ project_ids: `,${defaultId},` })
        .execute();
    },
  };
}
