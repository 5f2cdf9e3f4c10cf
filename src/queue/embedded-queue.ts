/**
 * The embedded JobQueue: jobs live in the database (run_queue), the worker is in this process and
 * is woken directly by notify(). A slow safety poll catches anything committed by another path
 * (a restart, a CLI) without being on the hot path.
 *
 *   queued ──claim()──► claimed ──handler settles──► (row deleted)
 *                        │  ▲
 *      lease not renewed │  └── reclaim() → delivered again with `redelivered: true`
 *      (worker died)     ▼
 *                      claimed, lease past
 *
 * Claims carry a lease renewed every leaseSeconds/3 while the handler runs, the same rule as the
 * BullMQ adapter, so both pass one contract. Labels: this worker only takes jobs whose labels it
 * has; the embedded worker is normally started without labels, so it runs unlabelled runs only.
 */
import type { Job, JobQueue, WorkerOptions } from './job-queue.js';
import type { RunQueueRepository } from '../store/run-queue-repository.js';
import { labelKey, parseLabelKey, satisfiedKeys, satisfies } from '../domain/labels.js';
import { retryWhileUnavailable } from '../store/unavailable.js';

const SAFETY_POLL_MS = 2000;

export interface EmbeddedQueueOptions {
  /** How long a claim lives without a heartbeat. */
  leaseSeconds?: number;
  /** The safety poll; also how soon a dead worker's expired lease is noticed. */
  pollMs?: number;
}

export class EmbeddedQueue implements JobQueue {
  private options: WorkerOptions | null = null;
  private ownLabels = '';
  /** Every label key ownLabels satisfy (satisfiedKeys), computed once in start(). */
  private ownKeys = satisfiedKeys('');
  private readonly running = new Map<number, Promise<void>>();
  private pumping = false;
  private again = false;
  /** The last pump found nothing claimable: a job notified now has none waiting before it. */
  private drained = false;
  private timer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private stopped = false;
  private crashed = false;
  private readonly leaseSeconds: number;
  private readonly pollMs: number;

  constructor(
    private readonly repo: RunQueueRepository,
    private readonly onError: (error: unknown) => void = () => {},
    options: EmbeddedQueueOptions = {},
  ) {
    this.leaseSeconds = options.leaseSeconds ?? 60;
    this.pollMs = options.pollMs ?? SAFETY_POLL_MS;
  }

  /**
   * A job just committed in this process is claimed directly (claim() by its id, the same guarded
   * UPDATE as the pump's) when nothing can be waiting before it: the last pump found the queue
   * empty, a slot is free and no per-pipeline limit needs the database's count. That skips the
   * pump's select on the trigger → first step path. Anything else, or a claim that fails, takes
   * the pump; jobs committed by another path are still found by the safety poll.
   */
  notify(job: Job): void {
    if (this.canHandOff(job)) this.exclusive(() => this.handOff(job));
    else this.wake();
  }

  private canHandOff(job: Job): boolean {
    const options = this.options;
    return (
      options !== null &&
      !this.stopped &&
      !this.pumping &&
      this.drained &&
      options.perPipeline === 0 &&
      this.running.size < options.concurrency &&
      !this.running.has(job.runId) &&
      satisfies(this.ownLabels, labelKey(job.labels))
    );
  }

  private async handOff(job: Job): Promise<void> {
    const options = this.options!;
    if (await this.repo.claim(job.runId, options.workerId, this.leaseSeconds, this.ownKeys))
      this.startJob({ runId: job.runId, pipelineId: job.pipelineId, labels: job.labels, redelivered: false });
    else this.again = true; // someone else has it, or it is not what it seemed: the pump decides
  }

  start(options: WorkerOptions): void {
    this.options = options;
    this.ownLabels = labelKey(options.labels);
    this.ownKeys = satisfiedKeys(this.ownLabels);
    this.stopped = false;
    this.crashed = false;
    this.timer = setInterval(() => this.wake(), this.pollMs);
    this.timer.unref();
    this.heartbeat = setInterval(() => void this.renewLeases(), (this.leaseSeconds * 1000) / 3);
    this.heartbeat.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    if (this.crashed) return; // a dead process has nothing left to wait for
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    // Leases are renewed until the running handlers have settled.
    await Promise.allSettled([...this.running.values()]);
    if (this.heartbeat) clearInterval(this.heartbeat);
  }

  /**
   * Test hook standing in for kill -9: stops claiming and renewing leases at once and never
   * releases what it holds, so the claims expire as if the process had died.
   */
  crash(): void {
    this.crashed = true;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.heartbeat) clearInterval(this.heartbeat);
  }

  size(): Promise<number> {
    return this.repo.size();
  }

  active(): number {
    return this.running.size;
  }

  private async renewLeases(): Promise<void> {
    if (this.crashed || !this.options || this.running.size === 0) return;
    await this.repo.heartbeat([...this.running.keys()], this.options.workerId, this.leaseSeconds).catch(this.onError);
  }

  private wake(): void {
    if (!this.options || this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.exclusive(() => this.pump());
  }

  /** Runs `work` as the one claimer of this process (a pump or a hand-off); a wake meanwhile pumps after it. */
  private exclusive(work: () => Promise<void>): void {
    this.pumping = true;
    void work()
      .catch(this.onError)
      .finally(() => {
        this.pumping = false;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Claims as many jobs as the limits allow, oldest first, skipping pipelines at their limit. */
  private async pump(): Promise<void> {
    const options = this.options!;
    while (!this.stopped && this.running.size < options.concurrency) {
      const free = options.concurrency - this.running.size;
      const candidates = (await this.repo.claimable(free * 4 + 20, this.ownKeys)).filter(
        (job) => !this.running.has(job.runId) && satisfies(this.ownLabels, job.labels),
      );
      if (candidates.length === 0) {
        this.drained = true;
        return;
      }
      this.drained = false;
      const perPipeline = options.perPipeline > 0 ? await this.repo.liveClaimsPerPipeline() : new Map<number | null, number>();
      let claimedAny = false;
      for (const job of candidates) {
        if (this.running.size >= options.concurrency || this.stopped) return;
        if (options.perPipeline > 0 && (perPipeline.get(job.pipelineId) ?? 0) >= options.perPipeline) continue;
        const claimed = job.expired
          ? await this.repo.reclaim(job.runId, options.workerId, this.leaseSeconds)
          : await this.repo.claim(job.runId, options.workerId, this.leaseSeconds);
        if (!claimed) continue;
        claimedAny = true;
        perPipeline.set(job.pipelineId, (perPipeline.get(job.pipelineId) ?? 0) + 1);
        this.startJob({ runId: job.runId, pipelineId: job.pipelineId, labels: parseLabelKey(job.labels), redelivered: job.expired });
      }
      if (!claimedAny) return;
    }
  }

  /** Hands a claimed job to the handler; its claim is released (or the job requeued) once it settles. */
  private startJob(job: Job): void {
    const options = this.options!;
    const handled = options
      .handle(job)
      .catch(this.onError)
      .then(async (outcome) => {
        if (this.crashed) return; // a dead process releases nothing
        const giveBack = outcome === 'not-run' ? () => this.repo.requeue(job.runId) : () => this.repo.releaseClaim(job.runId, options.workerId);
        await retryWhileUnavailable(giveBack).catch(this.onError);
        this.running.delete(job.runId);
        this.wake();
      });
    this.running.set(job.runId, handled);
  }
}
