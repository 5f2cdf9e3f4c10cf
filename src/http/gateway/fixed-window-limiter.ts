/**
 * Per-source request limits: a fixed one-minute window per key (the client IP). Memory is bounded:
 * windows are dropped when they expire, and past `maxKeys` sources new ones share one overflow
 * bucket, so a spoofing flood cannot grow the map without limit.
 */
import { AppError } from '../../domain/errors.js';

export class FixedWindowLimiter {
  private windowStart = 0;
  private counts = new Map<string, number>();

  constructor(
    private readonly perMinute: number,
    private readonly maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request of `key`; throws 429 RATE_LIMIT_EXCEEDED (with Retry-After) over the limit. */
  take(key: string): void {
    const now = this.now();
    if (now - this.windowStart >= 60_000) {
      this.windowStart = now;
      this.counts = new Map();
    }
    const bucket = this.counts.has(key) || this.counts.size < this.maxKeys ? key : '*overflow*';
    const count = (this.counts.get(bucket) ?? 0) + 1;
    this.counts.set(bucket, count);
    if (count > this.perMinute) {
      const retryAfter = Math.max(1, Math.ceil((this.windowStart + 60_000 - now) / 1000));
      throw new AppError(
        'RATE_LIMIT_EXCEEDED',
        `Too many requests from this source; retry in ${retryAfter} s`,
        { retry_after_seconds: retryAfter },
        { 'Retry-After': String(retryAfter) },
      );
    }
  }
}
