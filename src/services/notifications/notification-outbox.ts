/**
 * Notifications, driven by run events and sent from an outbox (as commit statuses are). The
 * engine knows nothing of it: this listens to the event bus's run status events, and for a run
 * that waits for approval or has finished writes its events' deliveries into
 * `notification_deliveries` (record-run-notifications.ts). Sending happens here, in the
 * background of the API processes, never on a run's path: due rows are claimed (a guarded UPDATE
 * with a lease, so with several processes one sends each), sent with a bounded time each, at most
 * `concurrency` at once per process, and retried with exponential backoff while the receiver
 * fails in a way worth retrying. Every attempt and its answer is kept on the row.
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
  /** How often due rows are looked for when nothing wakes the loop. */
  pollMs: number;
  /** How often recent runs are checked for events nobody wrote (lost events). */
  sweepMs: number;
}

export const DEFAULT_NOTIFICATION_TIMING: NotificationTiming = {
  timeoutMs: 10_000,
  maxAttempts: 6,
  retryBaseMs: 5000,
  maxBackoffMs: 10 * 60 * 1000,
  concurrency: 16,
  pollMs: 2000,
  sweepMs: 30_000,
};

/** The sweep looks at runs that waited or ended this recently, among the newest SWEEP_RUNS runs. */
const SWEEP_WINDOW_MS = 15 * 60 * 1000;
const SWEEP_RUNS = 5000;

export interface OutboxDeps {
  notifications: NotificationsRepository;
  transaction: Transactor;
  events: EventBus;
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
  private lastSweep = 0;

  constructor(private readonly deps: OutboxDeps) {
    this.timing = { ...DEFAULT_NOTIFICATION_TIMING, ...deps.timing };
    this.loop = new PassLoop(() => this.tick(), this.timing.pollMs);
  }

  start(): void {
    this.unsubscribe = this.deps.events.subscribeAll((event) => {
      // Progress events of a running run raise nothing: only waiting and the end do.
      if (event.status !== 'waiting' && !isFinalRunStatus(event.status)) return;
      this.heard.add(event.runId);
      this.wake();
    });
    this.loop.start();
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
      const free = this.timing.concurrency - this.sending.size;
      if (free <= 0) return;
      const due = await this.deps.notifications.due(new Date().toISOString(), free);
      let lost = 0;
      for (const row of due) if (!(await this.start1(row))) lost++;
      // A full batch may mean more are due: go again once a slot frees (each send wakes the loop).
      // A row another process claimed between our read and our claim leaves a slot free that no
      // send of ours will wake (all processes read the same first due rows): look again at once.
      // Each lost claim is a row gone from the due ones, so this ends.
      if (lost > 0) this.loop.passAgain();
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'notifications: a pass failed; the next one retries');
    }
  }

  /** Claims and starts sending one delivery in the background; false when another process has it. */
  private async start1(row: NotificationDelivery): Promise<boolean> {
    if (!(await this.claim(row.id))) return false;
    const sending: Promise<void> = this.deliver(row)
      .catch((error) => this.deps.logger.warn({ err: error, delivery: row.id }, 'notifications: a delivery failed to settle'))
      .finally(() => {
        this.sending.delete(sending);
        this.wake();
      });
    this.sending.add(sending);
    return true;
  }

  private claim(id: number): Promise<boolean> {
    const now = Date.now();
    // Long enough for one bounded attempt and its settling; a sender that died is taken over after it.
    const until = now + this.timing.timeoutMs * 2 + 30_000;
    return this.deps.notifications.claim(id, this.owner, new Date(now).toISOString(), new Date(until).toISOString());
  }

  /** Sends one delivery now, in the caller's time ("send test"); returns it as settled, or null if another process has it. */
  async sendNow(id: number): Promise<NotificationDelivery | null> {
    const row = await this.deps.notifications.findDelivery(id);
    if (!row || !(await this.claim(id))) return row;
    await this.deliver(row);
    return this.deps.notifications.findDelivery(id);
  }

  /** One attempt of a claimed row, recorded; then delivered, failed, or due again after its backoff. */
  private async deliver(row: NotificationDelivery): Promise<void> {
    const { notifications } = this.deps;
    const attemptNo = row.attempts + 1;
    const startedAt = Date.now();
    let result: SendResult;
    try {
      const channel = await notifications.findById(row.channel_id);
      if (!channel) return;
      if (!channel.enabled) result = { kind: 'failed', statusCode: null, answer: 'not sent: the channel is disabled' };
      else result = await (this.deps.send ?? sendNotification)(channel, await notifications.openSecret(channel.id), row, this.timing.timeoutMs);
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
        row.id,
        this.owner,
        { ...attempt, result: 'failed', answer: `gave up after ${attemptNo} attempts; last: ${result.answer}` },
        { outcome: 'failed' },
      );
      return;
    }
    if (result.kind === 'retry') {
      const next = at + this.backoff(attemptNo);
      await notifications.settle(row.id, this.owner, attempt, { outcome: 'pending', nextAttemptAt: new Date(next).toISOString() });
      this.loop.wakeAt(next);
      return;
    }
    await notifications.settle(row.id, this.owner, attempt, { outcome: result.kind });
  }

  /** Exponential backoff with ±20 % jitter, so several senders do not retry in step. */
  private backoff(attempts: number): number {
    const base = Math.min(this.timing.retryBaseMs * 2 ** Math.min(attempts - 1, 20), this.timing.maxBackoffMs);
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }
}
