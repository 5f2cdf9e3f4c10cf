/**
 * Lets a duplicate delivery wait for the first one's runs. In this process the first delivery's
 * promise is awaited directly; a first delivery handled by another process (or before a restart)
 * is polled in the database until `completed_at` is set, for at most `timeoutMs`.
 */
import type { Delivery, DeliveriesRepository, Provider } from '../../store/deliveries-repository.js';

export class CompletionWaiter {
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly deliveries: DeliveriesRepository,
    private readonly timeoutMs = 10_000,
    private readonly pollMs = 50,
  ) {}

  /** Marks a delivery as being processed; call the returned function when it is complete. */
  started(provider: Provider, key: string): () => void {
    let resolve!: () => void;
    const mapKey = `${provider}\n${key}`;
    this.inFlight.set(mapKey, new Promise<void>((r) => (resolve = r)));
    return () => {
      this.inFlight.delete(mapKey);
      resolve();
    };
  }

  /** The first delivery with this key, once complete (or as it is when the wait times out). */
  async wait(provider: Provider, key: string): Promise<Delivery | null> {
    const local = this.inFlight.get(`${provider}\n${key}`);
    if (local) await local;
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const first = await this.deliveries.findByKey(provider, key);
      if (!first || first.completed_at !== null || Date.now() >= deadline) return first;
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }
}
