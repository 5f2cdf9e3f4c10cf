/**
 * The embedded JobQueue: jobs live in the database (run_queue), the worker is in this process and
 * is woken directly by notify(). A slow safety poll catches anything committed by another path
 * (a restart, a CLI) without being on the hot path.
 *
 *   queued ──claim()──► claimed ──handler settles──► (row deleted)
 */
import type { Job, JobQueue, WorkerOptions } from './job-queue.js';
import type { RunQueueRepository } from '../store/run-queue-repository.js';

const SAFETY_POLL_MS = 2000;

export class EmbeddedQueue implements JobQueue {
  private options: WorkerOptions | null = null;
  private readonly running = new Map<number, Promise<void>>();
  private pumping = false;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly repo: RunQueueRepository,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  notify(_job: Job): void {
    this.wake();
  }

  start(options: WorkerOptions): void {
    this.options = options;
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), SAFETY_POLL_MS);
    this.timer.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.running.values()]);
  }

  size(): Promise<number> {
    return this.repo.size();
  }

  active(): number {
    return this.running.size;
  }

  private wake(): void {
    if (!this.options || this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    void this.pump()
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
      const candidates = await this.repo.peek(free * 4 + 20);
      if (candidates.length === 0) return;
      const perPipeline = options.perPipeline > 0 ? await this.repo.claimedPerPipeline() : new Map<number | null, number>();
      let claimedAny = false;
      for (const job of candidates) {
        if (this.running.size >= options.concurrency || this.stopped) return;
        if (options.perPipeline > 0 && (perPipeline.get(job.pipelineId) ?? 0) >= options.perPipeline) continue;
        if (!(await this.repo.claim(job.runId, options.workerId, 3600))) continue;
        claimedAny = true;
        perPipeline.set(job.pipelineId, (perPipeline.get(job.pipelineId) ?? 0) + 1);
        const handled = options
          .handle(job)
          .catch(this.onError)
          .finally(async () => {
            await this.repo.release(job.runId).catch(this.onError);
            this.running.delete(job.runId);
            this.wake();
          });
        this.running.set(job.runId, handled);
      }
      if (!claimedAny) return;
    }
  }
}
