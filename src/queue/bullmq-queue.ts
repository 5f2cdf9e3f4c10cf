/**
 * The JobQueue on BullMQ (Redis), for many worker processes. The database stays the truth:
 * `run_queue` rows are written with their run, `notify()` only hands the job to BullMQ, a relay
 * re-adds whatever BullMQ lacks (outbox-relay.ts), and a worker runs a delivery only after its
 * guarded claim of the row succeeds — so a duplicate delivery is skipped, never run twice.
 *
 * One delivery:
 *   local slot free? ── no ──► back to delayed (several label queues share this process's slots)
 *   pipeline slot (Redis semaphore, pipeline-slots.ts)? ── no ──► back to delayed, retried shortly
 *   claim the row ── ok ──► handle ──► release row and slot
 *      │ failed: row gone (finished, cancelled) → skip
 *      │         row needs other labels → re-add to its own queue, skip here
 *      │         claimed, lease past (its worker died) → reclaim → handle with redelivered: true
 *      └         claimed, lease alive → delayed until the lease would expire
 *
 * Leases: BullMQ's job lock (lockDuration, renewed by the worker) is the transport's heartbeat and
 * its stalled checker hands a dead worker's job to another; the row's lease (renewed every
 * leaseSeconds/3) is what the claim trusts. Both use leaseSeconds.
 *
 * Labels: one BullMQ queue per label set (`ansflow-runs`, `ansflow-runs@gpu,linux`); label sets
 * in use are kept in a Redis set so a worker with labels L consumes every queue whose set ⊆ L.
 *
 * Concurrency: `concurrency` is per worker process (BullMQ Worker concurrency, plus a local gate
 * when one process consumes several label queues). `globalConcurrency`, if set, also caps each
 * label set's queue across all processes (BullMQ's queue-level global concurrency).
 */
import { DelayedError, Queue, Worker, type Job as BullJob } from 'bullmq';
import { Redis } from 'ioredis';
import type { Job, JobQueue, WorkerOptions } from './job-queue.js';
import type { RunQueueRepository } from '../store/run-queue-repository.js';
import { coerceError } from '../domain/errors.js';
import { labelKey, parseLabelKey, satisfiedKeys, satisfies } from '../domain/labels.js';
import { retryWhileUnavailable } from '../store/unavailable.js';
import { PipelineSlots } from './pipeline-slots.js';
import { relayOnce, type RelayTarget } from './outbox-relay.js';
import { closeConnection } from '../events/redis-connection.js';

export interface BullmqQueueOptions {
  redisUrl: string;
  repo: RunQueueRepository;
  /** Prefix of every Redis key of this installation (BullMQ's and ours). */
  prefix?: string;
  /** Lease of a claim and BullMQ lock duration; a dead worker is noticed after about twice this. */
  leaseSeconds?: number;
  relayIntervalMs?: number;
  /** Delay before a job put back (pipeline or process at its limit) is offered again. */
  retryDelayMs?: number;
  /** Optional cap per label-set queue across all processes (BullMQ global concurrency). */
  globalConcurrency?: number;
  onError?: (error: unknown) => void;
}

interface JobData {
  runId: number;
  pipelineId: number | null;
  labels: string;
}

type ClaimOutcome = { kind: 'run'; redelivered: boolean } | { kind: 'skip' } | { kind: 'later'; at: number } | { kind: 'reroute'; labels: string };

const queueName = (labels: string) => (labels === '' ? 'ansflow-runs' : `ansflow-runs@${labels}`);

export class BullmqQueue implements JobQueue {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly leaseSeconds: number;
  private readonly relayIntervalMs: number;
  private readonly retryDelayMs: number;
  private readonly slots: PipelineSlots;
  private readonly onError: (error: unknown) => void;
  private readonly queues = new Map<string, Queue>();
  private readonly workers = new Map<string, { worker: Worker; connection: Redis }>();
  private readonly registered = new Set<string>();
  private readonly running = new Map<number, number | null>();
  private options: WorkerOptions | null = null;
  private ownLabels = '';
  /** Every label key ownLabels satisfy (satisfiedKeys), computed once in start(). */
  private ownKeys = satisfiedKeys('');
  private reserved = 0;
  private relayTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private crashed = false;

  constructor(private readonly config: BullmqQueueOptions) {
    this.prefix = config.prefix ?? 'ansflow';
    this.leaseSeconds = config.leaseSeconds ?? 30;
    this.relayIntervalMs = config.relayIntervalMs ?? 3000;
    this.retryDelayMs = config.retryDelayMs ?? 250;
    this.onError = config.onError ?? (() => {});
    // maxRetriesPerRequest: null — commands wait for a reconnect instead of failing (BullMQ needs it).
    this.redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
    this.redis.on('error', (e) => this.report(e));
    this.slots = new PipelineSlots(this.redis, this.prefix, this.leaseSeconds * 1000);
  }

  notify(job: Job): void {
    try {
      void this.enqueue({ runId: job.runId, pipelineId: job.pipelineId, labels: labelKey(job.labels) }).catch((e) => this.report(e));
    } catch (error) {
      this.report(error); // the relay still forwards the committed row
    }
  }

  start(options: WorkerOptions): void {
    this.options = options;
    this.ownLabels = labelKey(options.labels);
    this.ownKeys = satisfiedKeys(this.ownLabels);
    this.stopped = false;
    void this.tick();
    this.relayTimer = setInterval(() => void this.tick(), this.relayIntervalMs);
    this.relayTimer.unref();
    this.heartbeatTimer = setInterval(() => void this.renewLeases(), (this.leaseSeconds * 1000) / 3);
    this.heartbeatTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.crashed) return; // a dead process has nothing left to wait for
    this.stopped = true;
    if (this.relayTimer) clearInterval(this.relayTimer);
    // close() lets running handlers settle; leases are renewed until they have.
    await Promise.allSettled([...this.workers.values()].map(({ worker }) => worker.close()));
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    await Promise.allSettled([...this.workers.values()].map(({ connection }) => closeConnection(connection)));
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    await closeConnection(this.redis).catch(() => {});
  }

  /**
   * Test hook standing in for kill -9: connections drop, nothing is released, leases and locks
   * are no longer renewed — so other workers must detect the death on their own.
   */
  async crash(): Promise<void> {
    this.crashed = this.stopped = true;
    if (this.relayTimer) clearInterval(this.relayTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    for (const { worker, connection } of this.workers.values()) {
      connection.disconnect();
      void worker.close(true).catch(() => {});
    }
    this.redis.disconnect();
    for (const q of this.queues.values()) void q.close().catch(() => {});
  }

  size(): Promise<number> {
    return this.config.repo.size();
  }

  active(): number {
    return this.running.size;
  }

  /** BullMQ's state of a job ('unknown' when Redis does not hold it). */
  jobState(job: Job): Promise<string> {
    return this.queue(labelKey(job.labels)).getJobState(`run-${job.runId}`);
  }

  /** Re-adds what BullMQ lacks now, then every relayIntervalMs (and picks up new label queues). */
  async relay(): Promise<number[]> {
    const target: RelayTarget = {
      state: (labels, runId) => this.queue(labels).getJobState(`run-${runId}`),
      add: async (job, replace) => {
        if (replace) await this.queue(job.labels).remove(`run-${job.runId}`);
        await this.enqueue(job);
      },
    };
    return relayOnce(this.config.repo, target);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    await this.consumeKnownQueues().catch((e) => this.report(e));
    await this.relay().catch((e) => this.report(e));
  }

  private queue(labels: string): Queue {
    let queue = this.queues.get(labels);
    if (!queue) {
      queue = new Queue(queueName(labels), { connection: this.redis, prefix: this.prefix });
      queue.on('error', (e) => this.report(e));
      this.queues.set(labels, queue);
    }
    return queue;
  }

  private async enqueue(data: JobData): Promise<void> {
    if (data.labels !== '' && !this.registered.has(data.labels)) {
      await this.redis.sadd(`${this.prefix}:label-sets`, data.labels);
      this.registered.add(data.labels);
      await this.consumeKnownQueues(); // a worker here that can take it starts at once
    }
    // removeOn*: a later re-add with the same id (requeue after recovery) must not be a no-op.
    await this.queue(data.labels).add('run', data, { jobId: `run-${data.runId}`, removeOnComplete: true, removeOnFail: true });
  }

  /** Starts a BullMQ worker for every known label set this worker's labels satisfy. */
  private async consumeKnownQueues(): Promise<void> {
    const options = this.options;
    if (!options || this.stopped) return;
    const known = ['', ...(await this.redis.smembers(`${this.prefix}:label-sets`))];
    for (const labels of known) {
      if (this.workers.has(labels) || !satisfies(this.ownLabels, labels) || this.stopped) continue;
      if (this.config.globalConcurrency) await this.queue(labels).setGlobalConcurrency(this.config.globalConcurrency);
      const connection = new Redis(this.config.redisUrl, { maxRetriesPerRequest: null });
      connection.on('error', (e) => this.report(e));
      const lockDuration = this.leaseSeconds * 1000;
      const worker = new Worker<JobData>(queueName(labels), (job, token) => this.process(job, token!), {
        connection,
        prefix: this.prefix,
        concurrency: options.concurrency,
        lockDuration,
        stalledInterval: lockDuration,
        // A stalled job is a dead worker's; the claim decides, so let BullMQ hand it back often.
        maxStalledCount: 10,
      });
      worker.on('error', (e) => this.report(e));
      this.workers.set(labels, { worker, connection });
    }
  }

  private async process(job: BullJob<JobData>, token: string): Promise<void> {
    const options = this.options!;
    const { runId, pipelineId } = job.data;
    if (this.reserved >= options.concurrency) return this.later(job, token, Date.now() + this.retryDelayMs);
    this.reserved++;
    let slot = false;
    try {
      if (options.perPipeline > 0) {
        slot = await this.slots.acquire(pipelineId, runId, options.perPipeline);
        if (!slot) return await this.later(job, token, Date.now() + this.retryDelayMs);
      }
      const outcome = await this.claim(runId, options);
      switch (outcome.kind) {
        case 'skip':
          return;
        case 'later':
          return await this.later(job, token, outcome.at);
        case 'reroute':
          await this.enqueue({ runId, pipelineId, labels: outcome.labels });
          return;
        case 'run':
          await this.run({ runId, pipelineId, labels: parseLabelKey(job.data.labels), redelivered: outcome.redelivered }, options);
          return;
        default:
          return assertNever(outcome);
      }
    } finally {
      this.reserved--;
      if (slot && !this.crashed) await this.slots.release(pipelineId, runId).catch((e) => this.report(e));
    }
  }

  private async claim(runId: number, options: WorkerOptions): Promise<ClaimOutcome> {
    const repo = this.config.repo;
    if (await repo.claim(runId, options.workerId, this.leaseSeconds, this.ownKeys)) return { kind: 'run', redelivered: false };
    const row = await repo.find(runId);
    if (!row) return { kind: 'skip' };
    if (!satisfies(this.ownLabels, row.labels)) return { kind: 'reroute', labels: row.labels };
    if (row.state === 'queued') return { kind: 'later', at: Date.now() + this.retryDelayMs }; // lost a race that left it queued
    if (this.running.has(runId)) return { kind: 'skip' };
    const expires = Date.parse(row.leaseExpiresAt ?? '');
    if (!(expires > Date.now())) {
      if (await repo.reclaim(runId, options.workerId, this.leaseSeconds)) return { kind: 'run', redelivered: true };
      return { kind: 'skip' }; // another worker reclaimed it first
    }
    // Claimed by a worker whose lease is alive: if it is dead, its lease runs out by then.
    return { kind: 'later', at: expires + 100 };
  }

  private async run(job: Job, options: WorkerOptions): Promise<void> {
    this.running.set(job.runId, job.pipelineId);
    let outcome: void | 'not-run' = undefined;
    try {
      outcome = await options.handle(job);
    } catch (error) {
      this.report(error);
    } finally {
      if (!this.crashed) {
        this.running.delete(job.runId);
        // A job its handler did not run goes back to the table; the relay hands it to Redis again.
        const { repo } = this.config;
        const giveBack = outcome === 'not-run' ? () => repo.requeue(job.runId) : () => repo.releaseClaim(job.runId, options.workerId);
        await retryWhileUnavailable(giveBack).catch((e) => this.report(e));
        // Handed back because it needs labels this worker lacks (a pipeline file's `runs_on`, known
        // once the file is read): to the queue of those labels now, not at the relay's next sweep.
        if (outcome === 'not-run') await this.forwardIfElsewhere(job).catch((e) => this.report(e));
      }
    }
  }

  private async forwardIfElsewhere(job: Job): Promise<void> {
    const row = await this.config.repo.find(job.runId);
    if (row && row.state === 'queued' && !satisfies(this.ownLabels, row.labels))
      await this.enqueue({ runId: job.runId, pipelineId: job.pipelineId, labels: row.labels });
  }

  /** Puts the job back for later; BullMQ requires the DelayedError after moveToDelayed. */
  private async later(job: BullJob<JobData>, token: string, at: number): Promise<never> {
    await job.moveToDelayed(at, token);
    throw new DelayedError();
  }

  private async renewLeases(): Promise<void> {
    const options = this.options;
    if (!options || this.crashed || this.running.size === 0) return;
    await this.config.repo.heartbeat([...this.running.keys()], options.workerId, this.leaseSeconds).catch((e) => this.report(e));
    if (options.perPipeline > 0) for (const [runId, pipelineId] of this.running) await this.slots.renew(pipelineId, runId).catch((e) => this.report(e));
  }

  private report(error: unknown): void {
    if (!this.crashed) this.onError(coerceError(error));
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected claim outcome ${JSON.stringify(value)}`);
}
