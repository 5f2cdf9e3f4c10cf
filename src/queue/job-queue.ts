/**
 * The JobQueue port. A job is "run N is queued"; the run row and its job are written together by
 * the store (the queue row doubles as an outbox for queues outside the database).
 *
 * Worker flow: start(handler) → the adapter claims jobs in order, respecting the global and
 * per-pipeline concurrency, and calls handler(job) → when the handler settles the job is released,
 * or, when the handler answers 'not-run', put back in the queue for a later worker.
 */
export interface Job {
  runId: number;
  pipelineId: number | null;
  /** Labels a worker must have to take this run (union of its steps' `runs_on`); none = any worker. */
  labels?: string[];
  /**
   * Set on delivery: the run was claimed by a worker whose lease expired (it died). The handler
   * applies the recovery rule: no step started → run it again; otherwise end it as `error`.
   */
  redelivered?: boolean;
}

export interface WorkerOptions {
  workerId: string;
  concurrency: number;
  perPipeline: number;
  /** Labels this worker has; it only takes jobs whose labels are all among them. None = unlabelled jobs only. */
  labels?: string[];
  /**
   * Handles a claimed job. 'not-run': the handler did not start it (its worker is stopping), so the
   * adapter puts it back instead of releasing it, and it runs after the restart or elsewhere.
   */
  handle(job: Job): Promise<void | 'not-run'>;
}

export interface JobQueue {
  /** A job was committed: wake a worker now (no polling on the hot path). */
  notify(job: Job): void;
  start(options: WorkerOptions): void;
  /** Stops claiming and waits for running handlers to settle. */
  stop(): Promise<void>;
  /** Jobs waiting to be claimed. */
  size(): Promise<number>;
  /** Jobs being handled by this process. */
  active(): number;
}
