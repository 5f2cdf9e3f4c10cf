/**
 * The outbox relay of the BullMQ adapter: `run_queue` is the truth, Redis only delivers. Every
 * few seconds the rows a worker may take (queued, or claimed with a lease past) are compared with
 * what BullMQ holds, and missing jobs are added again. This covers a crash between the commit and
 * `notify()`, a notify lost while Redis was down, Redis losing its data, and a dead worker's job
 * that BullMQ dropped after too many stalls. Adding is idempotent (jobId = run-<id>), so several
 * relays running at once are harmless; the guarded claim skips any duplicate delivery.
 */
import type { RunQueueRepository } from '../store/run-queue-repository.js';

const RELAY_BATCH = 1000;

export interface RelayTarget {
  /** BullMQ's state of a job ('unknown' when it has none). */
  state(labels: string, runId: number): Promise<string>;
  /** (Re)adds the job; a finished job with the same id is removed first. */
  add(job: { runId: number; pipelineId: number | null; labels: string }, replace: boolean): Promise<void>;
}

/** One sweep; returns the run ids it re-added. */
export async function relayOnce(repo: RunQueueRepository, target: RelayTarget): Promise<number[]> {
  const rows = await repo.claimable(RELAY_BATCH, null);
  const states = await Promise.all(rows.map((row) => target.state(row.labels, row.runId)));
  const added: number[] = [];
  for (const [i, row] of rows.entries()) {
    const state = states[i];
    // 'active' may be a dead worker's job: BullMQ's stalled checker hands it back, not us.
    if (state !== 'unknown' && state !== 'completed' && state !== 'failed') continue;
    await target.add(row, state !== 'unknown');
    added.push(row.runId);
  }
  return added;
}
