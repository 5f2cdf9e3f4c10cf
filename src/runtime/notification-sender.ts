/**
 * Starts the notification outbox in its own thread (services/notifications/delivery-thread.ts) and
 * talks to it: run events that raise notifications, channels changed in this process, wakes. The
 * thread has its own event loop, database pool and the lowest CPU priority, so deliveries never
 * wait on nor delay the API's requests (why: delivery-thread.ts, docs/architecture.md).
 *
 * The thread starts once the installation has a notification channel (looked for every poll, and
 * at once when a channel is made or changed through this process): until then there is nothing to
 * send, and a process that never sends does not load the outbox's modules a second time (about
 * 2 s of CPU from source, each API process a test starts). Runs that end before it starts are
 * written by its first pass's sweep (it looks back 15 minutes).
 *
 * An SQLite database in memory cannot be opened from another thread: then the outbox runs in this
 * thread, as before (tests of a single process only; an installation's database is a file or
 * PostgreSQL).
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { EventBus } from '../events/event-bus.js';
import { isFinalRunStatus } from '../domain/status.js';
import type { NotificationOutbox, NotificationTiming } from '../services/notifications/notification-outbox.js';
import type { DeliveryThreadData, FromDeliveryThread, ToDeliveryThread } from '../services/notifications/delivery-thread.js';

export interface NotificationSender {
  wake(): void;
  channelChanged(id: number): void;
  stop(): Promise<void>;
}

/** The thread's connections: one claim and the settling of the sends in flight (16), each a short statement. */
const THREAD_POOL_SIZE = 4;
/** The lowest priority: the thread takes only CPU nothing else wants. */
const THREAD_NICENESS = 19;
/** A thread that does not stop within this after its sends' bound is ended. */
const STOP_GRACE_MS = 5000;

export function startNotificationSender(options: {
  config: Config;
  events: EventBus;
  logger: Logger;
  publicUrl: string;
  timing: Partial<NotificationTiming>;
  /** The outbox in this thread, for a database only this thread can open. */
  inProcess: NotificationOutbox;
  /** Whether there is a channel (the thread starts once there is). */
  anyChannel: () => Promise<boolean>;
}): NotificationSender {
  const { config, events, logger } = options;
  if (config.databaseUrl === 'sqlite://:memory:') {
    options.inProcess.start();
    return {
      wake: () => options.inProcess.wake(),
      channelChanged: (id) => options.inProcess.channelChanged(id),
      stop: () => options.inProcess.stop(),
    };
  }
  const data: DeliveryThreadData = {
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    secretKey: config.secretKey,
    secretKeyPrevious: config.secretKeyPrevious,
    logLevel: config.logLevel,
    publicUrl: options.publicUrl,
    timing: options.timing,
    poolSize: THREAD_POOL_SIZE,
    niceness: THREAD_NICENESS,
  };
  let worker: Worker | null = null;
  let stopping = false;
  const post = (message: ToDeliveryThread) => worker?.postMessage(message);
  const spawn = () => {
    const w = threadOf(data);
    worker = w;
    w.on('message', (message: FromDeliveryThread) => {
      if (message.type === 'started' && message.niceness === null) logger.debug('notifications: the delivery thread runs at normal priority here');
    });
    w.on('error', (error) => logger.error({ err: error }, 'notifications: the delivery thread failed'));
    w.on('exit', () => {
      if (worker === w) worker = null;
      // A thread that died is started again (its claimed rows come back after their lease).
      if (!stopping) setTimeout(() => !stopping && !worker && spawn(), 1000).unref();
    });
  };
  // Until there is a channel, look for one every poll; a look that fails is tried at the next.
  let looking: NodeJS.Timeout | null = null;
  const startWhenNeeded = async () => {
    looking = null;
    if (worker || stopping) return;
    const needed = await options.anyChannel().catch(() => false);
    if (worker || stopping) return;
    if (needed) spawn();
    else looking = setTimeout(() => void startWhenNeeded(), options.timing.pollMs ?? 2000).unref();
  };
  const startNow = () => {
    if (looking) clearTimeout(looking);
    looking = null;
    if (!worker && !stopping) spawn();
  };
  void startWhenNeeded();
  // Only waiting and the end raise notifications (the outbox ignores the rest): the others stay here.
  const unsubscribe = events.subscribeAll((event) => {
    if (event.status === 'waiting' || isFinalRunStatus(event.status)) post({ type: 'event', event });
  });
  return {
    wake: () => (worker ? post({ type: 'wake' }) : void startWhenNeeded()),
    channelChanged: (id) => (worker ? post({ type: 'channel', id }) : startNow()),
    stop: async () => {
      stopping = true;
      if (looking) clearTimeout(looking);
      unsubscribe();
      const w = worker;
      if (!w) return;
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      w.postMessage({ type: 'stop' } satisfies ToDeliveryThread);
      const bound = (options.timing.timeoutMs ?? 10_000) + STOP_GRACE_MS;
      const timer = setTimeout(() => void w.terminate(), bound);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * The thread, from the build (`.js`) or from source (`.ts` under tsx: a worker thread does not
 * inherit the main thread's module hooks, so it registers tsx itself before loading the entry).
 */
function threadOf(data: DeliveryThreadData): Worker {
  const ext = import.meta.url.slice(import.meta.url.lastIndexOf('.'));
  const entry = new URL(`../services/notifications/delivery-thread${ext}`, import.meta.url);
  if (ext === '.js') return new Worker(entry, { workerData: data });
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(code, { eval: true, workerData: data });
}
