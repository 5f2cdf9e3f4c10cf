import { sql, type Kysely } from 'kysely';

/**
 * Indexes for deleting runs and for a member's status-filtered run list (issue 15).
 *
 * Deleting a run makes the database find the rows that point at it and at its step rows (which
 * go with it): `on delete set null` columns are cleared, `on delete cascade` rows removed. Every
 * such column had an index except six, so each deleted run read the whole of those tables:
 * `pipeline_runs.retry_of` (the whole run table per deleted run) and `step_runs.reused_from` (the
 * whole step table per deleted step), which made the retention sweeper's batches cost more the
 * longer the history (1.5 ms a run at 10,000 runs against 0.2 ms at 3,000, in CPU);
 * `run_artifacts.step_run_id`, `schedule_fires.run_id`, `fork_approvals.run_id` and
 * `notification_deliveries.run_id` grow by a row per artifact, fire, approval or notification. Partial indexes (`is not null`): most rows have
 * none, and `column = ?` implies it, so both SQLite and PostgreSQL use them for the lookup.
 *
 * `pipeline_runs (status, project_id, id)`: a member's list filtered by status counts up to
 * COUNT_CAP matching rows, and the membership test needs each row's project. With (status, id)
 * alone every counted row was a read of the run's table row (a thousand random pages with a
 * large history against a couple of hundred rows with a small one); with this index the count is
 * read from the index alone. The page itself still walks (status, id) newest first.
 */
export function deleteAndMemberIndexes() {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.createIndex('pipeline_runs_retry_of').on('pipeline_runs').column('retry_of').where(sql.ref('retry_of'), 'is not', null).execute();
      await db.schema.createIndex('step_runs_reused_from').on('step_runs').column('reused_from').where(sql.ref('reused_from'), 'is not', null).execute();
      await db.schema.createIndex('run_artifacts_step_run').on('run_artifacts').column('step_run_id').where(sql.ref('step_run_id'), 'is not', null).execute();
      await db.schema.createIndex('schedule_fires_run').on('schedule_fires').column('run_id').where(sql.ref('run_id'), 'is not', null).execute();
      await db.schema.createIndex('fork_approvals_run').on('fork_approvals').column('run_id').where(sql.ref('run_id'), 'is not', null).execute();
      await db.schema
        .createIndex('notification_deliveries_run')
        .on('notification_deliveries')
        .column('run_id')
        .where(sql.ref('run_id'), 'is not', null)
        .execute();
      await db.schema.createIndex('pipeline_runs_status_project').on('pipeline_runs').columns(['status', 'project_id', 'id']).execute();
    },
  };
}
