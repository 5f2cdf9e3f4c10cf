/**
 * The durable embedded queue: rows of `run_queue`, written with their run. Claiming is a guarded
 * UPDATE (state = 'queued'), so two claimers can never take the same run.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface QueuedJob {
  runId: number;
  pipelineId: number | null;
}

export class RunQueueRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The oldest queued jobs, in order. */
  async peek(limit: number): Promise<QueuedJob[]> {
    const rows = await this.db.selectFrom('run_queue').select(['run_id', 'pipeline_id']).where('state', '=', 'queued').orderBy('run_id').limit(limit).execute();
    return rows.map((r) => ({ runId: r.run_id, pipelineId: r.pipeline_id }));
  }

  async claimedPerPipeline(): Promise<Map<number | null, number>> {
    const rows = await this.db
      .selectFrom('run_queue')
      .select(['pipeline_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('state', '=', 'claimed')
      .groupBy('pipeline_id')
      .execute();
    return new Map(rows.map((r) => [r.pipeline_id, Number(r.n)]));
  }

  async claim(runId: number, workerId: string, leaseSeconds: number): Promise<boolean> {
    const result = await this.db
      .updateTable('run_queue')
      .set({ state: 'claimed', claimed_by: workerId, lease_expires_at: new Date(Date.now() + leaseSeconds * 1000).toISOString() })
      .where('run_id', '=', runId)
      .where('state', '=', 'queued')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
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
    const row = await this.db.selectFrom('run_queue').where('state', '=', 'queued').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
