/**
 * The durable embedded queue: rows of `run_queue`, written with their run. Claiming is a guarded
 * UPDATE (state = 'queued'), so two claimers can never take the same run.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { isoAfter, nowIso } from './time.js';

export interface QueuedJob {
  runId: number;
  pipelineId: number | null;
}

/** A job a worker may take: queued, or claimed by a worker whose lease expired (`expired`). */
export interface ClaimableJob extends QueuedJob {
  labels: string;
  expired: boolean;
}

export class RunQueueRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The oldest queued jobs, in order. */
  async peek(limit: number): Promise<QueuedJob[]> {
    const rows = await this.db.selectFrom('run_queue').select(['run_id', 'pipeline_id']).where('state', '=', 'queued').orderBy('run_id').limit(limit).execute();
    return rows.map((r) => ({ runId: r.run_id, pipelineId: r.pipeline_id }));
  }

  /** `labelKeys`, when given, also guards the job's labels (a job routed to the wrong worker is not taken). */
  async claim(runId: number, workerId: string, leaseSeconds: number, labelKeys?: readonly string[] | null): Promise<boolean> {
    let update = this.db
      .updateTable('run_queue')
      .set({ state: 'claimed', claimed_by: workerId, lease_expires_at: isoAfter(leaseSeconds) })
      .where('run_id', '=', runId)
      .where('state', '=', 'queued');
    if (labelKeys) update = update.where('labels', 'in', [...labelKeys]);
    const result = await update.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Takes over a job whose worker died: claimed, but its lease is past. The guard on the old lease
   * makes two reclaimers race safely, like claim().
   */
  async reclaim(runId: number, workerId: string, leaseSeconds: number): Promise<boolean> {
    const result = await this.db
      .updateTable('run_queue')
      .set({ claimed_by: workerId, lease_expires_at: isoAfter(leaseSeconds) })
      .where('run_id', '=', runId)
      .where('state', '=', 'claimed')
      .where('lease_expires_at', '<', nowIso())
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Extends the leases this worker holds; returns how many it still holds. */
  async heartbeat(runIds: readonly number[], workerId: string, leaseSeconds: number): Promise<number> {
    if (runIds.length === 0) return 0;
    const result = await this.db
      .updateTable('run_queue')
      .set({ lease_expires_at: isoAfter(leaseSeconds) })
      .where('run_id', 'in', [...runIds])
      .where('state', '=', 'claimed')
      .where('claimed_by', '=', workerId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * Oldest first: jobs queued or left by a dead worker (lease past). `labelKeys` limits them to the
   * label sets a worker can take; null takes every set (the BullMQ relay forwards them all).
   */
  async claimable(limit: number, labelKeys: readonly string[] | null): Promise<ClaimableJob[]> {
    const now = nowIso();
    let query = this.db
      .selectFrom('run_queue')
      .select(['run_id', 'pipeline_id', 'labels', 'state'])
      .where((eb) => eb.or([eb('state', '=', 'queued'), eb.and([eb('state', '=', 'claimed'), eb('lease_expires_at', '<', now)])]));
    if (labelKeys) query = query.where('labels', 'in', [...labelKeys]);
    const rows = await query.orderBy('run_id').limit(limit).execute();
    return rows.map((r) => ({ runId: r.run_id, pipelineId: r.pipeline_id, labels: r.labels, expired: r.state === 'claimed' }));
  }

  /** Claims per pipeline whose lease is alive (a dead worker's claim must not hold a slot forever). */
  async liveClaimsPerPipeline(): Promise<Map<number | null, number>> {
    const rows = await this.db
      .selectFrom('run_queue')
      .select(['pipeline_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('state', '=', 'claimed')
      .where('lease_expires_at', '>=', nowIso())
      .groupBy('pipeline_id')
      .execute();
    return new Map(rows.map((r) => [r.pipeline_id, Number(r.n)]));
  }

  /** The job's claim, if it is still in the queue. */
  async find(runId: number): Promise<{ state: string; claimedBy: string | null; leaseExpiresAt: string | null; labels: string } | null> {
    const row = await this.db
      .selectFrom('run_queue')
      .select(['state', 'claimed_by', 'lease_expires_at', 'labels'])
      .where('run_id', '=', runId)
      .executeTakeFirst();
    return row ? { state: row.state, claimedBy: row.claimed_by, leaseExpiresAt: row.lease_expires_at, labels: row.labels } : null;
  }

  /** Releases a job only while this worker still holds it (a worker presumed dead must not release its successor's claim). */
  async releaseClaim(runId: number, workerId: string): Promise<void> {
    await this.db.deleteFrom('run_queue').where('run_id', '=', runId).where('claimed_by', '=', workerId).execute();
  }

  /** Takes a job out of the queue only if no worker claimed it yet (cancel of a queued run). */
  async removeIfQueued(runId: number): Promise<boolean> {
    const result = await this.db.deleteFrom('run_queue').where('run_id', '=', runId).where('state', '=', 'queued').executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  async release(runId: number): Promise<void> {
    await this.db.deleteFrom('run_queue').where('run_id', '=', runId).execute();
  }

  async requeue(runId: number): Promise<void> {
    await this.db.updateTable('run_queue').set({ state: 'queued', claimed_by: null, lease_expires_at: null }).where('run_id', '=', runId).execute();
  }

  async claimed(): Promise<Array<QueuedJob & { claimedBy: string | null }>> {
    const rows = await this.db.selectFrom('run_queue').select(['run_id', 'pipeline_id', 'claimed_by']).where('state', '=', 'claimed').execute();
    return rows.map((r) => ({ runId: r.run_id, pipelineId: r.pipeline_id, claimedBy: r.claimed_by }));
  }

  async size(): Promise<number> {
    const row = await this.db
      .selectFrom('run_queue')
      .where('state', '=', 'queued')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
