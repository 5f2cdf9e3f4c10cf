/**
 * Retention in the database (migration 014): each pipeline's own policy, pinned runs, finding
 * expired runs in small batches, deleting them (their step rows, log chunks and queue rows go with
 * them by foreign key; the counters by trigger), and the one sweeper row that processes claim
 * with a lease so that one sweeps at a time across processes.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { RetentionPolicy } from '../domain/retention.js';
import { nowIso } from './time.js';

const FINAL = ['success', 'failed', 'cancelled', 'timeout', 'error'];

export interface SweepRecord {
  claimed_by: string | null;
  last_started_at: string | null;
  last_finished_at: string | null;
  last_deleted_runs: number;
  last_freed_bytes: number;
  last_error: string | null;
  total_deleted_runs: number;
}

/** A pipeline's own policy; `pipelineId` null stands for the runs of deleted pipelines. */
export interface PipelinePolicy extends RetentionPolicy {
  pipelineId: number | null;
}

export class RetentionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  in(tx: Kysely<Database>): RetentionRepository {
    return new RetentionRepository(tx);
  }

  async policyOf(pipelineId: number): Promise<RetentionPolicy | null> {
    const row = await this.db.selectFrom('pipelines').select(['retention_keep_runs', 'retention_keep_days']).where('id', '=', pipelineId).executeTakeFirst();
    return row ? { keep_runs: row.retention_keep_runs, keep_days: row.retention_keep_days } : null;
  }

  async setPolicy(pipelineId: number, policy: RetentionPolicy): Promise<boolean> {
    const r = await this.db
      .updateTable('pipelines')
      .set({ retention_keep_runs: policy.keep_runs, retention_keep_days: policy.keep_days })
      .where('id', '=', pipelineId)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Every pipeline's own policy, plus the runs of deleted pipelines (the default applies to them). */
  async policies(): Promise<PipelinePolicy[]> {
    const rows = await this.db.selectFrom('pipelines').select(['id', 'retention_keep_runs', 'retention_keep_days']).orderBy('id').execute();
    return [
      ...rows.map((r) => ({ pipelineId: r.id, keep_runs: r.retention_keep_runs, keep_days: r.retention_keep_days })),
      { pipelineId: null, keep_runs: null, keep_days: null },
    ];
  }

  /** Sets or clears the pin; returns false when there is no such run. */
  async pin(runId: number, by: number | null): Promise<boolean> {
    const r = await this.db
      .updateTable('pipeline_runs')
      .set(by === null ? { pinned_at: null, pinned_by: null } : { pinned_at: nowIso(), pinned_by: by })
      .where('id', '=', runId)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * Up to `limit` expired runs of one pipeline, oldest first: finished, not pinned, and either
   * beyond its newest `keep_runs` or created before `cutoff`. Both walk the (pipeline_id, id)
   * index from one end and stop after `limit`, so a batch costs the same in any history.
   */
  async expired(pipelineId: number | null, policy: RetentionPolicy, cutoff: string | null, limit: number): Promise<number[]> {
    const ofPipeline = () => {
      const q = this.db.selectFrom('pipeline_runs').select('id');
      return pipelineId === null ? q.where('pipeline_id', 'is', null) : q.where('pipeline_id', '=', pipelineId);
    };
    const ids = new Set<number>();
    if (policy.keep_runs !== null) {
      // The oldest run still kept by count: every older one is beyond the newest keep_runs.
      const boundary = await ofPipeline()
        .orderBy('id', 'desc')
        .limit(1)
        .offset(Math.max(0, policy.keep_runs - 1))
        .executeTakeFirst();
      if (boundary) {
        const rows = await ofPipeline()
          .where('id', '<', boundary.id)
          .where('pinned_at', 'is', null)
          .where('status', 'in', FINAL)
          .orderBy('id', 'asc')
          .limit(limit)
          .execute();
        for (const r of rows) ids.add(r.id);
      }
    }
    if (cutoff !== null && ids.size < limit) {
      const rows = await ofPipeline()
        .where('created_at', '<', cutoff)
        .where('pinned_at', 'is', null)
        .where('status', 'in', FINAL)
        .orderBy('id', 'asc')
        .limit(limit - ids.size)
        .execute();
      for (const r of rows) ids.add(r.id);
    }
    return [...ids].sort((a, b) => a - b).slice(0, limit);
  }

  /** Deletes these runs if they are still finished and unpinned; returns the ids deleted. */
  async deleteRuns(ids: number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .deleteFrom('pipeline_runs')
        .where('id', 'in', ids)
        .where('pinned_at', 'is', null)
        .where('status', 'in', FINAL)
        .returning('id')
        .execute();
      return rows.map((r) => r.id);
    });
  }

  /**
   * Takes the sweep for `owner` until `leaseSeconds` from now: when nobody holds it, the holder's
   * lease ran out, or `owner` holds it already (renewal). One guarded UPDATE, so two processes
   * asking at once cannot both get it.
   */
  async claim(owner: string, leaseSeconds: number, now = Date.now()): Promise<boolean> {
    const r = await this.db
      .updateTable('retention_sweeper')
      .set({ claimed_by: owner, lease_expires_at: new Date(now + leaseSeconds * 1000).toISOString() })
      .where('id', '=', 1)
      .where((eb) => eb.or([eb('claimed_by', 'is', null), eb('claimed_by', '=', owner), eb('lease_expires_at', '<', new Date(now).toISOString())]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async started(owner: string): Promise<void> {
    await this.db.updateTable('retention_sweeper').set({ last_started_at: nowIso() }).where('id', '=', 1).where('claimed_by', '=', owner).execute();
  }

  /** Records what a sweep did and lets the sweep go. */
  async finished(owner: string, result: { deleted: number; freedBytes: number; error: string | null }): Promise<void> {
    await this.db
      .updateTable('retention_sweeper')
      .set((eb) => ({
        claimed_by: null,
        lease_expires_at: null,
        last_finished_at: nowIso(),
        last_deleted_runs: result.deleted,
        last_freed_bytes: result.freedBytes,
        last_error: result.error,
        total_deleted_runs: eb('total_deleted_runs', '+', result.deleted),
      }))
      .where('id', '=', 1)
      .where('claimed_by', '=', owner)
      .execute();
  }

  async record(): Promise<SweepRecord | null> {
    const row = await this.db.selectFrom('retention_sweeper').selectAll().where('id', '=', 1).executeTakeFirst();
    if (!row) return null;
    const live = row.claimed_by !== null && row.lease_expires_at !== null && row.lease_expires_at > nowIso();
    return {
      claimed_by: live ? row.claimed_by : null,
      last_started_at: row.last_started_at,
      last_finished_at: row.last_finished_at,
      last_deleted_runs: Number(row.last_deleted_runs),
      last_freed_bytes: Number(row.last_freed_bytes),
      last_error: row.last_error,
      total_deleted_runs: Number(row.total_deleted_runs),
    };
  }

  /** The database's own size in bytes (PostgreSQL); SQLite's is its files' size. */
  async postgresSize(): Promise<number> {
    const r = await sql<{ n: string }>`select pg_database_size(current_database()) as n`.execute(this.db);
    return Number(r.rows[0]?.n ?? 0);
  }
}
