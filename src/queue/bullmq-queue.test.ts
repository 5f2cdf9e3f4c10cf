/**
 * The BullMQ queue passes the JobQueue contract on PostgreSQL (the scale-out combination), each
 * test under its own Redis key prefix; plus what only a queue outside the database can suffer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobQueueContract, openQueueStore } from './job-queue-contract.js';
import { BullmqQueue } from './bullmq-queue.js';
import { connectTestRedis, startPrivateRedis } from '../../test/support/redis.js';
import { waitFor } from '../../test/support/wait.js';

const quietErrors = (e: unknown) => {
  if (process.env.ANSFLOW_TEST_VERBOSE) console.error('queue error', e);
};

jobQueueContract('BullMQ on PostgreSQL', 'postgres', async () => {
  const redis = await connectTestRedis();
  if (!redis) return null;
  return {
    multiProcess: true,
    create: (store, { leaseSeconds }) =>
      new BullmqQueue({
        redisUrl: redis.url,
        repo: store.repo,
        prefix: redis.prefix,
        leaseSeconds: leaseSeconds ?? 30,
        relayIntervalMs: 300,
        retryDelayMs: 100,
        onError: quietErrors,
      }),
    close: () => redis.cleanup(),
  };
});

test('BullMQ: Redis losing its data (restart without persistence) loses no job', { timeout: 60000 }, async (t) => {
  const store = await openQueueStore('postgres');
  if (!store) return t.skip('PostgreSQL unreachable');
  const redis = await startPrivateRedis();
  const queues: BullmqQueue[] = [];
  const make = () => {
    const q = new BullmqQueue({
      redisUrl: redis.url,
      repo: store.repo,
      prefix: 'ansflow',
      leaseSeconds: 2,
      relayIntervalMs: 300,
      retryDelayMs: 100,
      onError: quietErrors,
    });
    queues.push(q);
    return q;
  };
  try {
    const p = await store.pipeline();
    const api = make();
    const jobs = [await store.commit(p), await store.commit(p)];
    for (const job of jobs) api.notify(job);
    await waitFor(async () => (await Promise.all(jobs.map((j) => api.jobState(j)))).every((s) => s === 'waiting'), 10000, 'jobs in Redis');
    await redis.kill();
    await redis.start();
    const seen: number[] = [];
    make().start({ workerId: 'w1', concurrency: 1, perPipeline: 0, handle: async (job) => void seen.push(job.runId) });
    await waitFor(async () => seen.length === 2, 20000, 'both jobs handled after the restart');
    assert.deepEqual(
      seen,
      jobs.map((j) => j.runId),
    );
  } finally {
    await Promise.allSettled(queues.map((q) => q.stop()));
    await redis.kill();
    await store.close();
  }
});

test('BullMQ: a job notified without its labels is routed to a worker that has them', { timeout: 60000 }, async (t) => {
  const store = await openQueueStore('postgres');
  const redis = store ? await connectTestRedis() : null;
  if (!store || !redis) return t.skip('PostgreSQL or Redis unreachable');
  const queues: BullmqQueue[] = [];
  const make = () => {
    const q = new BullmqQueue({ redisUrl: redis.url, repo: store.repo, prefix: redis.prefix, relayIntervalMs: 300, retryDelayMs: 100, onError: quietErrors });
    queues.push(q);
    return q;
  };
  try {
    const job = await store.commit(await store.pipeline(), ['gpu']);
    const seen: string[] = [];
    make().start({ workerId: 'plain', concurrency: 1, perPipeline: 0, handle: async () => void seen.push('plain') });
    make().start({ workerId: 'gpu', concurrency: 1, perPipeline: 0, labels: ['gpu'], handle: async () => void seen.push('gpu') });
    make().notify({ runId: job.runId, pipelineId: job.pipelineId }); // the labels live in the row only
    await waitFor(async () => seen.length === 1, 20000, 'one delivery');
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(seen, ['gpu']);
  } finally {
    await Promise.allSettled(queues.map((q) => q.stop()));
    await redis.cleanup();
    await store.close();
  }
});

test('BullMQ: globalConcurrency caps running jobs across worker processes', { timeout: 60000 }, async (t) => {
  const store = await openQueueStore('postgres');
  const redis = store ? await connectTestRedis() : null;
  if (!store || !redis) return t.skip('PostgreSQL or Redis unreachable');
  const queues: BullmqQueue[] = [];
  const make = () => {
    const q = new BullmqQueue({
      redisUrl: redis.url,
      repo: store.repo,
      prefix: redis.prefix,
      globalConcurrency: 1,
      relayIntervalMs: 300,
      onError: quietErrors,
    });
    queues.push(q);
    return q;
  };
  try {
    const api = make();
    for (let i = 0; i < 4; i++) api.notify(await store.commit(await store.pipeline()));
    let running = 0;
    let max = 0;
    let done = 0;
    const handle = async () => {
      max = Math.max(max, ++running);
      await new Promise((r) => setTimeout(r, 100));
      running--;
      done++;
    };
    make().start({ workerId: 'w1', concurrency: 2, perPipeline: 0, handle });
    make().start({ workerId: 'w2', concurrency: 2, perPipeline: 0, handle });
    await waitFor(async () => done === 4, 20000, 'four jobs');
    assert.equal(max, 1);
  } finally {
    await Promise.allSettled(queues.map((q) => q.stop()));
    await redis.cleanup();
    await store.close();
  }
});
