/**
 * The loop that drives an outbox (commit statuses, notifications): one pass at a time, never two
 * at once; woken while a pass runs, it runs one more right after it (any number of wakes meanwhile
 * make one pass, not one each); else it passes every `pollMs`, and at a time a pass asks for
 * (`wakeAt`, a retry's backoff or a forge's rate limit). Its timers never keep the process alive.
 */
export class PassLoop {
  private timer: NodeJS.Timeout | null = null;
  private working: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly pollMs: number,
  ) {}

  /** The first pass, at once. */
  start(): void {
    this.schedule(0);
  }

  /** No pass starts after this; resolves when the one in progress has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.working;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Passes now, or right after the pass in progress. */
  wake(): void {
    if (this.stopped) return;
    if (this.working) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.working = this.pass().finally(() => {
      this.working = null;
      if (this.stopped) return;
      if (this.again) {
        this.again = false;
        this.wake();
      } else this.schedule(this.pollMs);
    });
  }

  /** From inside a pass: another one right after it (it left work for later, a full batch). */
  passAgain(): void {
    this.again = true;
  }

  /** A pass at `atMs` (epoch ms), besides the polling ones. */
  wakeAt(atMs: number): void {
    if (!this.stopped) setTimeout(() => this.wake(), Math.max(0, atMs - Date.now()) + 5).unref();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), ms);
    this.timer.unref();
  }
}
