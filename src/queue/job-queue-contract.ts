/**
 * The JobQueue contract: what every adapter (embedded, BullMQ) must do, against a real database.
 * Each adapter's test file calls `jobQueueContract` with a factory for "one process's queue".
 * Every test gets a fresh world (database, and Redis prefix where there is one).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job, JobQueue, WorkerOptions } from './job-queue.js';
import { labelKey } from '../domain/labels.js';
import { openDb, type Db } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import { SecretBox } from '../store/secret-box.js';
import { UsersRepository } from '../store/users-repository.js';
import { PipelinesRepository } from '../store/pipelines-repository.js';
import { RunsRepository } from '../store/runs-repository.js';
import { RunQueueRepository } from '../store/run-queue-repository.js';
import { createTestDatabase } from '../../test/support/postgres.js';
import { waitFor } from '../../test/support/wait.js';

/** A queue adapter instance that can also "die" like a killed process (test hook). */
export type ContractQueue = JobQueue & { crash(): void | Promise<void> };

export interface QueueStore {
  db: Db;
  repo: RunQueueRepository;
  /** Creates a pipeline; returns its id. */
  pipeline(): Promise<number>;
  /** Commits a run with its job (as trigger does), without notifying any queue. */
  commit(pipelineId: number, labels?: string[]): Promise<Job>;
  close(): Promise<void>;
}

export interface QueueFactory {
  /** One process's queue on this store; `leaseSeconds` short for the lease tests. */
  create(store: QueueStore, options: { leaseSeconds?: number }): ContractQueue;
  /** Tears down what `create` shared (a Redis prefix). */
  close?(): Promise<void>;
  /**
   * Whether limits hold across several instances (processes). The embedded adapter is one
   * process by design: its per-pipeline check is not atomic across instances, so it runs with one.
   */
  multiProcess: boolean;
}

/** A fresh migrated database with the repositories a queue needs; null when PostgreSQL is unreachable outside CI. */
export async function openQueueStore(backend: 'sqlite' | 'postgres'): Promise<QueueStore | null> {
  const dir = mkdtempSync(join(tmpdir(), 'ansflow-queue-'));
  const pg = backend === 'postgres' ? await createTestDatabase() : null;
  if (backend === 'postgres' && !pg) return null;
  const db = openDb({ databaseUrl: pg?.url ?? null, dataDir: dir });
  await migrateToLatest(db);
  const pipelines = new PipelinesRepository(db.kysely, new SecretBox('k'.repeat(40)));
  const runs = new RunsRepository(db.kysely, pipelines);
  const owner = (await new UsersRepository(db.kysely).create({ username: 'owner', email: '', role: 'admin', password_hash: 'h' }))!;
  let n = 0;
  return {
    db,
    repo: new RunQueueRepository(db.kysely),
    async pipeline() {
      const p = await pipelines.create(
        {
          name: `p${++n}`,
          description: '',
          status: 'active',
          repository_url: 'https://example.com/a/b.git',
          branch: 'main',
          trigger_events: ['push'],
          variables: {},
          steps: [{ name: 'one', type: 'shell_command', config: { command: 'true' } }],
        },
        owner.id,
      );
      return p!.id;
    },
    async commit(pipelineId, labels) {
      const run = (await runs.create({ pipelineId, trigger: { type: 'manual' }, branch: 'main', commit: null, variables: {} }))!;
      // The run's labels are written by the store once runs_on exists; here the test sets them directly.
      if (labels)
        await db.kysely
          .updateTable('run_queue')
          .set({ labels: labelKey(labels) })
          .where('run_id', '=', run.id)
          .execute();
      return { runId: run.id, pipelineId, labels };
    },
    async close() {
      await db.close();
      await pg?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Delivery {
  job: Job;
  worker: string;
}

/** Records deliveries and concurrency of handlers across all workers of one test. */
class Recorder {
  readonly deliveries: Delivery[] = [];
  private running = 0;
  private readonly perPipeline = new Map<number | null, number>();
  maxRunning = 0;
  maxPerPipeline = 0;

  handler(worker: string, work: (job: Job) => Promise<void> = () => sleep(10)): WorkerOptions['handle'] {
    return async (job) => {
      this.deliveries.push({ job, worker });
      this.running++;
      const p = (this.perPipeline.get(job.pipelineId) ?? 0) + 1;
      this.perPipeline.set(job.pipelineId, p);
      this.maxRunning = Math.max(this.maxRunning, this.running);
      this.maxPerPipeline = Math.max(this.maxPerPipeline, p);
      try {
        await work(job);
      } finally {
        this.running--;
        this.perPipeline.set(job.pipelineId, (this.perPipeline.get(job.pipelineId) ?? 1) - 1);
      }
    };
  }

  ids(): number[] {
    return this.deliveries.map((d) => d.job.runId);
  }
}

export function jobQueueContract(name: string, backend: 'sqlite' | 'postgres', makeFactory: () => Promise<QueueFactory | null>): void {
  /** Runs `body` in a fresh world; every queue it creates is stopped afterwards. */
  const inWorld = (
    title: string,
    body: (w: { store: QueueStore; queue(o?: { leaseSeconds?: number }): ContractQueue; rec: Recorder; multiProcess: boolean }) => Promise<void>,
  ) =>
    test(title, { timeout: 60000 }, async (t) => {
      const factory = await makeFactory();
      const store = factory ? await openQueueStore(backend) : null;
      if (!factory || !store) {
        await factory?.close?.();
        return t.skip('database or Redis unreachable');
      }
      const queues: ContractQueue[] = [];
      try {
        const queue = (o: { leaseSeconds?: number } = {}) => {
          queues.push(factory.create(store, o));
          return queues.at(-1)!;
        };
        await body({ store, rec: new Recorder(), queue, multiProcess: factory.multiProcess });
      } finally {
        await Promise.allSettled(queues.map((q) => q.stop()));
        await factory.close?.();
        await store.close();
      }
    });

  const options = (rec: Recorder, worker: string, extra: Partial<WorkerOptions> = {}): WorkerOptions => ({
    workerId: worker,
    concurrency: 1,
    perPipeline: 0,
    handle: rec.handler(worker),
    ...extra,
  });

  describe(`JobQueue contract: ${name}`, () => {
    inWorld('jobs are handled first in, first out by run id', async ({ store, queue, rec }) => {
      const [a, b] = [await store.pipeline(), await store.pipeline()];
      const api = queue();
      const jobs: Job[] = [];
      for (const p of [a, b, a, a, b]) jobs.push(await store.commit(p));
      for (const job of jobs) api.notify(job);
      queue().start(options(rec, 'w1'));
      await waitFor(async () => rec.deliveries.length === 5, 20000, 'five deliveries');
      assert.deepEqual(
        rec.ids(),
        jobs.map((j) => j.runId),
      );
    });

    inWorld('a job its handler did not run (the worker is stopping) goes back to the queue; the next worker runs it', async ({ store, queue, rec }) => {
      const api = queue();
      const job = await store.commit(await store.pipeline());
      api.notify(job);
      const leaving = queue();
      let stopped: Promise<void> | undefined;
      leaving.start(
        options(rec, 'leaving', {
          // As RunWorker does: stop() has begun when the claimed job reaches the handler.
          handle: async () => {
            stopped ??= leaving.stop();
            return 'not-run';
          },
        }),
      );
      await waitFor(async () => stopped !== undefined, 20000, 'the job offered to the stopping worker');
      await stopped;
      assert.equal(await api.size(), 1, 'the job is queued again, not lost');
      queue().start(options(rec, 'next'));
      await waitFor(async () => rec.deliveries.length === 1, 20000, 'the next worker to run it');
      assert.deepEqual(rec.ids(), [job.runId]);
    });

    inWorld('a worker never runs more handlers than its concurrency', async ({ store, queue, rec }) => {
      const api = queue();
      for (let i = 0; i < 6; i++) api.notify(await store.commit(await store.pipeline()));
      const worker = queue();
      worker.start(options(rec, 'w1', { concurrency: 2, handle: rec.handler('w1', () => sleep(150)) }));
      await waitFor(async () => rec.deliveries.length === 6, 20000, 'six deliveries');
      assert.equal(rec.maxRunning, 2);
      await waitFor(async () => (await worker.size()) === 0 && worker.active() === 0, 5000, 'queue drained');
    });

    inWorld('the per-pipeline limit holds (across two worker processes where the adapter has several)', async ({ store, queue, rec, multiProcess }) => {
      const [a, b] = [await store.pipeline(), await store.pipeline()];
      const api = queue();
      for (const p of [a, a, a, a, b, b]) api.notify(await store.commit(p));
      const slow = () => sleep(200);
      for (const worker of multiProcess ? ['w1', 'w2'] : ['w1'])
        queue().start(options(rec, worker, { concurrency: 3, perPipeline: 1, handle: rec.handler(worker, slow) }));
      await waitFor(async () => rec.deliveries.length === 6, 30000, 'six deliveries');
      assert.equal(rec.maxPerPipeline, 1, 'never two runs of one pipeline at once');
      assert.ok(rec.maxRunning >= 2, 'different pipelines still run side by side');
    });

    inWorld('a worker only takes jobs whose labels it has', async ({ store, queue, rec }) => {
      const p = await store.pipeline();
      const api = queue();
      const plain = await store.commit(p);
      const gpu = await store.commit(p, ['gpu']);
      const both = await store.commit(p, ['linux', 'gpu']);
      const arm = await store.commit(p, ['arm']);
      for (const job of [plain, gpu, both, arm]) api.notify(job);
      queue().start(options(rec, 'plain', { concurrency: 2 }));
      queue().start(options(rec, 'gpu-linux', { concurrency: 2, labels: ['gpu', 'linux'] }));
      await waitFor(async () => rec.deliveries.length === 3, 20000, 'three deliveries');
      await sleep(500);
      assert.deepEqual(
        [...rec.ids()].sort((x, y) => x - y),
        [plain.runId, gpu.runId, both.runId],
        'the arm job waits for an arm worker',
      );
      for (const d of rec.deliveries) if (d.worker === 'plain') assert.equal(d.job.runId, plain.runId, 'an unlabelled worker takes unlabelled jobs only');
      assert.deepEqual(rec.deliveries.find((d) => d.job.runId === both.runId)!.job.labels, ['gpu', 'linux']);
      assert.equal(await api.size(), 1);
    });

    inWorld('a job committed while no worker runs is picked up when one starts (outbox)', async ({ store, queue, rec }) => {
      const p = await store.pipeline();
      const jobs = [await store.commit(p), await store.commit(p, ['gpu'])]; // never notified: a crash right after commit
      queue().start(options(rec, 'w1', { labels: ['gpu'] }));
      await waitFor(async () => rec.deliveries.length === 2, 20000, 'two deliveries');
      assert.deepEqual(
        rec.ids(),
        jobs.map((j) => j.runId),
      );
    });

    inWorld('a job notified many times runs once', async ({ store, queue, rec }) => {
      const job = await store.commit(await store.pipeline());
      const api = queue();
      for (let i = 0; i < 3; i++) api.notify(job);
      const w1 = queue();
      w1.start(options(rec, 'w1', { concurrency: 2 }));
      queue().start(options(rec, 'w2', { concurrency: 2 }));
      await waitFor(async () => rec.deliveries.length === 1 && (await w1.size()) === 0 && w1.active() === 0, 20000, 'one delivery');
      api.notify(job); // late duplicate, after the job was released
      await sleep(800);
      assert.deepEqual(rec.ids(), [job.runId]);
      assert.equal(rec.deliveries[0]!.job.redelivered ?? false, false);
    });

    inWorld('a dead worker’s job is delivered again once its lease expires', async ({ store, queue, rec }) => {
      const job = await store.commit(await store.pipeline());
      const dying = queue({ leaseSeconds: 1 });
      dying.start(options(rec, 'dying', { handle: rec.handler('dying', () => new Promise<void>(() => {})) }));
      dying.notify(job);
      await waitFor(async () => rec.deliveries.length === 1, 20000, 'first delivery');
      await dying.crash();
      queue({ leaseSeconds: 1 }).start(options(rec, 'heir'));
      await waitFor(async () => rec.deliveries.length === 2, 30000, 'redelivery');
      const [first, second] = rec.deliveries;
      assert.deepEqual([first!.worker, first!.job.redelivered ?? false], ['dying', false]);
      assert.deepEqual([second!.worker, second!.job.runId, second!.job.redelivered], ['heir', job.runId, true]);
      await waitFor(async () => (await store.repo.find(job.runId)) === null, 10000, 'job released by the heir');
    });

    inWorld('a live worker keeps its lease: its job is not handed to another', async ({ store, queue, rec }) => {
      const job = await store.commit(await store.pipeline());
      const w1 = queue({ leaseSeconds: 1 });
      w1.start(options(rec, 'w1', { handle: rec.handler('w1', () => sleep(3500)) }));
      w1.notify(job);
      await waitFor(async () => rec.deliveries.length === 1, 20000, 'w1 holds the job');
      queue({ leaseSeconds: 1 }).start(options(rec, 'w2'));
      await waitFor(async () => (await store.repo.find(job.runId)) === null, 20000, 'job released');
      assert.deepEqual(
        rec.deliveries.map((d) => d.worker),
        ['w1'],
      );
    });

    inWorld('a queued job removed by cancel is never handled', async ({ store, queue, rec }) => {
      const p = await store.pipeline();
      const api = queue();
      const [cancelled, kept] = [await store.commit(p), await store.commit(p)];
      api.notify(cancelled);
      api.notify(kept);
      assert.equal(await store.repo.removeIfQueued(cancelled.runId), true);
      queue().start(options(rec, 'w1'));
      await waitFor(async () => rec.deliveries.length === 1, 20000, 'one delivery');
      await sleep(500);
      assert.deepEqual(rec.ids(), [kept.runId]);
    });

    inWorld('stop waits for running handlers, then releases their jobs', async ({ store, queue, rec }) => {
      const job = await store.commit(await store.pipeline());
      const worker = queue();
      let finished = false;
      const work = async () => {
        await sleep(300);
        finished = true;
      };
      worker.start(options(rec, 'w1', { handle: rec.handler('w1', work) }));
      worker.notify(job);
      await waitFor(async () => worker.active() === 1, 20000, 'handler running');
      await worker.stop();
      assert.equal(finished, true);
      assert.equal(worker.active(), 0);
      assert.equal(await store.repo.find(job.runId), null);
    });
  });
}
