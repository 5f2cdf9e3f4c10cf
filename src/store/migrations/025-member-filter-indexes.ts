import type { Kysely } from 'kysely';

/**
 * A member's run list filtered by branch or by trigger, as 023 did for status: the count (capped
 * at COUNT_CAP) tests each matching run's project against the member's, and `(branch, id)` or
 * `(trigger_type, id)` do not hold `project_id`, so each counted run was a read of its table row:
 * up to a thousand scattered pages with a large history against a few with a small one. With
 * `(branch, project_id, id)` and `(trigger_type, project_id, id)` the count reads the index alone.
 * The page still walks `(branch, id)` / `(trigger_type, id)` newest first. A run's branch and
 * trigger never change, so these cost one index entry each when a run is created, nothing after.
 */
export function memberFilterIndexes() {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.createIndex('pipeline_runs_branch_project').on('pipeline_runs').columns(['branch', 'project_id', 'id']).execute();
      await db.schema.createIndex('pipeline_runs_trigger_project').on('pipeline_runs').columns(['trigger_type', 'project_id', 'id']).execute();
    },
  };
}
