/**
 * The notification outbox's own thread (started by runtime/notification-sender.ts): a worker
 * thread with its own event loop, its own database connections and the lowest CPU priority, so
 * sending deliveries never delays the API process's requests (a run's trigger among them) nor
 * takes their share of the cores. On a 2-core machine with a slow receiver's backlog, the outbox
 * in the API's thread made every run start ~45 ms later (docs/benchmarks.md): its sends, JSON,
 * HMACs and settling statements ran between the trigger's callbacks and held its pool's
 * connections.
 *
 * Niceness on Linux is per thread (setpriority on a thread id), so only this thread drops to 19;
 * the API's threads keep theirs. Run events come from the API thread as messages (only those that
 * raise notifications); a channel changed through this process and a wake come the same way.
 * Everything else (claims, retries with backoff, every attempt recorded, exactly-once across
 * processes) is the outbox's own, unchanged (notification-outbox.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import type { LogLevel } from '../../config.js';
import type { RunStatusEvent, Unsubscribe } from '../../events/event-bus.js';
import { createLogger } from '../../runtime/logger.js';
import { openDb } from '../../store/db.js';
import { NotificationsRepository } from '../../store/notifications-repository.js';
import { SecretBox } from '../../store/secret-box.js';
import { transactor } from '../../store/transaction.js';
import { secretKeySource } from '../secret-key.js';
import { NotificationOutbox, type NotificationTiming } from './notification-outbox.js';

export interface DeliveryThreadData {
  databaseUrl: string | null;
  dataDir: string;
  secretKey: string | null;
  secretKeyPrevious: string[];
  logLevel: LogLevel;
  publicUrl: string;
  timing: Partial<NotificationTiming>;
  /** Database connections of this thread: a claim and the settling of the sends in flight. */
  poolSize: number;
  niceness: number;
}

export type ToDeliveryThread = { type: 'event'; event: RunStatusEvent } | { type: 'channel'; id: number } | { type: 'wake' } | { type: 'stop' };
export type FromDeliveryThread = { type: 'started'; niceness: number | null } | { type: 'stopped' };

/** Lowers this thread's priority; the niceness it has then, or null where a thread cannot be reniced alone. */
function lowerPriority(niceness: number): number | null {
  try {
    // "<pid>/task/<tid>": Node has no gettid; a thread id given to setpriority renices that thread only (Linux).
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid)) return null;
    setPriority(tid, niceness);
    return niceness;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const port = parentPort!;
  const data = workerData as DeliveryThreadData;
  const niceness = lowerPriority(data.niceness);
  const logger = createLogger(data.logLevel);
  const db = openDb({ databaseUrl: data.databaseUrl, dataDir: data.dataDir, poolSize: data.poolSize });
  const secrets = new SecretBox(secretKeySource(data));
  const handlers = new Set<(event: RunStatusEvent) => void>();
  const outbox = new NotificationOutbox({
    notifications: new NotificationsRepository(db.kysely, secrets),
    transaction: transactor(db.kysely),
    events: {
      subscribeAll: (handler): Unsubscribe => {
        handlers.add(handler);
        return () => handlers.delete(handler);
      },
    },
    logger,
    publicUrl: data.publicUrl,
    timing: data.timing,
  });
  port.on('message', (message: ToDeliveryThread) => {
    if (message.type === 'event') for (const handler of handlers) handler(message.event);
    else if (message.type === 'channel') outbox.channelChanged(message.id);
    else if (message.type === 'wake') outbox.wake();
    else
      void (async () => {
        await outbox.stop();
        await db.close();
        port.postMessage({ type: 'stopped' } satisfies FromDeliveryThread);
        // Ends this thread only (kept-alive sockets to receivers would otherwise hold it).
        process.exit(0);
      })();
  });
  outbox.start();
  port.postMessage({ type: 'started', niceness } satisfies FromDeliveryThread);
}

void main();
