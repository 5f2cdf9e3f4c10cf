/**
 * The channels the outbox sends through, each with its opened secret, read once and kept for a
 * short while: a backlog of deliveries to one channel would otherwise read the channel and its
 * sealed secret (two statements and a decryption) for every delivery. A change made in this
 * process is seen at once (`forget`); one made in another process within `ttlMs` (a disabled
 * channel, a new secret or URL) applies to the deliveries started after that.
 */
import type { NotificationChannel, NotificationsRepository } from '../../store/notifications-repository.js';

export interface OpenChannel {
  channel: NotificationChannel;
  secret: string | null;
}

export class ChannelCache {
  private readonly entries = new Map<number, { until: number; value: Promise<OpenChannel | null> }>();

  constructor(
    private readonly notifications: Pick<NotificationsRepository, 'findById' | 'openSecret'>,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The channel and its secret; null when it is gone. A read that fails is not kept. */
  get(id: number): Promise<OpenChannel | null> {
    const at = this.now();
    const kept = this.entries.get(id);
    if (kept && kept.until > at) return kept.value;
    const value = this.read(id);
    if (this.ttlMs > 0) {
      this.entries.set(id, { until: at + this.ttlMs, value });
      value.catch(() => this.entries.get(id)?.value === value && this.entries.delete(id));
    }
    return value;
  }

  /** The next `get` reads the channel again (it was changed or deleted here). */
  forget(id: number): void {
    this.entries.delete(id);
  }

  private async read(id: number): Promise<OpenChannel | null> {
    const channel = await this.notifications.findById(id);
    if (!channel) return null;
    // A disabled channel sends nothing: its secret is not opened.
    return { channel, secret: channel.enabled ? await this.notifications.openSecret(id) : null };
  }
}
