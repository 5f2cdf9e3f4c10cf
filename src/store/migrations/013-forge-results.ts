import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Results on the forge and pull-request behaviour (issue 11c).
 *
 * `pipelines`: `auto_cancel` (0/1: a newer push to the branch, or commit on the pull request,
 * cancels this pipeline's older unfinished runs for it), `badge_public` (0/1: the status badge is
 * served without login) and `forge_credential` (the name of a token credential of the pipeline's
 * project used for commit statuses instead of ANSFLOW_GITHUB_TOKEN / ANSFLOW_GITLAB_TOKEN).
 *
 * `pipeline_runs.cancel_reason`: why a cancel was asked ("superseded by run #12"), written with
 * `cancel_requested_at` and shown as the cancelled run's reason.
 *
 * `commit_statuses` is the outbox of commit statuses: one row per run and rank (0 queued,
 * 1 running, 2 final), written when the run reaches that state and worked by a background loop
 * that claims a row (`claimed_by`, `claim_expires_at`) before sending it, so with several API
 * processes one sends each. `outcome`: pending (to send, or being sent), delivered, superseded
 * (a later state of the run came first; never sent, so states never arrive out of order), failed
 * (the forge refused it, or it could not be sent; `last_error` says why).
 */
export function forgeResults(dialect: Dialect) {
  const id = dialect === 'postgres' ? sql`serial primary key` : sql`integer primary key autoincrement`;
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .alterTable('pipelines')
        .addColumn('auto_cancel', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('pipelines')
        .addColumn('badge_public', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('pipelines').addColumn('forge_credential', 'text').execute();
      await db.schema.alterTable('pipeline_runs').addColumn('cancel_reason', 'text').execute();

      await db.schema
        .createTable('commit_statuses')
        .addColumn('id', sql`${id}` as never)
        .addColumn('run_id', 'integer', (c) => c.notNull().references('pipeline_runs.id').onDelete('cascade'))
        .addColumn('rank', 'integer', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('api_url', 'text', (c) => c.notNull())
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('sha', 'text', (c) => c.notNull())
        .addColumn('context', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('target_url', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'text', (c) => c.notNull())
        .addColumn('claimed_by', 'text')
        .addColumn('claim_expires_at', 'text')
        .addColumn('last_error', 'text')
        .addColumn('last_status_code', 'integer')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('delivered_at', 'text')
        .addUniqueConstraint('commit_statuses_run_rank', ['run_id', 'rank'])
        .execute();
      await db.schema.createIndex('commit_statuses_due').on('commit_statuses').columns(['outcome', 'next_attempt_at']).execute();
      // The outbox's sweep for lost events reads the recent webhook runs every 30 s.
      await db.schema.createIndex('pipeline_runs_trigger_created').on('pipeline_runs').columns(['trigger_type', 'created_at']).execute();
    },
  };
}
