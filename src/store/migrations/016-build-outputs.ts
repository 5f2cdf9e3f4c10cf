import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Build outputs (issue 14): artifacts, caches, workspace snapshots and retries.
 *
 * `run_artifacts`: one row per artifact a step stored (or failed to store: `status` failed with
 * `error`), written only once every file is in the ArtifactStore, so a listing never shows half
 * of one. `key_prefix` is where its files are (`runs/<run>/artifacts/<id>`), `refused` a JSON
 * list of the paths not stored and why (links, not regular files). `run_artifact_files`: its
 * files, each with the object key it was stored under (by position, never by name).
 *
 * `pipeline_caches`: one row per (pipeline, scope, key); `scope` is `branch-<b>` or `pr-<n>`
 * (domain/cache-key.ts), so a pull request's cache can never take the default branch's key.
 * `last_used_at` orders least-recently-used eviction; `hits` counts restores.
 * `pipeline_cache_stats`: lookups and how they ended, per pipeline (the caches page's hit rate).
 *
 * `run_snapshots`: the workspace as it was after a step succeeded, for retrying from a later
 * step. `pipeline_runs.retry_of`: the run a retry repeats; `step_runs.reused_from`: the step of
 * the original whose result a retry's step reuses (not run again).
 */
export function buildOutputs(dialect: Dialect) {
  const id = dialect === 'postgres' ? sql`serial primary key` : sql`integer primary key autoincrement`;
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('run_artifacts')
        .addColumn('id', sql`${id}` as never)
        .addColumn('run_id', 'integer', (c) => c.notNull().references('pipeline_runs.id').onDelete('cascade'))
        .addColumn('step_run_id', 'integer', (c) => c.references('step_runs.id').onDelete('set null'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('file_count', 'integer', (c) => c.notNull())
        .addColumn('size_bytes', 'bigint', (c) => c.notNull())
        .addColumn('refused', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('key_prefix', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('run_artifacts_run_name', ['run_id', 'name'])
        .execute();
      await db.schema.createIndex('run_artifacts_expires').on('run_artifacts').columns(['expires_at']).execute();
      await db.schema
        .createTable('run_artifact_files')
        .addColumn('id', sql`${id}` as never)
        .addColumn('artifact_id', 'integer', (c) => c.notNull().references('run_artifacts.id').onDelete('cascade'))
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('size_bytes', 'bigint', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('object_key', 'text', (c) => c.notNull())
        .addUniqueConstraint('run_artifact_files_path', ['artifact_id', 'path'])
        .execute();

      await db.schema
        .createTable('pipeline_caches')
        .addColumn('id', sql`${id}` as never)
        .addColumn('pipeline_id', 'integer', (c) => c.notNull().references('pipelines.id').onDelete('cascade'))
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('object_key', 'text', (c) => c.notNull())
        .addColumn('size_bytes', 'bigint', (c) => c.notNull())
        .addColumn('entries', 'integer', (c) => c.notNull())
        .addColumn('hits', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_by_run_id', 'integer')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('pipeline_caches_scope_key', ['pipeline_id', 'scope', 'key'])
        .execute();
      await db.schema.createIndex('pipeline_caches_last_used').on('pipeline_caches').columns(['last_used_at']).execute();
      await db.schema
        .createTable('pipeline_cache_stats')
        .addColumn('pipeline_id', 'integer', (c) => c.primaryKey().references('pipelines.id').onDelete('cascade'))
        .addColumn('lookups', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('exact_hits', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('partial_hits', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();

      await db.schema
        .createTable('run_snapshots')
        .addColumn('id', sql`${id}` as never)
        .addColumn('run_id', 'integer', (c) => c.notNull().references('pipeline_runs.id').onDelete('cascade'))
        .addColumn('step_run_id', 'integer', (c) => c.notNull().references('step_runs.id').onDelete('cascade'))
        .addColumn('object_key', 'text', (c) => c.notNull())
        .addColumn('size_bytes', 'bigint', (c) => c.notNull())
        .addColumn('worker', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('run_snapshots_step', ['step_run_id'])
        .execute();
      await db.schema.createIndex('run_snapshots_run').on('run_snapshots').columns(['run_id']).execute();

      await db.schema
        .alterTable('pipeline_runs')
        .addColumn('retry_of', 'integer', (c) => c.references('pipeline_runs.id').onDelete('set null'))
        .execute();
      await db.schema
        .alterTable('step_runs')
        .addColumn('reused_from', 'integer', (c) => c.references('step_runs.id').onDelete('set null'))
        .execute();
    },
  };
}
