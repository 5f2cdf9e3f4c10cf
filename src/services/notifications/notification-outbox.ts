/**
 * Notifications, driven by run events and sent from an outbox (as commit statuses are). The
 * engine knows nothing of it: this listens to the event bus's run status events, and for a run
 * that waits for approval or has finished writes its events' deliveries into
 * `notification_deliveries` (record-run-notifications.ts). Sending happens here, in a thread of
 * each API process's own at the lowest priority (delivery-thread.ts), never on a run's path: due rows are claimed in batches (one
 * guarded UPDATE with a lease, so with several processes one sends each), sent with a bounded time
 * each, at most `concurrency` at once per process, and retried with exponential backoff while the
 * receiver fails in a way worth retrying. Every attempt and its answer is kept on the row, written
 * with the settling UPDATE (one statement). Channels and their secrets are read once a second at
 * most (channel-cache.ts), not per delivery.
 *
 * Events can be lost (the bus drops rather than blocks; every process may be down when a run
 * ends), so the loop also looks now and then for recent runs whose events nobody wrote.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { EventBus, Unsubscribe } from '../../events/event-bus.js';
import type { DeliveryAttempt, NotificationDelivery, NotificationsRepository } from '../../store/notifications-repository.js';
import type { Transactor } from '../../store/transaction.js';
import { coerceError } from '../../domain/errors.js';
import { PassLoop } from '../outbox/pass-loop.js';
import { isFinalRunStatus } from '../../domain/status.js';
import { recordRunNotifications } from './record-run-notifications.js';
import { sendNotification, type SendNotification } from './send-notification.js';
import { ChannelCache } from './channel-cache.js';
import type { SendResult } from '../../integrations/notify/send-result.js';

export interface NotificationTiming {
  /** One attempt's bound: connecting, the answer, an SMTP exchange. */
  timeoutMs: number;
  /** Attempts before a delivery is given up (failed, with the last answer). */
  maxAttempts: number;
  /** First retry delay; doubled per attempt (±20 % jitter) up to `maxBackoffMs`. */
  retryBaseMs: number;
  maxBackoffMs: number;
  /** Sends in flight at once in one process. */
  concurrency: number;
  /** Settling sends look for more due rows once this many slots are free (one claim for several rows). */
  claimBatch: number;
  /** How often due rows are looked for when nothing wakes the loop. */
  pollMs: number;
  /** How often recent runs are checked for events nobody wrote (lost events). */
  sweepMs: number;
  /** How long a channel and its opened secret are reused (0: read for every delivery). */
  channelCacheMs: number;
}

export const DEFAULT_NOTIFICATION_TIMING: NotificationTiming = {
  timeoutMs: 10_000,
  maxAttempts: 6,
  retryBaseMs: 5000,
  maxBackoffMs: 10 * 60 * 1000,
  concurrency: 16,
  claimBatch: 4,
  pollMs: 2000,
  sweepMs: 30_000,
  channelCacheMs: 1000,
};

/** The sweep looks at runs that waited or ended this recently, among the newest SWEEP_RUNS runs. */
const SWEEP_WINDOW_MS = 15 * 60 * 1000;
const SWEEP_RUNS = 5000;

export interface OutboxDeps {
  notifications: NotificationsRepository;
  transaction: Transactor;
  /** Run status events (in the delivery thread: relayed from the API's thread). */
  events: Pick<EventBus, 'subscribeAll'>;
  logger: Logger;
  publicUrl: string;
  timing?: Partial<NotificationTiming>;
  /** The sender (the real one; benchmarks and tests may pass another). */
  send?: SendNotification;
}

export class NotificationOutbox {
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  readonly timing: NotificationTiming;
  private readonly heard = new Set<number>();
  private readonly sending = new Set<Promise<void>>();
  private unsubscribe: Unsubscribe | null = null;
  private readonly loop: PassLoop;
  private readonly channels: ChannelCache;
  private lastSweep = 0;
  /** Whether this outbox runs its loop (else it only sends "send test" deliveries, sendNow). */
  private running = false;
  /**
   * The last claim found fewer due rows than it had slots for: a send that settles then does not
   * look again (a statement that would find nothing). Cleared by a full batch; new rows are found by
   * the wakes that bring them (an event heard, a retry's time, the poll).
   */
  private drained = false;

  constructor(private readonly deps: OutboxDeps) {
    this.timing = { ...DEFAULT_NOTIFICATION_TIMING, ...deps.timing };
    this.loop = new PassLoop(() => this.tick(), this.timing.pollMs);
    this.channels = new ChannelCache(deps.notifications, this.timing.channelCacheMs);
  }

  start(): void {
    this.unsubscribe = this.deps.events.subscribeAll((event) => {
      // Progress events of a running run raise nothing: only waiting and the end do.
      if (event.status !== 'waiting' && !isFinalRunStatus(event.status)) return;
      this.heard.add(event.runId);
      this.wake();
    });
    this.running = true;
    this.loop.start();
  }

  /** A channel changed or was deleted in this process: the next delivery reads it again. */
  channelChanged(id: number): void {
    this.channels.forget(id);
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.loop.stop();
    await Promise.all([...this.sending]);
  }

  /** Works the outbox now (or right after the pass in progress). */
  wake(): void {
    this.loop.wake();
  }

  /** One pass: write the events of runs heard of (and, now and then, of missed ones), then start due sends. Faults are logged. */
  async tick(): Promise<void> {
    try {
      const now = Date.now();
      const runIds = [...this.heard];
      this.heard.clear();
      if (now - this.lastSweep >= this.timing.sweepMs) {
        this.lastSweep = now;
        runIds.push(...(await this.deps.notifications.unnotifiedRuns(new Date(now - SWEEP_WINDOW_MS).toISOString(), SWEEP_RUNS, 100)));
      }
      for (const runId of new Set(runIds)) {
        try {
          await recordRunNotifications(this.deps, runId, new Date().toISOString());
        } catch (error) {
          // Left unmarked: the sweep writes it later.
          this.deps.logger.warn({ err: error, runId }, 'notifications: could not write the events of a run');
        }
      }
      const free = this.freeSlots();
      if (free <= 0) return;
      // One statement claims the batch; rows other processes hold are skipped, not lost. A full
      // batch may mean more are due: the next pass comes when a slot frees (each send wakes the loop).
      const { from, until } = this.lease();
      const claimed = await this.deps.notifications.claimDue(this.owner, from, until, free);
      this.drained = claimed.length < free;
      for (const row of claimed) this.start1(row);
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'notifications: a pass failed; the next one retries');
    }
  }

  private freeSlots(): number {
    return this.timing.concurrency - this.sending.size;
  }

  /** Starts sending one claimed delivery in the background. */
  private start1(row: NotificationDelivery): void {
    const sending: Promise<void> = this.deliver(row, this.channels)
      .catch((error) => this.deps.logger.warn({ err: error, delivery: row.id }, 'notifications: a delivery failed to settle'))
      .finally(() => {
        this.sending.delete(sending);
        // Freed slots are filled several at a time (one claim), unless the last look found nothing more due.
        if (!this.drained && this.freeSlots() >= Math.min(this.timing.claimBatch, this.timing.concurrency)) this.wake();
      });
    this.sending.add(sending);
  }

  /** A claim's times: long enough for one bounded attempt and its settling; a sender that died is taken over after it. */
  private lease(): { from: string; until: string } {
    const now = Date.now();
    return { from: new Date(now).toISOString(), until: new Date(now + this.timing.timeoutMs * 2 + 30_000).toISOString() };
  }

  /**
   * Sends one delivery now, in the caller's time ("send test"), through the channel as stored now
   * (not a kept copy: it is often sent right after an edit); returns it as settled, or as it is if
   * another process has it.
   */
  async sendNow(id: number): Promise<NotificationDelivery | null> {
    const { from, until } = this.lease();
    const claimed = await this.deps.notifications.claimOne(id, this.owner, from, until);
    if (!claimed) return this.deps.notifications.findDelivery(id);
    this.channels.forget(claimed.channel_id);
    await this.deliver(claimed, this.channels);
    return this.deps.notifications.findDelivery(id);
  }

  /** One attempt of a claimed row (its `attempts` counts this one), recorded; then delivered, failed, or due again after its backoff. */
  private async deliver(row: NotificationDelivery, channels: ChannelCache): Promise<void> {
    const { notifications } = this.deps;
    const attemptNo = row.attempts;
    const startedAt = Date.now();
    let result: SendResult;
    try {
      const open = await channels.get(row.channel_id);
      if (!open) return;
      const { channel, secret } = open;
      if (!channel.enabled) result = { kind: 'failed', statusCode: null, answer: 'not sent: the channel is disabled' };
      else result = await (this.deps.send ?? sendNotification)(channel, secret, row, this.timing.timeoutMs);
    } catch (error) {
      result = { kind: 'retry', statusCode: null, answer: `could not send: ${coerceError(error).message.slice(0, 200)}` };
    }
    const at = Date.now();
    const attempt: DeliveryAttempt = {
      attempt: attemptNo,
      at: new Date(at).toISOString(),
      duration_ms: at - startedAt,
      result: result.kind,
      status_code: result.statusCode,
      answer: result.answer,
    };
    if (result.kind === 'retry' && attemptNo >= this.timing.maxAttempts) {
      await notifications.settle(
        row,
        this.owner,
        { ...attempt, result: 'failed', answer: `gave up after ${attemptNo} attempts; last: ${result.answer}` },
        { outcome: 'failed' },
      );
      return;
    }
    if (result.kind === 'retry') {
      const next = at + this.backoff(attemptNo);
      await notifications.settle(row, this.owner, attempt, { outcome: 'pending', nextAttemptAt: new Date(next).toISOString() });
      // An outbox that only sends tests leaves the retry to the running one (its poll finds it due).
      if (this.running) this.loop.wakeAt(next);
      return;
    }
    await notifications.settle(row, this.owner, attempt, { outcome: result.kind });
  }

  /** Exponential backoff with ±20 % jitter, so several senders do not retry in step. */
  private backoff(attempts: number): number {
    const base = Math.min(this.timing.retryBaseMs * 2 ** Math.min(attempts - 1, 20), this.timing.maxBackoffMs);
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }
}
