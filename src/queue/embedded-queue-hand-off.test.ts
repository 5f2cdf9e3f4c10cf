/**
 * The embedded queue's hand-off: a job notified while the queue is drained is claimed by its id,
 * without the pump's select, and the queue's table stays the source of truth (the claim is the
 * same guarded UPDATE; a job not claimable goes through the pump). Real SQLite.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job } from './job-queue.js';
import { EmbeddedQueue } from './embedded-queue.js';
import { openQueueStore, type QueueStore } from './job-queue-contract.js';
import type { RunQueueRepository } from '../store/run-queue-repository.js';
import { waitFor } from '../../test/support/wait.js';

/** The store's queue repository with its claimable() selects counted. */
function counted(repo: RunQueueRepository): { repo: RunQueueRepository; selects: () => number } {
  let selects = 0;
  const wrapped = Object.create(repo) as RunQueueRepository;
  wrapped.claimable = (...args) => {
    selects++;
    return repo.claimable(...args);
  };
  return { repo: wrapped, selects: () => selects };
}

async function withQueue(
  options: { perPipeline?: number },
  body: (w: { store: QueueStore; queue: EmbeddedQueue; selects: () => number; handled: Job[]; release: () => void }) => Promise<void>,
): Promise<void> {
  const store = (await openQueueStore('sqlite'))!;
  const { repo, selects } = counted(store.repo);
  // The safety poll is out of the way: only notify() and the pump it may start claim anything.
  const queue = new EmbeddedQueue(repo, (e) => assert.fail(String(e)), { pollMs: 600_000 });
  const handled: Job[] = [];
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  try {
    queue.start({
      workerId: 'w1',
      concurrency: 2,
      perPipeline: options.perPipeline ?? 0,
      handle: async (job) => {
        handled.push(job);
        await held;
      },
    });
    await waitFor(async () => selects() === 1, 5000, 'the first pump');
    await body({ store, queue, selects, handled, release });
  } finally {
    release();
    await queue.stop();
    await store.close();
  }
}

const stateOf = async (store: QueueStore, runId: number) =>
  (await store.db.kysely.selectFrom('run_queue').select(['state', 'claimed_by']).where('run_id', '=', runId).executeTakeFirst()) ?? null;

test('a job notified while the queue is drained is claimed by its id, without a select of the queue', async () => {
  await withQueue({}, async ({ store, queue, selects, handled }) => {
    const job = await store.commit(await store.pipeline());
    queue.notify(job);
    await waitFor(async () => handled.length === 1, 5000, 'the job handled');
    assert.equal(handled[0]!.runId, job.runId);
    assert.equal(handled[0]!.redelivered, false);
    assert.equal(selects(), 1, 'no select after the first pump');
    assert.deepEqual(await stateOf(store, job.runId), { state: 'claimed', claimed_by: 'w1' }, 'claimed in the table, as the pump claims');
  });
});

test('a notified job that is no longer queued is not handed to the handler', async () => {
  await withQueue({}, async ({ store, queue, handled, selects }) => {
    const job = await store.commit(await store.pipeline());
    // Claimed elsewhere between its commit and the notify: the guarded claim fails, the pump looks.
    await store.db.kysely
      .updateTable('run_queue')
      .set({ state: 'claimed', claimed_by: 'other', lease_expires_at: '2999-01-01T00:00:00.000Z' })
      .where('run_id', '=', job.runId)
      .execute();
    queue.notify(job);
    await waitFor(async () => selects() === 2, 5000, 'the pump after the failed claim');
    assert.deepEqual(handled, []);
    assert.deepEqual(await stateOf(store, job.runId), { state: 'claimed', claimed_by: 'other' });
  });
});

test('with a per-pipeline limit the pump decides, so the limit is counted in the database', async () => {
  await withQueue({ perPipeline: 1 }, async ({ store, queue, selects, handled }) => {
    const job = await store.commit(await store.pipeline());
    queue.notify(job);
    await waitFor(async () => handled.length === 1, 5000, 'the job handled');
    assert.ok(selects() >= 2, 'claimed by the pump');
  });
});

test('a job notified while another is being claimed waits for the pump: one claimer at a time, oldest first', async () => {
  await withQueue({}, async ({ store, queue, handled }) => {
    const p = await store.pipeline();
    const [a, b] = [await store.commit(p), await store.commit(p)];
    queue.notify(a);
    queue.notify(b);
    await waitFor(async () => handled.length === 2, 5000, 'both handled');
    assert.deepEqual(
      handled.map((j) => j.runId),
      [a.runId, b.runId],
    );
  });
});
