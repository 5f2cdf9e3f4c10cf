import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Pull requests from forks given secrets (issue 13): a pipeline with `secrets_for_forks` gives a
 * fork's pull request its secrets only once a maintainer approved that pull request's author at
 * its head commit.
 *
 * `pipeline_runs.fork_gate`: null (no such gate), `waiting` (the run waits, with no queue job, for
 * that approval) or `approved`. `fork_approvals`: one row per (pipeline, pull request author, head
 * commit) a maintainer approved, so a later run of the same commit by the same author (a
 * redelivery, a re-run) needs no second approval and a new commit needs a new one.
 */
export function forkApprovals(dialect: Dialect) {
  const id = dialect === 'postgres' ? sql`serial primary key` : sql`integer primary key autoincrement`;
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('pipeline_runs').addColumn('fork_gate', 'text').execute();
      await db.schema
        .createTable('fork_approvals')
        .addColumn('id', sql`${id}` as never)
        .addColumn('pipeline_id', 'integer', (c) => c.notNull().references('pipelines.id').onDelete('cascade'))
        .addColumn('author', 'text', (c) => c.notNull())
        .addColumn('commit_sha', 'text', (c) => c.notNull())
        .addColumn('pull_request', 'integer')
        .addColumn('run_id', 'integer', (c) => c.references('pipeline_runs.id').onDelete('set null'))
        .addColumn('approved_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('approved_by_name', 'text', (c) => c.notNull())
        .addColumn('comment', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('fork_approvals_once', ['pipeline_id', 'author', 'commit_sha'])
        .execute();
    },
  };
}
