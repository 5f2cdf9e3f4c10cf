/**
 * The JobQueue port. A job is "run N is queued"; the run row and its job are written together by
 * the store (the queue row doubles as an outbox for queues outside the database).
 *
 * Worker flow: start(handler) → the adapter claims jobs in order, respecting the global and
 * per-pipeline concurrency, and calls handler(job) → when the handler settles the job is released.
 */
export interface Job {
  runId: number;
  pipelineId: number | null;
}

export interface WorkerOptions {
  workerId: string;
  concurrency: number;
  perPipeline: number;
  handle(job: Job): Promise<void>;
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
