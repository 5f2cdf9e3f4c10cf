import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Continuous delivery (issue 13): environments with approval gates, schedules, launch inputs,
 * notification channels.
 *
 * `environments` (per project, unique name): the approval rule (`required_approvals`, approvers
 * by `approver_users` / `approver_roles` as JSON arrays, `prevent_self_approval` 0/1), `branches`
 * (JSON globs allowed to deploy; empty: any), `wait_timer_seconds`, `approval_timeout_seconds`
 * (null: none) with `timeout_outcome` (`reject` | `approve`), `concurrency` (null: none, `queue`,
 * `latest`).
 *
 * `pipeline_runs`: `environment_id` / `environment_name` (the environment its steps deploy to,
 * kept by name when the environment is deleted), `waiting_since` (when its gate opened: the
 * timeout counts from there), `approved_at` (the gate let it through), `release_at` (an approved
 * run leaves `waiting` for `queued` at this time: the wait timer). `run_approvals`: one decision
 * per person and run (unique), with the commit it was given for.
 *
 * `pipelines.inputs`: the launch inputs a pipeline declares (JSON, domain/launch-inputs.ts).
 *
 * `schedules` (per pipeline): cron in an IANA zone, branch, variables (JSON, never secret),
 * `enabled`, `catch_up`; `next_fire_at` is the next fire time (the scheduler's index) and
 * `checked_until` the instant up to which fire times were handled. `schedule_fires` has one row per
 * fire time of a schedule, unique: inserting it is the claim, so with several processes a fire
 * time starts one run (`started`) or is recorded `missed` (nothing was running) or `failed`.
 *
 * `notification_channels` (per project, unique name): `kind` (webhook, slack, email), `config`
 * (JSON: url, recipients, SMTP host…), `secret` (sealed, write-only), `events` and `pipeline_ids`
 * (JSON; null: every pipeline), `enabled`. `notification_deliveries` is the outbox: one row per
 * (channel, event occurrence), claimed with a lease, retried with backoff; `attempt_log` (JSON)
 * keeps each attempt's answer.
 */
export function delivery(dialect: Dialect) {
  const id = dialect === 'postgres' ? sql`serial primary key` : sql`integer primary key autoincrement`;
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('environments')
        .addColumn('id', sql`${id}` as never)
        .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('required_approvals', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('approver_users', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('approver_roles', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('prevent_self_approval', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('branches', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('wait_timer_seconds', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('approval_timeout_seconds', 'integer')
        .addColumn('timeout_outcome', 'text', (c) => c.notNull().defaultTo('reject'))
        .addColumn('concurrency', 'text')
        .addColumn('created_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('environments_project_name', ['project_id', 'name'])
        .execute();

      await db.schema
        .alterTable('pipeline_runs')
        .addColumn('environment_id', 'integer', (c) => c.references('environments.id').onDelete('set null'))
        .execute();
      await db.schema.alterTable('pipeline_runs').addColumn('environment_name', 'text').execute();
      await db.schema.alterTable('pipeline_runs').addColumn('waiting_since', 'text').execute();
      await db.schema.alterTable('pipeline_runs').addColumn('approved_at', 'text').execute();
      await db.schema.alterTable('pipeline_runs').addColumn('release_at', 'text').execute();
      // Deployment history per environment, newest first; waiting runs for the gate sweeper.
      await db.schema.createIndex('pipeline_runs_environment').on('pipeline_runs').columns(['environment_id', 'id']).execute();

      await db.schema
        .createTable('run_approvals')
        .addColumn('id', sql`${id}` as never)
        .addColumn('run_id', 'integer', (c) => c.notNull().references('pipeline_runs.id').onDelete('cascade'))
        .addColumn('user_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('decision', 'text', (c) => c.notNull())
        .addColumn('comment', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('commit_sha', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('run_approvals_run_user', ['run_id', 'user_id'])
        .execute();

      await db.schema
        .alterTable('pipelines')
        .addColumn('inputs', 'text', (c) => c.notNull().defaultTo('[]'))
        .execute();

      await db.schema
        .createTable('schedules')
        .addColumn('id', sql`${id}` as never)
        .addColumn('pipeline_id', 'integer', (c) => c.notNull().references('pipelines.id').onDelete('cascade'))
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('cron', 'text', (c) => c.notNull())
        .addColumn('timezone', 'text', (c) => c.notNull())
        .addColumn('branch', 'text')
        .addColumn('variables', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('catch_up', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_fire_at', 'text')
        .addColumn('checked_until', 'text', (c) => c.notNull())
        .addColumn('created_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('schedules_next_fire').on('schedules').columns(['enabled', 'next_fire_at']).execute();
      await db.schema
        .createTable('schedule_fires')
        .addColumn('id', sql`${id}` as never)
        .addColumn('schedule_id', 'integer', (c) => c.notNull().references('schedules.id').onDelete('cascade'))
        .addColumn('fire_at', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('run_id', 'integer', (c) => c.references('pipeline_runs.id').onDelete('set null'))
        .addColumn('reason', 'text')
        .addColumn('claimed_by', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('schedule_fires_once', ['schedule_id', 'fire_at'])
        .execute();

      await db.schema
        .createTable('notification_channels')
        .addColumn('id', sql`${id}` as never)
        .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('secret', 'text')
        .addColumn('events', 'text', (c) => c.notNull())
        .addColumn('pipeline_ids', 'text')
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('notification_channels_project_name', ['project_id', 'name'])
        .execute();
      await db.schema
        .createTable('notification_deliveries')
        .addColumn('id', sql`${id}` as never)
        .addColumn('channel_id', 'integer', (c) => c.notNull().references('notification_channels.id').onDelete('cascade'))
        .addColumn('run_id', 'integer', (c) => c.references('pipeline_runs.id').onDelete('set null'))
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('occurrence', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'text', (c) => c.notNull())
        .addColumn('claimed_by', 'text')
        .addColumn('claim_expires_at', 'text')
        .addColumn('last_error', 'text')
        .addColumn('last_status_code', 'integer')
        .addColumn('attempt_log', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('delivered_at', 'text')
        .addUniqueConstraint('notification_deliveries_once', ['channel_id', 'occurrence'])
        .execute();
      await db.schema.createIndex('notification_deliveries_due').on('notification_deliveries').columns(['outcome', 'next_attempt_at']).execute();
      await db.schema.createIndex('notification_deliveries_channel').on('notification_deliveries').columns(['channel_id', 'id']).execute();
    },
  };
}
