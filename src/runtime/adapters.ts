/**
 * Chooses the adapters behind the ports. Embedded (the default): in-process event bus, the queue
 * in the database with an in-process worker, logs as files in the data folder. Distributed
 * (ANSFLOW_REDIS_URL set): BullMQ for the queue, Redis pub/sub for live events and cancels, and
 * logs as chunk rows in the database, so any API process can read what any worker writes.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db } from '../store/db.js';
import type { RunQueueRepository } from '../store/run-queue-repository.js';
import type { EventBus } from '../events/event-bus.js';
import { InProcessEventBus } from '../events/in-process-event-bus.js';
import type { JobQueue } from '../queue/job-queue.js';
import { EmbeddedQueue } from '../queue/embedded-queue.js';
import type { LogStore } from '../engine/ports.js';
import { FileLogStore } from '../logs/file-log-store.js';
import { LocalCancellations, type Cancellations } from '../services/runs/cancellation.js';
import { logsRoot } from '../services/runs/run-worker.js';

export interface Adapters {
  distributed: boolean;
  events: EventBus;
  queue: JobQueue;
  logs: LogStore;
  /** The AbortControllers of runs executing in this process. */
  localCancellations: LocalCancellations;
  /** Where cancel requests go: this process, or every process through Redis. */
  cancellations: Cancellations;
  close(): Promise<void>;
}

export async function createAdapters(config: Config, db: Db, runQueue: RunQueueRepository, logger: Logger): Promise<Adapters> {
  const onError = (what: string) => (error: unknown) => logger.error({ err: error }, what);
  const localCancellations = new LocalCancellations();
  if (!config.redisUrl) {
    const events = new InProcessEventBus();
    return {
      distributed: false,
      events,
      queue: new EmbeddedQueue(runQueue, onError('queue error')),
      logs: new FileLogStore({ root: logsRoot(config.dataDir), onChunk: publishLogChunk(events) }),
      localCancellations,
      cancellations: localCancellations,
      close: () => events.close(),
    };
  }
  // Imported only here: BullMQ and ioredis are ~33 MB that the embedded mode never loads, and a
  // smaller server forks its steps faster (see bench/fork-cost.ts).
  const [{ RedisEventBus }, { BullmqQueue }, { RedisCancellations }, { DbLogStore }] = await Promise.all([
    import('../events/redis-event-bus.js'),
    import('../queue/bullmq-queue.js'),
    import('../services/runs/redis-cancellations.js'),
    import('../logs/db-log-store.js'),
  ]);
  const prefix = config.redisPrefix;
  const events = new RedisEventBus({ redisUrl: config.redisUrl, prefix, onError: onError('event bus error') });
  const queue = new BullmqQueue({
    redisUrl: config.redisUrl,
    repo: runQueue,
    prefix,
    leaseSeconds: config.workerLeaseSeconds,
    onError: onError('queue error'),
  });
  const cancellations = new RedisCancellations({ redisUrl: config.redisUrl, local: localCancellations, prefix, onError: onError('cancellations error') });
  return {
    distributed: true,
    events,
    queue,
    logs: new DbLogStore(db.kysely, { onChunk: publishLogChunk(events) }),
    localCancellations,
    cancellations,
    close: async () => {
      await Promise.allSettled([queue.stop(), cancellations.close(), events.close()]);
    },
  };
}

/** Every flushed log chunk is published live; the WebSocket gateway streams it. */
const publishLogChunk = (events: EventBus) => (chunk: { runId: number; stepId: number; offset: number; text: string }) =>
  events.publish({ type: 'log', runId: chunk.runId, stepId: chunk.stepId, offset: chunk.offset, text: chunk.text });
