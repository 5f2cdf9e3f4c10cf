/**
 * Counts failed logins per client address and per (client, username), in a sliding window.
 * Past the limit further attempts are refused before the password is even checked, which also
 * bounds the CPU an attacker can burn on argon2. Memory is bounded: old entries are pruned.
 */
export interface ThrottleLimits {
  perUser: number;
  perClient: number;
  windowMs: number;
}

const DEFAULT_LIMITS: ThrottleLimits = { perUser: 5, perClient: 30, windowMs: 15 * 60 * 1000 };
const MAX_KEYS = 100_000;

export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly limits: ThrottleLimits = DEFAULT_LIMITS) {}

  /** Seconds until another attempt is allowed, or 0 when it is allowed now. */
  retryAfter(client: string, username: string, now = Date.now()): number {
    const waits = [this.wait(`c:${client}`, this.limits.perClient, now), this.wait(`u:${client}:${username.toLowerCase()}`, this.limits.perUser, now)];
    return Math.max(...waits);
  }

  recordFailure(client: string, username: string, now = Date.now()): void {
    if (this.failures.size > MAX_KEYS) this.prune(now);
    for (const key of [`c:${client}`, `u:${client}:${username.toLowerCase()}`]) {
      const list = this.recent(key, now);
      list.push(now);
      this.failures.set(key, list);
    }
  }

  recordSuccess(client: string, username: string): void {
    this.failures.delete(`u:${client}:${username.toLowerCase()}`);
  }

  private wait(key: string, limit: number, now: number): number {
    const list = this.recent(key, now);
    if (list.length < limit) return 0;
    const oldest = list[list.length - limit]!;
    return Math.max(1, Math.ceil((oldest + this.limits.windowMs - now) / 1000));
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => t > now - this.limits.windowMs);
  }

  private prune(now: number): void {
    for (const [key, list] of this.failures) if (!list.some((t) => t > now - this.limits.windowMs)) this.failures.delete(key);
  }
}
