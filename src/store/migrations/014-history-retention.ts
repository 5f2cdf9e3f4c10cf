import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * History at any size, and retention (issue 15).
 *
 * Indexes: every run list is "newest first, maybe filtered", so each filter gets an index that
 * ends in `id` and the list walks it backwards and stops after the page, whatever the size of the
 * history: per pipeline (pipeline_id, [status | branch | trigger_type,] id), across pipelines
 * ([status | branch | trigger_type,] id); deliveries (provider, id) beside (verdict, id).
 *
 * Counters kept by triggers, in the transaction of the row change itself, whichever code path
 * (or bulk insert) writes it: `pipelines.runs_count`, `projects.runs_count`,
 * `projects.pipelines_count` and the `history_counters` row `webhook_deliveries`. Unfiltered list
 * counts read them instead of counting rows. Filtered lists count at most a cap (run lists answer
 * `count_capped`), see store/capped-count.ts.
 *
 * Retention: a pipeline's `retention_keep_runs` / `retention_keep_days` (null: the global default
 * from the configuration), a run's `pinned_at` / `pinned_by` (a pinned run is always kept), and
 * `retention_sweeper`: one row, claimed by one process at a time (`claimed_by` with a lease), that
 * also records what the last sweep did for the System page.
 */
export function historyRetention(dialect: Dialect) {
  return {
    async up(db: Kysely<any>) {
      const index = (name: string, table: string, columns: string[]) => db.schema.createIndex(name).on(table).columns(columns).execute();
      await index('pipeline_runs_pipeline_id', 'pipeline_runs', ['pipeline_id', 'id']);
      await index('pipeline_runs_pipeline_status', 'pipeline_runs', ['pipeline_id', 'status', 'id']);
      await index('pipeline_runs_pipeline_branch', 'pipeline_runs', ['pipeline_id', 'branch', 'id']);
      await index('pipeline_runs_pipeline_trigger', 'pipeline_runs', ['pipeline_id', 'trigger_type', 'id']);
      await db.schema.dropIndex('pipeline_runs_status').execute();
      await index('pipeline_runs_status_id', 'pipeline_runs', ['status', 'id']);
      await index('pipeline_runs_branch_id', 'pipeline_runs', ['branch', 'id']);
      await index('pipeline_runs_trigger_id', 'pipeline_runs', ['trigger_type', 'id']);
      await index('webhook_deliveries_provider', 'webhook_deliveries', ['provider', 'id']);

      await db.schema
        .alterTable('pipelines')
        .addColumn('runs_count', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('pipelines').addColumn('retention_keep_runs', 'integer').execute();
      await db.schema.alterTable('pipelines').addColumn('retention_keep_days', 'integer').execute();
      await db.schema
        .alterTable('projects')
        .addColumn('runs_count', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('projects')
        .addColumn('pipelines_count', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('pipeline_runs').addColumn('pinned_at', 'text').execute();
      await db.schema
        .alterTable('pipeline_runs')
        .addColumn('pinned_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
        .execute();
      await db.schema
        .createTable('history_counters')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('retention_sweeper')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('claimed_by', 'text')
        .addColumn('lease_expires_at', 'text')
        .addColumn('last_started_at', 'text')
        .addColumn('last_finished_at', 'text')
        .addColumn('last_deleted_runs', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_freed_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .addColumn('total_deleted_runs', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.insertInto('retention_sweeper').values({ id: 1 }).execute();

      // Counters start from the rows there are; the triggers keep them from here on.
      await sql`update pipelines set runs_count = (select count(*) from pipeline_runs r where r.pipeline_id = pipelines.id)`.execute(db);
      await sql`update projects set runs_count = (select count(*) from pipeline_runs r where r.project_id = projects.id),
        pipelines_count = (select count(*) from pipelines p where p.project_id = projects.id)`.execute(db);
      await sql`insert into history_counters (name, value) select 'webhook_deliveries', count(*) from webhook_deliveries`.execute(db);

      for (const statement of dialect === 'postgres' ? postgresTriggers : sqliteTriggers) await sql.raw(statement).execute(db);
    },
  };
}

const sqliteTriggers = [
  `create trigger pipeline_runs_counted after insert on pipeline_runs begin
     update pipelines set runs_count = runs_count + 1 where id = new.pipeline_id;
     update projects set runs_count = runs_count + 1 where id = new.project_id;
   end`,
  `create trigger pipeline_runs_uncounted after delete on pipeline_runs begin
     update pipelines set runs_count = runs_count - 1 where id = old.pipeline_id;
     update projects set runs_count = runs_count - 1 where id = old.project_id;
   end`,
  `create trigger pipelines_counted after insert on pipelines begin
     update projects set pipelines_count = pipelines_count + 1 where id = new.project_id;
   end`,
  `create trigger pipelines_uncounted after delete on pipelines begin
     update projects set pipelines_count = pipelines_count - 1 where id = old.project_id;
   end`,
  `create trigger pipelines_moved after update of project_id on pipelines when new.project_id <> old.project_id begin
     update projects set pipelines_count = pipelines_count - 1 where id = old.project_id;
     update projects set pipelines_count = pipelines_count + 1 where id = new.project_id;
   end`,
  `create trigger webhook_deliveries_counted after insert on webhook_deliveries begin
     update history_counters set value = value + 1 where name = 'webhook_deliveries';
   end`,
  `create trigger webhook_deliveries_uncounted after delete on webhook_deliveries begin
     update history_counters set value = value - 1 where name = 'webhook_deliveries';
   end`,
];

const postgresTriggers = [
  `create function ansflow_count_runs() returns trigger language plpgsql as $$
   begin
     if tg_op = 'INSERT' then
       update pipelines set runs_count = runs_count + 1 where id = new.pipeline_id;
       update projects set runs_count = runs_count + 1 where id = new.project_id;
       return new;
     end if;
     update pipelines set runs_count = runs_count - 1 where id = old.pipeline_id;
     update projects set runs_count = runs_count - 1 where id = old.project_id;
     return old;
   end $$`,
  `create trigger pipeline_runs_counted after insert or delete on pipeline_runs for each row execute function ansflow_count_runs()`,
  `create function ansflow_count_pipelines() returns trigger language plpgsql as $$
   begin
     if tg_op in ('DELETE', 'UPDATE') then
       update projects set pipelines_count = pipelines_count - 1 where id = old.project_id;
     end if;
     if tg_op in ('INSERT', 'UPDATE') then
       update projects set pipelines_count = pipelines_count + 1 where id = new.project_id;
       return new;
     end if;
     return old;
   end $$`,
  `create trigger pipelines_counted after insert or delete on pipelines for each row execute function ansflow_count_pipelines()`,
  `create trigger pipelines_moved after update of project_id on pipelines for each row
     when (new.project_id is distinct from old.project_id) execute function ansflow_count_pipelines()`,
  `create function ansflow_count_deliveries() returns trigger language plpgsql as $$
   begin
     update history_counters set value = value + (case when tg_op = 'INSERT' then 1 else -1 end) where name = 'webhook_deliveries';
     return null;
   end $$`,
  `create trigger webhook_deliveries_counted after insert or delete on webhook_deliveries for each row execute function ansflow_count_deliveries()`,
];
