import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/** The first schema. `id` columns are the only dialect-specific part. */
export function initial(dialect: Dialect) {
  const id = dialect === 'postgres' ? sql`serial primary key` : sql`integer primary key autoincrement`;
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('users')
        .addColumn('id', sql`${id}` as never)
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('username_key', 'text', (c) => c.notNull().unique())
        .addColumn('email', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('first_name', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('last_name', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('is_active', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('token_version', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('date_joined', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('refresh_tokens')
        .addColumn('jti', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('family_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('rotated_at', 'text')
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema.createIndex('refresh_tokens_family').on('refresh_tokens').column('family_id').execute();
      await db.schema.createIndex('refresh_tokens_user').on('refresh_tokens').column('user_id').execute();

      await db.schema
        .createTable('pipelines')
        .addColumn('id', sql`${id}` as never)
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('repository_url', 'text')
        .addColumn('branch', 'text', (c) => c.notNull())
        .addColumn('trigger_events', 'text', (c) => c.notNull())
        .addColumn('variables', 'text', (c) => c.notNull())
        .addColumn('steps', 'text', (c) => c.notNull())
        .addColumn('steps_count', 'integer', (c) => c.notNull())
        .addColumn('run_counter', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_run_id', 'integer')
        .addColumn('created_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('pipelines_created_by').on('pipelines').column('created_by').execute();
      await db.schema.createIndex('pipelines_status').on('pipelines').column('status').execute();

      await db.schema
        .createTable('pipeline_runs')
        .addColumn('id', sql`${id}` as never)
        .addColumn('pipeline_id', 'integer', (c) => c.references('pipelines.id').onDelete('set null'))
        .addColumn('pipeline_name', 'text', (c) => c.notNull())
        .addColumn('number', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('trigger_type', 'text', (c) => c.notNull())
        .addColumn('trigger_user_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('branch', 'text', (c) => c.notNull())
        .addColumn('commit_sha', 'text')
        .addColumn('variables', 'text', (c) => c.notNull())
        .addColumn('definition', 'text', (c) => c.notNull())
        .addColumn('error_reason', 'text')
        .addColumn('cancel_requested_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .execute();
      await db.schema.createIndex('pipeline_runs_pipeline').on('pipeline_runs').columns(['pipeline_id', 'number']).execute();
      await db.schema.createIndex('pipeline_runs_status').on('pipeline_runs').column('status').execute();

      await db.schema
        .createTable('step_runs')
        .addColumn('id', sql`${id}` as never)
        .addColumn('run_id', 'integer', (c) => c.notNull().references('pipeline_runs.id').onDelete('cascade'))
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('parallel_group', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .addColumn('exit_code', 'integer')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('log_size', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('message', 'text')
        .execute();
      await db.schema.createIndex('step_runs_run').on('step_runs').columns(['run_id', 'position']).execute();

      await db.schema
        .createTable('run_queue')
        .addColumn('run_id', 'integer', (c) => c.primaryKey().references('pipeline_runs.id').onDelete('cascade'))
        .addColumn('pipeline_id', 'integer')
        .addColumn('enqueued_at', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('claimed_by', 'text')
        .addColumn('lease_expires_at', 'text')
        .execute();
      await db.schema.createIndex('run_queue_state').on('run_queue').columns(['state', 'run_id']).execute();

      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('id', sql`${id}` as never)
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('delivery_key', 'text', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('action', 'text')
        .addColumn('repository', 'text')
        .addColumn('ref', 'text')
        .addColumn('commit_sha', 'text')
        .addColumn('verdict', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('run_ids', 'text', (c) => c.notNull())
        .addColumn('headers', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('webhook_deliveries_key', ['provider', 'delivery_key'])
        .execute();
      await db.schema.createIndex('webhook_deliveries_received').on('webhook_deliveries').column('received_at').execute();
    },
  };
}
