/**
 * Approval gates of waiting runs (migration 018): the decisions people gave, and the guarded
 * transitions out of `waiting`. Every transition is an UPDATE guarded by `status = 'waiting'`, so
 * with several processes (API requests, each process's gate sweeper) exactly one of them moves a
 * run, and its queue job is written in the same transaction as the move.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { PipelineDefinition } from '../domain/pipeline.js';
import { insertJob } from './runs-repository.js';

export interface Decision {
  user_id: number;
  username: string;
  decision: 'approve' | 'reject';
  comment: string;
  /** The commit the run had when the decision was given (a fork's pull request: its head). */
  commit: string | null;
  at: string;
}

/** A waiting run, as the gate sweeper sees it. */
export interface WaitingRun {
  id: number;
  pipeline_id: number | null;
  environment_id: number | null;
  waiting_since: string | null;
  approved_at: string | null;
  release_at: string | null;
  /** `waiting`: a fork's pull request waiting for a maintainer first (the environment's gate has not opened). */
  fork_gate: string | null;
}

export class ApprovalGatesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  in(tx: Kysely<Database>): ApprovalGatesRepository {
    return new ApprovalGatesRepository(tx);
  }

  async decisions(runId: number): Promise<Decision[]> {
    const rows = await this.db
      .selectFrom('run_approvals')
      .select(['user_id', 'username', 'decision', 'comment', 'commit_sha', 'created_at'])
      .where('run_id', '=', runId)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      user_id: r.user_id ?? 0,
      username: r.username,
      decision: r.decision as Decision['decision'],
      comment: r.comment,
      commit: r.commit_sha,
      at: r.created_at,
    }));
  }

  /**
   * Locks the run while it waits for decisions (a no-op UPDATE takes the row lock in PostgreSQL;
   * SQLite's writer lock covers the transaction), so concurrent decisions are counted one after
   * the other. False when the run no longer waits for decisions.
   */
  async lockUndecided(runId: number): Promise<boolean> {
    const result = await this.db
      .updateTable('pipeline_runs')
      .set((eb) => ({ waiting_since: eb.ref('waiting_since') }))
      .where('id', '=', runId)
      .where('status', '=', 'waiting')
      .where('approved_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** False when this person already decided on the run. */
  async addDecision(runId: number, d: Omit<Decision, 'at'>, at: string): Promise<boolean> {
    const inserted = await this.db
      .insertInto('run_approvals')
      .values({ run_id: runId, user_id: d.user_id, username: d.username, decision: d.decision, comment: d.comment, commit_sha: d.commit, created_at: at })
      .onConflict((oc) => oc.columns(['run_id', 'user_id']).doNothing())
      .returning('id')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  /**
   * The gate let the run through. With `holdUntil` (the wait timer, or the environment's queue
   * is busy) it stays `waiting`, approved, until the gate sweeper releases it; otherwise it
   * becomes `queued` with its job. Returns what happened, or null when another process moved it first.
   */
  async release(runId: number, at: string, holdUntil: string | null): Promise<'queued' | 'held' | null> {
    const releaseAt = holdUntil;
    if (releaseAt !== null) {
      const result = await this.db
        .updateTable('pipeline_runs')
        .set((eb) => ({ approved_at: eb.fn.coalesce('approved_at', eb.val(at)), release_at: releaseAt }))
        .where('id', '=', runId)
        .where('status', '=', 'waiting')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1 ? 'held' : null;
    }
    const moved = await this.db
      .updateTable('pipeline_runs')
      .set((eb) => ({ status: 'queued', approved_at: eb.fn.coalesce('approved_at', eb.val(at)), release_at: null }))
      .where('id', '=', runId)
      .where('status', '=', 'waiting')
      .returning(['pipeline_id', 'definition'])
      .executeTakeFirst();
    if (!moved) return null;
    const definition = JSON.parse(moved.definition) as PipelineDefinition;
    await insertJob(this.db, runId, moved.pipeline_id, definition.steps, at);
    return 'queued';
  }

  /**
   * A running run (its pipeline file just planned) goes back to `waiting` at `environment`, with
   * its queue job removed; `approved_at` set when it needs no approval. False when it is not running.
   */
  async holdRunning(runId: number, environment: { id: number; name: string; waiting: boolean }, at: string): Promise<boolean> {
    const result = await this.db
      .updateTable('pipeline_runs')
      .set({
        status: environment.waiting ? 'waiting' : 'running',
        environment_id: environment.id,
        environment_name: environment.name,
        waiting_since: environment.waiting ? at : null,
        approved_at: environment.waiting ? null : at,
        ...(environment.waiting ? { started_at: null } : {}),
      })
      .where('id', '=', runId)
      .where('status', '=', 'running')
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1 || !environment.waiting) return false;
    await this.db.deleteFrom('run_queue').where('run_id', '=', runId).execute();
    return true;
  }

  /** Runs waiting now: for their approvals, their wait timer, or the environment's queue. */
  async waiting(environmentId?: number): Promise<WaitingRun[]> {
    let q = this.db
      .selectFrom('pipeline_runs')
      .select(['id', 'pipeline_id', 'environment_id', 'waiting_since', 'approved_at', 'release_at', 'fork_gate'])
      .where('status', '=', 'waiting');
    if (environmentId !== undefined) q = q.where('environment_id', '=', environmentId);
    return q.orderBy('id').execute();
  }

  /** Whether a maintainer approved this pull request author at this commit for the pipeline's secrets. */
  async forkApproved(pipelineId: number, author: string, commit: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('fork_approvals')
      .select('id')
      .where('pipeline_id', '=', pipelineId)
      .where('author', '=', author)
      .where('commit_sha', '=', commit)
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * A maintainer approved a fork's run: the approval is recorded against the pull request's author
   * and head commit (kept if it was already), and the run leaves the fork gate: `queued` with its
   * job, or, with an environment still to pass (`stayWaiting`), waiting at it from now. Null when
   * another process moved the run first.
   */
  async approveFork(
    runId: number,
    approval: {
      pipeline_id: number;
      author: string;
      commit_sha: string;
      pull_request: number | null;
      approved_by: number;
      approved_by_name: string;
      comment: string;
    },
    at: string,
    stayWaiting: boolean,
  ): Promise<'queued' | 'waiting' | null> {
    const moved = await this.db
      .updateTable('pipeline_runs')
      .set(stayWaiting ? { fork_gate: 'approved', waiting_since: at } : { fork_gate: 'approved', status: 'queued' })
      .where('id', '=', runId)
      .where('status', '=', 'waiting')
      .where('fork_gate', '=', 'waiting')
      .returning(['pipeline_id', 'definition'])
      .executeTakeFirst();
    if (!moved) return null;
    await this.db
      .insertInto('fork_approvals')
      .values({ ...approval, run_id: runId, created_at: at })
      .onConflict((oc) => oc.columns(['pipeline_id', 'author', 'commit_sha']).doNothing())
      .execute();
    if (stayWaiting) return 'waiting';
    const definition = JSON.parse(moved.definition) as PipelineDefinition;
    await insertJob(this.db, runId, moved.pipeline_id, definition.steps, at);
    return 'queued';
  }

  /** Whether another run of the environment is queued or running (the `queue` concurrency). */
  async deploying(environmentId: number, exceptRunId: number): Promise<{ id: number; number: number } | null> {
    const row = await this.db
      .selectFrom('pipeline_runs')
      .select(['id', 'number'])
      .where('environment_id', '=', environmentId)
      .where('status', 'in', ['queued', 'running'])
      .where('id', '<>', exceptRunId)
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    return row ?? null;
  }
}
