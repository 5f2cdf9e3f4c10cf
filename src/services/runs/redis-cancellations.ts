/**
 * Cancellations across processes: a cancel request is published on `<prefix>:cancel`; every
 * process subscribes and hands it to its LocalCancellations, where only the process running the
 * run holds a controller (the others ignore it). The run's own process is also called directly,
 * so a cancel issued where the run executes does not depend on Redis.
 *
 * Fire-and-forget like the event bus: if Redis is down the request is lost for remote runs (and
 * counted in `dropped`); `cancel_requested_at` in the database stays the durable record.
 */
import { Redis } from 'ioredis';
import type { Cancellations, LocalCancellations } from './cancellation.js';
import { coerceError } from '../../domain/errors.js';
import { closeConnection } from '../../events/redis-connection.js';

export interface RedisCancellationsOptions {
  redisUrl: string;
  local: LocalCancellations;
  prefix?: string;
  onError?: (error: Error) => void;
}

export class RedisCancellations implements Cancellations {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly channel: string;
  private readonly subscribed: Promise<unknown>;
  private droppedCount = 0;

  constructor(private readonly options: RedisCancellationsOptions) {
    const onError = options.onError ?? (() => {});
    this.channel = `${options.prefix ?? 'ansflow'}:cancel`;
    this.pub = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.sub = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    for (const connection of [this.pub, this.sub]) connection.on('error', (e) => onError(coerceError(e)));
    this.sub.on('message', (channel: string, message: string) => {
      const runId = Number(message);
      if (channel === this.channel && Number.isSafeInteger(runId)) options.local.request(runId);
    });
    this.subscribed = this.sub.subscribe(this.channel).catch((e) => onError(coerceError(e)));
  }

  /** Requests that could not be published (Redis unreachable). */
  get dropped(): number {
    return this.droppedCount;
  }

  request(runId: number): void {
    this.options.local.request(runId);
    if (this.pub.status !== 'ready') {
      this.droppedCount++;
      return;
    }
    this.pub.publish(this.channel, String(runId)).catch(() => this.droppedCount++);
  }

  /** Resolves once this process receives cancel requests from the others. */
  async ready(): Promise<void> {
    await this.subscribed;
    if (this.pub.status !== 'ready') await new Promise((resolve) => this.pub.once('ready', resolve));
  }

  async close(): Promise<void> {
    await Promise.allSettled([closeConnection(this.pub), closeConnection(this.sub)]);
  }
}
