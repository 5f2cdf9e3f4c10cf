/**
 * The EventBus on Redis pub/sub, so a gateway process receives the events of runs executed by any
 * worker, and of connectivity checks run by any API process. Channels: `<prefix>:run:<id>` carries
 * every event of one run, `<prefix>:runs` the status events of all runs (the all-runs feed),
 * `<prefix>:inventory:<id>` the connectivity-check events of one inventory. Local subscribers are
 * reached through Redis too, so one run's (one inventory's) events arrive in the order they were
 * published, wherever the subscriber is.
 *
 * Connections: one publisher, one subscriber (a subscribed connection can do nothing else). A run
 * or inventory channel is subscribed while at least one local handler wants it (reference
 * counted); ioredis reconnects and resubscribes by itself.
 *
 * Publishing never blocks or throws into the run: it is fire-and-forget, and when Redis is down or
 * `maxPending` publishes are already in flight the event is dropped and counted (`dropped`). Live
 * events are a convenience; the database and log files stay the record a client re-reads.
 */
import { Redis } from 'ioredis';
import { safely, type BusEvent, type EventBus, type InventoryCheckEvent, type RunEvent, type RunStatusEvent, type Unsubscribe } from './event-bus.js';
import { closeConnection } from './redis-connection.js';
import { coerceError } from '../domain/errors.js';

export interface RedisEventBusOptions {
  redisUrl: string;
  /** Prefix of the channels; one per installation. */
  prefix?: string;
  /** Publishes in flight beyond which new events are dropped. */
  maxPending?: number;
  onError?: (error: Error) => void;
}

export class RedisEventBus implements EventBus {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly prefix: string;
  private readonly maxPending: number;
  private readonly onError: (error: Error) => void;
  private readonly byRun = new Map<number, Set<(e: RunEvent) => void>>();
  private readonly all = new Set<(e: RunStatusEvent) => void>();
  private readonly byInventory = new Map<number, Set<(e: InventoryCheckEvent) => void>>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private pending = 0;
  private droppedCount = 0;

  constructor(options: RedisEventBusOptions) {
    this.prefix = options.prefix ?? 'ansflow';
    this.maxPending = options.maxPending ?? 10000;
    this.onError = options.onError ?? (() => {});
    // No offline queue on the publisher: while Redis is down a publish fails at once (and is
    // dropped) instead of piling up in memory.
    this.pub = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.sub = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    for (const connection of [this.pub, this.sub]) connection.on('error', (e) => this.onError(coerceError(e)));
    this.sub.on('message', (channel: string, message: string) => this.dispatch(channel, message));
  }

  /** Events dropped because Redis was unreachable or too far behind. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Whether publishing reaches Redis right now (false: events are being dropped). */
  get connected(): boolean {
    return this.pub.status === 'ready';
  }

  publish(event: BusEvent): void {
    if (this.pub.status !== 'ready' || this.pending >= this.maxPending) {
      this.droppedCount++;
      return;
    }
    const payload = JSON.stringify(event);
    if (event.type === 'inventory_check') return this.send(this.inventoryChannel(event.inventoryId), payload);
    this.send(this.runChannel(event.runId), payload);
    if (event.type === 'run_status') this.send(this.allChannel(), payload);
  }

  subscribeRun(runId: number, handler: (event: RunEvent) => void): Unsubscribe {
    return this.subscribeKeyed(this.byRun, runId, this.runChannel(runId), handler);
  }

  subscribeAll(handler: (event: RunStatusEvent) => void): Unsubscribe {
    if (this.all.size === 0) this.track(this.sub.subscribe(this.allChannel()));
    this.all.add(handler);
    return () => {
      if (!this.all.delete(handler) || this.all.size > 0) return;
      this.track(this.sub.unsubscribe(this.allChannel()));
    };
  }

  subscribeInventory(inventoryId: number, handler: (event: InventoryCheckEvent) => void): Unsubscribe {
    return this.subscribeKeyed(this.byInventory, inventoryId, this.inventoryChannel(inventoryId), handler);
  }

  /** One Redis channel per key, subscribed while the key has handlers here. */
  private subscribeKeyed<E>(handlers: Map<number, Set<(e: E) => void>>, key: number, channel: string, handler: (e: E) => void): Unsubscribe {
    let set = handlers.get(key);
    if (!set) {
      handlers.set(key, (set = new Set()));
      this.track(this.sub.subscribe(channel));
    }
    set.add(handler);
    return () => {
      if (!set.delete(handler) || set.size > 0 || handlers.get(key) !== set) return;
      handlers.delete(key);
      this.track(this.sub.unsubscribe(channel));
    };
  }

  /** Resolves once every (un)subscription asked for so far is in effect at Redis. */
  async ready(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  async close(): Promise<void> {
    this.byRun.clear();
    this.all.clear();
    this.byInventory.clear();
    await Promise.allSettled([closeConnection(this.pub), closeConnection(this.sub)]);
  }

  private send(channel: string, payload: string): void {
    this.pending++;
    this.pub
      .publish(channel, payload)
      .catch(() => this.droppedCount++)
      .finally(() => this.pending--);
  }

  private track(command: Promise<unknown>): void {
    const tracked = command.catch((e) => this.onError(coerceError(e))).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  private dispatch(channel: string, message: string): void {
    let event: BusEvent;
    try {
      event = JSON.parse(message) as BusEvent;
    } catch (error) {
      this.onError(coerceError(error));
      return;
    }
    if (event.type === 'inventory_check') {
      if (channel === this.inventoryChannel(event.inventoryId))
        for (const handler of [...(this.byInventory.get(event.inventoryId) ?? [])]) safely(() => handler(event));
      return;
    }
    if (channel === this.allChannel()) {
      if (event.type === 'run_status') for (const handler of [...this.all]) safely(() => handler(event));
      return;
    }
    for (const handler of [...(this.byRun.get(event.runId) ?? [])]) safely(() => handler(event));
  }

  private runChannel(runId: number): string {
    return `${this.prefix}:run:${runId}`;
  }

  private allChannel(): string {
    return `${this.prefix}:runs`;
  }

  private inventoryChannel(inventoryId: number): string {
    return `${this.prefix}:inventory:${inventoryId}`;
  }
}
