/**
 * Records rejected deliveries (bad signature or token) so a user can see that a hook is
 * misconfigured, without letting an unauthenticated sender fill the database: only the event
 * header and the reason are kept (never the body or the sent signature), under a random key (the
 * sender chooses the delivery id), and at most `perMinute` rejections per minute are recorded
 * per process; the rest are only counted.
 */
import { randomUUID } from 'node:crypto';
import type { DeliveriesRepository, Provider } from '../../store/deliveries-repository.js';

type NewDelivery = Parameters<DeliveriesRepository['insertIfNew']>[0];

export class RejectionRecorder {
  private windowStart = 0;
  private recorded = 0;
  /** Rejections not recorded because the budget was spent (exposed as a metric). */
  skipped = 0;

  constructor(
    private readonly deliveries: DeliveriesRepository,
    private readonly perMinute = 100,
    private readonly now: () => number = Date.now,
  ) {}

  async record(provider: Provider, event: string | undefined, reason: string): Promise<void> {
    const now = this.now();
    if (now - this.windowStart >= 60_000) {
      this.windowStart = now;
      this.recorded = 0;
    }
    if (this.recorded >= this.perMinute) {
      this.skipped++;
      return;
    }
    this.recorded++;
    await this.deliveries.insertIfNew(rejectedRow(provider, `rejected:${randomUUID()}`, clip(event ?? '', 100), reason));
  }
}

/** The stored row of a rejected delivery: the event and the reason only, never headers or body. */
export function rejectedRow(provider: Provider, deliveryKey: string, event: string, reason: string): NewDelivery {
  return {
    provider,
    deliveryKey,
    event,
    action: null,
    repository: null,
    ref: null,
    commit: null,
    verdict: 'rejected',
    reason,
    headers: {},
    payload: '',
    complete: true,
  };
}

export const clip = (text: string, max: number) => (text.length > max ? text.slice(0, max) : text);
